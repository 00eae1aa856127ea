// The platform the device layer (XenDevices) runs on, over this kernel's services and Xen's
// hypercalls: pages from the page allocator, grants in the grant table, event channels, time.
// A handle with no state of its own: two drivers holding copies share the kernel's services.
// Each operation is out of line: the drivers' specialisations would otherwise each get a copy.
import XenABI
import XenDevices

struct GuestPlatform: XenPlatform {
    /// A PV guest names itself DOMID_SELF; the peers know it by its id (a domU's from xenstore).
    var domainID: domid_t { Domain.id }

    @inline(never) func allocatePage() throws(XenPlatformError) -> XenPage {
        guard let pfn = PageAllocator.allocate() else { throw .outOfPages }
        let address = UnsafeMutableRawPointer(bitPattern: Boot.address(ofPFN: pfn))!
        address.initializeMemory(as: UInt8.self, repeating: 0, count: Boot.pageSize)
        return XenPage(address: address, frame: Memory.mfn(ofPFN: pfn))
    }

    /// A run of pfns is a run of virtual memory (every pfn is mapped at its place); the frames
    /// behind them need not be consecutive, and each page is freed on its own.
    @inline(never) func allocateContiguousPages(_ count: Int, _ take: (XenPage) -> Void) throws(XenPlatformError) {
        guard count > 0, let first = PageAllocator.allocate(contiguous: count) else { throw .outOfPages }
        for pfn in first..<(first + count) {
            let address = UnsafeMutableRawPointer(bitPattern: Boot.address(ofPFN: pfn))!
            address.initializeMemory(as: UInt8.self, repeating: 0, count: Boot.pageSize)
            take(XenPage(address: address, frame: Memory.mfn(ofPFN: pfn)))
        }
    }

    @inline(never) func freePage(_ page: XenPage) {
        PageAllocator.release(Boot.pfn(ofAddress: UInt(bitPattern: page.address)))
    }

    @inline(never) func grantAccess(to domain: domid_t, frame: UInt64, readOnly: Bool) throws(XenPlatformError) -> grant_ref_t {
        guard let ref = GrantTable.allocateRef() else { throw .outOfGrantEntries }
        GrantTable.grant(ref, to: domain, mfn: frame, readOnly: readOnly)
        return grant_ref_t(ref)
    }

    @inline(never) func endAccess(_ ref: grant_ref_t) -> XenGrantEnd {
        guard GrantTable.endAccess(UInt32(ref)) else { return .stillMapped }
        GrantTable.releaseRef(UInt32(ref))
        return .ended
    }

    /// Maps the peer's grant over a page of ours (PV: Xen rewrites that page's PTE); unmapping
    /// puts our own frame back under the address.
    @inline(never) func mapGrant(from domain: domid_t, ref: grant_ref_t, readOnly: Bool) throws(XenPlatformError) -> XenGrantMapping {
        guard let pfn = PageAllocator.allocate() else { throw .outOfPages }
        var op = gnttab_map_grant_ref()
        op.host_addr = UInt64(Boot.address(ofPFN: pfn))
        op.flags = UInt32(bitPattern: GNTMAP_host_map | (readOnly ? GNTMAP_readonly : 0))
        op.ref = ref
        op.dom = domain
        do { try Xen.grant_table_op.map_grant_ref(&op) } catch {
            PageAllocator.release(pfn)
            throw .hypercall(error.errno)
        }
        guard op.status == GNTST_okay else {
            PageAllocator.release(pfn)
            throw .grantStatus(op.status)
        }
        return XenGrantMapping(address: UnsafeMutableRawPointer(bitPattern: Boot.address(ofPFN: pfn))!, handle: op.handle)
    }

    @inline(never) func unmapGrant(_ mapping: XenGrantMapping) throws(XenPlatformError) {
        var op = gnttab_unmap_grant_ref()
        op.host_addr = UInt64(UInt(bitPattern: mapping.address))
        op.handle = mapping.handle
        do { try Xen.grant_table_op.unmap_grant_ref(&op) } catch { throw .hypercall(error.errno) }
        guard op.status == GNTST_okay else { throw .grantStatus(op.status) }
        let pfn = Boot.pfn(ofAddress: UInt(bitPattern: mapping.address))
        do { try Memory.map(mfn: Memory.mfn(ofPFN: pfn), at: UInt(bitPattern: mapping.address)) } catch { throw .hypercall(error.errno) }
        PageAllocator.release(pfn)
    }

    @inline(never) func copyGrant(from source: XenGrantCopyEnd, to destination: XenGrantCopyEnd, length: UInt16) throws(XenPlatformError) {
        var op = gnttab_copy()
        op.len = length
        switch source {
        case let .grant(domain, ref, offset): op.source.u.ref = ref; op.source.domid = domain; op.source.offset = offset; op.flags |= GrantCopyFlags.source_gref.rawValue
        case let .local(frame, offset): op.source.u.gmfn = xen_pfn_t(frame); op.source.domid = DOMID_SELF; op.source.offset = offset
        }
        switch destination {
        case let .grant(domain, ref, offset): op.dest.u.ref = ref; op.dest.domid = domain; op.dest.offset = offset; op.flags |= GrantCopyFlags.dest_gref.rawValue
        case let .local(frame, offset): op.dest.u.gmfn = xen_pfn_t(frame); op.dest.domid = DOMID_SELF; op.dest.offset = offset
        }
        do { try Xen.grant_table_op.copy(&op) } catch { throw .hypercall(error.errno) }
        guard op.status == GNTST_okay else { throw .grantStatus(op.status) }
    }

    @inline(never) func allocateUnboundPort(for remote: domid_t) throws(XenPlatformError) -> evtchn_port_t {
        var op = evtchn_alloc_unbound(dom: DOMID_SELF, remote_dom: remote)
        do { try Xen.event_channel_op.alloc_unbound(&op) } catch { throw .hypercall(error.errno) }
        return op.port
    }

    @inline(never) func bindInterdomain(remote: domid_t, remotePort: evtchn_port_t) throws(XenPlatformError) -> evtchn_port_t {
        var op = evtchn_bind_interdomain(remote_dom: remote, remote_port: remotePort)
        do { try Xen.event_channel_op.bind_interdomain(&op) } catch { throw .hypercall(error.errno) }
        return op.local_port
    }

    func notify(_ port: evtchn_port_t) { _ = try? Xen.event_channel_op.send(evtchn_send(port: port)) }

    @inline(never) func closePort(_ port: evtchn_port_t) {
        EventLoop.unbind(port)
        _ = try? Xen.event_channel_op.close(evtchn_close(port: port))
    }

    func now() -> UInt64 { Time.now() }
}

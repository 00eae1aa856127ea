// The platform over host memory: pages from the allocator, a grant table and event channels as
// plain bookkeeping, a clock the test moves. A test can play the peer: map a grant (so ending
// it reports `.stillMapped`, XSA-396) and count notifications.
import XenABI
import XenDevices

final class SimulatedPlatform: XenPlatform {
    struct Grant { var domain: domid_t; var frame: UInt64; var readOnly: Bool; var mappedByPeer: Bool }

    let domainID: domid_t
    var clock: UInt64 = 1_000_000_000
    var pages: [UInt64: UnsafeMutableRawPointer] = [:]
    var nextFrame: UInt64 = 0x1000
    var grants: [grant_ref_t: Grant] = [:]
    /// Entries 0-7 are the toolstack's (console, xenstore): a guest starts above them.
    var nextGrant: grant_ref_t = 8
    var ports: [evtchn_port_t: domid_t] = [:]
    var nextPort: evtchn_port_t = 10
    var notifications: [evtchn_port_t: Int] = [:]
    var pageLimit = Int.max
    /// Called as a grant's access ends: a test playing a hostile peer acts at that moment (the
    /// driver has read what it read from the ring by then).
    var onEndAccess: ((grant_ref_t) -> Void)?

    /// Pages handed out together at consecutive addresses: the block's base for each frame,
    /// and how many of each block's pages are still allocated.
    var blockOf: [UInt64: UnsafeMutableRawPointer] = [:]
    var blockPages: [UnsafeMutableRawPointer: Int] = [:]
    /// Whether `allocateContiguousPages` gives more than one page (a platform without it falls
    /// back to the protocol's default).
    var contiguousPages = true

    init(domainID: domid_t = 5) { self.domainID = domainID }
    deinit {
        for (frame, page) in pages where blockOf[frame] == nil { page.deallocate() }
        for (base, _) in blockPages { base.deallocate() }
    }

    func allocateContiguousPages(_ count: Int, _ take: (XenPage) -> Void) throws(XenPlatformError) {
        guard contiguousPages || count == 1 else { throw .unsupported }
        guard pages.count + count <= pageLimit else { throw .outOfPages }
        let base = UnsafeMutableRawPointer.allocate(byteCount: 4096 * count, alignment: 4096)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: 4096 * count)
        blockPages[base] = count
        for i in 0..<count {
            let frame = nextFrame
            nextFrame += 1
            pages[frame] = base + 4096 * i
            blockOf[frame] = base
            take(XenPage(address: base + 4096 * i, frame: frame))
        }
    }

    func allocatePage() throws(XenPlatformError) -> XenPage {
        guard pages.count < pageLimit else { throw .outOfPages }
        let address = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        address.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
        let frame = nextFrame
        nextFrame += 1
        pages[frame] = address
        return XenPage(address: address, frame: frame)
    }

    func freePage(_ page: XenPage) {
        precondition(!grants.values.contains { $0.frame == page.frame }, "a page freed while still granted")
        guard let address = pages.removeValue(forKey: page.frame) else { return }
        if let base = blockOf.removeValue(forKey: page.frame) {
            blockPages[base]! -= 1
            if blockPages[base] == 0 { blockPages[base] = nil; base.deallocate() }
        } else {
            address.deallocate()
        }
    }

    func grantAccess(to domain: domid_t, frame: UInt64, readOnly: Bool) throws(XenPlatformError) -> grant_ref_t {
        let ref = nextGrant
        nextGrant += 1
        grants[ref] = Grant(domain: domain, frame: frame, readOnly: readOnly, mappedByPeer: false)
        return ref
    }

    func endAccess(_ ref: grant_ref_t) -> XenGrantEnd {
        onEndAccess?(ref)
        guard let grant = grants[ref] else { return .ended }
        if grant.mappedByPeer { return .stillMapped }
        grants[ref] = nil
        return .ended
    }

    func mapGrant(from domain: domid_t, ref: grant_ref_t, readOnly: Bool) throws(XenPlatformError) -> XenGrantMapping {
        guard let grant = grants[ref], let address = pages[grant.frame], grant.domain == domainID || true else { throw .hypercall(.XEN_EINVAL) }
        grants[ref]!.mappedByPeer = true
        return XenGrantMapping(address: address, handle: grant_handle_t(ref))
    }

    func unmapGrant(_ mapping: XenGrantMapping) throws(XenPlatformError) {
        guard grants[grant_ref_t(mapping.handle)] != nil else { throw .hypercall(.XEN_EINVAL) }
        grants[grant_ref_t(mapping.handle)]!.mappedByPeer = false
    }

    func copyGrant(from source: XenGrantCopyEnd, to destination: XenGrantCopyEnd, length: UInt16) throws(XenPlatformError) {
        func address(_ end: XenGrantCopyEnd) throws(XenPlatformError) -> UnsafeMutableRawPointer {
            switch end {
            case .grant(_, let ref, let offset):
                guard let g = grants[ref], let p = pages[g.frame], Int(offset) + Int(length) <= 4096 else { throw .hypercall(.XEN_EINVAL) }
                return p + Int(offset)
            case .local(let frame, let offset):
                guard let p = pages[frame], Int(offset) + Int(length) <= 4096 else { throw .hypercall(.XEN_EINVAL) }
                return p + Int(offset)
            }
        }
        try address(destination).copyMemory(from: try address(source), byteCount: Int(length))
    }

    func allocateUnboundPort(for remote: domid_t) throws(XenPlatformError) -> evtchn_port_t {
        let port = nextPort
        nextPort += 1
        ports[port] = remote
        return port
    }

    func bindInterdomain(remote: domid_t, remotePort: evtchn_port_t) throws(XenPlatformError) -> evtchn_port_t {
        try allocateUnboundPort(for: remote)
    }

    func notify(_ port: evtchn_port_t) { notifications[port, default: 0] += 1 }
    func closePort(_ port: evtchn_port_t) { ports[port] = nil }
    func now() -> UInt64 { clock }
}

/// A page-aligned, zeroed page for a shared interface; freed by the caller.
func zeroedPage() -> UnsafeMutableRawPointer {
    let page = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
    page.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
    return page
}

/// A host string's bytes, and back (tests only: the library never sees a String).
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
extension Array where Element == UInt8 { var text: String { String(decoding: self, as: UTF8.self) } }

func path(_ text: String) -> XenStorePath { try! XenStorePath(validating: bytes(text)) }

// The grant table (v1): sized, set up and mapped once (`frameCount` frames, or as many as Xen
// allows, at consecutive addresses: two vifs and three vbds take ~600 entries, more than one
// frame's 512); entries granted and ended with the result checked. The toolstack reserves entries 0..7 (xenconsoled maps the console ring through
// 0, xenstored the store page through 1): the kernel hands out refs from 8 on.
import GuestKernelBoot
import XenABI

enum GrantTable {
    nonisolated(unsafe) static var entries: UnsafeMutablePointer<grant_entry_v1> = .init(bitPattern: 8)!
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var frames: (now: UInt32, max: UInt32) = (0, 0)
    static let firstFree: UInt32 = 8
    /// Which refs are handed out: one bit each, refs below `firstFree` marked from the start.
    nonisolated(unsafe) static var inUse: [UInt64] = []

    /// Frames set up at start: 2048 entries (Xen 4.17's default max_grant_frames is 64).
    static let frameCount: UInt32 = 4

    /// GNTTABOP_query_size, then GNTTABOP_setup_table for `frameCount` frames (fewer if Xen's
    /// max_nr_frames is lower), each mapped over a page of ours, in a run of pages.
    static func start() throws(BootError) {
        var size = gnttab_query_size()
        size.dom = DOMID_SELF
        do { try Xen.grant_table_op.query_size(&size) } catch { throw .xen(error) }
        guard size.status == GNTST_okay else { throw .kernel(.grantStatus(size.status)) }
        let n = Int(max(1, min(frameCount, size.max_nr_frames)))
        var list = InlineArray<4, xen_pfn_t>(repeating: 0)
        var setup = gnttab_setup_table()
        setup.dom = DOMID_SELF
        setup.nr_frames = UInt32(n)
        do {
            try withUnsafeMutableBytes(of: &list) { (f) throws(XenError) in
                setup.frame_list = XenGuestHandle(f.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: xen_pfn_t.self))
                try Xen.grant_table_op.setup_table(&setup)
            }
        } catch { throw .xen(error) }
        guard setup.status == GNTST_okay else { throw .kernel(.grantStatus(setup.status)) }
        guard let pfn = PageAllocator.allocate(contiguous: n) else { throw .kernel(.noFreePage) }
        let va = Boot.address(ofPFN: pfn)
        for i in 0..<n {
            do { try Memory.map(mfn: UInt64(list[i]), at: va + UInt(i * Boot.pageSize)) } catch { throw .xen(error) }
        }
        entries = UnsafeMutablePointer(bitPattern: va)!
        count = n * Boot.pageSize / MemoryLayout<grant_entry_v1>.stride
        frames = (UInt32(n), size.max_nr_frames)
        inUse = [UInt64](repeating: 0, count: (count + 63) / 64)
        for ref in 0..<Int(firstFree) { inUse[ref / 64] |= 1 << UInt64(ref % 64) }
    }

    /// A free grant reference (its entry not live), or nil when all are handed out.
    static func allocateRef() -> UInt32? {
        for (w, word) in inUse.enumerated() where word != UInt64.max {
            let bit = (~word).trailingZeroBitCount
            let ref = w * 64 + bit
            guard ref < count else { return nil }
            inUse[w] |= 1 << UInt64(bit)
            return UInt32(ref)
        }
        return nil
    }

    /// Hands a reference back; only after `endAccess` said the entry is no longer live.
    static func releaseRef(_ ref: UInt32) {
        guard ref >= firstFree, Int(ref) < count else { return }
        inUse[Int(ref) / 64] &= ~(1 << UInt64(ref % 64))
    }

    /// Grants `domid` access to machine frame `mfn`: frame and domid first, then the flags that
    /// make the entry live, with a write barrier between (Xen may read it the moment flags are set).
    static func grant(_ ref: UInt32, to domid: domid_t, mfn: UInt64, readOnly: Bool) {
        let e = entries + Int(ref)
        e.pointee.domid = domid
        e.pointee.frame = UInt32(truncatingIfNeeded: mfn)
        cpu_barrier()
        let flags = GrantEntryFlags(type: .permit_access, readOnly ? [.readonly] : [])
        e.pointee.flags = flags.rawValue
    }

    /// Ends access unless the grantee is using the frame right now (GTF_reading/GTF_writing):
    /// compare-and-swap the flags to 0 only from a state without those bits. False: the peer
    /// still maps it, and the page must not be reused (XSA-396).
    static func endAccess(_ ref: UInt32) -> Bool {
        let flagsPointer = UnsafeMutableRawPointer(entries + Int(ref)).assumingMemoryBound(to: UInt16.self)
        var current = flagsPointer.pointee
        while true {
            let busy = GrantEntryFlags([.reading, .writing]).rawValue
            if current & busy != 0 { return false }
            let seen = atomic_cmpxchg_u16(flagsPointer, current, 0)
            if seen == current { return true }
            current = seen
        }
    }
}

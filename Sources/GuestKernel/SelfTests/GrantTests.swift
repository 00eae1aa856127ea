// The grant table on the real hypervisor: Xen copies through our grant, and refuses an ended one.
import XenABI

enum GrantTests {
    static func run() {
        Report.check("grant table: query_size and setup_table", GrantTable.frames.now >= 1 && GrantTable.frames.max >= GrantTable.frames.now, "at least one frame")
        let name: StaticString = "grant table: Xen copies through our grant entry"
        guard let source = PageAllocator.allocate(), let target = PageAllocator.allocate() else {
            Report.error(name, "PageAllocator.allocate", .noFreePage); return
        }
        defer { PageAllocator.release(source); PageAllocator.release(target) }
        let src = UnsafeMutablePointer<UInt8>(bitPattern: Boot.address(ofPFN: source))!
        let dst = UnsafeMutablePointer<UInt8>(bitPattern: Boot.address(ofPFN: target))!
        for i in 0..<64 { src[i] = UInt8(truncatingIfNeeded: i &* 3 &+ 1); dst[i] = 0 }
        let ref = GrantTable.firstFree
        GrantTable.grant(ref, to: Domain.id, mfn: Memory.mfn(ofPFN: source), readOnly: true)
        // Xen copies from our grant (source: the grant ref) into our own frame (dest: a gmfn,
        // the machine frame for a PV guest): it must read the entry we wrote.
        var copy = gnttab_copy()
        copy.source.u.ref = ref
        copy.source.domid = DOMID_SELF
        copy.dest.u.gmfn = xen_pfn_t(Memory.mfn(ofPFN: target))
        copy.dest.domid = DOMID_SELF
        copy.len = 64
        copy.flags = GrantCopyFlags.source_gref.rawValue
        do {
            try copyOnce(&copy)
            let same = (0..<64).allSatisfy { dst[$0] == src[$0] }
            Report.check(name, copy.status == GNTST_okay && same, "GNTST_okay and the bytes copied")
            Report.check("grant table: access ended with the result checked", GrantTable.endAccess(ref), "flags cleared while not in use")
            let ended = (GrantTable.entries + Int(ref)).pointee.flags == 0
            var again = copy
            again.status = 0
            try copyOnce(&again)
            Report.check("grant table: an ended grant is refused", ended && again.status != GNTST_okay, "copy fails after end of access")
        } catch {
            Report.error(name, "GNTTABOP_copy", error)
        }
    }

    static func copyOnce(_ copy: inout gnttab_copy) throws(XenError) { try Xen.grant_table_op.copy(&copy) }
}

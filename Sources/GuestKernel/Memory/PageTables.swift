// Every page of the domain mapped at its place (virtual base + pfn * 4 KiB), whatever the
// domain's size. Xen's boot mapping ends at a 4 MiB boundary; past it each 2 MiB gets an L1
// table of ours, each 1 GiB an L2, each 512 GiB an L3. A table is filled while it is an
// ordinary page, then mapped read-only (Xen refuses a table with a writable mapping), pinned
// at its level, and hooked into its parent with mmu_update (the parent is read-only to us).
import GuestKernelBoot
import XenABI

enum PageTables {
    static let entries = 512
    static let tableFlags = PTE.present | PTE.writable | PTE.user | PTE.accessed
    static let frameMask: UInt64 = 0xFF_FFFF_FFFF
    /// Page-table pages made so far, by level (1, 2, 3): reported, and the size test's evidence.
    nonisolated(unsafe) static var made = (l1: 0, l2: 0, l3: 0)

    /// Maps pfns `from..<to`. Tables come from pages already mapped (they must be written before
    /// they are pinned); each chunk mapped makes its pages available for the next tables.
    static func mapRange(from: Int, to: Int) throws(BootError) -> Int {
        let l4 = UnsafeMutablePointer<UInt64>(bitPattern: UInt(Boot.startInfo.pointee.pt_base))!
        var limit = from
        var mapped = 0
        var pfn = from
        while pfn < to {
            let va = Boot.address(ofPFN: pfn)
            let chunk = Boot.pfn(ofAddress: va & ~UInt(0x1F_FFFF))
            let l3 = try child(of: l4, index: Int(va >> 39) & 511, level: 3, limit: limit)
            let l2 = try child(of: l3, index: Int(va >> 30) & 511, level: 2, limit: limit)
            let i2 = Int(va >> 21) & 511
            guard l2[i2] & PTE.present == 0 else { throw .kernel(.unexpectedPageTable) }
            let (table, mfn) = try newTable(limit: limit)
            let end = min(to, chunk + entries)
            for i in 0..<entries {
                let p = chunk + i
                table[i] = p >= pfn && p < end ? (Memory.mfn(ofPFN: p) << 12) | PTE.kernelData : 0
            }
            try install(table: table, mfn: mfn, level: 1, into: l2, index: i2)
            made.l1 += 1
            mapped += end - pfn
            pfn = end
            limit = end
        }
        return mapped
    }

    /// The table that `parent[index]` points to, made (empty) if it is not there yet.
    static func child(of parent: UnsafeMutablePointer<UInt64>, index: Int, level: Int, limit: Int) throws(BootError) -> UnsafeMutablePointer<UInt64> {
        if parent[index] & PTE.present != 0 {
            let pfn = Memory.pfn(ofMFN: (parent[index] >> 12) & frameMask)
            return UnsafeMutablePointer<UInt64>(bitPattern: Boot.address(ofPFN: pfn))!
        }
        let (table, mfn) = try newTable(limit: limit)
        for i in 0..<entries { table[i] = 0 }
        try install(table: table, mfn: mfn, level: level, into: parent, index: index)
        if level == 2 { made.l2 += 1 } else { made.l3 += 1 }
        return table
    }

    /// A free page below `limit`, which is mapped and writable, for a table.
    static func newTable(limit: Int) throws(BootError) -> (UnsafeMutablePointer<UInt64>, UInt64) {
        guard let pfn = PageAllocator.allocate(below: limit) else { throw .kernel(.noFreePage) }
        return (UnsafeMutablePointer<UInt64>(bitPattern: Boot.address(ofPFN: pfn))!, Memory.mfn(ofPFN: pfn))
    }

    /// Read-only, pinned at `level`, then hooked in at `parent[index]` through the parent's
    /// machine address.
    static func install(table: UnsafeMutablePointer<UInt64>, mfn: UInt64, level: Int, into parent: UnsafeMutablePointer<UInt64>, index: Int) throws(BootError) {
        let parentMFN = Memory.mfn(ofPFN: Boot.pfn(ofAddress: UInt(bitPattern: parent)))
        var pin = mmuext_op()
        pin.cmd = level == 1 ? MMUEXT_PIN_L1_TABLE : level == 2 ? MMUEXT_PIN_L2_TABLE : MMUEXT_PIN_L3_TABLE
        pin.arg1.mfn = xen_pfn_t(mfn)
        let hook = mmu_update(ptr: (parentMFN << 12) + UInt64(index * 8) | UInt64(MMU_NORMAL_PT_UPDATE), val: (mfn << 12) | tableFlags)
        let done: UInt32
        do {
            try Memory.map(mfn: mfn, at: UInt(bitPattern: table), writable: false)
            _ = try Xen.mmuext_op(pin, DOMID_SELF)
            done = try Xen.mmu_update(hook, DOMID_SELF)
        } catch { throw .xen(error) }
        guard done == 1 else { throw .kernel(.shortBatch) }
    }
}

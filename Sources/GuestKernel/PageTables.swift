// Every page of the domain mapped: Xen's boot mapping ends at a 4 MiB boundary; the pages past it
// get L1 tables of their own, hooked into the boot L2 with mmu_update.
import GuestKernelBoot
import XenABI

enum PageTables {
    static let entries = 512

    /// The virtual address of one of Xen's boot page-table frames, found by its machine frame
    /// among the nr_pt_frames pages at pt_base.
    static func bootTable(mfn: UInt64) -> UnsafeMutablePointer<UInt64>? {
        let si = Boot.startInfo.pointee
        for i in 0..<Int(si.nr_pt_frames) {
            let va = UInt(si.pt_base) + UInt(i * Boot.pageSize)
            if Memory.mfn(ofPFN: Boot.pfn(ofAddress: va)) == mfn { return UnsafeMutablePointer(bitPattern: va) }
        }
        return nil
    }

    /// Maps pfns `from..<to` at their pseudo-physical addresses. Returns how many were mapped.
    static func mapRange(from: Int, to: Int) throws(XenError) -> Int {
        var mapped = 0
        let l4 = UnsafeMutablePointer<UInt64>(bitPattern: UInt(Boot.startInfo.pointee.pt_base))!
        var pfn = from
        while pfn < to {
            let va = Boot.address(ofPFN: pfn)
            let i4 = Int(va >> 39) & 511, i3 = Int(va >> 30) & 511, i2 = Int(va >> 21) & 511
            guard l4[i4] & PTE.present != 0, let l3 = bootTable(mfn: (l4[i4] >> 12) & 0xFF_FFFF_FFFF),
                  l3[i3] & PTE.present != 0, let l2 = bootTable(mfn: (l3[i3] >> 12) & 0xFF_FFFF_FFFF) else {
                throw XenError(code: 22) // beyond the boot L2: not needed for a dom0 this size
            }
            let l2mfn = (l3[i3] >> 12) & 0xFF_FFFF_FFFF
            // This L1 covers the 2 MiB around va; fill it while it is an ordinary writable page.
            let first = Boot.pfn(ofAddress: va & ~UInt(0x1F_FFFF))
            guard l2[i2] & PTE.present == 0, let tablePFN = PageAllocator.allocate(below: Boot.pfn(ofAddress: Boot.mappedEnd)) else {
                throw XenError(code: 12)
            }
            let tableVA = Boot.address(ofPFN: tablePFN)
            let table = UnsafeMutablePointer<UInt64>(bitPattern: tableVA)!
            for i in 0..<entries { table[i] = 0 }
            // A page table may have no writable mapping: make ours read-only, then pin it as an L1.
            let tableMFN = Memory.mfn(ofPFN: tablePFN)
            try Memory.map(mfn: tableMFN, at: tableVA, writable: false)
            var pin = mmuext_op()
            pin.cmd = MMUEXT_PIN_L1_TABLE
            pin.arg1.mfn = xen_pfn_t(tableMFN)
            _ = try Xen.mmuext_op(pin, DOMID_SELF)
            // Its entries, one mmu_update batch: the machine address of each entry and its value.
            var requests: [mmu_update] = []
            requests.reserveCapacity(entries)
            for i in 0..<entries where first + i >= from && first + i < to {
                requests.append(mmu_update(ptr: (tableMFN << 12) + UInt64(i * 8) | MMU_NORMAL_PT_UPDATE,
                                           val: (Memory.mfn(ofPFN: first + i) << 12) | PTE.kernelData))
            }
            let filled = try requests.withUnsafeBufferPointer { (p) throws(XenError) in try Xen.mmu_update(p, DOMID_SELF) }
            guard Int(filled) == requests.count else { throw XenError(code: 22) }
            mapped += requests.count
            // Hook it into the boot L2 (itself read-only to us): the machine address of the entry.
            let update = mmu_update(ptr: (l2mfn << 12) + UInt64(i2 * 8) | MMU_NORMAL_PT_UPDATE,
                                    val: (tableMFN << 12) | PTE.present | PTE.writable | PTE.user | PTE.accessed)
            let done = try Xen.mmu_update(update, DOMID_SELF)
            guard done == 1 else { throw XenError(code: 22) }
            pfn = first + entries
        }
        return mapped
    }
}

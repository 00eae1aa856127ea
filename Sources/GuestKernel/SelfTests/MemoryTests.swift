// The kernel's memory: every page mapped, the heap and the page allocator under stress.
import XenABI

enum MemoryTests {
    static func run() {
        allPagesMapped()
        heapStress()
        pageAllocatorStress()
    }

    /// Every page of the domain reachable at its place: the first and last free page of each
    /// 2 MiB past Xen's boot mapping written and read back through the tables the kernel made
    /// (pages in use may be page tables, which are read-only).
    static func allPagesMapped() {
        let nrPages = Int(Boot.startInfo.pointee.nr_pages)
        // Every line on the serial console costs boot time: the table counts only on request.
        if CommandLine.has("timings") {
            Report.figure("L1 tables made", UInt64(PageTables.made.l1), "tables")
            Report.figure("L2 tables made", UInt64(PageTables.made.l2), "tables")
        }
        let first = Boot.pfn(ofAddress: Boot.mappedEnd), last = nrPages - 1
        guard first <= last else { Report.skip("pages past the boot mapping written and read back", "none in a domain this small"); return }
        var ok = true
        var pfn = first
        while pfn <= last {
            let end = min(pfn + PageTables.entries, last + 1)
            var low = pfn, high = end - 1
            while low < end && PageAllocator.isUsed(low) { low += 1 }
            while high > low && PageAllocator.isUsed(high) { high -= 1 }
            for p in [low, high] where p < end {
                let words = UnsafeMutablePointer<UInt64>(bitPattern: Boot.address(ofPFN: p))!
                words[0] = UInt64(p) &* 0x9E37_79B9_7F4A_7C15
                words[511] = ~words[0]
                if words[0] != UInt64(p) &* 0x9E37_79B9_7F4A_7C15 || words[511] != ~(UInt64(p) &* 0x9E37_79B9_7F4A_7C15) { ok = false }
            }
            pfn = end
        }
        Report.check("pages past the boot mapping written and read back", ok, "every 2 MiB reachable through its own L1")
        let l2Needed = Int(Boot.address(ofPFN: last) >> 30) > Int(Boot.address(ofPFN: first) >> 30)
        Report.check("tables made as the size needs: an L2 for each further 1 GiB", !l2Needed || PageTables.made.l2 > 0, "an L2 of ours past 1 GiB")
    }

    static func heapStress() {
        var pointers: [UnsafeMutableRawPointer] = []
        var ok = true
        for i in 0..<200 {
            guard let p = Heap.allocate(16 + (i * 37) % 700, alignment: i % 3 == 0 ? 64 : 16) else { ok = false; break }
            if i % 3 == 0 && UInt(bitPattern: p) % 64 != 0 { ok = false }
            p.storeBytes(of: UInt32(i), as: UInt32.self)
            pointers.append(p)
        }
        for (i, p) in pointers.enumerated() where p.load(as: UInt32.self) != UInt32(i) { ok = false }
        for p in pointers.reversed() { Heap.release(p) }
        Report.check("heap: 200 allocations, aligned, distinct, freed", ok, "every block intact")
        let again = Heap.allocate(64 * 1024, alignment: 16)
        Report.check("heap: freed space is reused", again != nil, "a 64 KiB block after freeing everything")
        if let again { Heap.release(again) }
    }

    static func pageAllocatorStress() {
        let before = PageAllocator.free
        var pfns: [Int] = []
        while pfns.count < 64, let p = PageAllocator.allocate() { pfns.append(p) }
        // Distinct: each page is marked once, so stamping a word in each finds no stamp twice.
        for p in pfns { UnsafeMutablePointer<UInt64>(bitPattern: Boot.address(ofPFN: p))!.pointee = 0 }
        var distinct = true
        for p in pfns {
            let word = UnsafeMutablePointer<UInt64>(bitPattern: Boot.address(ofPFN: p))!
            if word.pointee != 0 { distinct = false }
            word.pointee = 1
        }
        for p in pfns { PageAllocator.release(p) }
        Report.check("page allocator: 64 distinct pages, all returned", pfns.count == 64 && distinct && PageAllocator.free == before, "64 distinct pfns")
    }
}

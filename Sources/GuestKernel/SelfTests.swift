// Self-tests: each proves a Xen behaviour (or the kernel's own machinery) on the real hypervisor.
import XenABI

enum SelfTests {
    static func run() {
        xenVersion()
        heapStress()
        pageAllocatorStress()
        #if GUEST_INJECT_FAILURE
        Report.fail("injected failure", "built with --inject-failure")
        #endif
    }

    static func xenVersion() {
        do {
            let v = try Xen.xen_version.version()
            Console.write("guest: Xen "); Console.write(v >> 16); Console.write("."); Console.write(v & 0xFFFF); Console.newline()
            Report.check("xen_version reports 4.x", v >> 16 == 4, "major version 4")
            let extra = try Xen.xen_version.extraversion()
            Report.check("xen_version extraversion is a string", withUnsafeBytes(of: extra) { $0.contains(0) }, "a NUL within 16 bytes")
            let caps = try Xen.xen_version.capabilities()
            let has64: Bool = withUnsafeBytes(of: caps) { bytes in
                let needle: StaticString = "xen-3.0-x86_64"
                return needle.withUTF8Buffer { n in
                    (0...(bytes.count - n.count)).contains { i in n.indices.allSatisfy { bytes[i + $0] == n[$0] } }
                }
            }
            Report.check("xen_version capabilities list xen-3.0-x86_64", has64, "x86_64 PV support")
        } catch {
            Report.fail("xen_version", "hypercall failed")
        }
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
        let distinct = Set(pfns).count == pfns.count
        for p in pfns { PageAllocator.release(p) }
        Report.check("page allocator: 64 distinct pages, all returned", pfns.count == 64 && distinct && PageAllocator.free == before, "64 distinct pfns")
    }
}

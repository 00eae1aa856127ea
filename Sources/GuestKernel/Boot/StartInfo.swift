// start_info: what Xen handed over in %rsi, checked and printed, and the memory facts it implies.
import GuestKernelBoot
import XenABI

enum Boot {
    static let pageSize = 4096

    /// Where pseudo-physical address 0 is mapped: the image's own base (VIRT_BASE = PADDR_OFFSET).
    static var virtualBase: UInt { UInt(bitPattern: UnsafeRawPointer(_text_address())) }

    static func address(ofPFN pfn: Int) -> UInt { virtualBase + UInt(pfn) * UInt(pageSize) }
    static func pfn(ofAddress va: UInt) -> Int { Int((va - virtualBase) / UInt(pageSize)) }

    static var startInfo: UnsafeMutablePointer<start_info> {
        UnsafeMutableRawPointer(boot_start_info).assumingMemoryBound(to: start_info.self)
    }

    /// "xen-3.0-x86_64": the magic of a 64-bit PV start_info.
    static func magicIsX86_64() -> Bool {
        let expected: StaticString = "xen-3.0-x86_64"
        return withUnsafeBytes(of: startInfo.pointee.magic) { magic in
            expected.withUTF8Buffer { e in
                e.indices.allSatisfy { magic[$0] == e[$0] } && magic[e.count] == 0
            }
        }
    }

    /// The first virtual address after Xen's bootstrap structures (page tables, then its boot
    /// stack page): everything from here to `mappedEnd` is mapped and free.
    static var bootstrapEnd: UInt { UInt(startInfo.pointee.pt_base) + UInt(startInfo.pointee.nr_pt_frames + 1) * UInt(pageSize) }

    /// Xen maps the bootstrap region up to a 4 MiB boundary with at least 512 KiB to spare.
    static var mappedEnd: UInt {
        let fourMiB: UInt = 1 << 22
        var end = (bootstrapEnd + fourMiB - 1) & ~(fourMiB - 1)
        if end - bootstrapEnd < 512 << 10 { end += fourMiB }
        return end
    }

    static func printStartInfo() {
        let si = startInfo.pointee
        Console.write("guest: start_info magic ")
        withUnsafeBytes(of: si.magic) { Console.write(cString: $0.baseAddress!.assumingMemoryBound(to: Int8.self), limit: 32) }
        Console.write(", nr_pages "); Console.write(si.nr_pages)
        Console.write(", shared_info "); Console.write(si.shared_info, hex: true)
        Console.write(", pt_base "); Console.write(si.pt_base, hex: true)
        Console.write(", nr_pt_frames "); Console.write(si.nr_pt_frames)
        Console.write(", mfn_list "); Console.write(si.mfn_list, hex: true)
        Console.write(", flags "); Console.write(si.flags, hex: true)
        Console.newline()
        Console.write("guest: cmdline \"")
        withUnsafeBytes(of: si.cmd_line) { Console.write(cString: $0.baseAddress!.assumingMemoryBound(to: Int8.self), limit: 1024) }
        Console.write("\"\n")
    }
}

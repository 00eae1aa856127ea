// The trap table: every exception reaches Swift, which either handles an expected one or prints
// the vector, error code and registers and crashes the domain (Xen would otherwise kill it silently).
import GuestKernelBoot
import XenABI

enum Traps {
    /// An exception a self-test is about to cause, and how far to step past it.
    nonisolated(unsafe) static var expected: (vector: UInt, skip: UInt)?
    nonisolated(unsafe) static var taken: (vector: UInt, rip: UInt)?

    static func start() throws(XenError) {
        var table = [trap_info](repeating: trap_info(), count: 21)
        for v in 0..<20 {
            table[v].vector = UInt8(v)
            // The kernel runs in ring 3: int3 and into must be allowed from there.
            table[v].flags = v == 3 || v == 4 ? 3 : 0
            table[v].cs = FLAT_KERNEL_CS
            table[v].address = UInt64(trap_entry_address(UInt32(v)))
        }
        // The table ends with an entry whose address is 0.
        _ = try table.withUnsafeBufferPointer { (p) throws(XenError) in try Xen.set_trap_table(p) }
    }

    static func handle(_ frame: UnsafeMutablePointer<trap_frame>) {
        let f = frame.pointee
        if let e = expected, e.vector == f.vector {
            expected = nil
            taken = (f.vector, f.rip)
            frame.pointee.rip += e.skip
            return
        }
        Console.write("guest: trap: vector "); Console.write(UInt64(f.vector))
        Console.write(" error "); Console.write(UInt64(f.error_code), hex: true)
        Console.write(" rip "); Console.write(UInt64(f.rip), hex: true)
        Console.write(" rsp "); Console.write(UInt64(f.rsp), hex: true)
        Console.write(" rflags "); Console.write(UInt64(f.rflags), hex: true)
        if f.vector == 14 {
            let cr2 = (SharedInfo.vcpu0 + MemoryLayout<vcpu_info>.offset(of: \.arch)! + MemoryLayout<arch_vcpu_info>.offset(of: \.cr2)!).load(as: UInt64.self)
            Console.write(" cr2 "); Console.write(cr2, hex: true)
        }
        Console.newline()
        Console.write("guest: rax "); Console.write(UInt64(f.rax), hex: true); Console.write(" rbx "); Console.write(UInt64(f.rbx), hex: true)
        Console.write(" rcx "); Console.write(UInt64(f.rcx), hex: true); Console.write(" rdx "); Console.write(UInt64(f.rdx), hex: true)
        Console.write(" rsi "); Console.write(UInt64(f.rsi), hex: true); Console.write(" rdi "); Console.write(UInt64(f.rdi), hex: true)
        Console.write(" rbp "); Console.write(UInt64(f.rbp), hex: true); Console.newline()
        Report.fail("unexpected exception", "the kernel took a fault it did not expect")
        Report.finish()
    }
}

@_cdecl("guest_trap")
func guestTrap(_ frame: UnsafeMutablePointer<trap_frame>) { Traps.handle(frame) }

// The trap table: every exception reaches Swift, which resumes one that code said to expect (a
// probe of an instruction that may fault) or prints the vector, error code and registers and
// crashes the domain (Xen would otherwise kill it silently).
import GuestKernelBoot
import XenABI

enum Traps {
    static let vectors = 20
    /// Per vector: how far to step past an expected exception (-1: not expected), and where the
    /// last expected one was taken.
    /// Fixed storage, not arrays: the handler must not allocate (the fault may be the heap's).
    nonisolated(unsafe) static var skip = InlineArray<20, Int>(repeating: -1)
    nonisolated(unsafe) static var takenAt = InlineArray<20, UInt>(repeating: 0)
    /// The address of the last expected page fault (cr2, as Xen saved it in vcpu_info).
    nonisolated(unsafe) static var faultAddress: UInt64 = 0

    static func start() throws(XenError) {
        var table = [trap_info](repeating: trap_info(), count: vectors + 1)
        for v in 0..<vectors {
            table[v].vector = UInt8(v)
            // The kernel runs in ring 3: int3 and into must be allowed from there.
            table[v].flags = v == 3 || v == 4 ? 3 : 0
            table[v].cs = FLAT_KERNEL_CS
            table[v].address = UInt64(trap_entry_address(UInt32(v)))
        }
        // The table ends with an entry whose address is 0.
        _ = try table.withUnsafeBufferPointer { (p) throws(XenError) in try Xen.set_trap_table(p) }
    }

    /// The next exception of `vector` is expected: it is resumed `skip` bytes past where Xen
    /// reports it (a fault reports the instruction, a trap the one after).
    static func expect(vector: Int, skip bytes: Int) {
        takenAt[vector] = 0
        skip[vector] = bytes
    }

    /// Where the expected exception of `vector` was taken, or nil if it was not.
    static func taken(vector: Int) -> UInt? { takenAt[vector] == 0 ? nil : takenAt[vector] }

    /// The faulting address of a page fault, which Xen leaves in the vCPU's `arch.cr2`.
    static var cr2: UInt64 {
        (SharedInfo.vcpu0 + MemoryLayout<vcpu_info>.offset(of: \.arch)! + MemoryLayout<arch_vcpu_info>.offset(of: \.cr2)!).load(as: UInt64.self)
    }

    static func handle(_ frame: UnsafeMutablePointer<trap_frame>) {
        let f = frame.pointee
        let v = Int(f.vector)
        if v < vectors, skip[v] >= 0 {
            takenAt[v] = f.rip
            if v == 14 { faultAddress = cr2 }
            frame.pointee.rip += UInt(skip[v])
            skip[v] = -1
            return
        }
        Console.write("guest: trap: vector "); Console.write(UInt64(f.vector))
        Console.write(" error "); Console.write(UInt64(f.error_code), hex: true)
        Console.write(" rip "); Console.write(UInt64(f.rip), hex: true)
        Console.write(" rsp "); Console.write(UInt64(f.rsp), hex: true)
        Console.write(" rflags "); Console.write(UInt64(f.rflags), hex: true)
        if f.vector == 14 { Console.write(" cr2 "); Console.write(cr2, hex: true) }
        Console.newline()
        Console.write("guest: rax "); Console.write(UInt64(f.rax), hex: true); Console.write(" rbx "); Console.write(UInt64(f.rbx), hex: true)
        Console.write(" rcx "); Console.write(UInt64(f.rcx), hex: true); Console.write(" rdx "); Console.write(UInt64(f.rdx), hex: true)
        Console.write(" rsi "); Console.write(UInt64(f.rsi), hex: true); Console.write(" rdi "); Console.write(UInt64(f.rdi), hex: true)
        Console.write(" rbp "); Console.write(UInt64(f.rbp), hex: true); Console.newline()
        Panic.fail("unexpected exception")
    }
}

@_cdecl("guest_trap")
func guestTrap(_ frame: UnsafeMutablePointer<trap_frame>) { Traps.handle(frame) }

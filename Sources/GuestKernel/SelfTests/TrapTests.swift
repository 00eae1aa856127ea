// The trap table: an invalid opcode (a fault: Xen reports rip at the instruction) and a
// breakpoint (a trap: rip after it), each expected, handled through the table and resumed; the
// boot stack's guard page unmapped (a read of it faults at its address); and, when the command
// line says `overflow-stack`, an overflow that the guard page stops.
import GuestKernelBoot
import XenABI

enum TrapTests {
    static func run() {
        Traps.expect(vector: 6, skip: 2)
        cpu_ud2()
        Report.check("trap table: #UD taken, handled and resumed", Traps.taken(vector: 6) != nil, "vector 6 reached the handler")
        Traps.expect(vector: 3, skip: 0)
        cpu_int3()
        Report.check("trap table: #BP from ring 3 taken and resumed", Traps.taken(vector: 3) != nil, "vector 3 reached the handler")
        let guardPage = UInt64(UInt(bitPattern: boot_stack_guard_address()))
        Traps.expect(vector: 14, skip: Int(CPU_PROBE_READ_LENGTH))
        _ = cpu_probe_read(boot_stack_guard_address())
        Report.check("boot stack: the guard page below it is unmapped (a read faults there)",
                     Traps.taken(vector: 14) != nil && Traps.faultAddress == guardPage, "#PF with cr2 at the guard page")
    }

    /// Recurses, 1 KB of stack a level, until the guard page stops it: Xen crashes the domain
    /// ("domain_crash_sync called from entry.S"), as it cannot push the fault's frame there.
    /// Prints every 64th level.
    static func overflowStack() -> Never {
        Console.write("guest: overflowing the boot stack on purpose, guard page at ")
        Console.write(UInt64(UInt(bitPattern: boot_stack_guard_address())), hex: true); Console.newline()
        _ = descend(1, limit: Int.max)
        Report.fail("boot stack: an overflow stopped by the guard page", "the recursion came back")
        Report.finish()
    }

    @inline(never) static func descend(_ depth: Int, limit: Int) -> Int {
        var scratch = InlineArray<128, UInt64>(repeating: UInt64(depth))
        return withUnsafeMutableBytes(of: &scratch) { bytes in
            cpu_use(bytes.baseAddress)  // the frame is used: the compiler keeps all of it
            if depth % 64 == 0 { Console.write("guest: stack depth ", UInt64(depth)); Console.newline() }
            guard depth < limit else { return depth }
            return descend(depth + 1, limit: limit) + Int(bytes[0] & 1)
        }
    }
}

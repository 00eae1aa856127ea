// The trap table: an invalid opcode (a fault: Xen reports rip at the instruction) and a
// breakpoint (a trap: rip after it), each expected, handled through the table and resumed.
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
    }
}

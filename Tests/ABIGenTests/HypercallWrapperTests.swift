// Every typed hypercall wrapper, driven against a recording double of the hypercall page.
import Foundation
import Testing
import XenABI

/// Stands in for the hypercall page: records each call's registers and the bytes its argument
/// pointer covers, writes a pattern back for out and in-out arguments, returns a chosen result.
enum RecordingEntry: XenHypercallEntry {
    struct Call { var number: UInt; var registers: [UInt]; var argument: [UInt8] }
    nonisolated(unsafe) static var calls: [Call] = []
    nonisolated(unsafe) static var result = 0
    nonisolated(unsafe) static var argumentRegister: Int?
    nonisolated(unsafe) static var argumentBytes = 0
    nonisolated(unsafe) static var writeBack = false
    static let writeBackByte: UInt8 = 0xA5

    nonisolated(unsafe) static var arities: [Int] = []
    static func hypercall0(_ nr: UInt) -> Int { record(nr, [], arity: 0) }
    static func hypercall1(_ nr: UInt, _ a1: UInt) -> Int { record(nr, [a1], arity: 1) }
    static func hypercall2(_ nr: UInt, _ a1: UInt, _ a2: UInt) -> Int { record(nr, [a1, a2], arity: 2) }
    static func hypercall3(_ nr: UInt, _ a1: UInt, _ a2: UInt, _ a3: UInt) -> Int { record(nr, [a1, a2, a3], arity: 3) }
    static func hypercall4(_ nr: UInt, _ a1: UInt, _ a2: UInt, _ a3: UInt, _ a4: UInt) -> Int { record(nr, [a1, a2, a3, a4], arity: 4) }
    static func hypercall5(_ nr: UInt, _ a1: UInt, _ a2: UInt, _ a3: UInt, _ a4: UInt, _ a5: UInt) -> Int { record(nr, [a1, a2, a3, a4, a5], arity: 5) }

    /// Registers a call left unset read as 0 here; the arity says how many the wrapper loaded.
    static func record(_ nr: UInt, _ loaded: [UInt], arity: Int) -> Int {
        arities.append(arity)
        let registers = loaded + Array(repeating: 0, count: 5 - loaded.count)
        var bytes: [UInt8] = []
        if let r = argumentRegister, let p = UnsafeMutableRawPointer(bitPattern: registers[r]) {
            bytes = Array(UnsafeRawBufferPointer(start: p, count: argumentBytes))
            if writeBack { p.initializeMemory(as: UInt8.self, repeating: writeBackByte, count: argumentBytes) }
        }
        calls.append(Call(number: nr, registers: registers, argument: bytes))
        return result
    }
}

/// A value whose every byte is distinct from its neighbours, so a wrong offset or size shows.
func patterned<T>(_: T.Type) -> T {
    let p = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
    defer { p.deallocate() }
    for i in 0..<MemoryLayout<T>.size { p.storeBytes(of: UInt8(truncatingIfNeeded: i &* 7 &+ 1), toByteOffset: i, as: UInt8.self) }
    return p.load(as: T.self)
}

func patternBytes(_ count: Int, element: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 % element) &* 7 &+ 1) }
}

@Suite(.serialized) struct HypercallWrapperTests {
    @Test func everyTypedWrapperPassesNumberSubopArgumentAndMapsErrors() throws {
        #expect(hypercallCases.count > 100, "expected a case for every typed wrapper")
        for c in hypercallCases {
            RecordingEntry.calls = []
            RecordingEntry.result = 0
            RecordingEntry.argumentRegister = c.argumentRegister
            RecordingEntry.argumentBytes = c.argumentBytes
            RecordingEntry.writeBack = c.direction == "out" || c.direction == "inout"
            let returned = try c.call()
            try #require(RecordingEntry.calls.count == 1, "\(c.name): expected one hypercall")
            let call = RecordingEntry.calls[0]
            #expect(call.number == c.number, "\(c.name): hypercall number")
            #expect(RecordingEntry.arities.last == c.registers.count, "\(c.name): loads \(RecordingEntry.arities.last ?? -1) registers, the spec gives \(c.registers.count) arguments")
            for (i, expected) in c.registers.enumerated() {
                if let expected { #expect(call.registers[i] == expected, "\(c.name): register \(i + 1) is \(call.registers[i]), expected \(expected)") }
            }
            if let r = c.argumentRegister {
                #expect(call.registers[r] != 0, "\(c.name): argument pointer is null")
                switch c.direction {
                case "in", "inout":
                    #expect(call.argument == patternBytes(c.argumentBytes, element: max(c.argumentBytes / c.elements, 1)),
                            "\(c.name): Xen would not see the argument's bytes")
                case "out" where c.elements == 1:
                    // The wrapper's own out value starts zeroed (a caller's out buffer is the caller's).
                    #expect(call.argument.allSatisfy { $0 == 0 }, "\(c.name): an out argument must reach Xen zeroed")
                default:
                    break
                }
                if let returned, c.direction != "in" {
                    #expect(returned.prefix(c.argumentBytes).allSatisfy { $0 == RecordingEntry.writeBackByte }, "\(c.name): what Xen wrote is not what the caller gets")
                }
            }

            RecordingEntry.calls = []
            RecordingEntry.result = -22
            do {
                _ = try c.call()
                Issue.record("\(c.name): a negative result must throw")
            } catch {
                #expect(error == XenError(code: 22), "\(c.name): -22 must map to XEN_EINVAL")
                #expect(error.errno == .XEN_EINVAL)
            }
        }
    }

    @Test func countedArraysOfRecordsHaveSingleElementForms() throws {
        let names = Set(hypercallCases.map(\.name))
        for n in ["mmu_update (one element)", "mmuext_op (one element)", "grant_table_op.copy (one element)", "multicall (one element)"] {
            #expect(names.contains(n), "no case for \(n)")
        }
        #expect(!names.contains("console_io.write (one element)"), "a byte buffer has no single-element form")
        // One request, by value: count 1, DOMID_SELF zero-extended, the done count returned.
        RecordingEntry.calls = []
        RecordingEntry.result = 0
        RecordingEntry.argumentRegister = 0
        RecordingEntry.argumentBytes = MemoryLayout<mmu_update>.size
        RecordingEntry.writeBack = false
        let one = mmu_update(ptr: 0x1234_5000 | MMU_NORMAL_PT_UPDATE, val: 0x67)
        _ = try XenHypercall<RecordingEntry>.mmu_update(one, DOMID_SELF)
        let call = try #require(RecordingEntry.calls.first)
        #expect(call.registers[1] == 1 && call.registers[3] == 0x7FF0)
        #expect(call.argument == withUnsafeBytes(of: one) { Array($0) })
        // One grant copy, inout: what Xen writes comes back to the caller's value.
        RecordingEntry.calls = []
        RecordingEntry.argumentRegister = 1
        RecordingEntry.argumentBytes = MemoryLayout<gnttab_copy>.size
        RecordingEntry.writeBack = true
        var copy = gnttab_copy()
        copy.source.domid = DOMID_SELF
        try XenHypercall<RecordingEntry>.grant_table_op.copy(&copy)
        #expect(RecordingEntry.calls.first?.registers[2] == 1)
        #expect(copy.status == Int16(bitPattern: 0xA5A5) && copy.source.domid == 0xA5A5)
    }

    @Test func typedConstantsNeedNoConversionAtCallSites() {
        let alloc = evtchn_alloc_unbound(dom: DOMID_SELF, remote_dom: DOMID_SELF)
        let bind = evtchn_bind_virq(virq: VIRQ_TIMER, vcpu: 0)
        var rsp = netif_tx_response()
        rsp.status = NETIF_RSP_OKAY
        #expect(alloc.dom == 0x7FF0 && bind.virq == 0 && rsp.status == 0 && GNTST_okay == 0)
        #expect(VirtualIRQ.TIMER.rawValue == VIRQ_TIMER && GrantStatus.okay.rawValue == GNTST_okay)
    }

    @Test func multicallEntriesCarryTheSameOperation() {
        var send = evtchn_send(port: 7)
        let entry = withUnsafeMutablePointer(to: &send) { XenMulticall.event_channel_op.send($0) }
        #expect(entry.op == xen_ulong_t(__HYPERVISOR_event_channel_op))
        #expect(entry.args[0] == xen_ulong_t(EVTCHNOP_send))
        var done = entry
        done.result = xen_ulong_t(bitPattern: -3)
        #expect(done.outcome == .failure(XenError(code: 3)))
        done.result = 5
        #expect(done.outcome == .success(5))
    }

    @Test func rawEntriesExistForEveryHypercallNumber() {
        RecordingEntry.calls = []
        RecordingEntry.result = 0
        RecordingEntry.argumentRegister = nil
        _ = XenHypercall<RecordingEntry>.raw_iret()
        _ = XenHypercall<RecordingEntry>.raw_stack_switch(0x10, 0x2000)
        #expect(RecordingEntry.calls.map(\.number) == [UInt(__HYPERVISOR_iret), UInt(__HYPERVISOR_stack_switch)])
        #expect(RecordingEntry.calls[1].registers == [0x10, 0x2000, 0, 0, 0])
    }
}

// The committed layer: reproducible from the installed headers, verified, and usable from Swift.
import Foundation
import Testing
import XenABI
import XenToolsABI

@Suite struct GeneratedLayerTests {
    @Test func committedLayerIsWhatTheInstalledHeadersRegenerate() throws {
        let out = try temporaryDirectory().appendingPathComponent("xen-4.17")
        let r = try runAbigen(["regenerate", "--xen-version", "4.17", "--output", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        let diff = Process()
        diff.executableURL = URL(fileURLWithPath: "/usr/bin/diff")
        diff.arguments = ["-r", "-q", Paths.generated.path, out.path]
        let pipe = Pipe()
        diff.standardOutput = pipe
        try diff.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        diff.waitUntilExit()
        #expect(diff.terminationStatus == 0, "Generated/xen-4.17 differs from a fresh regenerate; run `abigen regenerate --xen-version 4.17`:\n\(text)")
    }

    @Test func verifyPassesOnTheInstalledHeaders() throws {
        let r = try runAbigen(["verify", "--xen-version", "4.17"])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let last = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.range(of: #"^verified \d+ types, \d+ fields, \d+ constants$"#, options: .regularExpression) != nil, "\(r.stdout)")
    }

    @Test func layoutsAndConstantsFromSwift() {
        #expect(MemoryLayout<evtchn_send>.size == 4)
        #expect(MemoryLayout<evtchn_bind_interdomain>.size == 12)
        #expect(MemoryLayout<evtchn_bind_interdomain>.offset(of: \.remote_port) == 4)
        #expect(DOMID_SELF == 0x7FF0)
        #expect(UVMF_ALL == 4)
        #expect(EventChannelOp.send.rawValue == EVTCHNOP_send)
        #expect("\(XEN_IO_PROTO_ABI_NATIVE)" == "x86_64-abi")
    }

    @Test func bitfieldAccessorsSetExactlyTheirBits() {
        var r = ioreq()
        r.state = 0xF
        r.df = 1
        #expect(r.state == 0xF && r.data_is_ptr == 0 && r.df == 1)
        r.state = 0x1F   // truncated to the 4-bit field, as in C
        #expect(r.state == 0xF)
    }

    @Test func unionMembersShareBytes() {
        var status = evtchn_status()
        status.u.virq = 0x11223344
        #expect(status.u.pirq == 0x11223344)
        #expect(MemoryLayout<evtchn_status.u_t>.size == 8)
    }

    @Test func anonymousMembersAreReachedThroughTheParent() {
        var regs = XenToolsABI.cpu_user_regs()
        regs.rax = 0x1122334455667788
        #expect(regs.eax == 0x55667788)
        #expect(regs.al == 0x88 && regs.ah == 0x77)
        #expect(MemoryLayout<XenToolsABI.cpu_user_regs>.size == MemoryLayout<XenABI.cpu_user_regs>.size)
    }

    @Test func typedFlagsSplitTheTypeFieldFromTheFlags() {
        var flags = GrantEntryFlags(type: .permit_access, [.readonly])
        #expect(flags.type == .permit_access)
        #expect(flags.contains(.readonly))
        flags.type = .accept_transfer
        #expect(flags.contains(.readonly) && flags.type == .accept_transfer)
    }
}

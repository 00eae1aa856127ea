// The toolstack's control key against a simulated xenstored that writes it as libxl does:
// poweroff and reboot accepted and acknowledged, suspend and nonsense refused and left alone,
// the guest's own acknowledgement and a removed key asking nothing, a storm asking once.
import Testing
import XenABI
@testable import XenDevices

@Suite("xenbus control")
struct XenBusControlTests {
    /// A started control on a connected client, pumped until nothing moves.
    struct Started: ~Copyable {
        var s = Connected()
        var control = XenBusControl()
        init() throws {
            try control.start(store: &s.client)
            run()
        }
        mutating func run() {
            for _ in 0..<10 { s.pump(rounds: 3); _ = control.advance(store: &s.client) }
        }
        mutating func events() -> [XenBusControl.Event] {
            var all: [XenBusControl.Event] = []
            while let e = control.takeEvent() { all.append(e) }
            return all
        }
    }

    @Test("start announces poweroff and reboot and asks nothing while the key is absent")
    func start() throws {
        var c = try Started()
        #expect(c.s.daemon.value("control/feature-poweroff") == "1" && c.s.daemon.value("control/feature-reboot") == "1")
        #expect(c.s.daemon.value("control/feature-suspend") == nil, "suspend is not built: not announced")
        #expect(c.control.requested == nil && c.events().isEmpty, "the watch's first event finds no key")
    }

    @Test("xl shutdown: poweroff is accepted and the key cleared; xl reboot likewise")
    func poweroffAndReboot() throws {
        var c = try Started()
        c.s.daemon.set("control/shutdown", "poweroff")
        c.run()
        #expect(c.control.requested == .poweroff && c.events() == [.accepted(.poweroff)])
        #expect(c.s.daemon.value("control/shutdown") == "", "acknowledged by clearing it")
        var r = try Started()
        r.s.daemon.set("control/shutdown", "reboot")
        r.run()
        #expect(r.control.requested == .reboot && r.events() == [.accepted(.reboot)])
    }

    @Test("suspend and a value no toolstack writes are refused and left unacknowledged")
    func refused() throws {
        var c = try Started()
        c.s.daemon.set("control/shutdown", "suspend")
        c.run()
        #expect(c.control.requested == nil && c.events() == [.refused(bytes("suspend"))])
        #expect(c.s.daemon.value("control/shutdown") == "suspend", "left for libxl to cancel")
        c.s.daemon.set("control/shutdown", String(repeating: "x", count: 200))
        c.run()
        #expect(c.events() == [.refused(bytes(String(repeating: "x", count: XenBusControl.refusedValueLimit)))], "cut for the log")
    }

    @Test("the first request stands: a storm of writes asks once, and a later reboot does not replace a poweroff")
    func storm() throws {
        var c = try Started()
        for _ in 0..<100 { c.s.daemon.set("control/shutdown", "poweroff") }
        c.run()
        c.s.daemon.set("control/shutdown", "reboot")
        c.run()
        let events = c.events()
        #expect(c.control.requested == .poweroff)
        #expect(events.first == .accepted(.poweroff) && events.count <= 3, "coalesced: \(events)")
    }

    @Test("a removed key asks nothing")
    func removed() throws {
        var c = try Started()
        c.s.daemon.set("control/shutdown", "")
        c.s.daemon.remove("control/shutdown")
        c.run()
        #expect(c.control.requested == nil && c.events().isEmpty)
    }
}

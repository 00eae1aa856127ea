// Xenbus: discovery of frontends by watch, and the one frontend state machine for every kind,
// against a simulated toolstack and backend that write the store as libxl and Linux's backends
// do (PLATFORM-NOTES.md), and against backends that skip states, close, vanish or lie.
import Testing
import XenABI
@testable import XenDevices

/// What libxl writes for a device before the guest sees it.
func attach(_ d: SimulatedXenStored, kind: String, id: Int, backendDomain: Int = 0, backendPath: String? = nil, backendID: String? = nil) {
    let back = "/local/domain/\(backendDomain)/backend/\(kind)/\(d.domainID)/\(id)"
    d.set("\(back)/frontend", "/local/domain/\(d.domainID)/device/\(kind)/\(id)")
    d.set("\(back)/state", "1")
    d.set("device/\(kind)/\(id)/backend", backendPath ?? back)
    d.set("device/\(kind)/\(id)/backend-id", backendID ?? "\(backendDomain)")
    d.set("device/\(kind)/\(id)/state", "1")
}

func backend(_ kind: String, _ id: Int = 0, domain: Int = 0) -> String { "/local/domain/\(domain)/backend/\(kind)/5/\(id)" }

/// Runs store and frontend until nothing moves; returns the actions it asked for.
func drive(_ f: inout XenBusFrontend, _ s: inout Connected, rounds: Int = 30) -> [XenBusFrontendAction] {
    var actions: [XenBusFrontendAction] = []
    for _ in 0..<rounds {
        s.pump(rounds: 2)
        _ = f.advance(store: &s.client)
        while let a = f.takeAction() { actions.append(a) }
    }
    return actions
}

/// The states the frontend wrote to its own `state`, in order.
func statesWritten(_ d: SimulatedXenStored, kind: String = "vif", id: Int = 0) -> [String] {
    let key = bytes("device/\(kind)/\(id)/state") + [0]
    return d.received.filter { $0.header.type == xsd_sockmsg_type.XS_WRITE.rawValue && $0.payload.starts(with: key) }
        .map { Array($0.payload[key.count...]).text }
}

@Suite("xenbus")
struct XenBusTests {
    @Test("a vif goes Initialising -> Connected: netback ignores Initialised, so it is never written")
    func vifStates() throws {
        var s = Connected()
        attach(s.daemon, kind: "vif", id: 0)
        var f = XenBusFrontend(kind: .vif, path: path("device/vif/0"))
        #expect(drive(&f, &s).isEmpty, "nothing to do while the backend initialises")
        s.daemon.set("\(backend("vif"))/feature-split-event-channels", "1")
        s.daemon.set("\(backend("vif"))/state", "2")
        #expect(drive(&f, &s) == [.publish(backendID: 0, backendValues: [bytes("1"), nil, nil, nil])])
        try f.publish([(bytes("tx-ring-ref"), bytes("8")), (bytes("rx-ring-ref"), bytes("9")), (bytes("event-channel"), bytes("12"))])
        #expect(drive(&f, &s).isEmpty)
        #expect(s.daemon.value("device/vif/0/tx-ring-ref") == "8" && s.daemon.value("device/vif/0/event-channel") == "12")
        #expect(s.daemon.value("device/vif/0/state") == "4")
        s.daemon.set("\(backend("vif"))/state", "4")
        #expect(drive(&f, &s) == [.connected(backendValues: [])])
        #expect(statesWritten(s.daemon) == ["4"], "1 -> 4, written once")
        #expect(f.state == .XenbusStateConnected && f.backendState == .XenbusStateConnected)
    }

    @Test("a vbd goes Initialising -> Initialised -> Connected, reading the disk's keys first")
    func vbdStates() throws {
        var s = Connected()
        attach(s.daemon, kind: "vbd", id: 51712)
        var f = XenBusFrontend(kind: .vbd, path: path("device/vbd/51712"))
        let b = "/local/domain/0/backend/vbd/5/51712"
        s.daemon.set("\(b)/state", "2")
        #expect(drive(&f, &s) == [.publish(backendID: 0, backendValues: [nil])])
        try f.publish([(bytes("ring-ref"), bytes("8")), (bytes("event-channel"), bytes("13")), (bytes("protocol"), bytes("x86_64-abi"))])
        _ = drive(&f, &s)
        #expect(s.daemon.value("device/vbd/51712/state") == "3")
        s.daemon.set("\(b)/sectors", "2097152")
        s.daemon.set("\(b)/sector-size", "512")
        s.daemon.set("\(b)/info", "0")
        s.daemon.set("\(b)/state", "4")
        #expect(drive(&f, &s) == [.connected(backendValues: [bytes("2097152"), bytes("0"), bytes("512")] + Array(repeating: nil, count: 10))])
        // blkback's resize: sectors, then state written again; the keys are read again.
        s.daemon.set("\(b)/sectors", "4194304")
        s.daemon.set("\(b)/state", "4")
        #expect(drive(&f, &s) == [.connected(backendValues: [bytes("4194304"), bytes("0"), bytes("512")] + Array(repeating: nil, count: 10))])
        #expect(statesWritten(s.daemon, kind: "vbd", id: 51712) == ["3", "4"])
    }

    @Test("a backend that skips InitWait and jumps to Connected is still connected to")
    func skippedStates() throws {
        var s = Connected()
        attach(s.daemon, kind: "vbd", id: 1)
        s.daemon.set("\(backend("vbd", 1))/state", "4")
        var f = XenBusFrontend(kind: .vbd, path: path("device/vbd/1"))
        #expect(drive(&f, &s) == [.publish(backendID: 0, backendValues: [nil])])
        try f.publish([(bytes("ring-ref"), bytes("8"))])
        #expect(drive(&f, &s) == [.connected(backendValues: Array(repeating: nil, count: 13))])
        #expect(statesWritten(s.daemon, kind: "vbd", id: 1) == ["3", "4"])
    }

    @Test("a backend that closes: the frontend says Closing, and Closed once the driver has released")
    func backendCloses() throws {
        var s = Connected()
        attach(s.daemon, kind: "vif", id: 0)
        var f = XenBusFrontend(kind: .vif, path: path("device/vif/0"))
        s.daemon.set("\(backend("vif"))/state", "2")
        _ = drive(&f, &s)
        try f.publish([])
        s.daemon.set("\(backend("vif"))/state", "4")
        _ = drive(&f, &s)
        s.daemon.set("\(backend("vif"))/state", "5")
        #expect(drive(&f, &s) == [.closing(nil)])
        #expect(s.daemon.value("device/vif/0/state") == "5")
        f.released()
        #expect(drive(&f, &s) == [.closed])
        #expect(s.daemon.value("device/vif/0/state") == "6")
        #expect(s.daemon.watches.isEmpty, "the backend watch is dropped")
    }

    @Test("a backend that vanishes closes the frontend without writing into a directory being removed")
    func backendVanishes() throws {
        var s = Connected()
        attach(s.daemon, kind: "vif", id: 0)
        var f = XenBusFrontend(kind: .vif, path: path("device/vif/0"))
        s.daemon.set("\(backend("vif"))/state", "2")
        _ = drive(&f, &s)
        s.daemon.remove(backend("vif"))
        #expect(drive(&f, &s) == [.closing(nil)])
        f.released()
        #expect(drive(&f, &s) == [.closed])
        #expect(statesWritten(s.daemon).isEmpty)
    }

    @Test("hostile values in keys: a backend elsewhere, a bad backend-id, a state that is no state")
    func hostileKeys() {
        let cases: [(path: String?, id: String?)] = [
            ("/local/domain/0/backend/vif/5/0/../../../../5", nil),
            ("/local/domain/5/device/vif/0", nil),              // not a backend directory
            ("/local/domain/7/backend/vif/5/0", "0"),           // not the backend-id's domain
            ("local/domain/0/backend/vif/5/0", nil),            // relative
            (nil, "65535"), (nil, "-1"), (nil, "0x0"), (nil, ""), (nil, "32752"),
        ]
        for c in cases {
            var s = Connected()
            attach(s.daemon, kind: "vif", id: 0, backendPath: c.path, backendID: c.id)
            var f = XenBusFrontend(kind: .vif, path: path("device/vif/0"))
            #expect(drive(&f, &s) == [.closing(.invalidValue)], "backend \(c.path ?? "-") id \(c.id ?? "-")")
        }
        for bad in ["9", "4 ", "", "x", "-1", "99999999999999999999"] {
            var s = Connected()
            attach(s.daemon, kind: "vif", id: 0)
            s.daemon.set("\(backend("vif"))/state", bad)
            var f = XenBusFrontend(kind: .vif, path: path("device/vif/0"))
            #expect(drive(&f, &s) == [.closing(.invalidValue)], "state \(bad)")
        }
    }

    @Test("a frontend directory without backend keys is refused")
    func missingKeys() {
        var s = Connected()
        s.daemon.set("device/vif/0/state", "1")
        var f = XenBusFrontend(kind: .vif, path: path("device/vif/0"))
        #expect(drive(&f, &s) == [.closing(.invalidValue)])
    }

    @Test("a backend flapping its state in a storm is followed without a request per event")
    func stateStorm() throws {
        var s = Connected()
        attach(s.daemon, kind: "vif", id: 0)
        var f = XenBusFrontend(kind: .vif, path: path("device/vif/0"))
        _ = drive(&f, &s)
        let before = s.daemon.received.count
        for i in 0..<500 { s.daemon.set("\(backend("vif"))/state", i % 2 == 0 ? "1" : "7") }
        #expect(drive(&f, &s).isEmpty)
        #expect(s.daemon.received.count - before < 50, "\(s.daemon.received.count - before) requests for 500 events")
        s.daemon.set("\(backend("vif"))/state", "2")
        #expect(drive(&f, &s).count == 1, "and it still reacts")
    }

    @Test("discovery sees devices present at boot and one attached later, and removals")
    func discovery() {
        var s = Connected()
        attach(s.daemon, kind: "vif", id: 0)
        var d = XenBusDiscovery(kind: .vif)
        func changes(_ d: inout XenBusDiscovery, _ s: inout Connected) -> [XenBusDiscoveryChange] {
            var out: [XenBusDiscoveryChange] = []
            for _ in 0..<10 { s.pump(rounds: 2); _ = d.advance(store: &s.client); while let c = d.takeChange() { out.append(c) } }
            return out
        }
        #expect(changes(&d, &s) == [.added(id: 0, path: path("device/vif/0"))])
        attach(s.daemon, kind: "vif", id: 3)
        attach(s.daemon, kind: "vbd", id: 1)
        #expect(changes(&d, &s) == [.added(id: 3, path: path("device/vif/3"))])
        s.daemon.remove("device/vif/0")
        #expect(changes(&d, &s) == [.removed(id: 0)])
        s.daemon.set("device/vif/evil", "")
        #expect(changes(&d, &s).isEmpty)
        #expect(d.refusedNames >= 1)
        #expect(d.devices == [3])
    }

    @Test("discovery of a kind with no directory yet waits for it")
    func discoveryBeforeDirectoryExists() {
        var s = Connected()
        var d = XenBusDiscovery(kind: .vbd)
        for _ in 0..<5 { s.pump(rounds: 2); _ = d.advance(store: &s.client) }
        #expect(d.takeChange() == nil)
        attach(s.daemon, kind: "vbd", id: 768)
        for _ in 0..<5 { s.pump(rounds: 2); _ = d.advance(store: &s.client) }
        #expect(d.takeChange() == .added(id: 768, path: path("device/vbd/768")))
    }

    @Test("two devices of one kind run side by side, each with its own state")
    func twoDevices() throws {
        var s = Connected()
        attach(s.daemon, kind: "vif", id: 0)
        attach(s.daemon, kind: "vif", id: 1)
        var a = XenBusFrontend(kind: .vif, path: path("device/vif/0"))
        var b = XenBusFrontend(kind: .vif, path: path("device/vif/1"))
        s.daemon.set("\(backend("vif", 1))/state", "2")
        #expect(drive(&a, &s).isEmpty)
        #expect(drive(&b, &s).count == 1)
        try b.publish([])
        _ = drive(&b, &s)
        #expect(s.daemon.value("device/vif/1/state") == "4")
        #expect(s.daemon.value("device/vif/0/state") == "1")
    }

    @Test("a xenstore connection that fails closes the frontend with .disconnected")
    func storeFails() {
        var s = Connected(serverFeatures: UInt32(XENSTORE_SERVER_FEATURE_ERROR))
        attach(s.daemon, kind: "vif", id: 0)
        var f = XenBusFrontend(kind: .vif, path: path("device/vif/0"))
        _ = drive(&f, &s)
        s.daemon.setField(xenstore_domain_interface.FieldOffset.error, UInt32(XENSTORE_ERROR_COMM))
        s.daemon.set("\(backend("vif"))/state", "2")
        #expect(drive(&f, &s) == [.closing(.disconnected)])
        f.released()
        #expect(drive(&f, &s) == [.closed])
    }
}

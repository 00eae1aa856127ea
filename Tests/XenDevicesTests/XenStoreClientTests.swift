// The client against a well-behaved simulated xenstored: every operation, several requests in
// flight matched by id, watches delivered each to its own watcher, the ring's 4.17 fields.
import Testing
import XenABI
@testable import XenDevices

/// A daemon, a platform and a client attached to the daemon's page.
struct Connected: ~Copyable {
    let daemon: SimulatedXenStored
    let platform: SimulatedPlatform
    var client: XenStoreClient<SimulatedPlatform>

    init(serverFeatures: UInt32 = 0) {
        daemon = SimulatedXenStored(serverFeatures: serverFeatures)
        platform = SimulatedPlatform()
        client = try! XenStoreClient(interface: daemon.page, port: 1, platform: platform)
    }

    mutating func pump(rounds: Int = 50) { XenDevicesTests.pump(&client, daemon, rounds: rounds) }

    /// Submits, pumps, and returns the reply.
    mutating func call(_ request: XenStoreRequest) -> Result<XenStoreReply, XenStoreError>? {
        guard let id = try? client.submit(request) else { return nil }
        pump()
        return client.takeReply(id)
    }
}

@Suite("xenstore client")
struct XenStoreClientTests {
    @Test("write, read, mkdir, directory, rm and permissions round-trip through the daemon")
    func operations() {
        var s = Connected()
        #expect(s.call(.write(path("data/x"), bytes("hello"))) == .success(.ok))
        #expect(s.daemon.value("data/x") == "hello")
        #expect(s.call(.read(path("data/x"))) == .success(.value(bytes("hello"))))
        #expect(s.call(.read(path("/local/domain/5/data/x"))) == .success(.value(bytes("hello"))), "absolute and relative name one node")
        #expect(s.call(.mkdir(path("data/y"))) == .success(.ok))
        #expect(s.call(.directory(path("data"))) == .success(.children([bytes("x"), bytes("y")])))
        #expect(s.call(.getPermissions(path("data/x"))) == .success(.permissions([.init(.none, 5), .init(.read, 0)])))
        #expect(s.call(.setPermissions(path("data/x"), [.init(.none, 5), .init(.both, 0)])) == .success(.ok))
        #expect(s.call(.rm(path("data"))) == .success(.ok))
        #expect(s.call(.read(path("data/x"))) == .failure(.daemon(.XEN_ENOENT)), "the daemon's ENOENT comes back as xen_errno")
    }

    @Test("several requests in flight: replies in any order are matched by request id")
    func outOfOrderReplies() {
        var s = Connected()
        for i in 0..<5 { s.daemon.set("k\(i)", "v\(i)") }
        s.daemon.holdReplies = true
        let ids = (0..<5).map { i in try! s.client.submit(.read(path("k\(i)"))) }
        s.pump()
        #expect(s.client.requestsInFlight == 5)
        s.daemon.releaseHeld(reversed: true)
        s.pump()
        for (i, id) in ids.enumerated() { #expect(s.client.takeReply(id) == .success(.value(bytes("v\(i)"))), "reply \(i)") }
        #expect(s.client.takeReply(ids[0]) == nil, "a reply is taken once")
    }

    @Test("at most maxInFlight requests; the next is refused, not queued without bound")
    func inFlightBound() {
        var s = Connected()
        for _ in 0..<XenStoreClient<SimulatedPlatform>.maxInFlight { _ = try! s.client.submit(.read(path("a"))) }
        #expect(throws: XenStoreError.tooManyRequests) { try s.client.submit(.read(path("a"))) }
        s.pump()
        #expect(s.client.requestsInFlight == 0)
    }

    @Test("a request longer than the ring goes out in pieces as the daemon makes room")
    func longRequest() {
        var s = Connected()
        let value = [UInt8]((0..<3000).map { UInt8(65 + $0 % 26) })
        #expect(s.call(.write(path("big"), value)) == .success(.ok))
        #expect(s.call(.read(path("big"))) == .success(.value(value)), "and a reply longer than the ring comes back whole")
    }

    @Test("a new watch fires once at once, and each event reaches its own watcher only")
    func watchesDeliverToTheirOwner() {
        var s = Connected()
        let a = try! s.client.watch(path("device/vif"))
        let b = try! s.client.watch(path("device/vbd"))
        s.pump()
        #expect(s.client.watchStatus(a) == .active)
        #expect(s.client.takeWatchEvent(a) == XenStoreWatchEvent(path: bytes("device/vif")))
        #expect(s.client.takeWatchEvent(a) == nil)
        #expect(s.client.takeWatchEvent(b) == XenStoreWatchEvent(path: bytes("device/vbd")))
        s.daemon.set("device/vif/0/state", "1")
        s.pump()
        #expect(s.client.takeWatchEvent(a) == XenStoreWatchEvent(path: bytes("device/vif/0/state")))
        #expect(s.client.takeWatchEvent(b) == nil, "the vbd watcher sees no vif event")
        s.client.unwatch(a)
        s.pump()
        #expect(s.daemon.watches.count == 1, "UNWATCH sent")
        s.daemon.set("device/vif/1/state", "1")
        s.pump()
        #expect(s.client.takeWatchEvent(a) == nil)
    }

    @Test("a request with no reply fails at its deadline; the deadline is what handleEvent waits for")
    func timeout() {
        var s = Connected()
        s.daemon.silent = true
        let id = try! s.client.submit(.read(path("a")))
        s.daemon.run()
        #expect(s.client.handleEvent() == .deadline(s.platform.clock + s.client.requestTimeout))
        s.platform.clock += s.client.requestTimeout
        _ = s.client.handleEvent()
        #expect(s.client.takeReply(id) == .failure(.timedOut))
        #expect(s.client.counters.timedOutRequests == 1)
    }

    @Test("the server's error field (XENSTORE_SERVER_FEATURE_ERROR) stops the connection; requests fail")
    func serverError() {
        var s = Connected(serverFeatures: UInt32(XENSTORE_SERVER_FEATURE_ERROR))
        s.daemon.holdReplies = true
        let id = try! s.client.submit(.read(path("a")))
        s.pump()
        s.daemon.setField(xenstore_domain_interface.FieldOffset.error, UInt32(XENSTORE_ERROR_RINGIDX))
        s.daemon.releaseHeld()
        _ = s.client.handleEvent()
        #expect(s.client.connection == .failed(.ring(.peerReportedError(UInt32(XENSTORE_ERROR_RINGIDX)))))
        #expect(s.client.takeReply(id) == .failure(.disconnected))
        #expect(throws: XenStoreError.disconnected) { try s.client.submit(.read(path("a"))) }
    }

    @Test("the error field means nothing unless the server advertises it (the C daemon 4.17 sets no features)")
    func errorFieldIgnoredWithoutFeature() {
        var s = Connected()
        s.daemon.setField(xenstore_domain_interface.FieldOffset.error, 1)
        s.daemon.set("a", "1")
        #expect(s.call(.read(path("a"))) == .success(.value(bytes("1"))))
    }

    @Test("reconnection: requests in flight fail, and once the server is back the watches are set again")
    func reconnection() {
        var s = Connected(serverFeatures: UInt32(XENSTORE_SERVER_FEATURE_RECONNECTION))
        let w = try! s.client.watch(path("device"))
        s.pump()
        _ = s.client.takeWatchEvent(w)
        s.daemon.silent = true
        let id = try! s.client.submit(.read(path("a")))
        s.daemon.run()
        try! s.client.reconnect()
        #expect(s.client.connection == .reconnecting)
        #expect(s.client.takeReply(id) == .failure(.disconnected))
        #expect(s.daemon.page.load(fromByteOffset: xenstore_domain_interface.FieldOffset.connection, as: UInt32.self) == UInt32(XENSTORE_RECONNECT))
        _ = s.client.handleEvent()
        #expect(s.client.connection == .reconnecting, "still reconnecting until the server says connected")
        // The server resets the ring and its watches, then says connected.
        s.daemon.watches = []
        s.daemon.silent = false
        s.daemon.setField(xenstore_domain_interface.FieldOffset.connection, UInt32(XENSTORE_CONNECTED))
        s.pump()
        #expect(s.client.connection == .connected)
        #expect(s.daemon.watches.count == 1, "the watch was set again")
        #expect(s.client.watchStatus(w) == .active)
        #expect(s.call(.write(path("a"), bytes("2"))) == .success(.ok))
    }

    @Test("reconnection is refused when the server does not offer it")
    func reconnectionUnsupported() {
        var s = Connected()
        #expect(throws: XenStoreError.ring(.unsupported)) { try s.client.reconnect() }
    }

    @Test("a server that is reconnecting when we attach is waited for")
    func attachDuringReconnection() {
        let daemon = SimulatedXenStored(serverFeatures: UInt32(XENSTORE_SERVER_FEATURE_RECONNECTION))
        daemon.setField(xenstore_domain_interface.FieldOffset.connection, UInt32(XENSTORE_RECONNECT))
        var client = try! XenStoreClient(interface: daemon.page, port: 1, platform: SimulatedPlatform())
        #expect(client.connection == .reconnecting)
        #expect(throws: XenStoreError.disconnected) { try client.submit(.read(path("a"))) }
        daemon.setField(xenstore_domain_interface.FieldOffset.connection, UInt32(XENSTORE_CONNECTED))
        _ = client.handleEvent()
        #expect(client.connection == .connected)
    }
}

// A daemon that lies: malformed, truncated, oversized and unsolicited replies, replies of the
// wrong type or transaction, a watch storm. Each is refused with an error or counted and
// dropped; the client never crashes, never reads past a length, and never spins.
import Testing
import XenABI
@testable import XenDevices

@Suite("a hostile xenstored")
struct HostileXenStoredTests {
    typealias M = SimulatedXenStored

    @Test("a malformed reply fails its request only; the connection goes on")
    func malformedReply() {
        var s = Connected()
        s.daemon.rewrite = { h, _ in M.message(type: .XS_WRITE, id: h.req_id, bytes("OK")) }  // no nul
        #expect(s.call(.write(path("a"), bytes("1"))) == .failure(.malformedReply))
        s.daemon.rewrite = nil
        #expect(s.call(.write(path("a"), bytes("1"))) == .success(.ok))
    }

    @Test("a reply of the wrong type, or for another transaction, is refused")
    func mismatchedReplies() {
        var s = Connected()
        s.daemon.rewrite = { h, _ in M.message(type: .XS_DIRECTORY, id: h.req_id, bytes("x") + [0]) }
        #expect(s.call(.read(path("a"))) == .failure(.mismatchedReply))
        s.daemon.rewrite = { h, p in M.message(type: xsd_sockmsg_type(rawValue: h.type), id: h.req_id, tx: 99, p) }
        #expect(s.call(.write(path("a"), bytes("1"))) == .failure(.mismatchedReply))
    }

    @Test("an oversized len that cannot be a reply (too long, another type, no such request, an event) fails the connection, not hung")
    func oversizedLie() {
        let tooLong = XenStoreClient<SimulatedPlatform>.maxDroppedReply + 1
        let lies: [(xsd_sockmsg_type, UInt32?, UInt32)] = [
            (.XS_READ, nil, tooLong), (.XS_READ, nil, 0xFFFF_FFFF),
            (.XS_DIRECTORY, nil, UInt32(XENSTORE_PAYLOAD_MAX) + 1), (.XS_ERROR, nil, UInt32(XENSTORE_PAYLOAD_MAX) + 1),
            (.XS_READ, 99, UInt32(XENSTORE_PAYLOAD_MAX) + 1), (.XS_WATCH_EVENT, 0, UInt32(XENSTORE_PAYLOAD_MAX) + 1),
        ]
        for (type, id, len) in lies {
            var s = Connected()
            s.daemon.rewrite = { h, _ in M.message(type: type, id: id ?? h.req_id, [], len: len) }
            #expect(s.call(.read(path("a"))) == .failure(.disconnected), "\(type) \(len)")
            #expect(s.client.connection == .failed(.oversizedReply(len)))
        }
    }

    @Test("a reply over XENSTORE_PAYLOAD_MAX of its request's type (oxenstored's long DIRECTORY) fails that request; its payload is dropped and the connection goes on")
    func oversizedReplyDropped() {
        var s = Connected()
        s.daemon.set("a", "1")
        for len in [Int(XENSTORE_PAYLOAD_MAX) + 1, 10_200, Int(XenStoreClient<SimulatedPlatform>.maxDroppedReply)] {
            s.daemon.rewrite = { h, _ in M.message(type: .XS_READ, id: h.req_id, [UInt8](repeating: 0x41, count: len)) }
            let id = try? s.client.submit(.read(path("a")))
            s.pump(rounds: len / Int(XENSTORE_RING_SIZE) + 10)  // a ring's worth a round
            #expect(id.flatMap { s.client.takeReply($0) } == .failure(.oversizedReply(UInt32(len))))
            #expect(s.daemon.output.isEmpty, "all of it read")
            s.daemon.rewrite = nil
            #expect(s.call(.read(path("a"))) == .success(.value(bytes("1"))), "the next reply is read from the right place")
        }
        #expect(s.client.connection == .connected)
        // One dropped in the middle of others, the ring full all the way.
        s.daemon.holdReplies = true
        guard let before = try? s.client.submit(.read(path("a"))) else { Issue.record("disconnected"); return }
        s.pump()
        s.daemon.rewrite = { h, _ in M.message(type: .XS_READ, id: h.req_id, [UInt8](repeating: 0, count: 9000)) }
        guard let big = try? s.client.submit(.read(path("a"))) else { Issue.record("disconnected"); return }
        s.pump()
        s.daemon.rewrite = nil
        guard let after = try? s.client.submit(.read(path("a"))) else { Issue.record("disconnected"); return }
        s.pump()
        s.daemon.releaseHeld()
        s.pump()
        #expect(s.client.takeReply(before) == .success(.value(bytes("1"))))
        #expect(s.client.takeReply(big) == .failure(.oversizedReply(9000)))
        #expect(s.client.takeReply(after) == .success(.value(bytes("1"))))
    }

    @Test("a reply of exactly XENSTORE_PAYLOAD_MAX bytes is accepted")
    func maximalReply() {
        var s = Connected()
        let value = [UInt8](repeating: 66, count: Int(XENSTORE_PAYLOAD_MAX))
        s.daemon.rewrite = { h, _ in M.message(type: .XS_READ, id: h.req_id, value) }
        #expect(s.call(.read(path("a"))) == .success(.value(value)))
    }

    @Test("a truncated reply (header only, half a payload) leaves the request waiting, then timed out")
    func truncatedReply() {
        var s = Connected()
        s.daemon.rewrite = { h, _ in Array(M.message(type: .XS_READ, id: h.req_id, bytes("hello")).prefix(18)) }
        let id = try! s.client.submit(.read(path("a")))
        s.pump()
        #expect(s.client.takeReply(id) == nil, "half a message is not a reply")
        #expect(s.client.handleEvent() == .deadline(s.platform.clock + s.client.requestTimeout), "waits for the deadline, not a spin")
        s.platform.clock += s.client.requestTimeout
        _ = s.client.handleEvent()
        #expect(s.client.takeReply(id) == .failure(.timedOut))
        // A truncated header: 7 bytes, then nothing.
        s.daemon.rewrite = { h, _ in Array(M.message(type: .XS_READ, id: h.req_id, []).prefix(7)) }
        let id2 = try! s.client.submit(.read(path("b")))
        s.pump()
        #expect(s.client.takeReply(id2) == nil)
    }

    @Test("unsolicited replies (an id never sent, one already answered) are counted and dropped")
    func unsolicitedReplies() {
        var s = Connected()
        s.daemon.inject(M.message(type: .XS_READ, id: 77, bytes("x")))
        s.pump()
        #expect(s.client.counters.unsolicitedReplies == 1)
        s.daemon.rewrite = { h, p in
            let one = M.message(type: xsd_sockmsg_type(rawValue: h.type), id: h.req_id, p)
            return one + one  // every reply twice
        }
        #expect(s.call(.write(path("a"), bytes("1"))) == .success(.ok))
        #expect(s.client.counters.unsolicitedReplies == 2)
    }

    @Test("a watch storm is bounded: repeated paths coalesce, a full queue collapses to one rescan event")
    func watchStorm() {
        var s = Connected()
        let w = try! s.client.watch(path("device"))
        let other = try! s.client.watch(path("control"))
        s.pump()
        _ = s.client.takeWatchEvent(w); _ = s.client.takeWatchEvent(other)
        let token = s.daemon.watches[0].token
        var storm: [UInt8] = []
        for i in 0..<10_000 { storm += M.message(type: .XS_WATCH_EVENT, id: 0, bytes("device/vif/\(i % 100)") + [0] + token + [0]) }
        s.daemon.output += storm
        var rounds = 0
        var wait = XenWait.ready
        while rounds < 1000 {
            s.daemon.flush()
            wait = s.client.handleEvent()
            rounds += 1
            if wait != .ready && s.daemon.output.isEmpty { break }
        }
        #expect(s.daemon.output.isEmpty, "the storm was consumed")
        #expect(rounds >= 10_000 / XenStoreClient<SimulatedPlatform>.messagesPerEvent, "handled in bounded rounds")
        var events = 0
        while s.client.takeWatchEvent(w) != nil { events += 1 }
        #expect(events <= XenStoreWatches.queueLimit, "queue bounded, got \(events)")
        #expect(events >= 1)
        #expect(s.client.takeWatchEvent(other) == nil, "another watcher sees none of it")
        #expect(s.client.counters.coalescedWatchEvents > 9_000)
        #expect(s.call(.write(path("a"), bytes("1"))) == .success(.ok), "and the client still works")
    }

    @Test("watch events with an unknown token, a path outside the watch, or bad syntax are refused")
    func badWatchEvents() {
        var s = Connected()
        let w = try! s.client.watch(path("device"))
        s.pump()
        _ = s.client.takeWatchEvent(w)
        let token = s.daemon.watches[0].token
        s.daemon.inject(M.message(type: .XS_WATCH_EVENT, id: 0, bytes("device/x") + [0] + bytes("nope") + [0]))
        s.daemon.inject(M.message(type: .XS_WATCH_EVENT, id: 0, bytes("control/x") + [0] + token + [0]))
        s.daemon.inject(M.message(type: .XS_WATCH_EVENT, id: 0, bytes("devices") + [0] + token + [0]))
        s.daemon.inject(M.message(type: .XS_WATCH_EVENT, id: 0, bytes("device/x") + [0] + token))
        s.daemon.inject(M.message(type: .XS_WATCH_EVENT, id: 0, bytes("device/../x") + [0] + token + [0]))
        s.pump()
        #expect(s.client.takeWatchEvent(w) == nil)
        #expect(s.client.counters.unknownTokenEvents == 1)
        #expect(s.client.counters.refusedWatchEvents == 4)
    }

    @Test("a refused XS_WATCH marks the watch failed")
    func refusedWatch() {
        var s = Connected()
        s.daemon.rewrite = { h, _ in M.message(type: .XS_ERROR, id: h.req_id, bytes("EACCES") + [0]) }
        let w = try! s.client.watch(path("device"))
        s.pump()
        #expect(s.client.watchStatus(w) == .failed(.daemon(.XEN_EACCES)))
    }

    @Test("random bytes on the response ring never crash the client and never make it read past a length")
    func garbage() {
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<300 {
            var s = Connected()
            let ids = (0..<3).compactMap { i in try? s.client.submit(.read(path("k\(i)"))) }
            s.daemon.run()
            var raw = (0..<rng.below(200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if rng.below(2) == 0 { raw = M.message(type: xsd_sockmsg_type(rawValue: UInt32(rng.below(24))), id: UInt32(1 + rng.below(4)), raw) }
            s.daemon.received = []
            s.daemon.inject(raw)
            for _ in 0..<5 { _ = s.client.handleEvent() }
            for id in ids { _ = s.client.takeReply(id) }
            #expect(s.client.requestsInFlight <= 3)
        }
    }

    @Test("a peer that moves the response producer index past a ring's worth fails the connection")
    func producerOverflow() {
        var s = Connected()
        _ = try! s.client.submit(.read(path("a")))
        s.daemon.setField(xenstore_domain_interface.FieldOffset.rsp_prod, 5000)
        _ = s.client.handleEvent()
        guard case .failed(.ring(.producerOverflow)) = s.client.connection else {
            Issue.record("expected a refused index, got \(s.client.connection)")
            return
        }
    }
}

/// SplitMix64, the same sequence on every host.
struct SeededGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

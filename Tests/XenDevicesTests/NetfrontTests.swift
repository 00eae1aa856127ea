// Netfront against the simulated netback: the handshake with exactly the keys Linux 6.1's netback
// reads, frames both ways, a clean detach; then a backend that breaks the protocol in every way
// the driver defends against, each refused with one reason, the grants ended and the pages
// freed (or, while the backend still maps them, kept out of use), other devices untouched.
import Testing
import XenABI
@testable import XenDevices

typealias Vif = XenNetfront<SimulatedPlatform>

/// The writes of a frontend key, with their transaction ids.
func writes(_ d: SimulatedXenStored, _ key: String) -> [UInt32] {
    let prefix = bytes("device/vif/0/\(key)") + [0]
    return d.received.filter { $0.header.type == xsd_sockmsg_type.XS_WRITE.rawValue && $0.payload.starts(with: prefix) }.map { $0.header.tx_id }
}

/// Closes the rig and checks what every stopped device must show: the reason, Closing then
/// Closed, no grant left, every page freed but those abandoned.
func expectStopped(_ rig: VifRig, _ reason: NetfrontError?, abandoned: Int = 0, sourceLocation: SourceLocation = #_sourceLocation) {
    rig.close(advancingClock: true)
    #expect(rig.vif.failure == reason, sourceLocation: sourceLocation)
    #expect(rig.vif.state == .closed, sourceLocation: sourceLocation)
    #expect(Array(statesWritten(rig.daemon).suffix(2)) == ["5", "6"], "Closing, then Closed", sourceLocation: sourceLocation)
    #expect(rig.grantsToBackend == abandoned, "every grant ended", sourceLocation: sourceLocation)
    #expect(rig.platform.pages.count == rig.pagesBefore + abandoned, "every page freed", sourceLocation: sourceLocation)
    #expect(rig.vif.counters.pagesAbandoned == UInt64(abandoned), sourceLocation: sourceLocation)
    #expect(rig.vif.port == nil, "the event channel closed", sourceLocation: sourceLocation)
}

@Suite("netfront")
struct NetfrontTests {
    // MARK: the happy path

    @Test("the handshake publishes what netback reads, in one transaction with state 4, and reads the MAC")
    func handshake() {
        let rig = VifRig()
        #expect(rig.connect())
        let nb = rig.netback
        #expect(nb.complaints.isEmpty, "\(nb.complaints)")
        #expect(nb.value("request-rx-copy") == "1")
        #expect(nb.flags == ["feature-rx-notify": "1"], "no sg, no gso, no xdp; checksum offload left on")
        for absent in ["multi-queue-num-queues", "queue-0", "event-channel-tx", "event-channel-rx", "ctrl-ring-ref", "feature-sg", "feature-no-csum-offload"] {
            #expect(nb.value(absent) == nil, "\(absent) written")
        }
        let keys = ["tx-ring-ref", "rx-ring-ref", "event-channel", "request-rx-copy", "feature-rx-notify", "state"]
        let transactions = Set(keys.flatMap { writes(rig.daemon, $0) })
        #expect(transactions.count == 1 && transactions.first != 0, "one transaction: \(transactions)")
        #expect(statesWritten(rig.daemon) == ["4"], "Initialising -> Connected")
        #expect(rig.vif.mac == NetfrontMAC(rawValue: 0x0016_3e5a_0102))
        #expect(rig.vif.mac?[2] == 0x3e)
        #expect(rig.vif.trusted == true)
        #expect(rig.vif.port == nb.eventChannel && rig.vif.backendID == 0)
        #expect(nb.rxPosted == 8, "every RX buffer posted")
        #expect(rig.vif.failure == nil)
    }

    @Test("frames go both ways intact; grants end as responses come and RX buffers are posted again")
    func framesBothWays() throws {
        let rig = VifRig()
        #expect(rig.connect())
        let frames = (0..<5).map { testFrame(60 + $0 * 700, seed: UInt8($0)) }
        for f in frames { #expect(try rig.transmit(f)) }
        rig.run(rounds: 3)
        #expect(rig.netback.sent == frames)
        #expect(rig.vif.counters.framesOut == 5 && rig.vif.counters.bytesOut == UInt64(frames.reduce(0) { $0 + $1.count }))
        #expect(rig.netback.txRequests.allSatisfy { rig.platform.grants[$0.request.gref] == nil }, "TX grants ended")

        var postedRefs: [grant_ref_t] = []
        let flags = [NETRXF_data_validated, 0, NETRXF_csum_blank | NETRXF_data_validated, NETRXF_csum_blank, 0]
        for (i, f) in frames.enumerated() {
            let before = rig.netback.rxRequestsTaken
            #expect(rig.netback.deliver(f, flags: UInt16(flags[i])))
            postedRefs.append(rig.netback.rx!.request(before).gref)
        }
        let got = rig.receive()
        #expect(got.map(\.bytes) == frames)
        #expect(got.map(\.checksum) == [.validated, .unverified, .blank, .blank, .unverified], "blank with or without data_validated")
        #expect(rig.vif.counters.framesIn == 5)
        #expect(postedRefs.allSatisfy { rig.platform.grants[$0] == nil }, "RX grants ended before reuse")
        #expect(rig.netback.rxPosted == 8, "every buffer posted again")
        #expect(rig.netback.complaints.isEmpty)
    }

    @Test("every granted page holds one buffer: rings and buffers are all distinct pages (XSA-403)")
    func dedicatedPages() throws {
        let rig = VifRig()
        #expect(rig.connect())
        for i in 0..<8 { #expect(try rig.transmit(testFrame(100, seed: UInt8(i)))) }
        rig.netback.answersTx = false
        rig.run(rounds: 1)
        var frames = rig.netback.txRequests.map(\.frame)
        for i in 0..<8 { frames.append(rig.platform.grants[rig.netback.rx!.request(RING_IDX(i)).gref]!.frame) }
        frames.append(rig.platform.grants[rig.netback.txRingRef]!.frame)
        frames.append(rig.platform.grants[rig.netback.rxRingRef]!.frame)
        #expect(Set(frames).count == 18)
    }

    @Test("a full TX side says false, not an error; bad lengths and a vif not connected throw")
    func transmitLimits() throws {
        let rig = VifRig(transmitBuffers: 4)
        #expect(throws: NetfrontTransmitError.notConnected) { try rig.transmit(testFrame(60, seed: 0)) }
        #expect(rig.connect())
        rig.netback.answersTx = false
        #expect(throws: NetfrontTransmitError.badLength) { try rig.transmit(testFrame(13, seed: 0)) }
        #expect(throws: NetfrontTransmitError.badLength) { try rig.transmit(testFrame(4097, seed: 0)) }
        #expect(try rig.transmit(testFrame(4096, seed: 0)))
        for i in 1..<4 { #expect(try rig.transmit(testFrame(14, seed: UInt8(i)))) }
        #expect(try rig.transmit(testFrame(60, seed: 9)) == false)
        #expect(rig.vif.counters.txFull == 1)
        rig.run(rounds: 1)
        for r in rig.netback.txRequests.prefix(2) { rig.netback.answerTx(txResponse(id: r.request.id, status: NETIF_RSP_OKAY)) }
        rig.run(rounds: 1)
        #expect(try rig.transmit(testFrame(60, seed: 10)) && rig.transmit(testFrame(60, seed: 11)))
        #expect(try rig.transmit(testFrame(60, seed: 12)) == false)
        #expect(rig.vif.failure == nil)
    }

    @Test("what a backend may do is counted, not fatal: dropped and failed TX, RX errors, short chains, frames past the limit")
    func countedDrops() throws {
        let rig = VifRig()
        #expect(rig.connect())
        rig.netback.answersTx = false
        for i in 0..<2 { #expect(try rig.transmit(testFrame(60, seed: UInt8(i)))) }
        rig.run(rounds: 1)
        rig.netback.answerTx(txResponse(id: rig.netback.txRequests[0].request.id, status: NETIF_RSP_DROPPED))
        rig.netback.answerTx(txResponse(id: rig.netback.txRequests[1].request.id, status: NETIF_RSP_ERROR))
        _ = rig.handleEvent()
        #expect(rig.vif.counters.txDropped == 1 && rig.vif.counters.txErrors == 1 && rig.vif.counters.framesOut == 0)

        let nb = rig.netback
        nb.deliver(testFrame(80, seed: 1), flags: UInt16(NETRXF_csum_blank | NETRXF_data_validated))
        nb.answerRx(rxResponse(id: nb.takeRxRequest()!.id, status: NETIF_RSP_ERROR))
        nb.answerRx(rxResponse(id: nb.takeRxRequest()!.id, status: 0))
        nb.deliver(testFrame(2000, seed: 2))
        nb.deliver(testFrame(100, seed: 3), flags: UInt16(NETRXF_more_data))
        nb.deliver(testFrame(100, seed: 4), flags: UInt16(NETRXF_more_data))
        nb.deliver(testFrame(100, seed: 5))
        nb.deliver(testFrame(90, seed: 6))
        let got = rig.receive(limit: 1514)
        #expect(got.map(\.bytes) == [testFrame(80, seed: 1), testFrame(90, seed: 6)], "only the good frames arrive, the blank one with them")
        let c = rig.vif.counters
        #expect(c.rxErrors == 1 && c.rxEmpty == 1 && c.rxTooLong == 1 && c.rxMultiSlot == 1 && c.framesIn == 2 && c.rxStillMapped == 0)
        rig.run(rounds: 2)
        #expect(rig.vif.state == .connected && rig.vif.failure == nil)
        #expect(nb.rxPosted == 8, "the dropped slots' buffers are posted again")
    }

    @Test("xl network-detach: Closing, the grants end once netback unmaps, Closed; every page freed, the port closed")
    func detach() throws {
        let rig = VifRig()
        #expect(rig.connect())
        rig.netback.answersTx = false
        #expect(try rig.transmit(testFrame(60, seed: 1)), "a frame still in flight at detach")
        rig.run(rounds: 1)
        let port = rig.vif.port!
        var grantsAtClosed: Int?
        let nb = rig.netback, platform = rig.platform
        rig.netback.detach()
        for _ in 0..<40 where grantsAtClosed == nil {
            rig.run(rounds: 1)
            if nb.value("state") == "6" { grantsAtClosed = platform.grants.count }
        }
        #expect(grantsAtClosed == 0, "no grant left when Closed is written")
        expectStopped(rig, nil)
        #expect(statesWritten(rig.daemon) == ["4", "5", "6"])
        #expect(rig.platform.ports[port] == nil)
        #expect(rig.daemon.value("\(rig.netback.dir)/state") == "6")
        #expect(throws: NetfrontTransmitError.notConnected) { try rig.transmit(testFrame(60, seed: 2)) }
    }

    @Test("closing from this side: Closing, netback lets go, Closed, nothing left")
    func closeFromFrontend() throws {
        let rig = VifRig()
        #expect(rig.connect())
        #expect(try rig.transmit(testFrame(60, seed: 1)))
        rig.vif.close()
        #expect(throws: NetfrontTransmitError.notConnected) { try rig.transmit(testFrame(60, seed: 2)) }
        #expect(rig.handleEvent() == .ready, "advance is due")
        expectStopped(rig, nil)
        #expect(statesWritten(rig.daemon) == ["4", "5", "6"])
        #expect(!rig.netback.connected && rig.daemon.value("\(rig.netback.dir)/state") == "6")
    }

    @Test("a backend that closes by itself, or vanishes, closes the vif cleanly")
    func backendCloses() {
        for vanish in [false, true] {
            let rig = VifRig()
            #expect(rig.connect())
            if vanish {
                rig.netback.vanish()
                rig.close()
                #expect(rig.vif.state == .closed && rig.vif.failure == nil && rig.grantsToBackend == 0)
                #expect(rig.platform.pages.count == rig.pagesBefore)
            } else {
                rig.daemon.set("\(rig.netback.dir)/state", "6")
                expectStopped(rig, nil)
            }
        }
    }

    @Test("trusted=0, or no trusted key, is read for the log and changes nothing")
    func trustedKey() throws {
        for (value, expected) in [("0", false as Bool?), (nil, nil), ("2", nil)] as [(String?, Bool?)] {
            let rig = VifRig(trusted: value)
            #expect(rig.connect())
            #expect(rig.vif.trusted == expected)
            #expect(try rig.transmit(testFrame(60, seed: 1)))
            rig.netback.deliver(testFrame(70, seed: 2))
            #expect(rig.receive().map(\.bytes) == [testFrame(70, seed: 2)])
            rig.run(rounds: 2)
            #expect(rig.netback.sent == [testFrame(60, seed: 1)])
        }
    }

    // MARK: a hostile backend: the rings

    @Test("TX: a response producer beyond the requests issued (RING_RESPONSE_PROD_OVERFLOW)")
    func txProducerOverflow() throws {
        let rig = VifRig()
        #expect(rig.connect())
        rig.netback.answersTx = false
        for i in 0..<2 { #expect(try rig.transmit(testFrame(60, seed: UInt8(i)))) }
        rig.run(rounds: 1)
        rig.netback.tx!.responseProducer = 5
        #expect(rig.handleEvent() == .ready)
        expectStopped(rig, .txRing(.producerOverflow(producer: 5, consumer: 0, limit: 2)))
    }

    @Test("RX: a response producer beyond the buffers posted")
    func rxProducerOverflow() {
        let rig = VifRig()
        #expect(rig.connect())
        rig.netback.rx!.responseProducer = 9
        #expect(rig.receive().isEmpty)
        expectStopped(rig, .rxRing(.producerOverflow(producer: 9, consumer: 0, limit: 8)))
    }

    @Test("a response producer that moves backwards, on either ring")
    func producerBackwards() throws {
        let rig = VifRig()
        #expect(rig.connect())
        for i in 0..<3 { rig.netback.deliver(testFrame(60, seed: UInt8(i))) }
        #expect(rig.receive().count == 3)
        rig.netback.rx!.responseProducer = 1
        _ = rig.handleEvent()
        guard case .rxRing(.producerOverflow(producer: 1, consumer: 3, _))? = rig.vif.failure else {
            Issue.record("expected an RX producer overflow, got \(String(describing: rig.vif.failure))"); return
        }
        expectStopped(rig, rig.vif.failure)

        let tx = VifRig()
        #expect(tx.connect())
        for i in 0..<3 { #expect(try tx.transmit(testFrame(60, seed: UInt8(i)))) }
        tx.run(rounds: 2)
        #expect(tx.vif.counters.framesOut == 3)
        tx.netback.tx!.responseProducer = 1
        _ = tx.handleEvent()
        guard case .txRing(.producerOverflow(producer: 1, consumer: 3, _))? = tx.vif.failure else {
            Issue.record("expected a TX producer overflow, got \(String(describing: tx.vif.failure))"); return
        }
        expectStopped(tx, tx.vif.failure)
    }

    @Test("a response rewritten after it was read changes nothing: the driver works on its copy (XSA-155)")
    func rewrittenResponses() throws {
        let rig = VifRig()
        #expect(rig.connect())
        let nb = rig.netback
        nb.deliver(testFrame(100, seed: 7))
        // The moment the driver ends the buffer's grant it has read the response: rewrite it then.
        rig.platform.onEndAccess = { _ in nb.rx!.setResponse(rxResponse(id: 200, offset: 4000, flags: UInt16(NETRXF_more_data), status: 3000), at: 0) }
        #expect(rig.receive().map(\.bytes) == [testFrame(100, seed: 7)])
        rig.platform.onEndAccess = nil

        nb.answersTx = false
        #expect(try rig.transmit(testFrame(60, seed: 1)))
        rig.run(rounds: 1)
        let id = nb.txRequests[0].request.id
        nb.answerTx(txResponse(id: id, status: NETIF_RSP_OKAY))
        rig.platform.onEndAccess = { _ in nb.tx!.setResponse(txResponse(id: 300, status: 77), at: 0) }
        _ = rig.handleEvent()
        rig.platform.onEndAccess = nil
        #expect(rig.vif.failure == nil && rig.vif.counters.framesOut == 1 && rig.vif.counters.rxMultiSlot == 0)
        #expect(rig.vif.tx.buffers.freeCount == 8, "the id answered is the one freed")
    }

    @Test("TX ids out of range, answered twice, or never issued")
    func txBadIDs() throws {
        for attack in ["out of range", "twice", "never issued"] {
            let rig = VifRig()
            #expect(rig.connect())
            rig.netback.answersTx = false
            for i in 0..<2 { #expect(try rig.transmit(testFrame(60, seed: UInt8(i)))) }
            rig.run(rounds: 1)
            let issued = rig.netback.txRequests.map(\.request.id)
            let bad: UInt16
            switch attack {
            case "out of range": bad = 300
            case "twice": bad = issued[0]; rig.netback.answerTx(txResponse(id: issued[0], status: NETIF_RSP_OKAY))
            default: bad = (0..<8).first { !issued.contains($0) }!
            }
            rig.netback.answerTx(txResponse(id: bad, status: NETIF_RSP_OKAY))
            _ = rig.handleEvent()
            expectStopped(rig, .txUnknownID(bad))
        }
    }

    @Test("RX ids out of range, answered twice, or never posted")
    func rxBadIDs() {
        for attack in ["out of range", "twice", "never posted"] {
            let rig = VifRig(receiveBuffers: 4)
            #expect(rig.connect())
            let nb = rig.netback
            let first = nb.takeRxRequest()!.id
            let bad: UInt16
            switch attack {
            case "out of range": bad = 300
            case "twice":
                // The first answer consumes the buffer without a frame, so it is not posted again
                // before the second answer comes in the same call.
                bad = first; nb.answerRx(rxResponse(id: first, status: 0)); _ = nb.takeRxRequest()
            default: bad = 5  // a ring slot's worth, but no buffer of this vif
            }
            nb.answerRx(rxResponse(id: bad, status: 60))
            _ = rig.receive()
            expectStopped(rig, .rxUnknownID(bad))
        }
    }

    @Test("RX data past the end of the page, or a status claiming more than was granted")
    func rxBeyondPage() {
        for (offset, size) in [(4000, 200), (0, 5000), (4095, 2), (0, Int16.max)] as [(UInt16, Int16)] {
            let rig = VifRig()
            #expect(rig.connect())
            rig.netback.answerRx(rxResponse(id: rig.netback.takeRxRequest()!.id, offset: offset, status: size))
            _ = rig.receive()
            expectStopped(rig, .rxBeyondPage(offset: offset, size: size))
        }
        // The last byte of the page is fine.
        let rig = VifRig()
        #expect(rig.connect())
        rig.netback.deliver(testFrame(96, seed: 3), offset: 4000)
        #expect(rig.receive().map(\.bytes) == [testFrame(96, seed: 3)])
    }

    @Test("an endless more_data chain stops the device after XEN_NETIF_NR_SLOTS_MIN slots")
    func endlessChain() {
        let rig = VifRig()
        #expect(rig.connect())
        var slots = 0
        for _ in 0..<100 where rig.vif.failure == nil {
            if rig.netback.deliver(testFrame(100, seed: UInt8(slots)), flags: UInt16(NETRXF_more_data)) { slots += 1 }
            _ = rig.handleEvent()
            #expect(rig.receive().isEmpty)
        }
        #expect(slots == 19, "the 19th slot of one frame is refused")
        #expect(rig.vif.counters.rxMultiSlot == 1)
        expectStopped(rig, .rxChainTooLong)
    }

    @Test("RX flags never negotiated: extra info, GSO prefix, bits netif.h does not define")
    func rxBadFlags() {
        for flags in [UInt16(NETRXF_extra_info), UInt16(NETRXF_gso_prefix), 0x40, 0x8000] {
            let rig = VifRig()
            #expect(rig.connect())
            rig.netback.deliver(testFrame(60, seed: 1), flags: flags)
            #expect(rig.receive().isEmpty)
            expectStopped(rig, .rxBadFlags(flags))
        }
    }

    @Test("a TX status netif.h does not define (NULL answers only extra info, never sent)")
    func txBadStatus() throws {
        for status in [NETIF_RSP_NULL, 5, -3, Int16.min] as [Int16] {
            let rig = VifRig()
            #expect(rig.connect())
            rig.netback.answersTx = false
            #expect(try rig.transmit(testFrame(60, seed: 1)))
            rig.run(rounds: 1)
            rig.netback.answerTx(txResponse(id: rig.netback.txRequests[0].request.id, status: status))
            _ = rig.handleEvent()
            expectStopped(rig, .txBadStatus(status))
        }
    }

    @Test("an event storm: bounded work per call, .ready instead of looping, and the rest keeps running")
    func eventStorm() throws {
        let rig = VifRig(receiveBuffers: 256)
        #expect(rig.connect())
        let budget = Vif.slotsPerRound
        // A backend that fills every buffer the moment it is posted, for ever.
        for round in 0..<8 {
            while rig.netback.deliver(testFrame(60, seed: UInt8(round))) {}
            #expect(rig.handleEvent() == .ready)
            let got = rig.receive()
            #expect(got.count == budget, "one round takes the budget and returns")
            // The rest of the system: the store answers, and frames still go out.
            guard let id = try? rig.s.client.submit(.read(path("device/vif/0/backend"))) else { Issue.record("store refused"); return }
            rig.s.pump(rounds: 2)
            #expect(rig.s.client.takeReply(id) != nil)
            #expect(try rig.transmit(testFrame(60, seed: UInt8(round))))
            rig.netback.takeTransmitted()
        }
        #expect(rig.netback.sent.count == 8)
        // Events with nothing behind them: nothing done, nothing notified back.
        let port = rig.vif.port!
        repeat { _ = rig.handleEvent() } while rig.receive().count > 0
        let notified = rig.platform.notifications[port, default: 0]
        for _ in 0..<10_000 { #expect(rig.handleEvent() == .event) }
        #expect(rig.platform.notifications[port, default: 0] == notified, "an event storm is not answered with one")
        #expect(rig.vif.failure == nil)
    }

    @Test("a TX page the backend still maps when access ends stays out of use until it ends (XSA-396)")
    func stillMappedTx() throws {
        let rig = VifRig(transmitBuffers: 2)
        #expect(rig.connect())
        let nb = rig.netback
        nb.answersTx = false
        #expect(try rig.transmit(testFrame(60, seed: 1)))
        rig.run(rounds: 1)
        let held = nb.txRequests[0]
        let mapping = try rig.platform.mapGrant(from: 5, ref: held.request.gref, readOnly: true)
        nb.answerTx(txResponse(id: held.request.id, status: NETIF_RSP_OKAY))
        #expect(rig.handleEvent() == .deadline(rig.platform.clock + Vif.quarantineRetry), "a retry is due")
        #expect(rig.vif.counters.grantsStillMapped == 1 && rig.vif.counters.framesOut == 1)
        #expect(try rig.transmit(testFrame(60, seed: 2)))
        #expect(try rig.transmit(testFrame(60, seed: 3)) == false, "only the other buffer can be used")
        rig.run(rounds: 3)
        #expect(nb.txRequests.count == 2 && nb.txRequests[1].frame != held.frame, "the held page was not reused")
        try rig.platform.unmapGrant(mapping)
        nb.answerTx(txResponse(id: nb.txRequests[1].request.id, status: NETIF_RSP_OKAY))
        rig.run(rounds: 2)
        #expect(try rig.transmit(testFrame(60, seed: 4)) && rig.transmit(testFrame(60, seed: 5)))
        rig.run(rounds: 1)
        #expect(nb.txRequests.suffix(2).contains { $0.frame == held.frame }, "reused once access ended")
        #expect(rig.vif.failure == nil)
    }

    @Test("an RX page still mapped: its frame dropped, never read in place; not posted again until access ends; at close one never let go of is abandoned, not freed")
    func stillMappedRx() throws {
        let rig = VifRig(receiveBuffers: 2)
        #expect(rig.connect())
        let nb = rig.netback
        let request = nb.rx!.request(0)
        let frame = rig.platform.grants[request.gref]!.frame
        let mapping = try rig.platform.mapGrant(from: 5, ref: request.gref, readOnly: false)
        nb.deliver(testFrame(64, seed: 1))
        #expect(rig.receive().isEmpty, "a page the backend can still write is never handed over")
        #expect(rig.vif.counters.rxStillMapped == 1 && rig.vif.counters.grantsStillMapped == 1 && rig.vif.counters.framesIn == 0)
        rig.run(rounds: 2)
        #expect(nb.rxPosted == 1, "the held buffer is not posted again")
        try rig.platform.unmapGrant(mapping)
        rig.platform.clock += Vif.quarantineRetry
        rig.run(rounds: 2)
        #expect(nb.rxPosted == 2, "posted again once access ended")

        // A backend that holds a mapping through the close: the page is abandoned.
        let next = nb.rx!.request(nb.rxRequestsTaken)
        let held = rig.platform.grants[next.gref]!.frame
        _ = try rig.platform.mapGrant(from: 5, ref: next.gref, readOnly: false)
        nb.detach()
        expectStopped(rig, nil, abandoned: 1)
        #expect(rig.platform.pages[held] != nil, "the abandoned page is never freed")
        #expect(frame != held)
    }

    // MARK: a hostile backend or toolstack: xenstore

    @Test("a MAC that is missing or no unicast address stops the vif before anything is published")
    func badMAC() {
        for mac in [nil, "", "00:16:3e:5a:01", "00:16:3e:5a:01:02:03", "00-16-3e-5a-01-02", "00:16:3e:5a:01:0g", "0:16:3e:5a:01:022",
                    "01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", " 00:16:3e:5a:01:0"] as [String?] {
            let rig = VifRig(mac: mac)
            rig.run(rounds: 10)
            #expect(rig.netback.value("tx-ring-ref") == nil, "mac \(mac ?? "-")")
            expectStopped(rig, .badMAC)
            #expect(statesWritten(rig.daemon) == ["5", "6"])
        }
        let rig = VifRig(mac: "00:16:3E:5A:01:FF")
        #expect(rig.connect())
        #expect(rig.vif.mac == NetfrontMAC(rawValue: 0x0016_3e5a_01ff), "upper case is a MAC too")
    }

    @Test("the backend's ip key is handed to the kernel as written, absent or overlong as nil")
    func backendIP() {
        let keys = XenBusDeviceKind.vif.keysBeforePublish
        #expect(keys.count > NetfrontKeys.ipIndex && String(describing: keys[NetfrontKeys.ipIndex]) == "ip")
        let rig = VifRig(override: ["ip": "10.0.0.2 10.0.0.3"])
        #expect(rig.connect())
        #expect(rig.vif.backendIP == Array("10.0.0.2 10.0.0.3".utf8))
        let none = VifRig()
        #expect(none.connect())
        #expect(none.vif.backendIP == nil)
        let long = VifRig(override: ["ip": String(repeating: "1", count: 256)])
        #expect(long.connect(), "an overlong ip is the kernel's concern, not a violation")
        #expect(long.vif.backendIP == nil)
    }

    @Test("a backend without feature-rx-copy=1 is refused")
    func noRxCopy() {
        let keys = XenBusDeviceKind.vif.keysBeforePublish
        #expect(keys.count > NetfrontKeys.rxCopyIndex && String(describing: keys[NetfrontKeys.rxCopyIndex]) == "feature-rx-copy",
                "the driver finds feature-rx-copy by its place in the vif's keys")
        for variant in ["absent", "0", "yes", "2"] {
            let rig = variant == "absent" ? VifRig(omit: ["feature-rx-copy"]) : VifRig(override: ["feature-rx-copy": variant])
            rig.run(rounds: 10)
            #expect(rig.netback.value("tx-ring-ref") == nil)
            expectStopped(rig, .backendWithoutRxCopy)
        }
    }

    @Test("backend state jumps: Connected without InitWait connects; back to InitWait is ignored; a state that is no state stops the vif")
    func stateJumps() throws {
        let rig = VifRig(initWait: false)
        rig.daemon.set("\(rig.netback.dir)/state", "4")
        #expect(rig.connect())
        rig.daemon.set("\(rig.netback.dir)/state", "2")
        rig.run(rounds: 5)
        #expect(rig.vif.state == .connected)
        #expect(try rig.transmit(testFrame(60, seed: 1)))
        rig.daemon.set("\(rig.netback.dir)/state", "9")
        rig.run(rounds: 5)
        expectStopped(rig, .xenstore(.invalidValue))
    }

    @Test("a vif stopped by its backend leaves another vif running")
    func otherDevicesUnaffected() throws {
        var s = Connected()
        let nb0 = SimulatedNetback(daemon: s.daemon, platform: s.platform, id: 0)
        let nb1 = SimulatedNetback(daemon: s.daemon, platform: s.platform, id: 1, mac: "00:16:3e:5a:01:03")
        var vif0 = try Vif(path: path("device/vif/0"), platform: s.platform, receiveBuffers: 4, transmitBuffers: 4)
        var vif1 = try Vif(path: path("device/vif/1"), platform: s.platform, receiveBuffers: 4, transmitBuffers: 4)
        func run(_ rounds: Int, _ s: inout Connected, _ a: inout Vif, _ b: inout Vif) {
            for _ in 0..<rounds {
                s.pump(rounds: 2)
                _ = a.advance(store: &s.client); _ = b.advance(store: &s.client)
                nb0.step(); nb1.step()
                _ = a.handleEvent(); _ = b.handleEvent()
            }
        }
        run(20, &s, &vif0, &vif1)
        let both = vif0.state == .connected && vif1.state == .connected
        #expect(both)
        nb0.rx!.responseProducer = 100
        let refused = vif0.receive { _, _, _ in NetReply(length: 0) }
        #expect(!refused)
        run(20, &s, &vif0, &vif1)
        let (state0, failure0, state1, failure1) = (vif0.state, vif0.failure, vif1.state, vif1.failure)
        #expect(state0 == .closed && failure0 == .rxRing(.producerOverflow(producer: 100, consumer: 0, limit: 4)))
        #expect(state1 == .connected && failure1 == nil)
        nb1.deliver(testFrame(80, seed: 8))
        var got: (NetfrontFrame, [UInt8])?
        _ = vif1.receive { frame, info, _ in got = (info, Array(frame)); return NetReply(length: 0) }
        #expect(got?.0 == NetfrontFrame(length: 80, checksum: .unverified) && got?.1 == testFrame(80, seed: 8))
        let out = testFrame(60, seed: 9)
        let sent = try vif1.transmit { page in page.copyBytes(from: out); return out.count }
        #expect(sent)
        run(2, &s, &vif0, &vif1)
        #expect(nb1.sent == [out] && nb1.complaints.isEmpty)
        #expect(s.platform.grants.values.filter { $0.domain == 0 }.count == 2 + 4, "vif 1's rings and RX buffers, nothing of vif 0")
    }

    @Test("the reason a vif stopped is printable, with its number")
    func printableReason() {
        let e = NetfrontError.rxBeyondPage(offset: 4000, size: 200)
        #expect(String(describing: e.reason) == "RX response past the end of its page" && e.detail == 4200)
        #expect(NetfrontError.txUnknownID(300).detail == 300 && NetfrontError.badMAC.detail == nil)
    }
}

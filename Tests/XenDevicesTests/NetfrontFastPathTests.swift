// Netfront's fast path against the simulated netback: frames read where they lie, in RX pages
// whose grants have ended; answers written straight into TX pages before they are granted (a
// blank UDP checksum sent as Linux netback expects it); requests and refills pushed once per
// batch, with `handleEvent` pushing whatever a caller left; and the stack answering through it.
import Testing
import XenABI
@testable import XenDevices

@Suite("netfront: frames in place, answers in TX pages, batched pushes")
struct NetfrontFastPathTests {
    @Test("a frame is handed over in its own RX page, its grant ended, and the page is posted again only after the body returns")
    func receivedInPlace() {
        let rig = VifRig(receiveBuffers: 2)
        #expect(rig.connect())
        let nb = rig.netback
        let request = nb.rx!.request(0)
        let page = rig.platform.pages[rig.platform.grants[request.gref]!.frame]!
        nb.deliver(testFrame(300, seed: 4), offset: 100)
        var seen = 0
        let handled = rig.vif.receive { frame, info, _ in
            seen += 1
            #expect(UnsafeRawPointer(frame.baseAddress) == UnsafeRawPointer(page + 100), "read where the backend put it")
            #expect(Array(frame) == testFrame(300, seed: 4) && info.length == 300)
            #expect(rig.platform.grants[request.gref] == nil && !rig.isGranted(page), "no grant on the page while it is read")
            #expect(nb.rxPosted == 1, "not posted again while it is read")
            return NetReply(length: 0)
        }
        #expect(handled && seen == 1)
        let second = rig.vif.receive { _, _, _ in Issue.record("a second frame"); return NetReply(length: 0) }
        #expect(!second)
        rig.vif.push()
        #expect(nb.rxPosted == 2, "posted again by the push")
        #expect(nb.complaints.isEmpty)
    }

    @Test("an answer is written into a free TX page that is not granted while it is written, then sent; one blank goes out NETTXF_csum_blank|data_validated")
    func answeredInTxPage() {
        let rig = VifRig()
        #expect(rig.connect())
        let nb = rig.netback
        var stack = NetStack(NetConfiguration(mac: MACAddress(0x00, 0x16, 0x3E, 0x5A, 0x01, 0x02), address: IPv4Address(10, 0, 0, 2),
                                              netmask: IPv4Address(255, 255, 255, 0), udpEchoPort: 7))
        // The peer introduces itself, then sends a datagram its stack left blank.
        nb.deliver(Frame.arpFrame(operation: 1, targetIP: [10, 0, 0, 2]), flags: 0)
        let payload = Frame.payload(200)
        let pseudo = ~Frame.checksum(Link.peerIP + Link.ourIP + [0, 17] + Frame.be16(UInt16(8 + payload.count)))
        let request = Frame.ethernet(to: [0x00, 0x16, 0x3E, 0x5A, 0x01, 0x02], type: 0x0800, Frame.ipv4(from: Link.peerIP, to: Link.ourIP, protocol: 17,
            Frame.udp(from: Link.peerIP, to: Link.ourIP, sourcePort: 40000, destinationPort: 7, payload, checksum: pseudo)))
        nb.deliver(request, flags: UInt16(NETRXF_csum_blank | NETRXF_data_validated))
        var answered = 0
        while rig.vif.receive({ frame, info, reply in
            #expect(reply.count == 4096 && !rig.isGranted(reply.baseAddress), "a whole TX page, not granted while written")
            let r = stack.receive(frame, checksum: info.checksum, now: 1, reply: reply)
            if r.length > 0 { answered += 1 }
            return r
        }) {}
        #expect(answered == 2)
        #expect(nb.sent.isEmpty, "nothing published before the push")
        rig.vif.push()
        nb.takeTransmitted()
        #expect(nb.sent.count == 2 && nb.complaints.isEmpty, "\(nb.complaints)")
        #expect(nb.txRequests.map(\.request.flags) == [0, UInt16(NETTXF_csum_blank | NETTXF_data_validated)])
        #expect(nb.blankSent == 1, "the echo's field holds its pseudo-header sum, as netback's checksum_setup expects")
        #expect(nb.sent.last.map { Array($0[42...]) } == payload)
    }

    @Test("with every TX buffer in flight the body answers into the spare (counted tx-full, not sent) or into nothing")
    func spareWhenFull() throws {
        let rig = VifRig(transmitBuffers: 1)
        #expect(rig.connect())
        let nb = rig.netback
        nb.answersTx = false
        #expect(try rig.transmit(testFrame(60, seed: 1)))
        nb.deliver(testFrame(70, seed: 2))
        nb.deliver(testFrame(70, seed: 3))
        var spare = [UInt8](repeating: 0, count: 1514)
        let sparePointer = spare.withUnsafeMutableBytes { UnsafeRawPointer($0.baseAddress) }
        let handled = spare.withUnsafeMutableBytes { buffer in
            rig.vif.receive(spare: buffer) { _, _, reply in
                #expect(UnsafeRawPointer(reply.baseAddress) == sparePointer && reply.count == 1514)
                return NetReply(length: 60)
            }
        }
        #expect(handled && rig.vif.counters.txFull == 1)
        var replyCount = -1
        let second = rig.vif.receive { _, _, reply in replyCount = reply.count; return NetReply(length: 0) }
        #expect(second && replyCount == 0, "no spare: nothing to write into")
        #expect(rig.vif.counters.txFull == 1, "no answer, nothing counted")
        rig.run(rounds: 1)
        #expect(nb.sent.count == 1)
    }

    @Test("framesWaiting: true while a frame is on the RX ring, false once taken; a producer out of range fails the vif")
    func framesWaiting() {
        let rig = VifRig(transmitBuffers: 2)
        var waiting = rig.vif.framesWaiting()
        #expect(!waiting, "not connected yet")
        #expect(rig.connect())
        waiting = rig.vif.framesWaiting()
        #expect(!waiting)
        rig.netback.deliver(testFrame(70, seed: 4))
        waiting = rig.vif.framesWaiting()
        #expect(waiting)
        waiting = rig.vif.framesWaiting()
        #expect(waiting, "asking again takes nothing")
        #expect(rig.vif.receive { _, _, _ in NetReply(length: 0) })
        waiting = rig.vif.framesWaiting()
        #expect(!waiting)
        rig.netback.rx!.responseProducer &+= 10_000
        waiting = rig.vif.framesWaiting()
        #expect(!waiting)
        guard case .rxRing(.producerOverflow)? = rig.vif.failure else {
            Issue.record("failure \(String(describing: rig.vif.failure))"); return
        }
    }

    @Test("an answer of no length, or of a length no vif sends, frees its TX page again")
    func unsentAnswers() {
        let rig = VifRig(transmitBuffers: 2)
        #expect(rig.connect())
        for length in [0, 13, 4097] {
            rig.netback.deliver(testFrame(70, seed: 2))
            let handled = rig.vif.receive { _, _, _ in NetReply(length: length) }
            #expect(handled)
            #expect(rig.vif.transmitBuffersFree == 2, "length \(length)")
        }
        rig.run(rounds: 2)
        #expect(rig.netback.sent.isEmpty && rig.vif.counters.txFull == 0)
    }

    @Test("transmit(building:) writes into a page not yet granted; bad lengths throw and free it; a full TX side never calls the builder")
    func building() throws {
        let rig = VifRig(transmitBuffers: 1)
        #expect(rig.connect())
        rig.netback.answersTx = false
        for bad in [0, 13, 4097] {
            #expect(throws: NetfrontTransmitError.badLength) { try rig.vif.transmit { _ in bad } }
            #expect(rig.vif.transmitBuffersFree == 1)
        }
        let sent = try rig.vif.transmit { page in
            #expect(page.count == 4096 && !rig.isGranted(page.baseAddress))
            page.copyBytes(from: testFrame(64, seed: 5))
            return 64
        }
        #expect(sent)
        let again = try rig.vif.transmit { _ in Issue.record("the builder was called with no buffer free"); return 64 }
        #expect(!again && rig.vif.counters.txFull == 1)
        rig.vif.push()
        rig.run(rounds: 1)
        #expect(rig.netback.sent == [testFrame(64, seed: 5)])
    }

    @Test("past a frame, a TX page holds only zeros and the bytes of earlier frames sent to this same backend (XSA-403)")
    func bytesPastTheFrame() throws {
        let rig = VifRig(transmitBuffers: 1)
        #expect(rig.connect())
        let long = [UInt8](repeating: 0x11, count: 1000)
        #expect(try rig.transmit(long))
        rig.run(rounds: 1)
        #expect(try rig.transmit(testFrame(60, seed: 9)))
        rig.run(rounds: 1)
        let frame = rig.netback.txRequests[1].frame
        #expect(frame == rig.netback.txRequests[0].frame, "the same page, reused")
        let page = Array(UnsafeRawBufferPointer(start: rig.platform.pages[frame]!, count: 4096))
        #expect(Array(page[..<60]) == testFrame(60, seed: 9))
        #expect(Array(page[60..<1000]) == Array(long[60...]), "what the backend was sent before")
        #expect(page[1000...].allSatisfy { $0 == 0 }, "zeros: the page was zeroed when allocated")
    }

    @Test("frames and refills are pushed once per batch, with one notification; handleEvent pushes what a caller left")
    func batchedPushes() throws {
        let rig = VifRig()
        #expect(rig.connect())
        let nb = rig.netback
        let port = rig.vif.port!
        nb.tx!.requestEvent = nb.txRequestsTaken &+ 1  // netback asks to be told of the next request
        let before = rig.platform.notifications[port, default: 0]
        for i in 0..<5 { #expect(try rig.transmit(testFrame(60, seed: UInt8(i)), push: false)) }
        nb.takeTransmitted()
        #expect(nb.sent.isEmpty && rig.platform.notifications[port, default: 0] == before, "nothing published, nobody told")
        rig.vif.push()
        nb.takeTransmitted()
        #expect(nb.sent.count == 5)
        #expect(rig.platform.notifications[port, default: 0] == before + 1, "one notification for the batch")

        // RX: buffers consumed are posted again by the push, not frame by frame.
        for i in 0..<4 { nb.deliver(testFrame(60, seed: UInt8(i))) }
        #expect(rig.receive(push: false).count == 4)
        #expect(nb.rxPosted == 4, "not yet posted again")
        // A caller that forgets to push: the next handleEvent does it.
        #expect(try rig.transmit(testFrame(61, seed: 7), push: false))
        _ = rig.handleEvent()
        nb.takeTransmitted()
        #expect(nb.sent.last == testFrame(61, seed: 7) && nb.rxPosted == 8)
        #expect(nb.complaints.isEmpty)
    }
}

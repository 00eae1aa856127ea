// UDP echo: the reply byte for byte for every payload size a 1500-byte MTU allows (its checksum,
// the request's carried over, checked against the test's own full sum), checksums (verified when
// present and neither validated nor blank; a blank request's reply sent blank, its field the
// pseudo-header's sum), other ports, length fields that lie, and every prefix of a valid datagram.
import Testing
@testable import XenDevices

@Suite("net stack: UDP echo")
struct NetStackUDPTests {
    @Test("payloads of 0, 1 and 1472 bytes are echoed byte for byte", arguments: [0, 1, 1472])
    func echo(size: Int) {
        var stack = knownNeighbours()
        let payload = Frame.payload(size)
        #expect(deliver(Frame.udpFrame(payload), to: &stack) == Frame.udpReply(payload))
        #expect(stack.counters.udpEchoesSent == 1 && stack.counters.dropped == 0)
    }

    @Test("every payload size from 1 to 1472 is echoed byte for byte")
    func everySize() {
        var stack = knownNeighbours()
        var wrong: [Int] = []
        for size in 1...1472 {
            let payload = Frame.payload(size)
            let reply = deliver(Frame.udpFrame(sourcePort: UInt16(1024 + size), payload), to: &stack)
            let expected = Frame.udpReply(destinationPort: UInt16(1024 + size), payload, identification: UInt16(size - 1))
            if reply != expected { wrong.append(size) }
        }
        #expect(wrong.isEmpty, "sizes echoed wrongly: \(wrong.prefix(10))")
        #expect(stack.counters.udpEchoesSent == 1472)
    }

    /// A UDP echo frame from `payload` whose checksum field holds `checksum`.
    func udpFrame(_ payload: [UInt8], checksum: UInt16, reply: Bool = false) -> [UInt8] {
        let (from, to) = reply ? (Link.ourIP, Link.peerIP) : (Link.peerIP, Link.ourIP)
        let (sourcePort, destinationPort): (UInt16, UInt16) = reply ? (7, 40000) : (40000, 7)
        return Frame.ethernet(to: reply ? Link.peerMAC : Link.ourMAC, from: reply ? Link.ourMAC : Link.peerMAC, type: 0x0800,
                              Frame.ipv4(from: from, to: to, protocol: 17,
                                         Frame.udp(from: from, to: to, sourcePort: sourcePort, destinationPort: destinationPort, payload, checksum: checksum),
                                         identification: 0))
    }

    /// What netback passes on with NETRXF_csum_blank: the pseudo-header's sum, not complemented.
    func pseudoHeaderSum(_ payload: [UInt8]) -> UInt16 {
        ~Frame.checksum(Link.peerIP + Link.ourIP + [0, 17] + Frame.be16(UInt16(8 + payload.count)))
    }

    @Test("a datagram sent without a checksum (0) is taken, and the echo carries none either")
    func noChecksum() {
        var stack = knownNeighbours()
        let payload = Frame.payload(33)
        #expect(deliver(udpFrame(payload, checksum: 0), to: &stack) == udpFrame(payload, checksum: 0, reply: true))
    }

    @Test("a bad checksum is dropped; validated it is echoed, the reply's checksum the request's")
    func badChecksum() {
        let payload = Frame.payload(100)
        var stack = knownNeighbours()
        #expect(deliver(udpFrame(payload, checksum: 0xDEAD), to: &stack) == nil)
        #expect(stack.counters[.udpBadChecksum] == 1)
        let reply = deliverReply(udpFrame(payload, checksum: 0xDEAD), to: &stack, checksum: .validated)
        #expect(reply?.bytes == udpFrame(payload, checksum: 0xDEAD, reply: true) && reply?.blank == false)
        // The pseudo-header's sum, unflagged, is just a wrong checksum.
        #expect(deliver(udpFrame(payload, checksum: pseudoHeaderSum(payload)), to: &stack) == nil)
        #expect(stack.counters[.udpBadChecksum] == 2)
    }

    @Test("a blank request (its field the pseudo-header's sum) is echoed blank, the same sum in its field, and completing it gives the right checksum", arguments: [0, 1, 100, 1472])
    func blankRequest(size: Int) {
        let payload = Frame.payload(size)
        var stack = knownNeighbours()
        let pseudo = pseudoHeaderSum(payload)
        guard let reply = deliverReply(udpFrame(payload, checksum: pseudo), to: &stack, checksum: .blank) else { Issue.record("no reply"); return }
        #expect(reply.blank, "sent NETTXF_csum_blank")
        #expect(reply.bytes == udpFrame(payload, checksum: pseudo, reply: true), "the field holds the reply's pseudo-header sum (the request's)")
        // Completed as a NIC or dom0's stack would (the sum of the datagram, the field included,
        // complemented): the reply the stack would have sent with a full checksum.
        var completed = reply.bytes
        completed[40] = 0; completed[41] = 0
        var sum = Frame.checksum(Array(reply.bytes[34...]))
        if sum == 0 { sum = 0xFFFF }
        completed[40] = UInt8(sum >> 8); completed[41] = UInt8(sum & 0xFF)
        #expect(completed == Frame.udpReply(payload))
    }

    @Test("completeChecksum fills in a blank field: UDP over its pseudo-header (0 sent as 0xFFFF), ICMP over the message alone")
    func completion() {
        for size in [0, 1, 2, 3, 57, 1472] {
            let payload = Frame.payload(size)
            var datagram = Frame.udp(from: Link.peerIP, to: Link.ourIP, sourcePort: 40000, destinationPort: 7, payload, checksum: pseudoHeaderSum(payload))
            datagram.withUnsafeMutableBytes { completeChecksum($0, field: 6, udp: true) }
            #expect(datagram == Frame.udp(from: Link.peerIP, to: Link.ourIP, sourcePort: 40000, destinationPort: 7, payload), "UDP, \(size) bytes")
            var message = Frame.icmpEcho(type: 0, payload, checksum: 0)
            message.withUnsafeMutableBytes { completeChecksum($0, field: 2, udp: false) }
            #expect(message == Frame.icmpEcho(type: 0, payload), "ICMP, \(size) bytes")
        }
        // A UDP datagram that completes to 0 carries 0xFFFF: the pseudo-header sum is chosen so.
        var zero: [UInt8] = [0, 0, 0, 0, 0, 8, 0xFF, 0xF7]
        zero.withUnsafeMutableBytes { completeChecksum($0, field: 6, udp: true) }
        #expect(zero[6] == 0xFF && zero[7] == 0xFF)
    }

    @Test("a checksum that comes to 0 is sent as 0xFFFF")
    func zeroSumSentAsOnes() {
        // Two payload bytes chosen so that the whole datagram sums to 0xFFFF.
        var payload: [UInt8] = [0, 0, 0x11, 0x22]
        let datagram = Frame.udp(from: Link.peerIP, to: Link.ourIP, sourcePort: 40000, destinationPort: 7, payload, checksum: 0)
        let rest = ~Frame.checksum(Link.peerIP + Link.ourIP + [0, 17] + Frame.be16(UInt16(datagram.count)) + datagram)
        let fill = ~rest  // rest + fill = 0xFFFF in one's complement
        payload[0] = UInt8(fill >> 8); payload[1] = UInt8(fill & 0xFF)
        let expected = Frame.udpReply(payload)
        #expect(expected[40] == 0xFF && expected[41] == 0xFF, "the test's own reply sums to 0")
        var stack = knownNeighbours()
        #expect(deliver(Frame.udpFrame(payload), to: &stack) == expected)
    }

    @Test("other ports, no echo port, and source port 0 are dropped")
    func ports() {
        var stack = knownNeighbours()
        #expect(deliver(Frame.udpFrame(destinationPort: 8, [1]), to: &stack) == nil)
        #expect(deliver(Frame.udpFrame(destinationPort: 0, [1]), to: &stack) == nil)
        #expect(stack.counters[.udpNoService] == 2)
        #expect(deliver(Frame.udpFrame(sourcePort: 0, [1]), to: &stack) == nil)
        #expect(stack.counters[.udpZeroSourcePort] == 1)
        var off = knownNeighbours(Link.configuration(echoPort: 0))
        #expect(deliver(Frame.udpFrame(destinationPort: 0, [1]), to: &off) == nil)
        #expect(deliver(Frame.udpFrame([1]), to: &off) == nil)
        #expect(off.counters[.udpNoService] == 2)
    }

    @Test("a UDP length that lies is dropped; a shorter one ends the datagram")
    func lengths() {
        let payload = Frame.payload(20)
        func frame(length: UInt16) -> [UInt8] {
            Frame.ethernet(to: Link.ourMAC, type: 0x0800, Frame.ipv4(from: Link.peerIP, to: Link.ourIP, protocol: 17,
                Frame.udp(from: Link.peerIP, to: Link.ourIP, sourcePort: 40000, destinationPort: 7, payload, length: length, checksum: 0)))
        }
        for length: UInt16 in [0, 1, 7, 29, 0xFFFF] {
            var stack = knownNeighbours()
            #expect(deliver(frame(length: length), to: &stack) == nil)
            #expect(stack.counters[.udpBadLength] == 1, "length \(length)")
        }
        // Length 8 + 5 within 28 bytes of IPv4 payload: the datagram is its first 13 bytes.
        var stack = knownNeighbours()
        var expected = Frame.udpReply(Array(payload[..<5]))
        expected[40] = 0; expected[41] = 0  // sent without a checksum, answered without one
        #expect(deliver(frame(length: 13), to: &stack) == expected)
    }

    @Test("an IPv4 payload shorter than a UDP header is dropped")
    func tooShort() {
        for n in 0..<8 {
            var stack = knownNeighbours()
            let frame = Frame.ethernet(to: Link.ourMAC, type: 0x0800,
                                       Frame.ipv4(from: Link.peerIP, to: Link.ourIP, protocol: 17, [UInt8](repeating: 0, count: n)))
            #expect(deliver(frame, to: &stack) == nil)
            #expect(stack.counters[.udpTooShort] == 1, "\(n) bytes")
        }
    }

    @Test("every prefix of a valid datagram is dropped and counted, none answered")
    func everyPrefix() {
        let frame = Frame.udpFrame(Frame.payload(48))
        var stack = knownNeighbours()
        let start = stack.counters
        for n in 0..<frame.count {
            let before = stack.counters.dropped
            #expect(deliver(Array(frame[..<n]), to: &stack) == nil, "prefix of \(n) bytes answered")
            #expect(stack.counters.dropped == before + 1, "prefix of \(n) bytes not counted")
        }
        #expect(stack.counters.sent == start.sent)
        #expect(deliver(frame, to: &stack) != nil, "the whole frame is answered")
    }

    @Test("an echo to an off-link sender goes through the gateway")
    func offLink() {
        var stack = knownNeighbours()
        let frame = Frame.ethernet(to: Link.ourMAC, from: Link.gatewayMAC, type: 0x0800, Frame.ipv4(from: Link.remoteIP, to: Link.ourIP, protocol: 17,
            Frame.udp(from: Link.remoteIP, to: Link.ourIP, sourcePort: 5353, destinationPort: 7, [42])))
        #expect(deliver(frame, to: &stack) == Frame.udpReply(to: Link.remoteIP, link: Link.gatewayMAC, destinationPort: 5353, [42]))
    }
}

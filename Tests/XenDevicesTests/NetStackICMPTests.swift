// ICMP echo: the reply byte for byte (same identifier, sequence number and data, its checksum
// the request's updated for the type, checked here against the test's own full sum), the
// checksum checked unless the backend vouched for it or left it blank, other types dropped, and
// every prefix of a valid ping dropped by reason without a trap.
import Testing
import XenDevices

@Suite("net stack: ICMP echo")
struct NetStackICMPTests {
    @Test("an echo request gets its echo reply, byte for byte", arguments: [0, 1, 2, 55, 56, 57, 1471, 1472])
    func echo(size: Int) {
        var stack = knownNeighbours()
        let data = Frame.payload(size)
        let reply = deliver(Frame.ping(sequence: 0x0102, data), to: &stack)
        #expect(reply == Frame.pingReply(sequence: 0x0102, data))
        #expect(stack.counters.echoRepliesSent == 1 && stack.counters.dropped == 0)
        // The reply's own checksums are right by the test's sum too.
        if let reply {
            #expect(Frame.checksum(Array(reply[14..<34])) == 0)
            #expect(Frame.checksum(Array(reply[34...])) == 0)
        }
    }

    @Test("the largest echo a 1500-byte MTU carries fills a 1514-byte frame")
    func fullFrame() {
        var stack = knownNeighbours()
        let reply = deliver(Frame.ping(Frame.payload(1472)), to: &stack)
        #expect(reply?.count == 1514)
    }

    @Test("successive replies carry successive IPv4 identifications")
    func identification() {
        var stack = knownNeighbours()
        for i in 0..<5 {
            #expect(deliver(Frame.ping(sequence: UInt16(i)), to: &stack) == Frame.pingReply(sequence: UInt16(i), identification: UInt16(i)))
        }
    }

    @Test("a bad ICMP checksum is dropped; validated it is answered, the reply's checksum as far off as the request's")
    func badChecksum() {
        let data = Frame.payload(20)
        let request = Frame.icmpEcho(data, checksum: 0x1234)
        let frame = Frame.ethernet(to: Link.ourMAC, type: 0x0800, Frame.ipv4(from: Link.peerIP, to: Link.ourIP, protocol: 1, request))
        var stack = knownNeighbours()
        #expect(deliver(frame, to: &stack) == nil)
        #expect(stack.counters[.icmpBadChecksum] == 1)
        // Validated: answered; the checksum is derived from the request's, not summed anew, so
        // the reply sums to what the request summed to.
        guard let reply = deliver(frame, to: &stack, checksum: .validated) else { Issue.record("no reply"); return }
        var expected = Frame.pingReply(data)
        expected[36] = reply[36]; expected[37] = reply[37]
        #expect(reply == expected)
        #expect(Frame.checksum(Array(reply[34...])) == Frame.checksum(request) && Frame.checksum(request) != 0)
    }

    @Test("the reply's checksum, updated from the request's, is the one a full sum gives, for every sequence number, identifier 0 and none")
    func incrementalChecksum() {
        var stack = knownNeighbours()
        var wrong: [UInt16] = []
        for identifier: UInt16 in [0, 0xBEEF] {
            for sequence in 0...UInt16.max where identifier == 0 || sequence % 257 == 0 {
                let data: [UInt8] = identifier == 0 ? [] : [0x5A]
                let frame = Frame.ethernet(to: Link.ourMAC, type: 0x0800,
                                           Frame.ipv4(from: Link.peerIP, to: Link.ourIP, protocol: 1, Frame.icmpEcho(identifier: identifier, sequence: sequence, data)))
                guard let reply = deliver(frame, to: &stack) else { wrong.append(sequence); continue }
                if Array(reply[34...]) != Frame.icmpEcho(type: 0, identifier: identifier, sequence: sequence, data) { wrong.append(sequence) }
            }
        }
        // Identifier 0, sequence 0, no data: a reply of zeros, whose checksum must be 0xFFFF.
        #expect(wrong.isEmpty, "sequence numbers answered wrongly: \(wrong.prefix(10))")
    }

    @Test("a request with a nonzero code is answered with code 0 and a right checksum")
    func nonzeroCode() {
        let data = Frame.payload(9)
        let frame = Frame.ethernet(to: Link.ourMAC, type: 0x0800, Frame.ipv4(from: Link.peerIP, to: Link.ourIP, protocol: 1, Frame.icmpEcho(code: 7, data)))
        var stack = knownNeighbours()
        #expect(deliver(frame, to: &stack) == Frame.pingReply(data))
    }

    @Test("a request flagged blank (no pseudo-header: its field holds 0) is answered with a completed, full checksum")
    func blankRequest() {
        let data = Frame.payload(33)
        let frame = Frame.ethernet(to: Link.ourMAC, type: 0x0800,
                                   Frame.ipv4(from: Link.peerIP, to: Link.ourIP, protocol: 1, Frame.icmpEcho(data, checksum: 0)))
        var stack = knownNeighbours()
        let reply = deliverReply(frame, to: &stack, checksum: .blank)
        #expect(reply?.bytes == Frame.pingReply(data))
        #expect(reply?.blank == false, "ICMP goes out with its checksum filled in")
    }

    @Test("a corrupted byte in the data is caught by the checksum")
    func corruptedData() {
        var frame = Frame.ping(Frame.payload(30))
        frame[frame.count - 3] ^= 0x40
        var stack = knownNeighbours()
        #expect(deliver(frame, to: &stack) == nil)
        #expect(stack.counters[.icmpBadChecksum] == 1)
    }

    @Test("other ICMP types are dropped")
    func otherTypes() {
        for type: UInt8 in [0, 3, 5, 11, 13, 17, 42, 255] {
            var stack = knownNeighbours()
            let frame = Frame.ethernet(to: Link.ourMAC, type: 0x0800,
                                       Frame.ipv4(from: Link.peerIP, to: Link.ourIP, protocol: 1, Frame.icmpEcho(type: type, [1, 2, 3])))
            #expect(deliver(frame, to: &stack) == nil)
            #expect(stack.counters[.icmpUnsupportedType] == 1, "type \(type)")
        }
    }

    @Test("an ICMP message shorter than its header is dropped")
    func tooShort() {
        for n in 0..<8 {
            var stack = knownNeighbours()
            let frame = Frame.ethernet(to: Link.ourMAC, type: 0x0800,
                                       Frame.ipv4(from: Link.peerIP, to: Link.ourIP, protocol: 1, Array(Frame.icmpEcho([])[..<n])))
            #expect(deliver(frame, to: &stack) == nil)
            #expect(stack.counters[.icmpTooShort] == 1, "\(n) bytes")
        }
    }

    @Test("every prefix of a valid ping is dropped and counted, none answered")
    func everyPrefix() {
        let frame = Frame.ping(Frame.payload(64))
        var stack = knownNeighbours()
        let start = stack.counters
        for n in 0..<frame.count {
            let before = stack.counters.dropped
            #expect(deliver(Array(frame[..<n]), to: &stack) == nil, "prefix of \(n) bytes answered")
            #expect(stack.counters.dropped == before + 1, "prefix of \(n) bytes not counted")
            let expected: NetDrop = n < 14 ? .frameTooShort : n < 34 ? .ipTooShort : .ipBadTotalLength
            #expect(stack.counters.lastDrop == expected, "prefix of \(n) bytes")
        }
        #expect(stack.counters.sent == start.sent)
        #expect(deliver(frame, to: &stack) != nil, "the whole frame is answered")
    }
}

// ICMP echo: the reply byte for byte (same identifier, sequence number and data, a fresh
// checksum), the checksum checked unless the backend vouched for it, other types dropped, and
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

    @Test("a bad ICMP checksum is dropped, unless the backend vouched for it")
    func badChecksum() {
        let data = Frame.payload(20)
        let frame = Frame.ethernet(to: Link.ourMAC, type: 0x0800,
                                   Frame.ipv4(from: Link.peerIP, to: Link.ourIP, protocol: 1, Frame.icmpEcho(data, checksum: 0x1234)))
        var stack = knownNeighbours()
        #expect(deliver(frame, to: &stack) == nil)
        #expect(stack.counters[.icmpBadChecksum] == 1)
        // Trusted: answered, with a checksum of its own that is right.
        #expect(deliver(frame, to: &stack, trusted: true) == Frame.pingReply(data))
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

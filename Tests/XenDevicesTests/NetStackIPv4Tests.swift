// Ethernet and IPv4 input: whose frames are taken, every header check with the reason it is
// counted under, options skipped, padding ignored, and where replies are routed.
import Testing
import XenDevices

@Suite("net stack: Ethernet and IPv4")
struct NetStackIPv4Tests {
    /// A ping from the peer whose IPv4 header is built by `header` from the usual fields.
    func ping(_ data: [UInt8] = Array(0..<56), ttl: UInt8 = 64, flags: UInt16 = 0, options: [UInt8] = [], version: UInt8 = 4,
              ihl: UInt8? = nil, totalLength: UInt16? = nil, checksum: UInt16? = nil, protocol proto: UInt8 = 1,
              from source: [UInt8] = Link.peerIP, to destination: [UInt8] = Link.ourIP, toMAC: [UInt8] = Link.ourMAC) -> [UInt8] {
        Frame.ethernet(to: toMAC, type: 0x0800,
                       Frame.ipv4(from: source, to: destination, protocol: proto, Frame.icmpEcho(data), ttl: ttl, flags: flags, options: options,
                                  version: version, ihl: ihl, totalLength: totalLength, checksum: checksum))
    }

    /// Delivers `frame` to a stack that knows its neighbours; expects it dropped for `reason`.
    func expectDropped(_ frame: [UInt8], _ reason: NetDrop, checksum: NetChecksum = .unverified, sourceLocation: SourceLocation = #_sourceLocation) {
        var stack = knownNeighbours()
        let reply = deliver(frame, to: &stack, checksum: checksum)
        #expect(reply == nil, "nothing sent", sourceLocation: sourceLocation)
        #expect(stack.counters[reason] == 1 && stack.counters.dropped == 1,
                "dropped as \(reason), counted: \(stack.counters.nonzeroDrops)", sourceLocation: sourceLocation)
    }

    @Test("frames for another station or a multicast group are dropped")
    func otherMAC() {
        expectDropped(ping(toMAC: [0x00, 0x16, 0x3E, 0x00, 0x00, 0x03]), .notOurMAC)
        expectDropped(ping(toMAC: [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01]), .notOurMAC)
    }

    @Test("VLAN-tagged frames and other EtherTypes are dropped, each counted")
    func etherTypes() {
        let good = ping()
        for (type, reason): (UInt16, NetDrop) in [(0x8100, .vlanTagged), (0x88A8, .vlanTagged), (0x9100, .vlanTagged),
                                                  (0x86DD, .unknownEtherType), (0x0042, .unknownEtherType), (0x88CC, .unknownEtherType)] {
            var frame = good
            frame[12] = UInt8(type >> 8); frame[13] = UInt8(type & 0xFF)
            expectDropped(frame, reason)
        }
    }

    @Test("a frame shorter than an Ethernet header is dropped")
    func runt() {
        for n in 0..<14 { expectDropped(Array(ping()[..<n]), .frameTooShort) }
    }

    @Test("IPv4 headers: version, IHL, total length, checksum, TTL")
    func headerChecks() {
        expectDropped(Array(ping()[..<33]), .ipTooShort)
        for version: UInt8 in [0, 5, 6, 15] { expectDropped(ping(version: version), .ipBadVersion) }
        for ihl: UInt8 in 0..<5 { expectDropped(ping(ihl: ihl), .ipBadHeaderLength) }
        // IHL 15 (60 bytes) in a frame with 20 header bytes and a short ICMP message after them.
        expectDropped(ping([], ihl: 15), .ipBadHeaderLength)
        // Total length longer than the frame, or shorter than the header.
        expectDropped(ping(totalLength: 20 + 64 + 1), .ipBadTotalLength)
        expectDropped(ping(totalLength: 0xFFFF), .ipBadTotalLength)
        for total: UInt16 in [0, 1, 19] { expectDropped(ping(totalLength: total), .ipBadTotalLength) }
        expectDropped(ping(options: [1, 1, 1, 1], totalLength: 20), .ipBadTotalLength)
        // A header checksum off by one, whether or not the backend vouched for L4 checksums.
        var bad = ping()
        bad[25] ^= 1
        expectDropped(bad, .ipBadChecksum)
        expectDropped(bad, .ipBadChecksum, checksum: .validated)
        expectDropped(bad, .ipBadChecksum, checksum: .blank)
        expectDropped(ping(ttl: 0), .ipTTLZero)
    }

    @Test("a total length shorter than the frame: the rest is padding, and not echoed")
    func padding() {
        var stack = knownNeighbours()
        #expect(deliver(ping() + [UInt8](repeating: 0xEE, count: 10), to: &stack) == Frame.pingReply())
        // Total length cut to 20 + 8 + 4: four bytes of data, the rest padding (checksum over those).
        let short = Frame.ethernet(to: Link.ourMAC, type: 0x0800,
                                   Frame.ipv4(from: Link.peerIP, to: Link.ourIP, protocol: 1, Frame.icmpEcho([9, 8, 7, 6])) + [1, 2, 3, 4, 5])
        #expect(deliver(short, to: &stack) == Frame.pingReply([9, 8, 7, 6], identification: 1))
    }

    @Test("TTL 1 is still for us")
    func ttlOne() {
        var stack = knownNeighbours()
        #expect(deliver(ping(ttl: 1), to: &stack) == Frame.pingReply())
    }

    @Test("fragments are dropped; don't-fragment is not a fragment")
    func fragments() {
        expectDropped(ping(flags: 0x2000), .ipFragment)         // more fragments
        expectDropped(ping(flags: 0x0001), .ipFragment)         // offset 8
        expectDropped(ping(flags: 0x1FFF), .ipFragment)
        expectDropped(ping(flags: 0x4000 | 0x2000), .ipFragment)
        var stack = knownNeighbours()
        #expect(deliver(ping(flags: 0x4000), to: &stack) == Frame.pingReply())
    }

    @Test("options are skipped: the reply has a plain 20-byte header")
    func options() {
        var stack = knownNeighbours()
        #expect(deliver(ping(options: [1, 1, 1, 0]), to: &stack) == Frame.pingReply(identification: 0))
        // 40 bytes of options: a record route (7, length 39, pointer 4) padded with end-of-list.
        let recordRoute: [UInt8] = [7, 39, 4] + [UInt8](repeating: 0, count: 36) + [0]
        #expect(deliver(ping(options: recordRoute), to: &stack) == Frame.pingReply(identification: 1))
        #expect(stack.counters.dropped == 0)
    }

    @Test("datagrams to another address are dropped; link broadcast of our unicast address too")
    func notForUs() {
        expectDropped(ping(to: [10, 0, 0, 3]), .ipNotForUs)
        expectDropped(ping(to: [10, 0, 1, 255]), .ipNotForUs)
        expectDropped(ping(to: [224, 0, 0, 1]), .ipNotForUs)
        expectDropped(ping(toMAC: Link.broadcastMAC), .linkBroadcastToUnicast)
    }

    @Test("broadcast datagrams are taken in, and the echo services do not answer them")
    func broadcast() {
        for destination: [UInt8] in [[255, 255, 255, 255], [10, 0, 0, 255]] {
            for toMAC in [Link.broadcastMAC, Link.ourMAC] {
                expectDropped(ping(to: destination, toMAC: toMAC), .broadcastEcho)
                expectDropped(Frame.udpFrame(to: destination, toMAC: toMAC, [1, 2, 3]), .broadcastEcho)
            }
        }
    }

    @Test("a /31 or /32 has no subnet broadcast: its top address is a host")
    func pointToPoint() {
        var configuration = Link.configuration()
        configuration.netmask = IPv4Address(255, 255, 255, 254)
        configuration.address = IPv4Address(10, 0, 0, 3)
        var stack = NetStack(configuration)
        _ = deliver(Frame.arpFrame(operation: 1, senderIP: [10, 0, 0, 2], targetIP: [10, 0, 0, 3]), to: &stack)
        let frame = Frame.ethernet(to: Link.ourMAC, type: 0x0800, Frame.ipv4(from: [10, 0, 0, 2], to: [10, 0, 0, 3], protocol: 1, Frame.icmpEcho([5])))
        #expect(deliver(frame, to: &stack) != nil)
        #expect(stack.counters.dropped == 0)
    }

    @Test("sources a reply cannot go to are refused")
    func badSources() {
        for source: [UInt8] in [[0, 0, 0, 0], [127, 0, 0, 1], [224, 0, 0, 5], [240, 0, 0, 1], [255, 255, 255, 255], [10, 0, 0, 255], Link.ourIP] {
            expectDropped(ping(from: source), .ipBadSource)
        }
    }

    @Test("protocols other than ICMP and UDP are dropped")
    func protocols() {
        for proto: UInt8 in [0, 2, 6, 41, 58, 255] { expectDropped(ping(protocol: proto), .ipUnknownProtocol) }
    }

    @Test("replies go on-link to the peer and off-link through the gateway")
    func routing() {
        var stack = knownNeighbours()
        #expect(deliver(Frame.ping(), to: &stack) == Frame.pingReply())
        // The remote host's ping came through the gateway, but even one from another MAC is answered through the gateway.
        #expect(deliver(Frame.ping(from: Link.remoteIP, link: Link.peerMAC), to: &stack) == Frame.pingReply(to: Link.remoteIP, link: Link.gatewayMAC, identification: 1))
    }

    @Test("no gateway: an off-link sender gets no reply")
    func noRoute() {
        var stack = knownNeighbours(Link.configuration(gateway: false))
        #expect(deliver(Frame.ping(from: Link.remoteIP, link: Link.gatewayMAC), to: &stack) == nil)
        #expect(stack.counters[.noRoute] == 1 && stack.counters.arpRequestsSent == 0)
    }

    @Test("a reply that does not fit the caller's buffer is dropped, with no ARP request either")
    func replyTooLong() {
        var stack = NetStack(Link.configuration())
        let frame = Frame.ping(Array(repeating: 1, count: 100))
        #expect(deliver(frame, to: &stack, replyCapacity: frame.count - 1) == nil)
        #expect(stack.counters[.replyTooLong] == 1 && stack.counters.arpRequestsSent == 0)
        var known = knownNeighbours()
        #expect(deliver(frame, to: &known, replyCapacity: frame.count) != nil)
    }

    @Test("a jumbo frame is taken in; its echo fits only a buffer as large")
    func jumbo() {
        var stack = knownNeighbours()
        let data = Frame.payload(8000)
        #expect(deliver(Frame.ping(data), to: &stack) == nil)
        #expect(stack.counters[.replyTooLong] == 1)
        #expect(deliver(Frame.ping(data), to: &stack, replyCapacity: 9000) == Frame.pingReply(data))
    }

    @Test("every reason has its own name for the log, in lower-case words joined by hyphens")
    func reasonNames() {
        let names = NetDrop.allCases.map { "\($0.name)" }
        #expect(Set(names).count == names.count)
        for name in names { #expect(name.allSatisfy { $0.isLowercase || $0 == "-" } && !name.hasPrefix("-") && !name.contains("--"), "\(name)") }
        #expect("\(NetDrop.ipTTLZero.name)" == "ip-ttl-zero" && "\(NetDrop.notOurMAC.name)" == "not-our-mac")
    }

    @Test("every reason has a counter, and a frame counts once")
    func countersFit() {
        #expect(NetDrop.allCases.count <= 40)
        var stack = knownNeighbours()
        let before = stack.counters
        _ = deliver(ping(ttl: 0), to: &stack)
        #expect(stack.counters.received == before.received + 1)
        #expect(stack.counters.dropped == before.dropped + 1)
        #expect(stack.counters.lastDrop == .ipTTLZero)
    }
}

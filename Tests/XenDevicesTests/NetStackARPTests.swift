// ARP: requests for our address answered byte for byte, the cache's rules (what may enter it,
// what only refreshes it, expiry, eviction), resolution before a reply, gratuitous ARP,
// conflicts, and malformed packets dropped by reason.
import Testing
import XenDevices

@Suite("net stack: ARP")
struct NetStackARPTests {
    let t0: UInt64 = 1_000_000_000

    @Test("a request for our address is answered, and its sender learned")
    func answersRequest() {
        var stack = NetStack(Link.configuration())
        let reply = deliver(Frame.arpFrame(operation: 1), to: &stack)
        let expected = Frame.ethernet(to: Link.peerMAC, from: Link.ourMAC, type: 0x0806,
                                      Frame.arp(operation: 2, senderMAC: Link.ourMAC, senderIP: Link.ourIP, targetMAC: Link.peerMAC, targetIP: Link.peerIP))
        #expect(reply == expected)
        #expect(stack.counters.arpRepliesSent == 1 && stack.counters.sent == 1)
        #expect(stack.cachedMAC(for: Link.ip(Link.peerIP), now: t0) == Link.mac(Link.peerMAC))
    }

    @Test("a request padded to Ethernet's 60-byte minimum is answered the same")
    func paddedRequest() {
        var stack = NetStack(Link.configuration())
        let frame = Frame.arpFrame(operation: 1)
        let padded = frame + [UInt8](repeating: 0, count: 60 - frame.count)
        var plain = NetStack(Link.configuration())
        #expect(deliver(padded, to: &stack) == deliver(frame, to: &plain))
        #expect(stack.counters.dropped == 0)
    }

    @Test("a request for another address is not answered, and teaches nothing")
    func requestForOther() {
        var stack = NetStack(Link.configuration())
        #expect(deliver(Frame.arpFrame(operation: 1, targetIP: [10, 0, 0, 77]), to: &stack) == nil)
        #expect(stack.counters[.arpNotForUs] == 1)
        #expect(stack.cachedMAC(for: Link.ip(Link.peerIP), now: t0) == nil)
    }

    @Test("a reply we did not ask for adds nothing")
    func unsolicitedReply() {
        var stack = NetStack(Link.configuration())
        #expect(deliver(Frame.arpFrame(operation: 2, targetMAC: Link.ourMAC), to: &stack) == nil)
        #expect(stack.counters[.arpUnsolicited] == 1)
        #expect(stack.cachedMAC(for: Link.ip(Link.peerIP), now: t0) == nil)
    }

    @Test("a reply we did not ask for refreshes an entry we hold, with its new address")
    func unsolicitedReplyUpdates() {
        var stack = knownNeighbours(now: t0)
        let moved: [UInt8] = [0x00, 0x16, 0x3E, 0x00, 0x00, 0x99]
        #expect(deliver(Frame.arpFrame(operation: 2, senderMAC: moved, targetMAC: Link.ourMAC), to: &stack, now: t0 + 5) == nil)
        #expect(stack.counters.dropped == 0 && stack.counters.arpLearned == 1)
        #expect(stack.cachedMAC(for: Link.ip(Link.peerIP), now: t0 + 5) == Link.mac(moved))
    }

    @Test("an unknown next hop: an ARP request goes out instead of the reply, which is dropped")
    func resolvesFirst() {
        var stack = NetStack(Link.configuration())
        let ping = Frame.ping(from: Link.remoteIP, link: Link.gatewayMAC)
        #expect(deliver(ping, to: &stack, now: t0) == Frame.ourRequest(for: Link.gatewayIP))
        #expect(stack.counters[.unresolved] == 1 && stack.counters.arpRequestsSent == 1)
        // Within the retry interval: nothing at all (no broadcast storm for a flood to an absent peer).
        #expect(deliver(ping, to: &stack, now: t0 + 999_999_999) == nil)
        #expect(stack.counters[.unresolved] == 2 && stack.counters.arpRequestsSent == 1)
        // The gateway answers; the next ping is answered through it.
        #expect(deliver(Frame.arpFrame(operation: 2, senderMAC: Link.gatewayMAC, senderIP: Link.gatewayIP, targetMAC: Link.ourMAC), to: &stack, now: t0 + 1_000) == nil)
        #expect(stack.counters.arpLearned == 1)
        #expect(stack.cachedMAC(for: Link.ip(Link.gatewayIP), now: t0 + 1_000) == Link.mac(Link.gatewayMAC))
        #expect(deliver(ping, to: &stack, now: t0 + 2_000) == Frame.pingReply(to: Link.remoteIP, link: Link.gatewayMAC))
    }

    @Test("an unanswered request is sent again once the retry interval has passed")
    func retries() {
        var stack = NetStack(Link.configuration())
        let ping = Frame.ping()
        #expect(deliver(ping, to: &stack, now: t0) == Frame.ourRequest(for: Link.peerIP))
        #expect(deliver(ping, to: &stack, now: t0 + 1_000_000_000) == Frame.ourRequest(for: Link.peerIP))
        #expect(stack.counters.arpRequestsSent == 2 && stack.counters[.unresolved] == 2)
    }

    @Test("an entry expires after the lifetime, and the next reply asks again")
    func expiry() {
        var stack = knownNeighbours(now: t0)
        let lifetime = stack.configuration.arpLifetime
        #expect(stack.cachedMAC(for: Link.ip(Link.peerIP), now: t0 + lifetime - 1) == Link.mac(Link.peerMAC))
        #expect(stack.cachedMAC(for: Link.ip(Link.peerIP), now: t0 + lifetime) == nil)
        #expect(deliver(Frame.ping(), to: &stack, now: t0 + lifetime - 1) == Frame.pingReply())
        #expect(deliver(Frame.ping(), to: &stack, now: t0 + lifetime) == Frame.ourRequest(for: Link.peerIP))
        // The peer's answer renews it.
        _ = deliver(Frame.arpFrame(operation: 2, targetMAC: Link.ourMAC), to: &stack, now: t0 + lifetime + 10)
        #expect(deliver(Frame.ping(), to: &stack, now: t0 + lifetime + 20) == Frame.pingReply(identification: 1))
    }

    @Test("gratuitous ARP (request or reply) refreshes a neighbour we hold, and adds no other")
    func gratuitous() {
        var stack = knownNeighbours(now: t0)
        let moved: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x09]
        let announce = Frame.arpFrame(operation: 1, senderMAC: moved, targetIP: Link.peerIP)
        #expect(deliver(announce, to: &stack, now: t0 + 1) == nil)
        #expect(stack.cachedMAC(for: Link.ip(Link.peerIP), now: t0 + 1) == Link.mac(moved))
        let replyForm = Frame.arpFrame(operation: 2, senderMAC: Link.peerMAC, targetMAC: Link.broadcastMAC, targetIP: Link.peerIP, to: Link.broadcastMAC)
        #expect(deliver(replyForm, to: &stack, now: t0 + 2) == nil)
        #expect(stack.cachedMAC(for: Link.ip(Link.peerIP), now: t0 + 2) == Link.mac(Link.peerMAC))
        #expect(stack.counters.arpLearned == 2 && stack.counters.dropped == 0)
        // A stranger's announcements teach nothing.
        let stranger: [UInt8] = [10, 0, 0, 66]
        _ = deliver(Frame.arpFrame(operation: 1, senderMAC: moved, senderIP: stranger, targetIP: stranger), to: &stack, now: t0 + 3)
        _ = deliver(Frame.arpFrame(operation: 2, senderMAC: moved, senderIP: stranger, targetMAC: Link.broadcastMAC, targetIP: stranger, to: Link.broadcastMAC), to: &stack, now: t0 + 3)
        #expect(stack.cachedMAC(for: Link.ip(stranger), now: t0 + 3) == nil)
        #expect(stack.counters[.arpNotForUs] == 2)
    }

    @Test("another station claiming our address is counted, not answered or learned")
    func conflict() {
        var stack = NetStack(Link.configuration())
        let claim = Frame.arpFrame(operation: 1, senderIP: Link.ourIP, targetIP: Link.ourIP)
        #expect(deliver(claim, to: &stack) == nil)
        #expect(deliver(Frame.arpFrame(operation: 2, senderIP: Link.ourIP, targetMAC: Link.ourMAC, targetIP: Link.peerIP), to: &stack) == nil)
        #expect(stack.counters[.arpAddressConflict] == 2)
        #expect(stack.cachedMAC(for: Link.ip(Link.ourIP), now: t0) == nil)
    }

    @Test("an RFC 5227 probe for our address (sender 0.0.0.0) is answered, and nothing learned")
    func probe() {
        var stack = NetStack(Link.configuration())
        let reply = deliver(Frame.arpFrame(operation: 1, senderIP: [0, 0, 0, 0]), to: &stack)
        #expect(reply == Frame.ethernet(to: Link.peerMAC, from: Link.ourMAC, type: 0x0806,
                                        Frame.arp(operation: 2, senderMAC: Link.ourMAC, senderIP: Link.ourIP, targetMAC: Link.peerMAC, targetIP: [0, 0, 0, 0])))
        #expect(stack.cachedMAC(for: .any, now: t0) == nil)
    }

    @Test("a sender hardware address that is zero, a group address or ours is refused")
    func badSender() {
        var stack = NetStack(Link.configuration())
        for mac: [UInt8] in [[0, 0, 0, 0, 0, 0], Link.broadcastMAC, [0x01, 0x00, 0x5E, 0, 0, 1], Link.ourMAC] {
            #expect(deliver(Frame.arpFrame(operation: 1, senderMAC: mac), to: &stack) == nil)
        }
        #expect(stack.counters[.arpBadSender] == 4)
        #expect(stack.counters.sent == 0)
    }

    @Test("a request from off our subnet is answered but not learned")
    func offSubnetSender() {
        var stack = NetStack(Link.configuration())
        #expect(deliver(Frame.arpFrame(operation: 1, senderIP: [10, 0, 1, 9]), to: &stack) != nil)
        #expect(stack.cachedMAC(for: IPv4Address(10, 0, 1, 9), now: t0) == nil)
    }

    @Test("malformed ARP: other types and lengths, unknown operations, every truncation")
    func malformed() {
        var stack = NetStack(Link.configuration())
        let good = Frame.arpFrame(operation: 1)
        func with(_ offset: Int, _ value: UInt8) -> [UInt8] { var f = good; f[offset] = value; return f }
        for frame in [with(15, 6), with(16, 0x86), with(18, 8), with(19, 16)] {  // htype, ptype, hlen, plen
            #expect(deliver(frame, to: &stack) == nil)
        }
        #expect(stack.counters[.arpMalformed] == 4)
        for op: UInt8 in [0, 3, 4] { #expect(deliver(with(21, op), to: &stack) == nil) }
        #expect(stack.counters[.arpUnknownOperation] == 3)
        for n in 0..<good.count {
            let before = stack.counters.dropped
            #expect(deliver(Array(good[..<n]), to: &stack) == nil, "prefix of \(n) bytes")
            #expect(stack.counters.dropped == before + 1, "prefix of \(n) bytes counted")
            #expect(stack.counters.lastDrop == (n < 14 ? .frameTooShort : .arpMalformed))
        }
        #expect(stack.counters.sent == 0)
    }

    @Test("the cache holds 8; a ninth neighbour replaces the one confirmed longest ago")
    func eviction() {
        var stack = NetStack(Link.configuration())
        func mac(_ i: Int) -> [UInt8] { [0x00, 0x16, 0x3E, 0x01, 0x00, UInt8(i)] }
        for i in 1...9 {
            _ = deliver(Frame.arpFrame(operation: 1, senderMAC: mac(i), senderIP: [10, 0, 0, UInt8(10 + i)]), to: &stack, now: t0 + UInt64(i))
        }
        #expect(stack.cachedMAC(for: IPv4Address(10, 0, 0, 11), now: t0 + 10) == nil)
        for i in 2...9 { #expect(stack.cachedMAC(for: IPv4Address(10, 0, 0, UInt8(10 + i)), now: t0 + 10) == Link.mac(mac(i))) }
    }

    @Test("a flood of replies nobody asked for cannot push the gateway out")
    func replyFloodKeepsGateway() {
        var stack = knownNeighbours(now: t0)
        for i in 0..<64 {
            _ = deliver(Frame.arpFrame(operation: 2, senderMAC: [0x02, 0, 0, 0, 0, UInt8(i)], senderIP: [10, 0, 0, UInt8(100 + i)], targetMAC: Link.ourMAC), to: &stack, now: t0 + 1)
        }
        #expect(stack.counters[.arpUnsolicited] == 64)
        #expect(stack.cachedMAC(for: Link.ip(Link.gatewayIP), now: t0 + 1) == Link.mac(Link.gatewayMAC))
    }

    @Test("the announcement is a gratuitous request for our address")
    func announcement() {
        let stack = NetStack(Link.configuration())
        var frame = [UInt8](repeating: 0, count: 64)
        let n = frame.withUnsafeMutableBytes { stack.announce(into: $0) }
        #expect(Array(frame[..<n]) == Frame.ethernet(to: Link.broadcastMAC, from: Link.ourMAC, type: 0x0806,
                                                       Frame.arp(operation: 1, senderMAC: Link.ourMAC, senderIP: Link.ourIP, targetIP: Link.ourIP)))
        var small = [UInt8](repeating: 0, count: 41)
        #expect(small.withUnsafeMutableBytes { stack.announce(into: $0) } == 0)
    }

    @Test("a reply buffer too small for an ARP reply: dropped and counted")
    func smallBuffer() {
        var stack = NetStack(Link.configuration())
        #expect(deliver(Frame.arpFrame(operation: 1), to: &stack, replyCapacity: 41) == nil)
        #expect(stack.counters[.replyTooLong] == 1)
    }
}

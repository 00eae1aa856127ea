// What the stack did with each frame: the replies it sent, and every frame it dropped, counted
// by the reason. A frame is dropped for exactly one reason (the first check it fails), so the
// drop counters sum to the frames received minus those answered or quietly taken in.

/// Why a received frame was not answered. Raw values index the counters.
public enum NetDrop: UInt8, CaseIterable {
    // Ethernet
    /// Shorter than an Ethernet header.
    case frameTooShort
    /// Sent to another station or to a multicast group.
    case notOurMAC
    /// An 802.1Q or 802.1ad tag: the stack is on an untagged link.
    case vlanTagged
    /// Neither IPv4 nor ARP (IPv6, an 802.3 length field, anything else).
    case unknownEtherType

    // ARP
    /// Shorter than an ARP packet for IPv4 over Ethernet, or another hardware or protocol type
    /// or address length.
    case arpMalformed
    /// Neither request nor reply.
    case arpUnknownOperation
    /// The sender's hardware address is zero, a group address, or ours.
    case arpBadSender
    /// Another station claims our IPv4 address: nothing is learned from it or answered.
    case arpAddressConflict
    /// A request for another address, from a sender not in the cache.
    case arpNotForUs
    /// A reply we did not ask for, about an address not in the cache (see ARPCache).
    case arpUnsolicited

    // IPv4
    /// Shorter than the fixed IPv4 header.
    case ipTooShort
    /// Version is not 4.
    case ipBadVersion
    /// IHL below 5, or a header longer than the frame.
    case ipBadHeaderLength
    /// Total length below the header's, or beyond the frame.
    case ipBadTotalLength
    /// The header checksum is wrong.
    case ipBadChecksum
    /// Time to live 0: no router may have sent it.
    case ipTTLZero
    /// A fragment (more fragments set, or a nonzero offset): the stack does not reassemble.
    case ipFragment
    /// To neither our address nor a broadcast address.
    case ipNotForUs
    /// To our unicast address but sent as a link-layer broadcast (RFC 1122 3.3.6).
    case linkBroadcastToUnicast
    /// From an address no reply can go to: 0.0.0.0, a broadcast, multicast or reserved
    /// address, loopback, or our own.
    case ipBadSource
    /// Neither ICMP nor UDP.
    case ipUnknownProtocol

    // ICMP
    /// Shorter than an ICMP header.
    case icmpTooShort
    /// The ICMP checksum is wrong.
    case icmpBadChecksum
    /// Not an echo request.
    case icmpUnsupportedType

    // UDP
    /// Shorter than a UDP header.
    case udpTooShort
    /// The UDP length is below 8 or beyond the IPv4 payload.
    case udpBadLength
    /// The UDP checksum is wrong.
    case udpBadChecksum
    /// No service on the destination port.
    case udpNoService
    /// Source port 0: the sender wants no reply (RFC 768).
    case udpZeroSourcePort

    // Replies
    /// An echo (ICMP or UDP) sent to a broadcast address: not answered, so that one spoofed
    /// request cannot make every host on the link answer its victim (RFC 1122 3.2.2.6 allows it).
    case broadcastEcho
    /// The reply's destination is off-link and no gateway is configured.
    case noRoute
    /// The next hop's Ethernet address is not known: an ARP request went out instead, and the
    /// reply was dropped (the sender will retry; nothing is held).
    case unresolved
    /// The reply would not fit in the caller's buffer.
    case replyTooLong
}

public struct NetCounters {
    /// Frames handed to `receive`.
    public internal(set) var received: UInt64 = 0
    /// Frames handed back to send, of every kind.
    public internal(set) var sent: UInt64 = 0
    public internal(set) var arpRepliesSent: UInt64 = 0
    public internal(set) var arpRequestsSent: UInt64 = 0
    public internal(set) var echoRepliesSent: UInt64 = 0
    public internal(set) var udpEchoesSent: UInt64 = 0
    /// ARP packets that updated or added a cache entry without needing an answer.
    public internal(set) var arpLearned: UInt64 = 0
    /// The reason of the latest drop.
    public internal(set) var lastDrop: NetDrop?

    /// One counter per reason, with room to spare (a test checks `NetDrop.allCases` fits).
    var drops = InlineArray<40, UInt64>(repeating: 0)

    public init() {}

    /// Frames dropped for `reason`.
    public subscript(_ reason: NetDrop) -> UInt64 { drops[Int(reason.rawValue)] }

    /// Frames dropped for any reason.
    public var dropped: UInt64 {
        var total: UInt64 = 0
        for i in drops.indices { total &+= drops[i] }
        return total
    }

    mutating func record(_ reason: NetDrop) {
        drops[Int(reason.rawValue)] &+= 1
        lastDrop = reason
    }
}

extension NetDrop {
    /// The reason as a log names it (`ip-fragment`): the case name in kebab case.
    public var name: StaticString {
        switch self {
        case .frameTooShort: "frame-too-short"
        case .notOurMAC: "not-our-mac"
        case .vlanTagged: "vlan-tagged"
        case .unknownEtherType: "unknown-ether-type"
        case .arpMalformed: "arp-malformed"
        case .arpUnknownOperation: "arp-unknown-operation"
        case .arpBadSender: "arp-bad-sender"
        case .arpAddressConflict: "arp-address-conflict"
        case .arpNotForUs: "arp-not-for-us"
        case .arpUnsolicited: "arp-unsolicited"
        case .ipTooShort: "ip-too-short"
        case .ipBadVersion: "ip-bad-version"
        case .ipBadHeaderLength: "ip-bad-header-length"
        case .ipBadTotalLength: "ip-bad-total-length"
        case .ipBadChecksum: "ip-bad-checksum"
        case .ipTTLZero: "ip-ttl-zero"
        case .ipFragment: "ip-fragment"
        case .ipNotForUs: "ip-not-for-us"
        case .linkBroadcastToUnicast: "link-broadcast-to-unicast"
        case .ipBadSource: "ip-bad-source"
        case .ipUnknownProtocol: "ip-unknown-protocol"
        case .icmpTooShort: "icmp-too-short"
        case .icmpBadChecksum: "icmp-bad-checksum"
        case .icmpUnsupportedType: "icmp-unsupported-type"
        case .udpTooShort: "udp-too-short"
        case .udpBadLength: "udp-bad-length"
        case .udpBadChecksum: "udp-bad-checksum"
        case .udpNoService: "udp-no-service"
        case .udpZeroSourcePort: "udp-zero-source-port"
        case .broadcastEcho: "broadcast-echo"
        case .noRoute: "no-route"
        case .unresolved: "unresolved"
        case .replyTooLong: "reply-too-long"
        }
    }
}

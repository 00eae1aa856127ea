// The net stack tests' own frames: a peer's side written from the RFCs, sharing no code with
// Sources/XenDevices/Net (its checksum is summed a different way, word by word with the carry
// folded back each time, as RFC 1071 section 4.1 describes it), plus the link the tests use and
// a helper that hands one frame to a stack and returns what it sent.
import XenDevices

/// The link: our guest 10.0.0.2/24 with gateway 10.0.0.1, one on-link peer, one remote host.
enum Link {
    static let ourMAC: [UInt8] = [0x00, 0x16, 0x3E, 0x00, 0x00, 0x02]
    static let ourIP: [UInt8] = [10, 0, 0, 2]
    static let peerMAC: [UInt8] = [0x00, 0x16, 0x3E, 0x00, 0x00, 0x09]
    static let peerIP: [UInt8] = [10, 0, 0, 9]
    static let gatewayMAC: [UInt8] = [0x00, 0x16, 0x3E, 0x00, 0x00, 0xFE]
    static let gatewayIP: [UInt8] = [10, 0, 0, 1]
    static let remoteIP: [UInt8] = [192, 0, 2, 50]
    static let broadcastMAC: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
    static let echoPort: UInt16 = 7

    static func configuration(gateway: Bool = true, echoPort: UInt16 = Link.echoPort) -> NetConfiguration {
        NetConfiguration(mac: mac(ourMAC), address: ip(ourIP), netmask: IPv4Address(255, 255, 255, 0),
                         gateway: gateway ? ip(gatewayIP) : .any, udpEchoPort: echoPort)
    }

    static func mac(_ b: [UInt8]) -> MACAddress { MACAddress(b[0], b[1], b[2], b[3], b[4], b[5]) }
    static func ip(_ b: [UInt8]) -> IPv4Address { IPv4Address(b[0], b[1], b[2], b[3]) }
}

enum Frame {
    /// RFC 1071: add 16-bit words, end-around carry after each addition, complement at the end.
    static func checksum(_ data: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var padded = data
        if padded.count % 2 == 1 { padded.append(0) }
        for i in stride(from: 0, to: padded.count, by: 2) {
            sum += UInt32(padded[i]) << 8 + UInt32(padded[i + 1])
            if sum > 0xFFFF { sum = (sum & 0xFFFF) + 1 }
        }
        return ~UInt16(sum)
    }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }

    static func ethernet(to destination: [UInt8], from source: [UInt8] = Link.peerMAC, type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        destination + source + be16(type) + payload
    }

    static func arp(operation: UInt16, senderMAC: [UInt8], senderIP: [UInt8], targetMAC: [UInt8] = [0, 0, 0, 0, 0, 0], targetIP: [UInt8]) -> [UInt8] {
        be16(1) + be16(0x0800) + [6, 4] + be16(operation) + senderMAC + senderIP + targetMAC + targetIP
    }

    /// An ARP frame on the link: requests broadcast, replies to `to`.
    static func arpFrame(operation: UInt16, senderMAC: [UInt8] = Link.peerMAC, senderIP: [UInt8] = Link.peerIP,
                         targetMAC: [UInt8] = [0, 0, 0, 0, 0, 0], targetIP: [UInt8] = Link.ourIP, to: [UInt8]? = nil) -> [UInt8] {
        ethernet(to: to ?? (operation == 1 ? Link.broadcastMAC : Link.ourMAC), from: senderMAC, type: 0x0806,
                 arp(operation: operation, senderMAC: senderMAC, senderIP: senderIP, targetMAC: targetMAC, targetIP: targetIP))
    }

    /// An IPv4 header (with options, padded to whole words by the caller) and payload; the
    /// header checksum computed unless `checksum` is given.
    static func ipv4(from source: [UInt8], to destination: [UInt8], protocol proto: UInt8, _ payload: [UInt8],
                     ttl: UInt8 = 64, identification: UInt16 = 0x1234, flags: UInt16 = 0, options: [UInt8] = [],
                     version: UInt8 = 4, ihl: UInt8? = nil, totalLength: UInt16? = nil, checksum: UInt16? = nil) -> [UInt8] {
        let headerWords = UInt8((20 + options.count) / 4)
        var header = [version << 4 | (ihl ?? headerWords), 0]
        header += be16(totalLength ?? UInt16(20 + options.count + payload.count))
        header += be16(identification) + be16(flags) + [ttl, proto] + [0, 0] + source + destination + options
        let sum = checksum ?? Frame.checksum(header)
        header[10] = UInt8(sum >> 8); header[11] = UInt8(sum & 0xFF)
        return header + payload
    }

    static func icmpEcho(type: UInt8 = 8, code: UInt8 = 0, identifier: UInt16 = 0xBEEF, sequence: UInt16 = 1, _ data: [UInt8], checksum: UInt16? = nil) -> [UInt8] {
        var message = [type, code, 0, 0] + be16(identifier) + be16(sequence) + data
        let sum = checksum ?? Frame.checksum(message)
        message[2] = UInt8(sum >> 8); message[3] = UInt8(sum & 0xFF)
        return message
    }

    /// A UDP datagram with its checksum over the pseudo-header (0 sent as 0xFFFF), or `checksum`.
    static func udp(from source: [UInt8], to destination: [UInt8], sourcePort: UInt16, destinationPort: UInt16, _ payload: [UInt8],
                    length: UInt16? = nil, checksum: UInt16? = nil) -> [UInt8] {
        let len = length ?? UInt16(8 + payload.count)
        var datagram = be16(sourcePort) + be16(destinationPort) + be16(len) + [0, 0] + payload
        var sum = checksum ?? Frame.checksum(source + destination + [0, 17] + be16(UInt16(datagram.count)) + datagram)
        if checksum == nil && sum == 0 { sum = 0xFFFF }
        datagram[6] = UInt8(sum >> 8); datagram[7] = UInt8(sum & 0xFF)
        return datagram
    }

    /// A ping from `source` (the peer by default) to us, as one frame from `link`.
    static func ping(from source: [UInt8] = Link.peerIP, to destination: [UInt8] = Link.ourIP, link: [UInt8] = Link.peerMAC,
                     toMAC: [UInt8] = Link.ourMAC, sequence: UInt16 = 1, _ data: [UInt8] = Array(0..<56)) -> [UInt8] {
        ethernet(to: toMAC, from: link, type: 0x0800, ipv4(from: source, to: destination, protocol: 1, icmpEcho(sequence: sequence, data)))
    }

    /// The echo reply the stack must send for `ping`: its `identification`-th datagram.
    static func pingReply(to destination: [UInt8] = Link.peerIP, link: [UInt8] = Link.peerMAC, sequence: UInt16 = 1,
                          _ data: [UInt8] = Array(0..<56), identification: UInt16 = 0) -> [UInt8] {
        ethernet(to: link, from: Link.ourMAC, type: 0x0800,
                 ipv4(from: Link.ourIP, to: destination, protocol: 1, icmpEcho(type: 0, sequence: sequence, data), identification: identification))
    }

    static func udpFrame(from source: [UInt8] = Link.peerIP, to destination: [UInt8] = Link.ourIP, toMAC: [UInt8] = Link.ourMAC,
                         sourcePort: UInt16 = 40000, destinationPort: UInt16 = Link.echoPort, _ payload: [UInt8]) -> [UInt8] {
        ethernet(to: toMAC, type: 0x0800, ipv4(from: source, to: destination, protocol: 17,
                                               udp(from: source, to: destination, sourcePort: sourcePort, destinationPort: destinationPort, payload)))
    }

    static func udpReply(to destination: [UInt8] = Link.peerIP, link: [UInt8] = Link.peerMAC, sourcePort: UInt16 = Link.echoPort,
                         destinationPort: UInt16 = 40000, _ payload: [UInt8], identification: UInt16 = 0) -> [UInt8] {
        ethernet(to: link, from: Link.ourMAC, type: 0x0800,
                 ipv4(from: Link.ourIP, to: destination, protocol: 17,
                      udp(from: Link.ourIP, to: destination, sourcePort: sourcePort, destinationPort: destinationPort, payload),
                      identification: identification))
    }

    /// An ARP request from us for `target`, as the stack must send it.
    static func ourRequest(for target: [UInt8]) -> [UInt8] {
        ethernet(to: Link.broadcastMAC, from: Link.ourMAC, type: 0x0806,
                 arp(operation: 1, senderMAC: Link.ourMAC, senderIP: Link.ourIP, targetIP: target))
    }

    /// Payload bytes that differ by size and position.
    static func payload(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ count) } }
}

/// Hands `frame` to `stack`; what it sent (nil for nothing).
func deliver(_ frame: [UInt8], to stack: inout NetStack, checksum: NetChecksum = .unverified, now: UInt64 = 1_000_000_000, replyCapacity: Int = 1514) -> [UInt8]? {
    deliverReply(frame, to: &stack, checksum: checksum, now: now, replyCapacity: replyCapacity)?.bytes
}

/// Hands `frame` to `stack`; what it sent and whether its checksum is left blank (nil for nothing).
func deliverReply(_ frame: [UInt8], to stack: inout NetStack, checksum: NetChecksum = .unverified, now: UInt64 = 1_000_000_000,
                  replyCapacity: Int = 1514) -> (bytes: [UInt8], blank: Bool)? {
    var reply = [UInt8](repeating: 0xA5, count: replyCapacity)
    let r = frame.withUnsafeBytes { input in
        reply.withUnsafeMutableBytes { stack.receive(input, checksum: checksum, now: now, reply: $0) }
    }
    return r.length == 0 ? nil : (Array(reply[0..<r.length]), r.checksumBlank)
}

/// A stack on `Link` that already knows the peer and the gateway (each sent an ARP request for
/// our address, as a peer does before its first packet to us).
func knownNeighbours(_ configuration: NetConfiguration = Link.configuration(), now: UInt64 = 1_000_000_000) -> NetStack {
    var stack = NetStack(configuration)
    _ = deliver(Frame.arpFrame(operation: 1), to: &stack, now: now)
    _ = deliver(Frame.arpFrame(operation: 1, senderMAC: Link.gatewayMAC, senderIP: Link.gatewayIP), to: &stack, now: now)
    return stack
}

extension NetCounters {
    /// The counters of every reason that counted something, for a failing test's message.
    var nonzeroDrops: [(NetDrop, UInt64)] { NetDrop.allCases.compactMap { self[$0] > 0 ? ($0, self[$0]) : nil } }
}

// IPv4 (RFC 791) as a host without forwarding or reassembly: the header is checked in full
// before anything in it is believed, options are skipped, fragments are dropped, and only
// datagrams to our address or a broadcast address go on to ICMP or UDP. Replies carry a 20-byte
// header with no options, and go to their destination on-link or through the gateway.

enum IPv4 {
    static var headerSize: Int { 20 }
    static var protocolICMP: UInt8 { 1 }
    static var protocolUDP: UInt8 { 17 }
    /// Where a reply's ICMP or UDP header starts in its frame.
    static var replyPayloadOffset: Int { Ethernet.headerSize + headerSize }
    static var defaultTTL: UInt8 { 64 }
}

/// A datagram that passed every header check: its addresses and what it carries (up to the
/// total length; Ethernet padding after it is gone).
struct IPv4Datagram {
    let source: IPv4Address
    let destination: IPv4Address
    let payload: UnsafeRawBufferPointer
    /// Sent to a broadcast address.
    let isBroadcast: Bool
}

extension NetStack {
    mutating func receiveIPv4(_ packet: UnsafeRawBufferPointer, linkBroadcast: Bool, checksum: NetChecksum, now: UInt64, reply: UnsafeMutableRawBufferPointer) -> Int {
        guard packet.count >= IPv4.headerSize else { return drop(.ipTooShort) }
        guard packet[0] >> 4 == 4 else { return drop(.ipBadVersion) }
        let headerLength = Int(packet[0] & 0x0F) * 4
        guard headerLength >= IPv4.headerSize, headerLength <= packet.count else { return drop(.ipBadHeaderLength) }
        let totalLength = Int(packet.net16(2))
        guard totalLength >= headerLength, totalLength <= packet.count else { return drop(.ipBadTotalLength) }
        guard InternetChecksum.of(UnsafeRawBufferPointer(rebasing: packet[..<headerLength])) == 0 else { return drop(.ipBadChecksum) }
        guard packet[8] != 0 else { return drop(.ipTTLZero) }
        // Flags and fragment offset: more fragments (0x2000) or any offset (0x1FFF) make a piece
        // of a datagram; don't fragment (0x4000) and the reserved bit do not matter here.
        guard packet.net16(6) & 0x3FFF == 0 else { return drop(.ipFragment) }

        let destination = packet.ipv4(16)
        let broadcast = isBroadcast(destination)
        guard destination == configuration.address || broadcast else { return drop(.ipNotForUs) }
        guard broadcast || !linkBroadcast else { return drop(.linkBroadcastToUnicast) }
        let source = packet.ipv4(12)
        guard isValidSource(source) else { return drop(.ipBadSource) }

        let datagram = IPv4Datagram(source: source, destination: destination,
                                    payload: UnsafeRawBufferPointer(rebasing: packet[headerLength..<totalLength]), isBroadcast: broadcast)
        switch packet[9] {
        case IPv4.protocolICMP: return receiveICMP(datagram, checksum: checksum, now: now, reply: reply)
        case IPv4.protocolUDP: return receiveUDP(datagram, checksum: checksum, now: now, reply: reply)
        default: return drop(.ipUnknownProtocol)
        }
    }

    /// A unicast address other than ours that a reply could go to: not 0.0.0.0, 127/8,
    /// 224/4 (multicast) or 240/4 (reserved, and the limited broadcast), nor our subnet's broadcast.
    func isValidSource(_ address: IPv4Address) -> Bool {
        let first = address.value >> 24
        return first != 0 && first != 127 && first < 224 && !isBroadcast(address) && address != configuration.address
    }

    /// Whether `reply` can hold a reply whose ICMP or UDP part is `length` bytes.
    func replyFits(_ length: Int, in reply: UnsafeMutableRawBufferPointer) -> Bool {
        reply.count >= IPv4.replyPayloadOffset + length
    }

    /// The Ethernet address of the next hop towards `destination`: itself when on-link, else
    /// the gateway. Nil when there is none to send to now, the drop counted and what to send
    /// instead in `instead`: an ARP request for the next hop, or nothing (0) if one went out
    /// within the retry interval or there is no route.
    @inline(never)
    mutating func route(to destination: IPv4Address, now: UInt64, frame: UnsafeMutableRawBufferPointer, instead: inout Int) -> MACAddress? {
        let nextHop = isOnLink(destination) ? destination : configuration.gateway
        guard nextHop != .any else { instead = drop(.noRoute); return nil }
        guard let mac = resolve(nextHop, now: now, frame: frame, instead: &instead) else {
            counters.record(.unresolved)
            return nil
        }
        return mac
    }

    /// Sends the datagram whose ICMP or UDP part of `length` bytes is already at
    /// `IPv4.replyPayloadOffset` in `frame`: writes the IPv4 and Ethernet headers in front of it
    /// and returns the frame's length.
    mutating func sendIPv4(_ frame: UnsafeMutableRawBufferPointer, to mac: MACAddress, destination: IPv4Address, protocol: UInt8, length: Int) -> Int {
        let h = Ethernet.headerSize
        frame[h] = 0x45  // version 4, 5 words
        frame[h + 1] = 0
        frame.put16(UInt16(truncatingIfNeeded: IPv4.headerSize + length), at: h + 2)
        frame.put16(identification, at: h + 4)
        identification &+= 1
        frame.put16(0, at: h + 6)
        frame[h + 8] = IPv4.defaultTTL
        frame[h + 9] = `protocol`
        frame.put16(0, at: h + 10)
        frame.put(configuration.address, at: h + 12)
        frame.put(destination, at: h + 16)
        frame.put16(InternetChecksum.of(UnsafeRawBufferPointer(rebasing: frame[h..<h + IPv4.headerSize])), at: h + 10)
        Ethernet.writeHeader(frame, to: mac, from: configuration.mac, type: Ethernet.typeIPv4)
        return IPv4.replyPayloadOffset + length
    }
}

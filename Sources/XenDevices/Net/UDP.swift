// UDP (RFC 768) with one service: datagrams to the echo port go back to their sender's address
// and port with the same payload (RFC 862). The checksum is verified when the sender filled it
// in (0 means it did not) and the backend has neither vouched for it nor left it blank. The
// reply's checksum is the request's: it sums the same words (addresses and ports swapped, the
// pseudo-header's included), so no pass is made over the payload; 0 (none) stays 0, and a
// blank request's pseudo-header sum is the reply's too, sent blank again.

enum UDP {
    static var headerSize: Int { 8 }
}

extension NetStack {
    mutating func receiveUDP(_ datagram: IPv4Datagram, checksum: NetChecksum, now: UInt64, reply: UnsafeMutableRawBufferPointer) -> Int {
        guard datagram.payload.count >= UDP.headerSize else { return drop(.udpTooShort) }
        let length = Int(datagram.payload.net16(4))
        guard length >= UDP.headerSize, length <= datagram.payload.count else { return drop(.udpBadLength) }
        let segment = UnsafeRawBufferPointer(rebasing: datagram.payload[..<length])
        if checksum == .unverified, segment.net16(6) != 0,
           udpChecksum(segment, from: datagram.source, to: datagram.destination) != 0 { return drop(.udpBadChecksum) }
        let port = segment.net16(2)
        guard configuration.udpEchoPort != 0, port == configuration.udpEchoPort else { return drop(.udpNoService) }
        let senderPort = segment.net16(0)
        guard senderPort != 0 else { return drop(.udpZeroSourcePort) }
        // Not broadcast, so to our own address: the reply's pseudo-header has the request's two
        // addresses, swapped.
        guard !datagram.isBroadcast else { return drop(.broadcastEcho) }
        guard replyFits(length, in: reply) else { return drop(.replyTooLong) }
        var instead = 0
        guard let mac = route(to: datagram.source, now: now, frame: reply, instead: &instead) else { return instead }

        let o = IPv4.replyPayloadOffset
        reply.copy(segment, to: o)  // the checksum field with it
        reply.put16(port, at: o)
        reply.put16(senderPort, at: o + 2)
        replyBlank = checksum == .blank
        counters.udpEchoesSent &+= 1
        return sendIPv4(reply, to: mac, destination: datagram.source, protocol: IPv4.protocolUDP, length: length)
    }

    /// The checksum over the pseudo-header (addresses, protocol, UDP length) and `segment`.
    func udpChecksum(_ segment: UnsafeRawBufferPointer, from source: IPv4Address, to destination: IPv4Address) -> UInt16 {
        var c = InternetChecksum()
        c.add(source.value)
        c.add(destination.value)
        c.add(UInt16(IPv4.protocolUDP))
        c.add(UInt16(truncatingIfNeeded: segment.count))
        c.add(segment)
        return c.value
    }
}

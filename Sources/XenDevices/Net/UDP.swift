// UDP (RFC 768) with one service: datagrams to the echo port go back to their sender's address
// and port with the same payload (RFC 862). The checksum is checked when the sender filled it in
// (0 means it did not) and the backend has not vouched for it; a reply always carries one.

enum UDP {
    static var headerSize: Int { 8 }
}

extension NetStack {
    mutating func receiveUDP(_ datagram: IPv4Datagram, checksumTrusted: Bool, now: UInt64, reply: UnsafeMutableRawBufferPointer) -> Int {
        guard datagram.payload.count >= UDP.headerSize else { return drop(.udpTooShort) }
        let length = Int(datagram.payload.net16(4))
        guard length >= UDP.headerSize, length <= datagram.payload.count else { return drop(.udpBadLength) }
        let segment = UnsafeRawBufferPointer(rebasing: datagram.payload[..<length])
        if !checksumTrusted, segment.net16(6) != 0,
           udpChecksum(segment, from: datagram.source, to: datagram.destination) != 0 { return drop(.udpBadChecksum) }
        let port = segment.net16(2)
        guard configuration.udpEchoPort != 0, port == configuration.udpEchoPort else { return drop(.udpNoService) }
        let senderPort = segment.net16(0)
        guard senderPort != 0 else { return drop(.udpZeroSourcePort) }
        guard !datagram.isBroadcast else { return drop(.broadcastEcho) }
        guard replyFits(length, in: reply) else { return drop(.replyTooLong) }
        var instead = 0
        guard let mac = route(to: datagram.source, now: now, frame: reply, instead: &instead) else { return instead }

        let o = IPv4.replyPayloadOffset
        reply.copy(segment, to: o)
        reply.put16(port, at: o)
        reply.put16(senderPort, at: o + 2)
        reply.put16(0, at: o + 6)
        let sum = udpChecksum(UnsafeRawBufferPointer(rebasing: reply[o..<o + length]), from: configuration.address, to: datagram.source)
        // A sum of 0 is sent as 0xFFFF, its other form: 0 would mean "no checksum".
        reply.put16(sum == 0 ? 0xFFFF : sum, at: o + 6)
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

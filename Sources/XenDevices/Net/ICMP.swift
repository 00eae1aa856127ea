// ICMP (RFC 792) as far as ping needs: an echo request is answered with an echo reply carrying
// the same identifier, sequence number and data. Every other message is dropped and counted;
// the stack sends no errors of its own.

enum ICMP {
    static var headerSize: Int { 8 }
    static var echoReply: UInt8 { 0 }
    static var echoRequest: UInt8 { 8 }
}

extension NetStack {
    mutating func receiveICMP(_ datagram: IPv4Datagram, checksumTrusted: Bool, now: UInt64, reply: UnsafeMutableRawBufferPointer) -> Int {
        let message = datagram.payload
        guard message.count >= ICMP.headerSize else { return drop(.icmpTooShort) }
        guard checksumTrusted || InternetChecksum.of(message) == 0 else { return drop(.icmpBadChecksum) }
        guard message[0] == ICMP.echoRequest else { return drop(.icmpUnsupportedType) }
        guard !datagram.isBroadcast else { return drop(.broadcastEcho) }
        guard replyFits(message.count, in: reply) else { return drop(.replyTooLong) }
        var instead = 0
        guard let mac = route(to: datagram.source, now: now, frame: reply, instead: &instead) else { return instead }

        // The request as it came (identifier, sequence number, data), as a reply, checksummed anew.
        let o = IPv4.replyPayloadOffset
        reply.copy(message, to: o)
        reply[o] = ICMP.echoReply
        reply[o + 1] = 0
        reply.put16(0, at: o + 2)
        reply.put16(InternetChecksum.of(UnsafeRawBufferPointer(rebasing: reply[o..<o + message.count])), at: o + 2)
        counters.echoRepliesSent &+= 1
        return sendIPv4(reply, to: mac, destination: datagram.source, protocol: IPv4.protocolICMP, length: message.count)
    }
}

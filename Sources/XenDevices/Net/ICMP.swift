// ICMP (RFC 792) as far as ping needs: an echo request is answered with an echo reply carrying
// the same identifier, sequence number and data. Every other message is dropped and counted;
// the stack sends no errors of its own. Linux never offloads ICMP checksums, so a reply always
// carries a full one: the request's, updated for the type word (RFC 1624), or, should a backend
// flag a request blank, one completed over the reply.

enum ICMP {
    static var headerSize: Int { 8 }
    static var echoReply: UInt8 { 0 }
    static var echoRequest: UInt8 { 8 }
}

extension NetStack {
    mutating func receiveICMP(_ datagram: IPv4Datagram, checksum: NetChecksum, now: UInt64, reply: UnsafeMutableRawBufferPointer) -> Int {
        let message = datagram.payload
        guard message.count >= ICMP.headerSize else { return drop(.icmpTooShort) }
        guard checksum != .unverified || InternetChecksum.of(message) == 0 else { return drop(.icmpBadChecksum) }
        guard message[0] == ICMP.echoRequest else { return drop(.icmpUnsupportedType) }
        guard !datagram.isBroadcast else { return drop(.broadcastEcho) }
        guard replyFits(message.count, in: reply) else { return drop(.replyTooLong) }
        var instead = 0
        guard let mac = route(to: datagram.source, now: now, frame: reply, instead: &instead) else { return instead }

        // The request as it came (identifier, sequence number, data), as a reply: type 0, code 0.
        let o = IPv4.replyPayloadOffset
        reply.copy(message, to: o)
        reply.put16(UInt16(ICMP.echoReply) << 8, at: o)
        if checksum == .blank {
            completeChecksum(UnsafeMutableRawBufferPointer(rebasing: reply[o..<o + message.count]), field: 2, udp: false)
        } else {
            let sum = InternetChecksum.updated(message.net16(2), from: message.net16(0), to: UInt16(ICMP.echoReply) << 8)
            reply.put16(sum, at: o + 2)
            // The update cannot tell data that sums to 0xFFFF (checksum 0) from data all zero
            // (checksum 0xFFFF: a zero would not verify): one reply in 65,536 is summed anew.
            if sum == 0 { completeChecksum(UnsafeMutableRawBufferPointer(rebasing: reply[o..<o + message.count]), field: 2, udp: false) }
        }
        counters.echoRepliesSent &+= 1
        return sendIPv4(reply, to: mac, destination: datagram.source, protocol: IPv4.protocolICMP, length: message.count)
    }
}

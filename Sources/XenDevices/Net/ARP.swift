// ARP for IPv4 over Ethernet (RFC 826): requests for our address are answered, what we learn
// goes into the ARPCache under its rules, and the stack asks for a next hop it does not know.
// Gratuitous ARP (sender address = target address, request or reply) needs no case of its own:
// it refreshes the sender's entry if we hold one, and if it claims our address it is a
// conflict, counted like any other packet that does.

enum ARP {
    /// Hardware type, protocol type, lengths, operation, then sender and target pairs.
    static var packetSize: Int { 28 }
    static var frameSize: Int { Ethernet.headerSize + packetSize }
    static var request: UInt16 { 1 }
    static var reply: UInt16 { 2 }
}

extension NetStack {
    mutating func receiveARP(_ packet: UnsafeRawBufferPointer, now: UInt64, reply: UnsafeMutableRawBufferPointer) -> Int {
        // Ethernet (1), IPv4, 6-byte and 4-byte addresses; anything after the packet is padding.
        guard packet.count >= ARP.packetSize, packet.net16(0) == 1, packet.net16(2) == Ethernet.typeIPv4,
              packet[4] == 6, packet[5] == 4 else { return drop(.arpMalformed) }
        let operation = packet.net16(6)
        guard operation == ARP.request || operation == ARP.reply else { return drop(.arpUnknownOperation) }
        let senderMAC = packet.mac(8)
        let sender = packet.ipv4(14)
        let target = packet.ipv4(24)
        guard !senderMAC.isGroup, senderMAC.value != 0, senderMAC != configuration.mac else { return drop(.arpBadSender) }
        guard sender != configuration.address else { return drop(.arpAddressConflict) }

        let forUs = target == configuration.address && configuration.address != .any
        var learned = arp.update(sender, mac: senderMAC, now: now)
        if !learned, forUs, operation == ARP.request, canBeNeighbour(sender) {
            arp.insert(sender, mac: senderMAC, now: now)
            learned = true
        }
        if forUs, operation == ARP.request {
            // To the sender's own address: an RFC 5227 probe (sender 0.0.0.0) gets its answer too.
            let n = writeARP(reply, operation: ARP.reply, to: senderMAC, targetMAC: senderMAC, targetAddress: sender)
            guard n > 0 else { return drop(.replyTooLong) }
            counters.arpRepliesSent &+= 1
            return n
        }
        guard learned else { return drop(forUs ? .arpUnsolicited : .arpNotForUs) }
        counters.arpLearned &+= 1
        return 0
    }

    /// An address a neighbour on the link can have: on our subnet, and neither 0.0.0.0 nor a
    /// broadcast address.
    func canBeNeighbour(_ address: IPv4Address) -> Bool {
        address != .any && isOnLink(address) && !isBroadcast(address)
    }

    /// An ARP packet from us in a frame to `destination`; its length, or 0 if `frame` is too small.
    func writeARP(_ frame: UnsafeMutableRawBufferPointer, operation: UInt16, to destination: MACAddress, targetMAC: MACAddress, targetAddress: IPv4Address) -> Int {
        guard frame.count >= ARP.frameSize else { return 0 }
        Ethernet.writeHeader(frame, to: destination, from: configuration.mac, type: Ethernet.typeARP)
        let h = Ethernet.headerSize
        frame.put16(1, at: h)
        frame.put16(Ethernet.typeIPv4, at: h + 2)
        frame[h + 4] = 6
        frame[h + 5] = 4
        frame.put16(operation, at: h + 6)
        frame.put(configuration.mac, at: h + 8)
        frame.put(configuration.address, at: h + 14)
        frame.put(targetMAC, at: h + 18)
        frame.put(targetAddress, at: h + 24)
        return ARP.frameSize
    }

    /// The Ethernet address to send to for `nextHop`; when it is not known, writes a request
    /// for it into `frame` (unless one went out within the retry interval) and returns nil,
    /// with that request's length (or 0) in `instead`.
    mutating func resolve(_ nextHop: IPv4Address, now: UInt64, frame: UnsafeMutableRawBufferPointer, instead: inout Int) -> MACAddress? {
        if let mac = arp.lookup(nextHop, now: now, lifetime: configuration.arpLifetime) { return mac }
        instead = 0
        if arp.shouldRequest(nextHop, now: now, retry: configuration.arpRetryInterval) {
            instead = writeARP(frame, operation: ARP.request, to: .broadcast, targetMAC: MACAddress(value: 0), targetAddress: nextHop)
            if instead > 0 { counters.arpRequestsSent &+= 1 }
        }
        return nil
    }
}

// Which Ethernet address each IPv4 neighbour has: a fixed table of 8 entries (the stack talks
// to its gateway and a few on-link peers), each stamped with the `now` it was last confirmed.
//
// What may enter it: an address we asked for (an incomplete entry is made when the request goes
// out, and the reply completes it), and the sender of a request for our address (RFC 826: it is
// about to talk to us, and learning it now saves a round trip before the first reply). Any other
// ARP packet (an unsolicited or gratuitous reply, a request for someone else) only refreshes an
// entry that is already there. So a station that sprays replies cannot fill the table with
// peers we never talk to, or push out the gateway with them; it can only lie about a
// neighbour, which no ARP without authentication can prevent.

struct ARPCache {
    enum State: UInt8 { case free, incomplete, resolved }

    struct Entry {
        var address = IPv4Address.any
        var mac = MACAddress(value: 0)
        /// When the entry was resolved or confirmed, or, while incomplete, when it was last asked for.
        var stamp: UInt64 = 0
        var state = State.free
    }

    var entries = InlineArray<8, Entry>(repeating: Entry())

    /// The entry for `address`, in whatever state.
    func slot(of address: IPv4Address) -> Int? {
        for i in entries.indices where entries[i].state != .free && entries[i].address == address { return i }
        return nil
    }

    /// `address`'s Ethernet address, if resolved less than `lifetime` ago.
    func lookup(_ address: IPv4Address, now: UInt64, lifetime: UInt64) -> MACAddress? {
        guard let i = slot(of: address), entries[i].state == .resolved, now &- entries[i].stamp < lifetime else { return nil }
        return entries[i].mac
    }

    /// Refreshes `address`'s entry, if there is one; whether there was.
    mutating func update(_ address: IPv4Address, mac: MACAddress, now: UInt64) -> Bool {
        guard let i = slot(of: address) else { return false }
        entries[i].mac = mac
        entries[i].stamp = now
        entries[i].state = .resolved
        return true
    }

    /// Adds `address` as resolved, in place of the least recently stamped entry if none is free.
    mutating func insert(_ address: IPv4Address, mac: MACAddress, now: UInt64) {
        let i = freeSlot()
        entries[i] = Entry(address: address, mac: mac, stamp: now, state: .resolved)
    }

    /// Whether to send a request for `address` now: not if one went out less than `retry` ago
    /// (a flood of packets to an absent peer must not become a flood of broadcasts). Marks the
    /// entry incomplete and stamps it when the answer is yes.
    mutating func shouldRequest(_ address: IPv4Address, now: UInt64, retry: UInt64) -> Bool {
        if let i = slot(of: address) {
            if entries[i].state == .incomplete, now &- entries[i].stamp < retry { return false }
            entries[i].state = .incomplete
            entries[i].stamp = now
        } else {
            entries[freeSlot()] = Entry(address: address, stamp: now, state: .incomplete)
        }
        return true
    }

    /// A free entry, or else the one stamped longest ago.
    private func freeSlot() -> Int {
        var oldest = 0
        for i in entries.indices {
            if entries[i].state == .free { return i }
            if entries[i].stamp < entries[oldest].stamp { oldest = i }
        }
        return oldest
    }
}

// A host on one Ethernet link: it answers ARP for its address, ICMP echo requests, and UDP on an
// echo port, and drops everything else, counting why. It is platform-free and knows nothing of
// netfront: the driver hands it each received frame (its own copy, which the backend can no
// longer change) and sends what it writes into the reply buffer. Nothing is allocated per frame
// and nothing is held between frames but the ARP cache and the counters.
//
// Every field is checked against the bytes present before it is read (Tests/Fuzz/NetFrameFuzz
// drives this path); a frame that fails a check is dropped and counted under one NetDrop.

/// What the caller tells the stack about the link.
public struct NetConfiguration {
    /// Our Ethernet address (xenstore's `mac` key of the vif).
    public var mac: MACAddress
    public var address: IPv4Address
    public var netmask: IPv4Address
    /// The router for off-link destinations; `.any` for none.
    public var gateway: IPv4Address
    /// The UDP port whose datagrams are echoed back (RFC 862's is 7); 0 for none.
    public var udpEchoPort: UInt16
    /// How long an ARP answer is believed (nanoseconds).
    public var arpLifetime: UInt64 = 60_000_000_000
    /// How long to wait for an ARP answer before asking again (nanoseconds).
    public var arpRetryInterval: UInt64 = 1_000_000_000

    public init(mac: MACAddress, address: IPv4Address, netmask: IPv4Address, gateway: IPv4Address = .any, udpEchoPort: UInt16 = 0) {
        self.mac = mac; self.address = address; self.netmask = netmask; self.gateway = gateway; self.udpEchoPort = udpEchoPort
    }
}

public struct NetStack: ~Copyable {
    public let configuration: NetConfiguration
    public internal(set) var counters = NetCounters()
    var arp = ARPCache()
    /// The next IPv4 identification to send.
    var identification: UInt16 = 0

    /// A reply buffer this large answers every echo a 1500-byte MTU lets in.
    public static var maxFrameSize: Int { Ethernet.maxFrameSize }

    public init(_ configuration: NetConfiguration) { self.configuration = configuration }

    /// Handles one received frame (from the destination address on, without the FCS). Writes
    /// what to send in answer, if anything, at the start of `reply` and returns its length (0:
    /// nothing to send). `reply` must not overlap `frame`, and should hold `maxFrameSize` bytes.
    ///
    /// `checksumTrusted`: the backend vouched for the ICMP or UDP checksum, or left it unfilled
    /// (netif's NETRXF_data_validated or NETRXF_csum_blank: Linux netback with checksum offload
    /// passes on a locally sent packet's checksum as a partial sum), so it is not checked. The
    /// IPv4 header's checksum is always checked; replies always carry full checksums.
    /// `now`: the system time in nanoseconds, for the ARP cache.
    @inline(never)
    public mutating func receive(_ frame: UnsafeRawBufferPointer, checksumTrusted: Bool = false, now: UInt64, reply: UnsafeMutableRawBufferPointer) -> Int {
        counters.received &+= 1
        let n = demultiplex(frame, checksumTrusted: checksumTrusted, now: now, reply: reply)
        if n > 0 { counters.sent &+= 1 }
        return n
    }

    /// A gratuitous ARP request announcing our address (RFC 5227's announcement), for when the
    /// link comes up: switches and bridges learn where we are, neighbours refresh their caches.
    /// Returns its length in `frame` (0 if `frame` is too small).
    public func announce(into frame: UnsafeMutableRawBufferPointer) -> Int {
        writeARP(frame, operation: ARP.request, to: .broadcast, targetMAC: MACAddress(value: 0), targetAddress: configuration.address)
    }

    /// The Ethernet address the cache holds for `address`, if it is still believed at `now`.
    public func cachedMAC(for address: IPv4Address, now: UInt64) -> MACAddress? {
        arp.lookup(address, now: now, lifetime: configuration.arpLifetime)
    }

    /// Ethernet: ours or broadcast, untagged, IPv4 or ARP.
    mutating func demultiplex(_ frame: UnsafeRawBufferPointer, checksumTrusted: Bool, now: UInt64, reply: UnsafeMutableRawBufferPointer) -> Int {
        guard frame.count >= Ethernet.headerSize else { return drop(.frameTooShort) }
        let destination = frame.mac(0)
        let linkBroadcast = destination == .broadcast
        guard destination == configuration.mac || linkBroadcast else { return drop(.notOurMAC) }
        let type = frame.net16(12)
        let payload = frame.rest(from: Ethernet.headerSize)
        if type == Ethernet.typeIPv4 {
            return receiveIPv4(payload, linkBroadcast: linkBroadcast, checksumTrusted: checksumTrusted, now: now, reply: reply)
        }
        if type == Ethernet.typeARP { return receiveARP(payload, now: now, reply: reply) }
        return drop(Ethernet.isVLANTag(type) ? .vlanTagged : .unknownEtherType)
    }

    /// Counts the drop; returns 0, the length of nothing to send.
    mutating func drop(_ reason: NetDrop) -> Int {
        counters.record(reason)
        return 0
    }

    /// On our subnet.
    func isOnLink(_ address: IPv4Address) -> Bool {
        (address.value ^ configuration.address.value) & configuration.netmask.value == 0
    }

    /// The limited broadcast, or our subnet's (a /31 or /32 has none: RFC 3021).
    func isBroadcast(_ address: IPv4Address) -> Bool {
        let host = ~configuration.netmask.value
        return address == .broadcast || (host > 1 && address.value == configuration.address.value | host)
    }
}

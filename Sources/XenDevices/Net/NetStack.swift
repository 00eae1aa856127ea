// A host on one Ethernet link: it answers ARP for its address, ICMP echo requests, and UDP on an
// echo port, and drops everything else, counting why. It is platform-free and knows nothing of
// netfront: the driver hands it each received frame (in a page whose grant has ended, so the
// backend can no longer change it) and sends what it writes into the reply buffer (a TX page not
// yet granted). Nothing is allocated per frame and nothing is held between frames but the ARP
// cache and the counters. No pass over a payload is made that the math does not need: a request
// is verified only when nothing vouched for it, and a reply's checksum comes from the request's.
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

/// What the link says about a received frame's ICMP or UDP checksum (netif's RX flags).
public enum NetChecksum: Equatable {
    /// Nothing: the stack verifies it.
    case unverified
    /// `NETRXF_data_validated`: the backend checked it, so the stack does not.
    case validated
    /// `NETRXF_csum_blank`: a local sender offloaded it (Linux's CHECKSUM_PARTIAL), so the
    /// field holds only the pseudo-header's sum. Taken unverified, and a UDP reply goes out
    /// blank the same way (the backend completes it or, delivering locally, needs none).
    case blank
}

/// What `receive` wrote in answer: `length` bytes at the start of the reply buffer (0:
/// nothing to send); `checksumBlank`: a UDP reply whose checksum field holds the pseudo-header's
/// sum, to be sent `NETTXF_csum_blank | NETTXF_data_validated`.
public struct NetReply: Equatable {
    public var length: Int
    public var checksumBlank: Bool
    public init(length: Int, checksumBlank: Bool = false) { self.length = length; self.checksumBlank = checksumBlank }
}

public struct NetStack: ~Copyable {
    public let configuration: NetConfiguration
    public internal(set) var counters = NetCounters()
    var arp = ARPCache()
    /// The next IPv4 identification to send.
    var identification: UInt16 = 0
    /// Set while a frame is handled: the reply written goes out with its checksum blank.
    var replyBlank = false

    /// A reply buffer this large answers every echo a 1500-byte MTU lets in.
    public static var maxFrameSize: Int { Ethernet.maxFrameSize }

    public init(_ configuration: NetConfiguration) { self.configuration = configuration }

    /// Handles one received frame (from the destination address on, without the FCS). Writes
    /// what to send in answer, if anything, at the start of `reply` and returns its length (0:
    /// nothing to send). `reply` must not overlap `frame`, and should hold `maxFrameSize` bytes.
    ///
    /// `checksum`: what the backend said of the ICMP or UDP checksum. Validated or blank, it is
    /// not verified: a backend can forge any frame anyway, checksum and all, so trusting its word
    /// gives it nothing. A reply's checksum is derived from the request's, so a request the
    /// backend vouched for wrongly gets a reply as wrong as itself. The IPv4 header's checksum
    /// is always checked and always computed. `now`: the system time in nanoseconds, for the
    /// ARP cache.
    @inline(never)
    public mutating func receive(_ frame: UnsafeRawBufferPointer, checksum: NetChecksum = .unverified, now: UInt64, reply: UnsafeMutableRawBufferPointer) -> NetReply {
        counters.received &+= 1
        replyBlank = false
        let n = demultiplex(frame, checksum: checksum, now: now, reply: reply)
        if n > 0 { counters.sent &+= 1 }
        return NetReply(length: n, checksumBlank: n > 0 && replyBlank)
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
    mutating func demultiplex(_ frame: UnsafeRawBufferPointer, checksum: NetChecksum, now: UInt64, reply: UnsafeMutableRawBufferPointer) -> Int {
        guard frame.count >= Ethernet.headerSize else { return drop(.frameTooShort) }
        let destination = frame.mac(0)
        let linkBroadcast = destination == .broadcast
        guard destination == configuration.mac || linkBroadcast else { return drop(.notOurMAC) }
        let type = frame.net16(12)
        let payload = frame.rest(from: Ethernet.headerSize)
        if type == Ethernet.typeIPv4 {
            return receiveIPv4(payload, linkBroadcast: linkBroadcast, checksum: checksum, now: now, reply: reply)
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

// Ethernet II framing (IEEE 802.3 with an EtherType): destination, source, type, payload. The
// frame check sequence is the backend's business and never reaches us. The stack is a host on an
// untagged link: a VLAN tag or any type but IPv4 and ARP is dropped and counted.

enum Ethernet {
    static var headerSize: Int { 14 }
    /// The largest frame an MTU of 1500 allows, without the FCS.
    static var maxFrameSize: Int { 1514 }

    static var typeIPv4: UInt16 { 0x0800 }
    static var typeARP: UInt16 { 0x0806 }

    /// 802.1Q, 802.1ad and the older pre-standard QinQ tag.
    static func isVLANTag(_ type: UInt16) -> Bool { type == 0x8100 || type == 0x88A8 || type == 0x9100 }

    /// Writes the header at the start of `frame` (the caller has checked it has room).
    static func writeHeader(_ frame: UnsafeMutableRawBufferPointer, to destination: MACAddress, from source: MACAddress, type: UInt16) {
        frame.put(destination, at: 0)
        frame.put(source, at: 6)
        frame.put16(type, at: 12)
    }
}

// Big-endian fields of a frame. Every caller has checked the bytes are there first (the length
// checks in NetStack.demultiplex, ARP.swift, IPv4.swift, ICMP.swift and UDP.swift, and the
// reply buffer's size before a reply is written): these only read and write at offsets already
// known to be inside the buffer. Debug builds check that again; release builds do not.

extension UnsafeRawBufferPointer {
    @inline(__always)
    func net16(_ at: Int) -> UInt16 { UInt16(bigEndian: loadUnaligned(fromByteOffset: at, as: UInt16.self)) }

    @inline(__always)
    func net32(_ at: Int) -> UInt32 { UInt32(bigEndian: loadUnaligned(fromByteOffset: at, as: UInt32.self)) }

    @inline(__always)
    func mac(_ at: Int) -> MACAddress { MACAddress(value: UInt64(net16(at)) << 32 | UInt64(net32(at + 2))) }

    @inline(__always)
    func ipv4(_ at: Int) -> IPv4Address { IPv4Address(value: net32(at)) }

    /// The bytes from `offset` to the end.
    @inline(__always)
    func rest(from offset: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: self[offset...]) }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func put16(_ v: UInt16, at: Int) { storeBytes(of: v.bigEndian, toByteOffset: at, as: UInt16.self) }

    @inline(__always)
    func put32(_ v: UInt32, at: Int) { storeBytes(of: v.bigEndian, toByteOffset: at, as: UInt32.self) }

    @inline(__always)
    func put(_ mac: MACAddress, at: Int) {
        put16(UInt16(truncatingIfNeeded: mac.value >> 32), at: at)
        put32(UInt32(truncatingIfNeeded: mac.value), at: at + 2)
    }

    @inline(__always)
    func put(_ address: IPv4Address, at: Int) { put32(address.value, at: at) }

    /// Copies `source` to `offset` (the caller has checked it fits).
    @inline(__always)
    func copy(_ source: UnsafeRawBufferPointer, to offset: Int) {
        guard !source.isEmpty else { return }
        (baseAddress! + offset).copyMemory(from: source.baseAddress!, byteCount: source.count)
    }
}

// The Internet checksum (RFC 1071): the one's complement of the one's complement sum of the
// data as 16-bit big-endian words, an odd last byte padded with zero. IPv4's header, ICMP and
// UDP (over a pseudo-header) all use it. Data that carries its own correct checksum sums to
// 0xFFFF, so `value` is 0 for it.

struct InternetChecksum {
    /// Sums up to 2^48 words without overflow: more than any frame holds.
    private var sum: UInt64 = 0

    @inline(__always)
    mutating func add(_ word: UInt16) { sum &+= UInt64(word) }

    @inline(__always)
    mutating func add(_ word: UInt32) { sum &+= UInt64(word >> 16) &+ UInt64(word & 0xFFFF) }

    /// Adds `bytes` as words from the start of the sum's even position: only the last piece
    /// added may have an odd length.
    @inline(never)
    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        while i + 1 < bytes.count {
            sum &+= UInt64(bytes[i]) << 8 | UInt64(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum &+= UInt64(bytes[i]) << 8 }
    }

    /// The checksum to store: the complement of the folded sum.
    var value: UInt16 {
        var s = sum
        while s > 0xFFFF { s = (s & 0xFFFF) &+ (s >> 16) }
        return ~UInt16(truncatingIfNeeded: s)
    }

    /// The checksum of `bytes` alone.
    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var c = InternetChecksum()
        c.add(bytes)
        return c.value
    }
}

// The Internet checksum (RFC 1071): the one's complement of the one's complement sum of the
// data as 16-bit big-endian words, an odd last byte padded with zero. IPv4's header, ICMP and
// UDP (over a pseudo-header) all use it. Data that carries its own correct checksum sums to
// 0xFFFF, so `value` is 0 for it. The sum is commutative, so a reply that only moves words
// around (swapped addresses and ports) keeps its request's checksum; one that changes a word
// has it updated from the old and new word (RFC 1624) instead of summed again.

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

    /// RFC 1624's equation 3: the checksum `old` of data in which one word changed from `from`
    /// to `to`, without summing the data again: HC' = ~(~HC + ~m + m').
    static func updated(_ old: UInt16, from: UInt16, to: UInt16) -> UInt16 {
        var c = InternetChecksum()
        c.add(~old)
        c.add(~from)
        c.add(to)
        return c.value
    }
}

/// Fills in a checksum left blank (netif's `csum_blank`, Linux's CHECKSUM_PARTIAL): the field at
/// `field` in `segment` (the ICMP message or UDP datagram) holds the sum of what the data does
/// not cover (UDP's pseudo-header; 0 for ICMP), so the full checksum is the complement of the
/// sum of every byte of the segment, the field included. UDP sends a result of 0 as 0xFFFF.
@inline(never)
func completeChecksum(_ segment: UnsafeMutableRawBufferPointer, field: Int, udp: Bool) {
    let sum = InternetChecksum.of(UnsafeRawBufferPointer(segment))
    segment.put16(udp && sum == 0 ? 0xFFFF : sum, at: field)
}

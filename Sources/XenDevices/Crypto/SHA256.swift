// SHA-256 (FIPS 180-4), streaming: what the kernel prints of a disk's contents, so dom0's
// `sha256sum` of the image can be compared with what the guest wrote and read back. Plain code
// with no platform in it: the host tests check it against the standard's vectors and sha256sum.
// Not constant-time and not meant for secrets.

public struct SHA256 {
    var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    /// The partial block, and the bytes hashed so far.
    var block = InlineArray<64, UInt8>(repeating: 0)
    var used = 0
    var length: UInt64 = 0

    public init() {}

    /// Hashes `bytes` after what came before.
    @inline(never)
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress else { return }
        var n = bytes.count
        length &+= UInt64(n)
        if used > 0 {
            let take = min(64 - used, n)
            for i in 0..<take { block[used + i] = p.load(fromByteOffset: i, as: UInt8.self) }
            used += take; p += take; n -= take
            if used < 64 { return }
            withUnsafeBytes(of: block) { compress($0.baseAddress.unsafelyUnwrapped) }
            used = 0
        }
        while n >= 64 { compress(p); p += 64; n -= 64 }
        for i in 0..<n { block[i] = p.load(fromByteOffset: i, as: UInt8.self) }
        used = n
    }

    /// The digest of everything hashed (the value is left finished: start a new one to hash again).
    @inline(never)
    public mutating func finish() -> InlineArray<32, UInt8> {
        let bits = length &* 8
        var pad = InlineArray<72, UInt8>(repeating: 0)
        pad[0] = 0x80
        let padLength = (used < 56 ? 56 : 120) - used
        for i in 0..<8 { pad[padLength + i] = UInt8(truncatingIfNeeded: bits >> UInt64(56 - 8 * i)) }
        withUnsafeBytes(of: pad) { update(UnsafeRawBufferPointer(rebasing: $0[0..<(padLength + 8)])) }
        var out = InlineArray<32, UInt8>(repeating: 0)
        for i in 0..<8 {
            let word = withUnsafeBytes(of: state) { $0.load(fromByteOffset: 4 * i, as: UInt32.self) }
            for j in 0..<4 { out[4 * i + j] = UInt8(truncatingIfNeeded: word >> UInt32(24 - 8 * j)) }
        }
        return out
    }

    static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    /// One 64-byte block into the state (FIPS 180-4 6.2.2), the schedule kept as a 16-word window.
    mutating func compress(_ p: UnsafeRawPointer) {
        var w = InlineArray<16, UInt32>(repeating: 0)
        for i in 0..<16 { w[i] = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        var (a, b, c, d, e, f, g, h) = state
        Self.k.withUnsafeBufferPointer { k in
            for t in 0..<64 {
                if t >= 16 {
                    let w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15]
                    let s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3)
                    let s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10)
                    w[t & 15] = w[t & 15] &+ s0 &+ w[(t - 7) & 15] &+ s1
                }
                let t1 = h &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[t] &+ w[t & 15]
                let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
                h = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
            }
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h)
    }

    @inline(__always) func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}

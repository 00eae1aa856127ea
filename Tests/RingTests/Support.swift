// Shared by the ring tests: a seeded generator, shared areas, and the C reference by name.
import RingReference
import XenABI

/// SplitMix64: small, fast, and the same sequence on every host for a given seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

/// A page-aligned area standing in for shared memory; freed by the caller.
func sharedArea(_ bytes: Int) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
}

extension StaticString {
    var cString: UnsafePointer<CChar> { UnsafeRawPointer(utf8Start).assumingMemoryBound(to: CChar.self) }
    var text: String { description }
}

func load<T: BitwiseCopyable>(_ bytes: [UInt8], as: T.Type) -> T {
    precondition(bytes.count == MemoryLayout<T>.size)
    return bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
}

func entryBytes<T: BitwiseCopyable>(of value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

func poke(_ base: UnsafeMutableRawPointer, _ offset: Int, _ value: UInt32) { (base + offset).storeBytes(of: value, as: UInt32.self) }
func peek(_ base: UnsafeMutableRawPointer, _ offset: Int) -> UInt32 { (base + offset).load(as: UInt32.self) }

/// Shared memory handed to another thread, as it is handed to another domain.
struct SharedArea: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    init(_ base: UnsafeMutableRawPointer) { self.base = base }
}

// Byte strings instead of `String`: a kernel that links String pulls in Unicode tables several
// times its size. Xenstore paths and values are bytes on the wire and stay bytes here.

extension Array where Element == UInt8 {
    /// The bytes of a literal (no terminating nul).
    @inlinable
    public init(_ literal: StaticString) {
        self.init(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    @inlinable
    public mutating func append(_ literal: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Appends `value` in unsigned decimal, as xenstore writes numbers.
    public mutating func appendDecimal(_ value: UInt64) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var v = value
        Swift.withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            } while v > 0
            for i in stride(from: count - 1, through: 0, by: -1) { append(buffer[i]) }
        }
    }

    /// Does this equal the literal?
    @inlinable
    public func equals(_ literal: StaticString) -> Bool {
        count == literal.utf8CodeUnitCount && elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }
}

/// Unsigned decimal as xenstore values carry it: digits only (no sign, no spaces, no `0x`), at
/// least one, and no larger than `maximum`. Anything else is refused: a value comes from a peer.
public func xenParseDecimal<C: Collection>(_ bytes: C, maximum: UInt64) -> UInt64? where C.Element == UInt8 {
    xenParseDecimal(Array(bytes), maximum: maximum)
}

public func xenParseDecimal(_ bytes: [UInt8], maximum: UInt64) -> UInt64? {
    bytes.withUnsafeBytes { xenParseDecimal(raw: $0, maximum: maximum) }
}

@inline(never)
func xenParseDecimal(raw bytes: UnsafeRawBufferPointer, maximum: UInt64) -> UInt64? {
    guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
    var value: UInt64 = 0
    for b in bytes {
        guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (next, o2) = times10.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
        guard !o1, !o2, next <= maximum else { return nil }
        value = next
    }
    return value
}

/// A fixed-capacity byte buffer on the heap, allocated once: the client's request and reply
/// buffers and the console's hold buffer. One non-generic type with out-of-line operations, so
/// the kernel pays for them once instead of for Array's growth code at every use. A class, as
/// the deinit of a non-copyable struct inside a generic driver is not visible where Embedded
/// Swift specialises it; one owner holds each.
final class XenByteBuffer {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    private(set) var count = 0

    @inline(never)
    init(capacity: Int) {
        self.capacity = capacity
        base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    }

    deinit { base.deallocate() }

    var isEmpty: Bool { count == 0 }
    var room: Int { capacity - count }
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
    /// The unused space after the bytes held, to read into before `commit`.
    var free: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: base + count, count: capacity - count) }

    /// Appends as much of `source` as fits; returns how much that was.
    @inline(never)
    func append(_ source: UnsafeRawBufferPointer) -> Int {
        let n = min(source.count, capacity - count)
        if n > 0 { (base + count).copyMemory(from: source.baseAddress!, byteCount: n) }
        count += n
        return n
    }

    func append(_ array: [UInt8]) -> Int { array.withUnsafeBytes { append($0) } }

    /// Counts `n` bytes written into `free` as held.
    func commit(_ n: Int) { count += n }

    @inline(never)
    func removeFirst(_ n: Int) {
        guard n > 0 else { return }
        if n < count { base.copyMemory(from: base + n, byteCount: count - n) }
        count -= min(n, count)
    }

    func removeAll() { count = 0 }
}

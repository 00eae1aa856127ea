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

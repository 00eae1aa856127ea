// The few generic helpers every generated file leans on, emitted with the layer so it stands alone.

enum SwiftSupport {
    static let source = #"""
/// `XEN_GUEST_HANDLE(T)` on x86: a pointer to guest memory, wrapped so a handle of one element
/// type cannot be passed where another is expected. Same layout as the C struct `{ T *p; }`.
@frozen public struct XenGuestHandle<Pointee>: BitwiseCopyable {
    public var p: UnsafeMutablePointer<Pointee>?
    @inline(__always) public init() { p = nil }
    @inline(__always) public init(_ p: UnsafeMutablePointer<Pointee>?) { self.p = p }
}

/// `XEN_GUEST_HANDLE(const_T)`: a handle Xen only reads through.
@frozen public struct XenConstGuestHandle<Pointee>: BitwiseCopyable {
    public var p: UnsafePointer<Pointee>?
    @inline(__always) public init() { p = nil }
    @inline(__always) public init(_ p: UnsafePointer<Pointee>?) { self.p = p }
}

/// Reads a `T` at a byte offset of a record (union members, misaligned fields).
@inline(__always)
public func _xenLoad<Record, T: BitwiseCopyable>(_ record: Record, offset: Int, as type: T.Type) -> T {
    withUnsafeBytes(of: record) { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
}

/// Writes a `T` at a byte offset of a record.
@inline(__always)
public func _xenStore<Record, T: BitwiseCopyable>(_ record: inout Record, offset: Int, _ value: T) {
    withUnsafeMutableBytes(of: &record) { $0.storeBytes(of: value, toByteOffset: offset, as: T.self) }
}

/// Reads a bitfield: `width` bits from bit `bitOffset` of the record (x86_64 allocates bitfields
/// from the least significant bit of little-endian storage), sign-extended when `signed`.
@inline(__always)
public func _xenBitsGet<Record>(_ record: Record, bitOffset: Int, width: Int, signed: Bool) -> UInt64? {
    withUnsafeBytes(of: record) { bytes in
        var value: UInt64 = 0
        var bit = 0
        while bit < width {
            let at = bitOffset + bit
            let byte = UInt64(bytes[at >> 3] >> UInt8(at & 7)) & 1
            value |= byte << UInt64(bit)
            bit += 1
        }
        if signed && width < 64 && (value >> UInt64(width - 1)) & 1 == 1 { value |= ~0 << UInt64(width) }
        return value
    }
}

/// Writes a bitfield, leaving every other bit of the record as it was.
@inline(__always)
public func _xenBitsSet<Record>(_ record: inout Record, bitOffset: Int, width: Int, _ value: UInt64) {
    withUnsafeMutableBytes(of: &record) { bytes in
        var bit = 0
        while bit < width {
            let at = bitOffset + bit
            let mask = UInt8(1) << UInt8(at & 7)
            if (value >> UInt64(bit)) & 1 == 1 { bytes[at >> 3] |= mask } else { bytes[at >> 3] &= ~mask }
            bit += 1
        }
    }
}
"""#
}

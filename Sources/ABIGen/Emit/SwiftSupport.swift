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

    /// The contract between the ring layouts abigen emits and the engine in XenABI/Rings: emitted
    /// with the layouts so that the layer (and `abigen verify`) stands alone.
    static let ringProtocols = #"""
/// What one `DEFINE_RING_TYPES(name, req_t, rsp_t)` instance is: its entry types and where its
/// shared page keeps the indexes and the entries. Each instance found in the headers conforms
/// below; the protocol logic is written once, in XenABI's XenFrontRing and XenBackRing.
public protocol XenRingLayout {
    /// `req_t`: what the front end produces.
    associatedtype Request: BitwiseCopyable
    /// `rsp_t`: what the back end produces.
    associatedtype Response: BitwiseCopyable
    /// The instance's name in the headers (`blkif`, `netif_tx`, ...).
    static var name: StaticString { get }
    /// `offsetof(struct name_sring, req_prod)`, and the other three indexes.
    static var requestProducerOffset: Int { get }
    static var requestEventOffset: Int { get }
    static var responseProducerOffset: Int { get }
    static var responseEventOffset: Int { get }
    /// `offsetof(struct name_sring, pvt)` and its size: SHARED_RING_INIT zeroes it and `__pad`.
    static var privateAreaOffset: Int { get }
    /// `offsetof(struct name_sring, ring)`: the first entry.
    static var entriesOffset: Int { get }
    /// `sizeof(union name_sring_entry)`: one slot, the larger of request and response.
    static var entryStride: Int { get }
    /// `__CONST_RING_SIZE(name, 4096)`: the entries of a one-page ring.
    static var pageRingSize: UInt32 { get }
}

/// What abigen finds as a byte ring: an interface struct with a power-of-two `char NAME[N]`
/// buffer and the `NAME_cons` / `NAME_prod` offsets beside it (`xencons_interface`'s `in` and
/// `out`, `xenstore_domain_interface`'s `req` and `rsp`). One conforming type per buffer.
public protocol XenByteRingLayout {
    /// `struct.buffer`, as in the headers.
    static var name: StaticString { get }
    /// The buffer's offset in the interface struct.
    static var dataOffset: Int { get }
    /// The buffer's size in bytes, a power of two.
    static var capacity: UInt32 { get }
    /// The offsets of `NAME_cons` and `NAME_prod` in the interface struct.
    static var consumerOffset: Int { get }
    static var producerOffset: Int { get }
}

/// What abigen finds as a flex ring (`DEFINE_XEN_FLEX_RING_AND_INTF`, or `DEFINE_XEN_FLEX_RING`
/// with its own `name_data_intf`): the interface page's offsets for both directions. The data
/// lives apart, `2 << order` pages split into `in` and `out` halves.
public protocol XenFlexRingLayout {
    static var name: StaticString { get }
    static var inConsumerOffset: Int { get }
    static var inProducerOffset: Int { get }
    static var outConsumerOffset: Int { get }
    static var outProducerOffset: Int { get }
    static var ringOrderOffset: Int { get }
    /// `ref[]`: the grant references of the data pages.
    static var referencesOffset: Int { get }
}
"""#
}

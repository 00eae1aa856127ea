// What one `DEFINE_RING_TYPES(name, req_t, rsp_t)` instance is: its entry types and where its
// shared page keeps the indexes and the entries. abigen generates one conforming type per instance
// found in the headers (Generated/.../_Rings.swift); the protocol logic is written once, in
// XenFrontRing and XenBackRing.

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
    static var pageRingSize: RING_IDX { get }
}

extension XenRingLayout {
    /// `__RING_SIZE(s, bytes)`: the entries that fit in a shared area of `bytes`, rounded down to a
    /// power of two (the masks depend on it). Zero when not even one entry fits.
    @inlinable
    public static func ringSize(forSharedBytes bytes: Int) -> RING_IDX {
        guard bytes > entriesOffset, entryStride > 0 else { return 0 }
        let fit = (bytes - entriesOffset) / entryStride
        guard fit > 0 else { return 0 }
        let capped = RING_IDX(truncatingIfNeeded: min(fit, Int(RING_IDX.max)))
        return RING_IDX(1) << (RING_IDX(RING_IDX.bitWidth - 1) - RING_IDX(capped.leadingZeroBitCount))
    }
}

// What the engine adds to the layouts abigen generates (their protocols are emitted with them, in
// Generated/.../_Rings.swift): the size of a ring in a given area, and the ends' type names.

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

    /// The front end of this ring: `struct name_front_ring` with ring.h's front-side macros.
    public typealias Front = XenFrontRing<Self>
    /// The back end of this ring: `struct name_back_ring` with ring.h's back-side macros.
    public typealias Back = XenBackRing<Self>
}

extension XenFlexRingLayout {
    /// Both directions of this flex ring, as the front end or the back end sees them.
    public typealias Ring = XenFlexRing<Self>
}

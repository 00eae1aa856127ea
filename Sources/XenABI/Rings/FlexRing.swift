// A flex ring (`DEFINE_XEN_FLEX_RING`, pvcalls' and 9pfs' data rings): two byte streams over
// `2^order` shared pages, `in` (back end to front end) in the first half and `out` (front end to
// back end) in the second, with the offsets in the interface page. Each end reads one stream and
// writes the other.

public struct XenFlexRing<Layout: XenFlexRingLayout>: ~Copyable {
    /// The stream this end reads: `in` for the front end, `out` for the back end.
    public var reader: XenByteReader
    /// The stream this end writes: `out` for the front end, `in` for the back end.
    public var writer: XenByteWriter

    /// The largest order whose half-ring size fits a RING_IDX.
    public static var maximumOrder: RING_IDX { 20 }

    /// `XEN_FLEX_RING_SIZE(order)`: the bytes in each direction, half of the `2^order` pages.
    @inlinable
    public static func halfSize(order: RING_IDX) -> RING_IDX { RING_IDX(1) << (order &+ RING_IDX(XEN_PAGE_SHIFT) &- 1) }

    /// The two directions: `in` in the first half of `data`, `out` in the second.
    @inlinable
    static func streams(_ interface: UnsafeMutableRawPointer, data: UnsafeMutableRawPointer, order: RING_IDX) throws(XenRingError) -> (in: XenByteStream, out: XenByteStream) {
        guard order <= Self.maximumOrder else { throw .badRingSize(order) }
        let size = Self.halfSize(order: order)
        return (try XenByteStream(indexes: interface, consumerOffset: Layout.inConsumerOffset, producerOffset: Layout.inProducerOffset, data: data, size: size),
                try XenByteStream(indexes: interface, consumerOffset: Layout.outConsumerOffset, producerOffset: Layout.outProducerOffset, data: data + Int(size), size: size))
    }

    /// The front end, on a fresh interface it owns: writes `ring_order` and starts all four offsets
    /// at `offset` (0 for a new ring). `data` holds `2^order` pages.
    @inlinable
    public init(frontendOf interface: UnsafeMutableRawPointer, data: UnsafeMutableRawPointer, order: RING_IDX, startingAt offset: RING_IDX = 0) throws(XenRingError) {
        let (in_, out) = try Self.streams(interface, data: data, order: order)
        reader = XenByteReader(in_, at: offset)
        writer = XenByteWriter(out, at: offset)
        XenSharedMemoryAccess.write(interface + Layout.inProducerOffset, offset)
        XenSharedMemoryAccess.write(interface + Layout.outConsumerOffset, offset)
        XenSharedMemoryAccess.write(interface + Layout.ringOrderOffset, order)
    }

    /// The `ring_order` a front end wrote, read once and refused above `maximumOrder` (the back
    /// end maps that many pages: the front end does not get to choose an unbounded number).
    @inlinable
    public static func ringOrder(of interface: UnsafeMutableRawPointer, maximumOrder: RING_IDX = maximumOrder) throws(XenRingError) -> RING_IDX {
        let order = XenSharedMemoryAccess.read(interface + Layout.ringOrderOffset)
        guard order <= min(maximumOrder, Self.maximumOrder) else { throw .badRingSize(order) }
        return order
    }

    /// The back end, attached where the offsets stand now, with the `data` it mapped for `order`
    /// (from `ringOrder(of:)`).
    @inlinable
    public init(backendOf interface: UnsafeMutableRawPointer, data: UnsafeMutableRawPointer, order: RING_IDX) throws(XenRingError) {
        let (in_, out) = try Self.streams(interface, data: data, order: order)
        reader = XenByteReader(out)
        writer = XenByteWriter(in_)
    }
}

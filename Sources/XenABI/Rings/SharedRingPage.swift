// The shared page of a request/response ring as this domain may touch it: single volatile
// accesses to the four indexes, and slots addressed only through a masked index.
import XenSharedMemory

@frozen @usableFromInline
struct XenSharedRingPage<Layout: XenRingLayout> {
    @usableFromInline let base: UnsafeMutableRawPointer
    /// `nr_ents`: a power of two, at least 1, and every slot lies inside the area it was given.
    @usableFromInline let size: RING_IDX

    @inlinable
    init(_ base: UnsafeMutableRawPointer, bytes: Int) throws(XenRingError) {
        let size = Layout.ringSize(forSharedBytes: bytes)
        guard size > 0 else { throw .sharedAreaTooSmall(bytes: bytes, needed: Layout.entriesOffset + Layout.entryStride) }
        self.base = base
        self.size = size
    }

    @inlinable func read(_ offset: Int) -> RING_IDX { xen_shared_read_u32(base + offset) }
    @inlinable func write(_ offset: Int, _ value: RING_IDX) { xen_shared_write_u32(base + offset, value) }

    /// `&ring[idx & (nr_ents - 1)]`: the mask keeps every index, however the peer chose it, in bounds.
    @inlinable func slot(_ index: RING_IDX) -> UnsafeMutableRawPointer {
        base + (Layout.entriesOffset &+ Int(index & (size &- 1)) &* Layout.entryStride)
    }

    /// `RING_COPY_*`: the entry is copied out once, and the compiler barrier stops the copy from
    /// being rematerialised as a second read of the page (XSA-155's double fetch). Callers validate
    /// the copy, never the slot.
    @inlinable func copy<Entry: BitwiseCopyable>(_ index: RING_IDX, as: Entry.Type) -> Entry {
        let entry = slot(index).loadUnaligned(as: Entry.self)
        xen_shared_compiler_barrier()
        return entry
    }

    @inlinable func store<Entry: BitwiseCopyable>(_ entry: Entry, at index: RING_IDX) {
        slot(index).storeBytes(of: entry, as: Entry.self)
    }

    /// `RING_PUSH_*_AND_CHECK_NOTIFY`, for either direction: publishes `new` as this end's
    /// producer index (it was `old`) and says whether the peer's event index lies in the range
    /// just published, i.e. whether it asked to be notified.
    @inlinable func publish(_ new: RING_IDX, old: RING_IDX, producerOffset: Int, eventOffset: Int) -> Bool {
        xen_shared_wmb()  // the peer sees the entries before the index that covers them
        write(producerOffset, new)
        xen_shared_mb()  // the new index is visible before the event index is read: store then load, a real fence
        let event = read(eventOffset)
        return (new &- event) < (new &- old)
    }

    /// The middle of `RING_FINAL_CHECK_FOR_*`: asks to be notified of the next entry after
    /// `consumed`, fenced so that the producer index is read again only after the request is visible.
    @inlinable func requestNotification(after consumed: RING_IDX, eventOffset: Int) {
        write(eventOffset, consumed &+ 1)
        xen_shared_mb()  // the event index is visible before the producer index is read again: store then load
    }

    /// SHARED_RING_INIT: producers 0, events 1, `pvt` and `__pad` zeroed.
    @inlinable func initialise() {
        write(Layout.requestProducerOffset, 0)
        write(Layout.responseProducerOffset, 0)
        write(Layout.requestEventOffset, 1)
        write(Layout.responseEventOffset, 1)
        (base + Layout.privateAreaOffset).initializeMemory(as: UInt8.self, repeating: 0, count: Layout.entriesOffset - Layout.privateAreaOffset)
    }
}

// What a vbd keeps about requests: the caller's (`BlkfrontEntry`, in submission order, each
// split into as many ring requests as its bytes need) and the ring's (`BlkfrontSlot`, one per
// request in flight, its id the slot's index, as Linux's blkfront keeps a shadow per ring slot).
// A response is matched to its slot by id only after the id is checked: in range, in flight,
// answered once.
import XenABI

/// A request for `submit`. Offsets and lengths are bytes, multiples of the logical sector
/// size; a read's buffer and a write's bytes stay the caller's and must stay valid until the
/// request completes: the driver copies between them and its own granted pages.
public enum BlkfrontRequest {
    case read(offset: UInt64, into: UnsafeMutableRawBufferPointer)
    case write(offset: UInt64, from: UnsafeRawBufferPointer)
    /// Completes once every write submitted before it has completed and the backend has
    /// flushed its cache; nothing submitted after it is sent before it completes.
    case flush
    /// BLKIF_OP_DISCARD over the range; `secure` asks for BLKIF_DISCARD_SECURE.
    case discard(offset: UInt64, length: UInt64, secure: Bool)
}

/// A caller's request: what it asks, how much of it is still to send, what is in flight.
struct BlkfrontEntry {
    /// BLKIF_OP_READ, _WRITE, _DISCARD, or _FLUSH_DISKCACHE for any flush.
    var operation: UInt8 = 0
    var secure = false
    var status = BlkfrontStatus.okay
    var buffer: UnsafeMutableRawPointer? = nil
    /// On the disk, in bytes.
    var offset: UInt64 = 0
    /// Bytes (1 for a flush: one thing to send).
    var length: UInt64 = 0
    /// Bytes not yet sent in a ring request.
    var remaining: UInt64 = 0
    /// Ring requests sent and not yet answered.
    var outstanding = 0
    var tag: UInt64 = 0
    var id: UInt64 = 0

    var done: Bool { remaining == 0 && outstanding == 0 }
}

/// A ring request in flight.
struct BlkfrontSlot {
    /// As sent (BLKIF_OP_INDIRECT for an indirect request), and the operation on the data.
    var operation: UInt8 = 0
    var dataOperation: UInt8 = 0
    var inFlight = false
    /// The caller's request it is part of (its index in the queue).
    var entry: UInt8 = 0
    /// Its data pages in segment order, and the indirect page holding its segment list.
    var firstPage = BlkfrontPages.end
    var indirectPage = BlkfrontPages.end
    /// Where in the caller's buffer its bytes go, and how many.
    var bufferOffset = 0
    var length = 0
}

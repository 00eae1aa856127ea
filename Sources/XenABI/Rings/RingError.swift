// What a ring operation reports instead of trusting the peer.

public enum XenRingError: Error, Equatable {
    /// The peer's producer index claims more entries than the ring can hold for us
    /// (`RING_REQUEST_PROD_OVERFLOW` / `RING_RESPONSE_PROD_OVERFLOW`): a broken or hostile peer. No
    /// entry of the batch was read; the driver should stop using the ring and disconnect.
    case producerOverflow(producer: RING_IDX, consumer: RING_IDX, limit: RING_IDX)
    /// The shared area cannot hold the header and one entry.
    case sharedAreaTooSmall(bytes: Int, needed: Int)
    /// No free slot: the peer has not answered enough of what we produced yet.
    case full
    /// A byte ring or flex ring's size is not a power of two, or its indexes do not fit in it.
    case badRingSize(RING_IDX)
    /// The peer wrote an error code into the interface's error field (xenstore's `error`).
    case peerReportedError(UInt32)
    /// xenstore: a ring reconnection is in progress; every field but `connection` is to be ignored.
    case reconnecting
    /// The peer does not offer the feature the operation needs.
    case unsupported
}

// The front end of a request/response ring (`name_front_ring` and ring.h's front-side macros):
// it produces requests and consumes responses.
import XenSharedMemory

public struct XenFrontRing<Layout: XenRingLayout>: ~Copyable {
    @usableFromInline let page: XenSharedRingPage<Layout>
    /// `req_prod_pvt`: requests written, published or not.
    @usableFromInline var requestProducerPrivate: RING_IDX
    /// `rsp_cons`: responses consumed.
    @usableFromInline var responseConsumer: RING_IDX
    /// The `req_prod` this end last wrote. ring.h reads it back from the page for the notify
    /// decision; keeping our own copy means the peer cannot even steer that.
    @usableFromInline var publishedRequests: RING_IDX
    /// The peer's `rsp_prod` as read and validated for the current batch.
    @usableFromInline var responseBatchEnd: RING_IDX

    /// XEN_FRONT_RING_INIT: initialises the shared area (SHARED_RING_INIT) and attaches at 0.
    @inlinable
    public init(initializing shared: UnsafeMutableRawPointer, bytes: Int) throws(XenRingError) {
        page = try XenSharedRingPage(shared, bytes: bytes)
        page.initialise()
        requestProducerPrivate = 0; responseConsumer = 0; publishedRequests = 0; responseBatchEnd = 0
    }

    /// FRONT_RING_ATTACH: takes over a ring whose indexes all stand at `index`.
    @inlinable
    public init(attachingTo shared: UnsafeMutableRawPointer, bytes: Int, index: RING_IDX) throws(XenRingError) {
        page = try XenSharedRingPage(shared, bytes: bytes)
        requestProducerPrivate = index; responseConsumer = index; publishedRequests = index; responseBatchEnd = index
    }

    /// `RING_SIZE`.
    @inlinable public var size: RING_IDX { page.size }
    /// `req_prod_pvt`.
    @inlinable public var requestsProduced: RING_IDX { requestProducerPrivate }
    /// `rsp_cons`.
    @inlinable public var responsesConsumed: RING_IDX { responseConsumer }
    /// `RING_FREE_REQUESTS`. Only indexes this end owns: every response it counted was validated
    /// against the requests it had published, so this stays within 0...size.
    @inlinable public var freeRequests: RING_IDX { page.size &- (requestProducerPrivate &- responseConsumer) }
    /// `RING_FULL`.
    @inlinable public var isFull: Bool { freeRequests == 0 }

    /// Writes a request into the next free slot (`*RING_GET_REQUEST(r, req_prod_pvt++) = req`);
    /// the peer sees it after `pushRequests()`.
    @inlinable
    public mutating func enqueue(_ request: Layout.Request) throws(XenRingError) {
        guard !isFull else { throw .full }
        page.store(request, at: requestProducerPrivate)
        requestProducerPrivate &+= 1
    }

    /// `RING_PUSH_REQUESTS_AND_CHECK_NOTIFY`: publishes the enqueued requests and says whether the
    /// peer asked to be notified of them (its `req_event` lies in the published range).
    @inlinable
    public mutating func pushRequests() -> Bool {
        let old = publishedRequests
        publishedRequests = requestProducerPrivate
        return page.publish(requestProducerPrivate, old: old, producerOffset: Layout.requestProducerOffset, eventOffset: Layout.requestEventOffset)
    }

    /// Reads the peer's `rsp_prod` once and validates it: the back end cannot have answered more
    /// requests than this end published (a stricter form of RING_RESPONSE_PROD_OVERFLOW, which
    /// only bounds it by the ring size). Returns the responses now waiting.
    @inlinable
    mutating func beginResponseBatch() throws(XenRingError) -> RING_IDX {
        let producer = page.read(Layout.responseProducerOffset)
        xen_shared_rmb()  // the responses are read after the index that covers them
        let owed = publishedRequests &- responseConsumer
        let waiting = producer &- responseConsumer
        guard waiting <= owed else {
            responseBatchEnd = responseConsumer  // nothing more is taken on an earlier reading's word
            throw .producerOverflow(producer: producer, consumer: responseConsumer, limit: owed)
        }
        responseBatchEnd = producer
        return waiting
    }

    /// `RING_HAS_UNCONSUMED_RESPONSES`, validated: the responses waiting.
    @inlinable
    public mutating func unconsumedResponses() throws(XenRingError) -> RING_IDX { try beginResponseBatch() }

    /// The next response, copied out of the ring (`RING_COPY_RESPONSE`), or nil when none waits.
    /// The peer's index is read once per batch: only when the batch read last time is used up.
    @inlinable
    public mutating func takeResponse() throws(XenRingError) -> Layout.Response? {
        if responseConsumer == responseBatchEnd {
            guard try beginResponseBatch() != 0 else { return nil }
        }
        let response = page.copy(responseConsumer, as: Layout.Response.self)
        responseConsumer &+= 1
        return response
    }

    /// `RING_FINAL_CHECK_FOR_RESPONSES`: true if responses wait; otherwise asks to be notified of
    /// the next one (`rsp_event = rsp_cons + 1`) and checks again, so a response that raced the
    /// request for notification is not left behind while this end sleeps.
    @inlinable
    public mutating func finalCheckForResponses() throws(XenRingError) -> Bool {
        if try beginResponseBatch() != 0 { return true }
        page.requestNotification(after: responseConsumer, eventOffset: Layout.responseEventOffset)
        return try beginResponseBatch() != 0
    }
}

// The back end of a request/response ring (`name_back_ring` and ring.h's back-side macros): it
// consumes requests and produces responses.
import XenSharedMemory

public struct XenBackRing<Layout: XenRingLayout>: ~Copyable {
    @usableFromInline let page: XenSharedRingPage<Layout>
    /// `rsp_prod_pvt`: responses written, published or not.
    @usableFromInline var responseProducerPrivate: RING_IDX
    /// `req_cons`: requests consumed.
    @usableFromInline var requestConsumer: RING_IDX
    /// The `rsp_prod` this end last wrote (see XenFrontRing.publishedRequests).
    @usableFromInline var publishedResponses: RING_IDX
    /// The peer's `req_prod` as read and validated for the current batch.
    @usableFromInline var requestBatchEnd: RING_IDX

    /// BACK_RING_INIT: attaches at 0 to a ring the front end initialised.
    @inlinable
    public init(_ shared: UnsafeMutableRawPointer, bytes: Int) throws(XenRingError) {
        try self.init(attachingTo: shared, bytes: bytes, index: 0)
    }

    /// BACK_RING_ATTACH: takes over a ring whose indexes all stand at `index`.
    @inlinable
    public init(attachingTo shared: UnsafeMutableRawPointer, bytes: Int, index: RING_IDX) throws(XenRingError) {
        page = try XenSharedRingPage(shared, bytes: bytes)
        responseProducerPrivate = index; requestConsumer = index; publishedResponses = index; requestBatchEnd = index
    }

    /// `RING_SIZE`.
    @inlinable public var size: RING_IDX { page.size }
    /// `rsp_prod_pvt`.
    @inlinable public var responsesProduced: RING_IDX { responseProducerPrivate }
    /// `req_cons`.
    @inlinable public var requestsConsumed: RING_IDX { requestConsumer }
    /// Requests consumed and not answered yet: the responses this end may still enqueue.
    @inlinable public var unansweredRequests: RING_IDX { requestConsumer &- responseProducerPrivate }

    /// Reads the peer's `req_prod` once and validates it: no more requests than the ring holds
    /// beyond our unpublished responses (RING_REQUEST_PROD_OVERFLOW), and never behind what we
    /// already consumed (an index moved backwards would make stale slots look new). Returns
    /// XEN_RING_NR_UNCONSUMED_REQUESTS: for a valid index, the bound RING_REQUEST_CONS_OVERFLOW
    /// enforces is implied.
    @inlinable
    mutating func beginRequestBatch() throws(XenRingError) -> RING_IDX {
        let producer = page.read(Layout.requestProducerOffset)
        xen_shared_rmb()  // the requests are read after the index that covers them
        let ahead = producer &- responseProducerPrivate
        guard ahead <= page.size, ahead >= unansweredRequests else {
            requestBatchEnd = requestConsumer  // nothing more is taken on an earlier reading's word
            throw .producerOverflow(producer: producer, consumer: requestConsumer, limit: page.size &- unansweredRequests)
        }
        requestBatchEnd = producer
        return producer &- requestConsumer
    }

    /// `RING_HAS_UNCONSUMED_REQUESTS`, validated: the requests waiting.
    @inlinable
    public mutating func unconsumedRequests() throws(XenRingError) -> RING_IDX { try beginRequestBatch() }

    /// The next request, copied out of the ring (`RING_COPY_REQUEST`), or nil when none waits.
    /// The peer's index is read once per batch: only when the batch read last time is used up.
    @inlinable
    public mutating func takeRequest() throws(XenRingError) -> Layout.Request? {
        if requestConsumer == requestBatchEnd {
            guard try beginRequestBatch() != 0 else { return nil }
        }
        let request = page.copy(requestConsumer, as: Layout.Request.self)
        requestConsumer &+= 1
        return request
    }

    /// Writes the response to a consumed request into the next slot
    /// (`*RING_GET_RESPONSE(r, rsp_prod_pvt++) = rsp`); the peer sees it after `pushResponses()`.
    @inlinable
    public mutating func enqueue(_ response: Layout.Response) throws(XenRingError) {
        guard unansweredRequests != 0 else { throw .full }
        page.store(response, at: responseProducerPrivate)
        responseProducerPrivate &+= 1
    }

    /// `RING_PUSH_RESPONSES_AND_CHECK_NOTIFY`: publishes the enqueued responses and says whether
    /// the peer asked to be notified of them.
    @inlinable
    public mutating func pushResponses() -> Bool {
        let old = publishedResponses
        publishedResponses = responseProducerPrivate
        return page.publish(responseProducerPrivate, old: old, producerOffset: Layout.responseProducerOffset, eventOffset: Layout.responseEventOffset)
    }

    /// `RING_FINAL_CHECK_FOR_REQUESTS`: true if requests wait; otherwise asks to be notified of
    /// the next one (`req_event = req_cons + 1`) and checks again.
    @inlinable
    public mutating func finalCheckForRequests() throws(XenRingError) -> Bool {
        if try beginRequestBatch() != 0 { return true }
        page.requestNotification(after: requestConsumer, eventOffset: Layout.requestEventOffset)
        return try beginRequestBatch() != 0
    }
}

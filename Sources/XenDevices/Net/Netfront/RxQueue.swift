// A vif's receive side, rx-copy protocol: every idle buffer page is granted writable and posted
// (one per request, one page each), netback copies a frame into it and answers with the id,
// offset, flags and size. Each response, copied out of the ring by the ring engine (XSA-155), is
// validated before it is used: the id must be a buffer posted and not answered yet, the flags
// ones this driver negotiated, offset + size inside the page. Then the grant ends: the page is
// ours alone, so the caller reads the frame where it lies, and the page is granted and posted
// again by the next `refill` after that. A backend that still maps the page gets it quarantined
// (XSA-396) and its frame dropped: a page the backend can still write is never parsed.
import XenABI

struct NetfrontRxQueue: ~Copyable {
    var ring: netif_rx_ring.Front
    var buffers: NetfrontBuffers
    /// Slots of the `NETRXF_more_data` chain being dropped; 0 outside one.
    var chainSlots = 0

    /// The longest chain a frame can take: netif.h's minimum every backend must accept (a
    /// 64 KiB GSO frame in 4 KiB slots is 17). One longer is a backend that never ends it.
    static var maxChainSlots: Int { Int(XEN_NETIF_NR_SLOTS_MIN) }

    enum Slot: Equatable {
        /// No response waits.
        case none
        /// A frame at `offset` in buffer `id`'s page, whose grant has ended: the page is off the
        /// free list until `buffers.release(id)`, once the frame has been read.
        case frame(id: Int, offset: Int, NetfrontFrame)
        /// A slot consumed and counted without a frame (dropped, or part of a dropped chain).
        case dropped
    }

    init<P: XenPlatform>(buffers count: Int, platform: P) throws(NetfrontError) {
        var pages: NetfrontBuffers
        do { pages = try NetfrontBuffers(count: count, platform: platform) } catch { throw .platform(error) }
        do {
            ring = try netif_rx_ring.Front(initializing: pages.address(NetfrontBuffers.ring), bytes: NetfrontBuffers.pageSize)
        } catch {
            _ = pages.freePages(platform)
            throw .rxRing(error)
        }
        buffers = pages
    }

    /// Grants every idle buffer to the backend and posts it; returns whether the backend asked to
    /// be notified (`feature-rx-notify`). A grant entry that cannot be had leaves the rest idle
    /// until the next refill.
    @inline(never)
    mutating func refill<P: XenPlatform>(to domain: domid_t, _ platform: P) -> Bool {
        var posted = false
        while !ring.isFull, let id = buffers.takeFree() {
            guard let ref = try? buffers.grant(id, to: domain, readOnly: false, platform) else {
                buffers.release(id)
                break
            }
            var request = netif_rx_request()
            request.id = UInt16(id)
            request.gref = ref
            try? ring.enqueue(request)
            posted = true
        }
        return posted && ring.pushRequests()
    }

    /// Takes the next response: a frame (at most `limit` bytes) left in its page, a slot dropped
    /// and counted, or none.
    @inline(never)
    mutating func take<P: XenPlatform>(limit: Int, _ platform: P, _ counters: inout NetfrontCounters) throws(NetfrontError) -> Slot {
        let taken: netif_rx_response?
        do { taken = try ring.takeResponse() } catch { throw .rxRing(error) }
        guard let response = taken else { return .none }
        guard buffers.isGranted(response.id) else { throw .rxUnknownID(response.id) }
        let flags = UInt32(response.flags)
        guard flags & ~(NETRXF_data_validated | NETRXF_csum_blank | NETRXF_more_data) == 0 else { throw .rxBadFlags(response.flags) }
        let size = Int(max(response.status, 0))
        let offset = Int(response.offset)
        guard offset + size <= NetfrontBuffers.pageSize else { throw .rxBeyondPage(offset: response.offset, size: response.status) }
        let id = Int(response.id)
        // Access ends before the page is read: what is read is what the backend left there, and
        // it can change nothing any more. The page is kept off the free list while it is read.
        let ended = buffers.end(id, platform, keep: true)
        if !ended { counters.grantsStillMapped &+= 1 }
        guard let checksum = try accept(flags, response.status, limit, &counters) else {
            if ended { buffers.release(id) }
            return .dropped
        }
        guard ended else { counters.rxStillMapped &+= 1; return .dropped }
        counters.framesIn &+= 1
        counters.bytesIn &+= UInt64(size)
        return .frame(id: id, offset: offset, NetfrontFrame(length: size, checksum: checksum))
    }

    /// Whether a response carries a frame to hand over: its checksum's state, or nil (counted).
    mutating func accept(_ flags: UInt32, _ status: Int16, _ limit: Int, _ counters: inout NetfrontCounters) throws(NetfrontError) -> NetChecksum? {
        let more = flags & NETRXF_more_data != 0
        if chainSlots > 0 || more {
            // A frame in several slots: without feature-sg a backend should send none. The whole
            // frame is dropped, its slots consumed, and a chain that never ends stops the device.
            if chainSlots == 0 { counters.rxMultiSlot &+= 1 }
            chainSlots += 1
            guard chainSlots <= Self.maxChainSlots else { throw .rxChainTooLong }
            if !more { chainSlots = 0 }
            return nil
        }
        guard status > 0 else {
            if status < 0 { counters.rxErrors &+= 1 } else { counters.rxEmpty &+= 1 }
            return nil
        }
        guard Int(status) <= limit else { counters.rxTooLong &+= 1; return nil }
        // Checksum offload is on (no feature-no-csum-offload): a frame a local sender left blank
        // arrives NETRXF_csum_blank with the pseudo-header's sum in its checksum field.
        if flags & NETRXF_csum_blank != 0 { return .blank }
        return flags & NETRXF_data_validated != 0 ? .validated : .unverified
    }

    mutating func responsesWaiting() throws(NetfrontError) -> Bool {
        do { return try ring.finalCheckForResponses() } catch { throw .rxRing(error) }
    }
}

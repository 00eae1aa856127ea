// A vif's receive side, rx-copy protocol: every idle buffer page is granted writable and posted
// (one per request, one page each), netback copies a frame into it and answers with the id,
// offset, flags and size. Each response, copied out of the ring by the ring engine (XSA-155), is
// validated before it is used: the id must be a buffer posted and not answered yet, the flags
// ones this driver negotiated, offset + size inside the page. Then the grant ends (a backend
// that still maps the page gets it quarantined, XSA-396), the frame is copied into the caller's
// buffer, and the page is granted and posted again by the next `refill`.
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
        /// A frame, copied into the caller's buffer.
        case frame(NetfrontFrame)
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

    /// Takes the next response: a frame copied into `buffer`, a slot dropped and counted, or none.
    @inline(never)
    mutating func take<P: XenPlatform>(into buffer: UnsafeMutableRawBufferPointer, _ platform: P, _ counters: inout NetfrontCounters) throws(NetfrontError) -> Slot {
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
        // Access ends before the page is read: what is copied is what the backend left there.
        if !buffers.end(id, platform) { counters.grantsStillMapped &+= 1 }

        let more = flags & NETRXF_more_data != 0
        if chainSlots > 0 || more {
            // A frame in several slots: without feature-sg a backend should send none. The whole
            // frame is dropped, its slots consumed, and a chain that never ends stops the device.
            if chainSlots == 0 { counters.rxMultiSlot &+= 1 }
            chainSlots += 1
            guard chainSlots <= Self.maxChainSlots else { throw .rxChainTooLong }
            if !more { chainSlots = 0 }
            return .dropped
        }
        guard response.status > 0 else {
            if response.status < 0 { counters.rxErrors &+= 1 } else { counters.rxEmpty &+= 1 }
            return .dropped
        }
        // A blank checksum is one the stack would have to fill in; feature-no-csum-offload asked
        // for none, so such a frame is a backend's error and goes no further.
        guard flags & NETRXF_csum_blank == 0 else { counters.rxChecksumBlank &+= 1; return .dropped }
        guard size <= buffer.count else { counters.rxTooLong &+= 1; return .dropped }
        buffer.baseAddress.unsafelyUnwrapped.copyMemory(from: buffers.address(id) + offset, byteCount: size)
        counters.framesIn &+= 1
        counters.bytesIn &+= UInt64(size)
        return .frame(NetfrontFrame(length: size, checksumTrusted: flags & NETRXF_data_validated != 0))
    }

    mutating func responsesWaiting() throws(NetfrontError) -> Bool {
        do { return try ring.finalCheckForResponses() } catch { throw .rxRing(error) }
    }
}

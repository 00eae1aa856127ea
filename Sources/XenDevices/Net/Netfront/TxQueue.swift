// A vif's transmit side: each frame copied into a buffer page of its own, granted read-only, sent
// as one request (no `feature-sg`: one slot per frame, offset 0) under the buffer's id; each
// response, copied out of the ring by the ring engine (XSA-155), is validated before anything is
// done with it: the id must be a buffer in flight (in range, issued, not answered yet) and the
// status one netif.h defines. Then the grant ends; a backend that still maps the page gets it
// quarantined (XSA-396), and the id stays out of use until access really ends.
import XenABI

struct NetfrontTxQueue: ~Copyable {
    var ring: netif_tx_ring.Front
    var buffers: NetfrontBuffers

    init<P: XenPlatform>(buffers count: Int, platform: P) throws(NetfrontError) {
        var pages: NetfrontBuffers
        do { pages = try NetfrontBuffers(count: count, platform: platform) } catch { throw .platform(error) }
        do {
            ring = try netif_tx_ring.Front(initializing: pages.address(NetfrontBuffers.ring), bytes: NetfrontBuffers.pageSize)
        } catch {
            _ = pages.freePages(platform)
            throw .txRing(error)
        }
        buffers = pages
    }

    /// Queues the frame (14...4096 bytes, checked by the caller); false when no buffer or grant
    /// entry is free. The backend sees it after `ring.pushRequests()`.
    @inline(never)
    mutating func send<P: XenPlatform>(_ frame: UnsafeRawBufferPointer, to domain: domid_t, _ platform: P) -> Bool {
        // A request per outstanding buffer always fits (at most 256 of a 256-slot ring); the
        // check only keeps that true should the two ever differ.
        guard !ring.isFull, let id = buffers.takeFree() else { return false }
        buffers.address(id).copyMemory(from: frame.baseAddress.unsafelyUnwrapped, byteCount: frame.count)
        buffers.entries[id].length = UInt16(frame.count)
        guard let ref = try? buffers.grant(id, to: domain, readOnly: true, platform) else {
            buffers.release(id)
            return false
        }
        var request = netif_tx_request()
        request.gref = ref
        request.id = UInt16(id)
        request.size = UInt16(frame.count)
        try? ring.enqueue(request)
        return true
    }

    /// Takes up to `budget` responses; returns whether the budget ran out (more may wait).
    @inline(never)
    mutating func reap<P: XenPlatform>(budget: Int, _ platform: P, _ counters: inout NetfrontCounters) throws(NetfrontError) -> Bool {
        for _ in 0..<budget {
            let taken: netif_tx_response?
            do { taken = try ring.takeResponse() } catch { throw .txRing(error) }
            guard let response = taken else { return false }
            guard buffers.isGranted(response.id) else { throw .txUnknownID(response.id) }
            let id = Int(response.id)
            switch response.status {
            case NETIF_RSP_OKAY:
                counters.framesOut &+= 1
                counters.bytesOut &+= UInt64(buffers.entries[id].length)
            case NETIF_RSP_DROPPED: counters.txDropped &+= 1
            case NETIF_RSP_ERROR: counters.txErrors &+= 1
            default: throw .txBadStatus(response.status)
            }
            if !buffers.end(id, platform) { counters.grantsStillMapped &+= 1 }
        }
        return true
    }

    /// RING_FINAL_CHECK_FOR_RESPONSES: true if responses wait; otherwise asks for an event.
    mutating func responsesWaiting() throws(NetfrontError) -> Bool {
        do { return try ring.finalCheckForResponses() } catch { throw .txRing(error) }
    }
}

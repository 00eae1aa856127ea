// A vif's transmit side: each frame written by the caller straight into a free buffer page of its
// own, before that page is granted (so the backend sees only the finished frame), then granted
// read-only and sent as one request (no `feature-sg`: one slot per frame, offset 0) under the
// buffer's id, `NETTXF_csum_blank | NETTXF_data_validated` when its UDP checksum is left blank; each
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

    /// A free buffer for the caller to write a frame into (`page`), not yet granted; nil when
    /// none is free. Hand it to `send`, or back to `buffers.release`.
    mutating func takeBuffer() -> Int? {
        // A request per outstanding buffer always fits (at most 256 of a 256-slot ring); the
        // check only keeps that true should the two ever differ.
        guard !ring.isFull else { return nil }
        return buffers.takeFree()
    }

    /// Buffer `id`'s whole page. Dedicated to this backend (XSA-403), it holds nothing but zeros
    /// (pages are zeroed when allocated) and frames sent to this same backend, which has read
    /// them already: so bytes past a frame are not cleared (4 KB per frame, more than an echo's
    /// every other pass), and a writer must put there nothing it would not send (a test pins
    /// what the stack leaves).
    func page(_ id: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: buffers.address(id), count: NetfrontBuffers.pageSize)
    }

    /// Grants buffer `id` read-only and queues its first `length` bytes (14...4096, checked by the
    /// caller); false, the buffer freed, when no grant entry can be had. The backend sees it
    /// after `ring.pushRequests()`.
    @inline(never)
    mutating func send<P: XenPlatform>(_ id: Int, length: Int, checksumBlank: Bool, to domain: domid_t, _ platform: P) -> Bool {
        buffers.entries[id].length = UInt16(length)
        guard let ref = try? buffers.grant(id, to: domain, readOnly: true, platform) else {
            buffers.release(id)
            return false
        }
        var request = netif_tx_request()
        request.gref = ref
        request.id = UInt16(id)
        request.size = UInt16(length)
        // The checksum field holds the pseudo-header's sum (Linux netfront's CHECKSUM_PARTIAL):
        // netback marks the frame partial and leaves the sum as it is (checksum_setup without
        // recalculation), so a local receiver needs none and a NIC or the stack completes it.
        if checksumBlank { request.flags = UInt16(NETTXF_csum_blank | NETTXF_data_validated) }
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

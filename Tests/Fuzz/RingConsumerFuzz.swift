// libFuzzer target: the request/response rings' consumers, with the shared area as the input.
// Input: one byte choosing the ring (every 4.17 guest instance) and the end, two bytes for the area's size, then the area.
// The area is allocated at exactly that size, so AddressSanitizer sees any read past it.
import XenABI

@inline(never) func check(_ condition: Bool, _ what: StaticString) { if !condition { fatalError("\(what)") } }

func consume<L: XenRingLayout>(_: L.Type, front: Bool, area: UnsafeMutableRawPointer, bytes: Int, requests: Int) {
    let word = { (offset: Int) -> UInt32 in offset + 4 <= bytes ? area.loadUnaligned(fromByteOffset: offset, as: UInt32.self) : 0 }
    if front {
        // A front end that published `requests` requests, then reads whatever the page says.
        guard var ring = try? XenFrontRing<L>(attachingTo: area, bytes: bytes, index: word(L.requestProducerOffset)) else { return }
        let request = area.loadUnaligned(fromByteOffset: 0, as: L.Request.self)
        for _ in 0..<min(requests, Int(ring.size)) { try? ring.enqueue(request) }
        let published = ring.requestsProduced
        _ = ring.pushRequests()
        var taken = 0
        while true {
            do {
                guard let response = try ring.takeResponse() else { break }
                _ = response
                taken += 1
                check(published &- ring.responsesConsumed <= ring.size, "consumed past the published requests")
            } catch { break }
        }
        check(taken <= min(requests, Int(ring.size)), "more responses than requests")
        check(ring.freeRequests <= ring.size, "free requests out of range")
        _ = try? ring.finalCheckForResponses()
    } else {
        // A back end attached where the page's rsp_prod stands.
        guard var ring = try? XenBackRing<L>(attachingTo: area, bytes: bytes, index: word(L.responseProducerOffset)) else { return }
        let response = area.loadUnaligned(fromByteOffset: 0, as: L.Response.self)
        var taken = 0
        for round in 0..<3 {
            while true {
                do {
                    guard let request = try ring.takeRequest() else { break }
                    _ = request
                    taken += 1
                    check(ring.unansweredRequests <= ring.size, "more requests than slots for their responses")
                    if (taken + round) % 3 == 0 { try ring.enqueue(response) }
                } catch { break }
            }
            _ = ring.pushResponses()
            _ = try? ring.finalCheckForRequests()
        }
        check(taken <= 3 * Int(ring.size), "more requests than three rings' worth")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 3 else { return 0 }
    let selector = Int(data[0])
    let bytes = min(Int(data[1]) | Int(data[2]) << 8, size - 3)
    let area = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 8)
    defer { area.deallocate() }
    area.copyMemory(from: data + 3, byteCount: bytes)
    let front = selector & 1 == 0, requests = selector >> 4
    switch (selector >> 1) % 12 {
    case 0: consume(blkif_ring.self, front: front, area: area, bytes: bytes, requests: requests)
    case 1: consume(netif_tx_ring.self, front: front, area: area, bytes: bytes, requests: requests)
    case 2: consume(netif_rx_ring.self, front: front, area: area, bytes: bytes, requests: requests)
    case 3: consume(xen_netif_ctrl_ring.self, front: front, area: area, bytes: bytes, requests: requests)
    case 4: consume(vscsiif_ring.self, front: front, area: area, bytes: bytes, requests: requests)
    case 5: consume(usbif_urb_ring.self, front: front, area: area, bytes: bytes, requests: requests)
    case 6: consume(usbif_conn_ring.self, front: front, area: area, bytes: bytes, requests: requests)
    case 7: consume(fsif_ring.self, front: front, area: area, bytes: bytes, requests: requests)
    case 8: consume(xen_cameraif_ring.self, front: front, area: area, bytes: bytes, requests: requests)
    case 9: consume(xen_displif_ring.self, front: front, area: area, bytes: bytes, requests: requests)
    case 10: consume(xen_pvcalls_ring.self, front: front, area: area, bytes: bytes, requests: requests)
    default: consume(xen_sndif_ring.self, front: front, area: area, bytes: bytes, requests: requests)
    }
    return 0
}

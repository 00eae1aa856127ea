// The ring engine on the real hypervisor: 600 requests on a netif_tx ring (256 entries: the
// indexes wrap the ring twice) between this kernel's own front and back ends in one page, each
// end an owner of the event loop that runs only when its port is delivered (or at the start), as
// a driver would. A lost notification leaves work on the ring with neither end woken: the loop's
// timeout catches it.
import XenABI

enum RingSelfTest {
    static let requests = 600

    /// Both ends and what they have seen (escaping closures hold them by reference).
    final class Pair {
        var front: netif_tx_ring.Front
        var back: netif_tx_ring.Back
        var sent = 0, answered = 0, expected = 0, notifications = 0
        var broken = false, refused = false, sendFailed = false
        init(front: consuming netif_tx_ring.Front, back: consuming netif_tx_ring.Back) { self.front = front; self.back = back }
    }

    static func run() {
        let name: StaticString = "ring: 600 netif_tx requests through event channels, once each, in order, intact"
        guard let pfn = PageAllocator.allocate() else { Report.error(name, "PageAllocator.allocate", .noFreePage); return }
        defer { PageAllocator.release(pfn) }
        let page = UnsafeMutableRawPointer(bitPattern: Boot.address(ofPFN: pfn))!
        let toBack: (receive: UInt32, send: UInt32), toFront: (receive: UInt32, send: UInt32)
        do { toBack = try SelfTests.loopback(); toFront = try SelfTests.loopback() } catch { Report.error(name, "event channel loopback", error); return }
        let pair: Pair
        do throws(XenRingError) {
            pair = Pair(front: try netif_tx_ring.Front(initializing: page, bytes: 4096), back: try netif_tx_ring.Back(page, bytes: 4096))
        } catch { Report.fail(name, "the ring refused its own page"); return }
        func notify(_ port: UInt32) {
            pair.notifications += 1
            if (try? SelfTests.send(port)) == nil { pair.sendFailed = true }
        }
        // Each end does at most EventLoop.budget entries a call and says when it has more, as a
        // driver must: the loop then runs it again next round, after everyone else.
        let front = EventLoop.register { _ in
            var done = 0
            do throws(XenRingError) {
                repeat {
                    if done >= EventLoop.budget { return .more }
                    // A burst of 1 to 32 requests, then publish; then whatever responses arrived.
                    var burst = 1 + (pair.sent * 7) % Int(pair.front.size)
                    while burst > 0 && pair.sent < requests && !pair.front.isFull {
                        var r = netif_tx_request()
                        r.gref = grant_ref_t(pair.sent); r.id = UInt16(truncatingIfNeeded: pair.sent); r.size = UInt16(truncatingIfNeeded: pair.sent &* 31)
                        try pair.front.enqueue(r)
                        pair.sent += 1; burst -= 1; done += 1
                    }
                    if pair.front.pushRequests() { notify(toBack.send) }
                    while let r = try pair.front.takeResponse() {
                        if r.id != UInt16(truncatingIfNeeded: pair.answered) || r.status != NETIF_RSP_OKAY { pair.broken = true }
                        pair.answered += 1; done += 1
                    }
                    // Sleep only when the final check finds nothing, and nothing is left to send.
                } while try pair.front.finalCheckForResponses() || (pair.sent < requests && !pair.front.isFull)
            } catch { pair.refused = true }
            return .done
        }
        let back = EventLoop.register { _ in
            var done = 0
            do throws(XenRingError) {
                repeat {
                    if done >= EventLoop.budget { return .more }
                    while done < EventLoop.budget, let r = try pair.back.takeRequest() {
                        if r.gref != grant_ref_t(pair.expected) || r.id != UInt16(truncatingIfNeeded: pair.expected) || r.size != UInt16(truncatingIfNeeded: pair.expected &* 31) { pair.broken = true }
                        var rsp = netif_tx_response(); rsp.id = r.id; rsp.status = NETIF_RSP_OKAY
                        try pair.back.enqueue(rsp)
                        pair.expected += 1; done += 1
                    }
                    if pair.back.pushResponses() { notify(toFront.send) }
                } while try pair.back.finalCheckForRequests()
            } catch { pair.refused = true }
            return .done
        }
        do {
            try EventLoop.bind(toFront.receive, to: front)
            try EventLoop.bind(toBack.receive, to: back)
        } catch { Report.error(name, "EventLoop.bind", error); return }
        // The front end starts by itself; from then on each end runs only on its port.
        EventLoop.schedule(front)
        let done = EventLoop.run(until: { pair.answered == requests || pair.broken || pair.refused || pair.sendFailed }, timeout: SelfTests.deadline(ms: 2000))
        EventLoop.unbind(toFront.receive)
        EventLoop.unbind(toBack.receive)
        Report.check(name, done && !pair.broken && !pair.refused && !pair.sendFailed && pair.answered == requests && pair.expected == requests,
                     !done ? "both ends asleep with work on the ring" : "every request answered once, in order")
        Report.figure("ring notifications sent", UInt64(pair.notifications), "events")
    }
}

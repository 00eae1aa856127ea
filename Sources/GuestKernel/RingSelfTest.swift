// The ring engine on the real hypervisor: 600 requests on a netif_tx ring (256 entries: the
// indexes wrap the ring twice) between this kernel's own front and back ends in one page, each
// end's notifications sent through a loopback event channel and delivered by Xen through the upcall.
// An end runs only when its port has been delivered (or at the start), so a lost notification would
// leave work on the ring with neither end able to run.
import XenABI

enum RingSelfTest {
    static let requests = 600

    static func run() {
        let name: StaticString = "ring: 600 netif_tx requests through event channels, once each, in order, intact"
        guard let pfn = PageAllocator.allocate() else { Report.fail(name, "no page"); return }
        let page = UnsafeMutableRawPointer(bitPattern: Boot.address(ofPFN: pfn))!
        guard let toBack = try? SelfTests.loopback(), let toFront = try? SelfTests.loopback() else { Report.fail(name, "no event channels"); return }
        var sendFailed = false
        func notify(_ port: UInt32) { if (try? Xen.event_channel_op.send(evtchn_send(port: port))) == nil { sendFailed = true } }
        do throws(XenRingError) {
            var front = try netif_tx_ring.Front(initializing: page, bytes: 4096)
            var back = try netif_tx_ring.Back(page, bytes: 4096)
            var sent = 0, answered = 0, expected = 0, notifications = 0, stuck = false, broken = false
            var backSeen: UInt32 = 0, frontSeen: UInt32 = 0
            var frontRuns = true, backRuns = false
            while answered < requests && !stuck && !broken && !sendFailed {
                if frontRuns {
                    // A burst of 1 to 32 requests, then publish; then whatever responses arrived.
                    var burst = 1 + (sent * 7) % Int(front.size)
                    while burst > 0 && sent < requests && !front.isFull {
                        var r = netif_tx_request()
                        r.gref = grant_ref_t(sent); r.id = UInt16(truncatingIfNeeded: sent); r.size = UInt16(truncatingIfNeeded: sent &* 31)
                        try front.enqueue(r)
                        sent += 1; burst -= 1
                    }
                    if front.pushRequests() { notifications += 1; notify(toBack.send) }
                    while let r = try front.takeResponse() {
                        if r.id != UInt16(truncatingIfNeeded: answered) || r.status != NETIF_RSP_OKAY { broken = true }
                        answered += 1
                    }
                    // Sleep only when the final check finds nothing, and nothing is left to send.
                    frontRuns = try front.finalCheckForResponses() || (sent < requests && !front.isFull)
                }
                if Events.delivered[Int(toBack.receive)] != backSeen { backSeen = Events.delivered[Int(toBack.receive)]; backRuns = true }
                if backRuns {
                    while let r = try back.takeRequest() {
                        if r.gref != grant_ref_t(expected) || r.id != UInt16(truncatingIfNeeded: expected) || r.size != UInt16(truncatingIfNeeded: expected &* 31) { broken = true }
                        var rsp = netif_tx_response(); rsp.id = r.id; rsp.status = NETIF_RSP_OKAY
                        try back.enqueue(rsp)
                        expected += 1
                    }
                    if back.pushResponses() { notifications += 1; notify(toFront.send) }
                    backRuns = try back.finalCheckForRequests()
                }
                if Events.delivered[Int(toFront.receive)] != frontSeen { frontSeen = Events.delivered[Int(toFront.receive)]; frontRuns = true }
                if !frontRuns && !backRuns && answered < requests { stuck = true }
            }
            Report.check(name, !stuck && !broken && !sendFailed && answered == requests && expected == requests,
                         stuck ? "both ends asleep with work on the ring" : "every request answered once, in order")
            Report.figure("ring notifications sent", UInt64(notifications), "events")
        } catch {
            Report.fail(name, "the ring refused an index")
        }
    }
}

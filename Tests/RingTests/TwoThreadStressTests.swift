// Point 4(b): a front end and a back end on two threads over one shared page, with event channels
// simulated the way Xen delivers them (a pending bit per port and a wake-up). Each end sleeps only
// after the final check says there is nothing to do, and is woken only when the other end's push
// said to notify. If any notification were lost, a thread would sleep with work pending: every
// sleep is bounded, and a timed-out sleep with work on the ring fails the test.
import Foundation
import Synchronization
import Testing
import XenABI

/// One event channel port: `notify` sets the pending bit and wakes the sleeper (EVTCHNOP_send and
/// the upcall); `block` waits for the bit and clears it (SCHEDOP_block, then the handler).
final class SimulatedPort: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending = false
    let sends = Atomic<Int>(0)
    let spurious = Atomic<Int>(0)

    func notify() {
        sends.add(1, ordering: .relaxed)
        condition.lock(); pending = true; condition.signal(); condition.unlock()
    }

    /// False if nothing arrived within `timeout`.
    func block(timeout: TimeInterval) -> Bool {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while !pending { if !condition.wait(until: deadline) { return false } }
        pending = false
        return true
    }
}

/// A request that proves its own integrity: a sequence number and a payload derived from it.
struct StressRequest: BitwiseCopyable, Equatable {
    var sequence: UInt64
    var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    init(_ n: UInt64) {
        sequence = n
        let k = n &* 0x9E37_79B9_7F4A_7C15
        words = (k, k ^ 1, k ^ 2, k ^ 3, k ^ 4, k ^ 5, ~k)
    }
    static func == (a: Self, b: Self) -> Bool { withUnsafeBytes(of: a) { x in withUnsafeBytes(of: b) { y in x.elementsEqual(y) } } }
}

/// A ring of 64-byte requests and 8-byte responses with DEFINE_RING_TYPES' page layout (the
/// blkif header: indexes at 0..15, entries from 64).
enum StressRing: XenRingLayout {
    typealias Request = StressRequest
    typealias Response = UInt64
    static var name: StaticString { "stress" }
    static var requestProducerOffset: Int { blkif_ring.requestProducerOffset }
    static var requestEventOffset: Int { blkif_ring.requestEventOffset }
    static var responseProducerOffset: Int { blkif_ring.responseProducerOffset }
    static var responseEventOffset: Int { blkif_ring.responseEventOffset }
    static var privateAreaOffset: Int { blkif_ring.privateAreaOffset }
    static var entriesOffset: Int { blkif_ring.entriesOffset }
    static var entryStride: Int { 64 }
    static var pageRingSize: RING_IDX { 32 }
}

struct StressFailure: Error, CustomStringConvertible { let description: String }

@Suite("Two threads")
struct TwoThreadStressTests {
    @Test("millions of requests: each arrives once, in order, intact, and no notification is lost")
    func stress() throws {
        let total: UInt64 = ProcessInfo.processInfo.environment["RING_STRESS_REQUESTS"].flatMap(UInt64.init) ?? 2_000_000
        let bytes = 4096
        let area = SharedArea(sharedArea(bytes)); defer { area.base.deallocate() }
        _ = try XenFrontRing<StressRing>(initializing: area.base, bytes: bytes)
        let toBack = SimulatedPort(), toFront = SimulatedPort()
        let failure = Mutex<String?>(nil)
        let stop = Atomic<Bool>(false)
        let timeout: TimeInterval = 3
        let backSleeps = Atomic<Int>(0), frontSleeps = Atomic<Int>(0)

        let backEnd = Thread {
            do {
                var back = try XenBackRing<StressRing>(area.base, bytes: bytes)
                var expected: UInt64 = 0
                while expected < total {
                    while let request = try back.takeRequest() {
                        guard request == StressRequest(expected) else { throw StressFailure(description: "request \(request.sequence) arrived when \(expected) was due, or torn") }
                        try back.enqueue(expected)
                        expected += 1
                        if back.unansweredRequests >= 8 { if back.pushResponses() { toFront.notify() } }
                    }
                    if back.pushResponses() { toFront.notify() }
                    if expected == total { break }
                    if try back.finalCheckForRequests() { continue }
                    backSleeps.add(1, ordering: .relaxed)
                    // A sleep that times out with work on the ring is a lost notification; one
                    // without is only a slow peer, and the end sleeps again.
                    if !toBack.block(timeout: timeout) {
                        if stop.load(ordering: .relaxed) { return }  // the other end failed
                        if case let pending = try back.unconsumedRequests(), pending > 0 {
                            throw StressFailure(description: "back end slept \(timeout) s with \(pending) requests pending: a lost notification")
                        }
                    }
                }
            } catch { failure.withLock { $0 = "back end: \(error)" }; stop.store(true, ordering: .relaxed) }
        }
        // The front end works like a driver with a queue depth that varies: it sends a burst,
        // then sleeps until the burst is answered, so a lost notification in either direction
        // leaves both ends asleep.
        let frontEnd = Thread {
            do {
                var front = try XenFrontRing<StressRing>(attachingTo: area.base, bytes: bytes, index: 0)
                var rng = SeededGenerator(seed: 42)
                var sent: UInt64 = 0, answered: UInt64 = 0
                while answered < total {
                    let burst = min(UInt64(1 + rng.below(Int(front.size))), total - sent)
                    for _ in 0..<burst {
                        try front.enqueue(StressRequest(sent))
                        sent += 1
                        if rng.below(16) == 0 { if front.pushRequests() { toBack.notify() } }
                    }
                    if front.pushRequests() { toBack.notify() }
                    while answered < sent {
                        while let response = try front.takeResponse() {
                            guard response == answered else { throw StressFailure(description: "response \(response) when \(answered) was due") }
                            answered += 1
                        }
                        if try answered == sent || front.finalCheckForResponses() { continue }
                        frontSleeps.add(1, ordering: .relaxed)
                        if !toFront.block(timeout: timeout) {
                            if stop.load(ordering: .relaxed) { return }
                            if case let pending = try front.unconsumedResponses(), pending > 0 {
                                throw StressFailure(description: "front end slept \(timeout) s with \(pending) responses pending and \(sent - answered) outstanding: a lost notification")
                            }
                        }
                    }
                }
            } catch { failure.withLock { $0 = "front end: \(error)" }; stop.store(true, ordering: .relaxed) }
        }
        let started = Date()
        backEnd.start(); frontEnd.start()
        while !(backEnd.isFinished && frontEnd.isFinished) { usleep(2000) }
        let seconds = Date().timeIntervalSince(started)
        if let f = failure.withLock({ $0 }) { Issue.record("\(f)") }
        print("two-thread stress: \(total) requests in \(String(format: "%.2f", seconds)) s; notifications \(toBack.sends.load(ordering: .relaxed)) to the back end, \(toFront.sends.load(ordering: .relaxed)) to the front end; sleeps \(backSleeps.load(ordering: .relaxed)) back, \(frontSleeps.load(ordering: .relaxed)) front")
        #expect(backSleeps.load(ordering: .relaxed) > 0, "the back end never slept: the notify path was not exercised")
    }
}

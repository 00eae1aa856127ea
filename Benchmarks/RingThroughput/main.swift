// The Swift side of Benchmarks/ring-throughput.sh: the same workload as ring_c.c, through
// XenABI's public ring API with every check on (validated producer indexes, copies out, notify
// decisions). Prints one line in the same format.
import Foundation
import XenABI

struct BenchRequest: BitwiseCopyable {
    var sequence: UInt64
    var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
}

/// `DEFINE_RING_TYPES(bench, struct bench_request, struct bench_response)`: the page layout is the
/// one every instance has, so the offsets are taken from a generated instance.
enum BenchRing: XenRingLayout {
    typealias Request = BenchRequest
    typealias Response = UInt64
    static var name: StaticString { "bench" }
    static var requestProducerOffset: Int { blkif_ring.requestProducerOffset }
    static var requestEventOffset: Int { blkif_ring.requestEventOffset }
    static var responseProducerOffset: Int { blkif_ring.responseProducerOffset }
    static var responseEventOffset: Int { blkif_ring.responseEventOffset }
    static var privateAreaOffset: Int { blkif_ring.privateAreaOffset }
    static var entriesOffset: Int { blkif_ring.entriesOffset }
    static var entryStride: Int { 64 }
    static var pageRingSize: RING_IDX { 32 }
}

@inline(__always) func request(_ n: UInt64) -> BenchRequest {
    let k = n &* 0x9E37_79B9_7F4A_7C15
    return BenchRequest(sequence: n, words: (k, k ^ 1, k ^ 2, k ^ 3, k ^ 4, k ^ 5, k ^ 6))
}

func fail(_ message: String) -> Never { fputs(message + "\n", stderr); exit(1) }

struct Area: @unchecked Sendable { let base: UnsafeMutableRawPointer }

let arguments = CommandLine.arguments
let total = arguments.count > 1 ? UInt64(arguments[1])! : 100_000_000
let pages = arguments.count > 2 ? Int(arguments[2])! : 1
let threads = arguments.count > 3 ? Int(arguments[3])! : 2
let bytes = 4096 * pages
let area = Area(base: UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096))
_ = try XenFrontRing<BenchRing>(initializing: area.base, bytes: bytes)

@inline(__always) func frontEnd(_ front: inout XenFrontRing<BenchRing>, sent: inout UInt64, answered: inout UInt64, notifies: inout Int) throws(XenRingError) {
    while sent < total && !front.isFull { try front.enqueue(request(sent)); sent &+= 1 }
    if front.pushRequests() { notifies += 1 }
    while let response = try front.takeResponse() {
        guard response == answered else { fail("response \(response) when \(answered) was due") }
        answered &+= 1
    }
}

@inline(__always) func backEnd(_ back: inout XenBackRing<BenchRing>, expected: inout UInt64, notifies: inout Int) throws(XenRingError) {
    while let r = try back.takeRequest() {
        guard r.sequence == expected, r.words.6 == (r.sequence &* 0x9E37_79B9_7F4A_7C15) ^ 6 else { fail("request \(r.sequence) bad") }
        try back.enqueue(r.sequence)
        expected &+= 1
    }
    if back.pushResponses() { notifies += 1 }
}

func now() -> Double { var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t); return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }

let ringSize = BenchRing.ringSize(forSharedBytes: bytes)
/// Both ends in one thread, taking turns: the rings are locals, as in a driver's loop.
func oneThread() throws(XenRingError) -> Double {
    var front = try XenFrontRing<BenchRing>(attachingTo: area.base, bytes: bytes, index: 0)
    var back = try XenBackRing<BenchRing>(attachingTo: area.base, bytes: bytes, index: 0)
    var sent: UInt64 = 0, answered: UInt64 = 0, expected: UInt64 = 0, nf = 0, nb = 0
    let t0 = now()
    while answered < total {
        try frontEnd(&front, sent: &sent, answered: &answered, notifies: &nf)
        try backEnd(&back, expected: &expected, notifies: &nb)
    }
    return now() - t0
}

if threads == 1 {
    let s = try oneThread()
    print(String(format: "Swift XenABI, one thread: %llu requests, %u entries, %.3f s, %.1f M requests/s", total, ringSize, s, Double(total) / s / 1e6))
} else {
    final class Counts: @unchecked Sendable { var front = 0, back = 0 }
    let counts = Counts()
    let backThread = Thread {
        do {
            var back = try XenBackRing<BenchRing>(attachingTo: area.base, bytes: bytes, index: 0)
            var expected: UInt64 = 0, n = 0
            while expected < total { try backEnd(&back, expected: &expected, notifies: &n) }
            counts.back = n
        } catch { fail("back end: \(error)") }
    }
    let frontThread = Thread {
        do {
            var front = try XenFrontRing<BenchRing>(attachingTo: area.base, bytes: bytes, index: 0)
            var sent: UInt64 = 0, answered: UInt64 = 0, n = 0
            while answered < total { try frontEnd(&front, sent: &sent, answered: &answered, notifies: &n) }
            counts.front = n
        } catch { fail("front end: \(error)") }
    }
    let t0 = now()
    backThread.start(); frontThread.start()
    while !(backThread.isFinished && frontThread.isFinished) { usleep(200) }
    let s = now() - t0
    print(String(format: "Swift XenABI: %llu requests, %u entries, %.3f s, %.1f M requests/s, notifies %d/%d", total, ringSize, s, Double(total) / s / 1e6, counts.front, counts.back))
}

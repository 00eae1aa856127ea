// Point 4(a): seeded random sequences of ring operations through ring.h's macros (compiled C,
// Tests/RingReference) and through the Swift rings, for every ring instance of the headers, with
// the shared pages compared byte for byte and every result and private index compared after
// every step. Half the sequences start just below 2^32, so the indexes wrap.
import Foundation
import RingReference
import Testing
import XenABI

struct RingCase: Sendable, CustomStringConvertible {
    let name: String
    let body: @Sendable (RingDifferential) throws -> Void
    var description: String { name }
}

struct FlexRingCase: Sendable, CustomStringConvertible {
    let name: String
    let body: @Sendable (FlexRingDifferential) throws -> Void
    var description: String { name }
}

struct Mismatch: Error, CustomStringConvertible { let description: String }

struct RingDifferential {
    var sequences = 256
    var steps = 400

    /// What a step did, on either side, in the C reference's terms.
    enum Op: Int, CaseIterable {
        case frontEnqueue, frontPush, backTake, backEnqueue, backPush, frontTake, backFinal, frontFinal, frontFree, frontFull, backUnconsumed, frontUnconsumed
        var reference: ring_reference_op {
            switch self {
            case .frontEnqueue: RING_REF_FRONT_ENQUEUE
            case .frontPush: RING_REF_FRONT_PUSH
            case .backTake: RING_REF_BACK_TAKE
            case .backEnqueue: RING_REF_BACK_ENQUEUE
            case .backPush: RING_REF_BACK_PUSH
            case .frontTake: RING_REF_FRONT_TAKE
            case .backFinal: RING_REF_BACK_FINAL
            case .frontFinal: RING_REF_FRONT_FINAL
            case .frontFree: RING_REF_FRONT_FREE
            case .frontFull: RING_REF_FRONT_FULL
            case .backUnconsumed: RING_REF_BACK_UNCONSUMED
            case .frontUnconsumed: RING_REF_FRONT_UNCONSUMED
            }
        }
    }

    /// Runs every sequence; returns the number of steps compared.
    @discardableResult
    func run<L: XenRingLayout>(_ layout: L.Type) throws -> Int {
        guard let ref = ring_reference_find(L.name.cString)?.pointee else { throw Mismatch(description: "no C reference for \(L.name)") }
        guard ref.request_size == MemoryLayout<L.Request>.size, ref.response_size == MemoryLayout<L.Response>.size else {
            throw Mismatch(description: "\(L.name): entry sizes C \(ref.request_size)/\(ref.response_size), Swift \(MemoryLayout<L.Request>.size)/\(MemoryLayout<L.Response>.size)")
        }
        var scratchFront = ring_reference_end(), scratchBack = ring_reference_end()
        let constSize = ref.step(RING_REF_CONST_PAGE_SIZE, &scratchFront, &scratchBack, nil, 0, 0, nil)
        guard constSize == Int(L.pageRingSize), L.ringSize(forSharedBytes: 4096) == L.pageRingSize else {
            throw Mismatch(description: "\(L.name): __CONST_RING_SIZE is \(constSize), generated \(L.pageRingSize), computed \(L.ringSize(forSharedBytes: 4096))")
        }
        var wraps = 0
        for sequence in 0..<sequences {
            if try runSequence(L.self, ref: ref, seed: UInt64(sequence) &* 0x1000_0000_01B3 ^ 0xC0FF_EE00) { wraps += 1 }
        }
        // Half the sequences start below 2^32; most of those must have crossed it.
        guard wraps >= sequences / 4 else { throw Mismatch(description: "\(L.name): only \(wraps) of \(sequences) sequences wrapped past 2^32") }
        return wraps
    }

    func runSequence<L: XenRingLayout>(_: L.Type, ref: ring_reference, seed: UInt64) throws -> Bool {
        var rng = SeededGenerator(seed: seed)
        let bytes = [4096, 4096, 8192, 4096 + 1234, 3 * 4096][rng.below(5)]
        let pageC = sharedArea(bytes), pageS = sharedArea(bytes)
        defer { pageC.deallocate(); pageS.deallocate() }
        // Whatever was in the pages before: SHARED_RING_INIT must leave the same bytes behind.
        let garbage = rng.bytes(bytes)
        garbage.withUnsafeBytes { pageC.copyMemory(from: $0.baseAddress!, byteCount: bytes); pageS.copyMemory(from: $0.baseAddress!, byteCount: bytes) }

        var fe = ring_reference_end(), be = ring_reference_end()
        var front: XenFrontRing<L>
        var back: XenBackRing<L>
        let start: UInt32
        if rng.below(2) == 0 {
            start = 0
            _ = ref.step(RING_REF_INIT, &fe, &be, pageC, bytes, 0, nil)
            front = try XenFrontRing<L>(initializing: pageS, bytes: bytes)
            back = try XenBackRing<L>(pageS, bytes: bytes)
        } else {
            // A ring that has run for a while: everything stands at `start`, just below 2^32.
            start = UInt32.max &- UInt32(rng.below(min(48, 2 * Int(L.ringSize(forSharedBytes: bytes)))))
            for page in [pageC, pageS] {
                poke(page, L.requestProducerOffset, start); poke(page, L.responseProducerOffset, start)
                poke(page, L.requestEventOffset, start &+ 1); poke(page, L.responseEventOffset, start &+ 1)
            }
            _ = ref.step(RING_REF_ATTACH, &fe, &be, pageC, bytes, start, nil)
            front = try XenFrontRing<L>(attachingTo: pageS, bytes: bytes, index: start)
            back = try XenBackRing<L>(attachingTo: pageS, bytes: bytes, index: start)
        }
        guard Int(ref.step(RING_REF_SIZE, &fe, &be, pageC, bytes, 0, nil)) == Int(front.size), front.size == back.size else {
            throw Mismatch(description: "\(L.name) \(bytes) bytes: RING_SIZE C \(fe.nr_ents), Swift \(front.size)")
        }
        let requestSize = MemoryLayout<L.Request>.size, responseSize = MemoryLayout<L.Response>.size
        var io = [UInt8](repeating: 0, count: max(requestSize, responseSize))
        var wrapped = false
        for step in 0..<steps {
            let op = Op.allCases[rng.below(Op.allCases.count)]
            let repeats = [.frontEnqueue, .backTake, .backEnqueue, .frontTake].contains(op) ? 1 + rng.below(8) : 1
            for _ in 0..<repeats {
                var c = 0, s = 0
                var cOut: [UInt8] = [], sOut: [UInt8] = []
                switch op {
                case .frontEnqueue:
                    let payload = rng.bytes(requestSize)
                    io.replaceSubrange(0..<requestSize, with: payload)
                    c = ref.step(op.reference, &fe, &be, pageC, bytes, 0, &io)
                    do { try front.enqueue(load(payload, as: L.Request.self)); s = 0 } catch .full { s = -1 }
                case .backEnqueue:
                    let payload = rng.bytes(responseSize)
                    io.replaceSubrange(0..<responseSize, with: payload)
                    c = ref.step(op.reference, &fe, &be, pageC, bytes, 0, &io)
                    do { try back.enqueue(load(payload, as: L.Response.self)); s = 0 } catch .full { s = -1 }
                case .frontPush:
                    c = ref.step(op.reference, &fe, &be, pageC, bytes, 0, nil); s = front.pushRequests() ? 1 : 0
                case .backPush:
                    c = ref.step(op.reference, &fe, &be, pageC, bytes, 0, nil); s = back.pushResponses() ? 1 : 0
                case .backTake:
                    c = ref.step(op.reference, &fe, &be, pageC, bytes, 0, &io)
                    if c == 1 { cOut = Array(io[0..<requestSize]) }
                    if let r = try back.takeRequest() { s = 1; sOut = entryBytes(of: r) }
                case .frontTake:
                    c = ref.step(op.reference, &fe, &be, pageC, bytes, 0, &io)
                    if c == 1 { cOut = Array(io[0..<responseSize]) }
                    if let r = try front.takeResponse() { s = 1; sOut = entryBytes(of: r) }
                case .backFinal:
                    c = ref.step(op.reference, &fe, &be, pageC, bytes, 0, nil); s = try back.finalCheckForRequests() ? 1 : 0
                case .frontFinal:
                    c = ref.step(op.reference, &fe, &be, pageC, bytes, 0, nil); s = try front.finalCheckForResponses() ? 1 : 0
                case .frontFree:
                    c = ref.step(op.reference, &fe, &be, pageC, bytes, 0, nil); s = Int(front.freeRequests)
                case .frontFull:
                    c = ref.step(op.reference, &fe, &be, pageC, bytes, 0, nil); s = front.isFull ? 1 : 0
                case .backUnconsumed:
                    c = ref.step(op.reference, &fe, &be, pageC, bytes, 0, nil); s = Int(try back.unconsumedRequests())
                case .frontUnconsumed:
                    c = ref.step(op.reference, &fe, &be, pageC, bytes, 0, nil); s = Int(try front.unconsumedResponses())
                }
                let context = "\(L.name) seed \(seed) (\(bytes) bytes, start \(start)) step \(step) \(op)"
                guard c == s else { throw Mismatch(description: "\(context): C gave \(c), Swift \(s)") }
                guard cOut == sOut else { throw Mismatch(description: "\(context): copied entries differ") }
                guard fe.producer_private == front.requestsProduced, fe.consumer == front.responsesConsumed,
                      be.producer_private == back.responsesProduced, be.consumer == back.requestsConsumed else {
                    throw Mismatch(description: "\(context): private indexes C \(fe.producer_private)/\(fe.consumer)/\(be.producer_private)/\(be.consumer), Swift \(front.requestsProduced)/\(front.responsesConsumed)/\(back.responsesProduced)/\(back.requestsConsumed)")
                }
                guard memcmp(pageC, pageS, bytes) == 0 else {
                    let at = (0..<bytes).first { pageC.load(fromByteOffset: $0, as: UInt8.self) != pageS.load(fromByteOffset: $0, as: UInt8.self) }!
                    throw Mismatch(description: "\(context): shared pages differ first at byte \(at)")
                }
                if start > 0x8000_0000 && back.responsesProduced < 0x8000_0000 { wrapped = true }
            }
        }
        return wrapped
    }
}

@Suite("Rings against ring.h")
struct RingDifferentialTests {
    @Test("the reference holds every generated instance")
    func everyInstance() {
        #expect(Int(ring_reference_count()) == generatedRingCases.count)
        #expect(Int(flex_ring_reference_count()) == generatedFlexRingCases.count)
        #expect(generatedRingCases.count >= 4)
        for name in ["blkif", "netif_tx", "netif_rx", "xen_netif_ctrl"] { #expect(generatedRingCases.contains { $0.name == name }, "\(name)") }
    }

    @Test("seeded sequences: identical pages, results and notify decisions", arguments: generatedRingCases)
    func differential(_ ring: RingCase) throws {
        try ring.body(RingDifferential())
    }

    @Test("flex rings: identical data, offsets and packets", arguments: generatedFlexRingCases)
    func flexDifferential(_ ring: FlexRingCase) throws {
        try ring.body(FlexRingDifferential())
    }
}

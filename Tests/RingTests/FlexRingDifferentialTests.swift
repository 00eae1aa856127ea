// Flex rings (DEFINE_XEN_FLEX_RING) against the header's own functions, and the console byte ring
// against MASK_XENCONS_IDX, on seeded random traffic in both directions.
import Foundation
import RingReference
import Testing
import XenABI

struct FlexRingDifferential {
    var sequences = 200
    var steps = 300

    func run<L: XenFlexRingLayout>(_ layout: L.Type) throws {
        guard let ref = flex_ring_reference_find(L.name.cString)?.pointee else { throw Mismatch(description: "no C reference for \(L.name)") }
        guard ref.in_cons == L.inConsumerOffset, ref.in_prod == L.inProducerOffset, ref.out_cons == L.outConsumerOffset,
              ref.out_prod == L.outProducerOffset, ref.ring_order == L.ringOrderOffset else {
            throw Mismatch(description: "\(L.name): interface offsets differ from the C compiler's")
        }
        for sequence in 0..<sequences { try runSequence(L.self, ref: ref, seed: UInt64(sequence) &* 0x2545_F491_4F6C_DD1D ^ 0xF1E7) }
    }

    /// One end's view of one direction in C: the header's functions on masked offsets, the
    /// free-running offsets kept in the interface page as a C driver keeps them.
    struct CStream {
        let ref: flex_ring_reference
        let intf: UnsafeMutableRawPointer
        let cons: Int, prod: Int
        let data: UnsafeMutablePointer<UInt8>
        let size: UInt32

        func write(_ bytes: [UInt8]) -> Int {
            let p = peek(intf, prod), c = peek(intf, cons)
            let free = Int(size - ref.queued(p, c, size))
            let n = min(free, bytes.count)
            var maskedProd = ref.mask(p, size)
            bytes.withUnsafeBytes { ref.write_packet(data, $0.baseAddress!, n, &maskedProd, ref.mask(c, size), size) }
            poke(intf, prod, p &+ UInt32(n))
            return n
        }

        func read(_ count: Int) -> [UInt8] {
            let p = peek(intf, prod), c = peek(intf, cons)
            let n = min(Int(ref.queued(p, c, size)), count)
            var out = [UInt8](repeating: 0, count: n)
            var maskedCons = ref.mask(c, size)
            out.withUnsafeMutableBytes { ref.read_packet($0.baseAddress, data, n, ref.mask(p, size), &maskedCons, size) }
            poke(intf, cons, c &+ UInt32(n))
            return out
        }
    }

    func runSequence<L: XenFlexRingLayout>(_: L.Type, ref: flex_ring_reference, seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let order = UInt32(rng.below(3))
        let size = UInt32(flex_ring_reference_size(order))
        guard size == XenFlexRing<L>.halfSize(order: order) else { throw Mismatch(description: "XEN_FLEX_RING_SIZE(\(order)) is \(size)") }
        let intfC = sharedArea(4096), intfS = sharedArea(4096)
        let dataC = sharedArea(2 * Int(size)), dataS = sharedArea(2 * Int(size))
        defer { intfC.deallocate(); intfS.deallocate(); dataC.deallocate(); dataS.deallocate() }
        intfC.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
        intfS.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
        dataC.initializeMemory(as: UInt8.self, repeating: 0, count: 2 * Int(size))
        dataS.initializeMemory(as: UInt8.self, repeating: 0, count: 2 * Int(size))
        let start: UInt32 = rng.below(2) == 0 ? 0 : UInt32.max &- UInt32(rng.below(Int(size) * 2))
        for (o, v) in [(L.inConsumerOffset, start), (L.inProducerOffset, start), (L.outConsumerOffset, start), (L.outProducerOffset, start), (L.ringOrderOffset, order)] {
            poke(intfC, o, v)
        }
        var front = try XenFlexRing<L>(frontendOf: intfS, data: dataS, order: order, startingAt: start)
        guard try XenFlexRing<L>.ringOrder(of: intfS) == order else { throw Mismatch(description: "ring_order not read back") }
        var back = try XenFlexRing<L>(backendOf: intfS, data: dataS, order: order)
        let inC = CStream(ref: ref, intf: intfC, cons: L.inConsumerOffset, prod: L.inProducerOffset, data: dataC.assumingMemoryBound(to: UInt8.self), size: size)
        let outC = CStream(ref: ref, intf: intfC, cons: L.outConsumerOffset, prod: L.outProducerOffset, data: (dataC + Int(size)).assumingMemoryBound(to: UInt8.self), size: size)

        for step in 0..<steps {
            let op = rng.below(4)
            let count = rng.below(2) == 0 ? rng.below(64) : rng.below(Int(size) + 64)
            let context = "\(L.name) seed \(seed) order \(order) start \(start) step \(step) op \(op) count \(count)"
            switch op {
            case 0, 1:  // a writer: the front end on `out`, or the back end on `in`
                let payload = rng.bytes(count)
                let c = (op == 0 ? outC : inC).write(payload)
                let s = try payload.withUnsafeBytes { b throws(XenRingError) in op == 0 ? try front.writer.write(b) : try back.writer.write(b) }
                guard c == s else { throw Mismatch(description: "\(context): C wrote \(c), Swift \(s)") }
            default:  // a reader: the back end on `out`, or the front end on `in`
                let c = (op == 2 ? outC : inC).read(count)
                var buffer = [UInt8](repeating: 0, count: count)
                let n = try buffer.withUnsafeMutableBytes { b throws(XenRingError) in op == 2 ? try back.reader.read(into: b) : try front.reader.read(into: b) }
                guard c == Array(buffer[0..<n]) else { throw Mismatch(description: "\(context): C read \(c.count) bytes, Swift \(n), or different bytes") }
            }
            guard memcmp(intfC, intfS, 4096) == 0 else { throw Mismatch(description: "\(context): interface pages differ") }
            guard memcmp(dataC, dataS, 2 * Int(size)) == 0 else { throw Mismatch(description: "\(context): data differs") }
        }
    }
}

@Suite("Console byte ring against MASK_XENCONS_IDX")
struct ConsoleDifferentialTests {
    @Test("random traffic both ways, offsets wrapping past 2^32")
    func console() throws {
        let size = MemoryLayout<xencons_interface>.size
        for seed in 0..<200 as Range<UInt64> {
            var rng = SeededGenerator(seed: seed ^ 0xC0DE)
            let pageC = sharedArea(4096), pageS = sharedArea(4096)
            defer { pageC.deallocate(); pageS.deallocate() }
            let garbage = rng.bytes(4096)
            garbage.withUnsafeBytes { pageC.copyMemory(from: $0.baseAddress!, byteCount: 4096); pageS.copyMemory(from: $0.baseAddress!, byteCount: 4096) }
            let start: UInt32 = UInt32.max &- UInt32(rng.below(4096))
            for page in [pageC, pageS] {
                for f in [xencons_interface.FieldOffset.in_cons, xencons_interface.FieldOffset.in_prod,
                          xencons_interface.FieldOffset.out_cons, xencons_interface.FieldOffset.out_prod] { poke(page, f, start) }
            }
            var ring = try XenConsoleRing(pageS)
            for step in 0..<300 {
                let count = rng.below(2) == 0 ? rng.below(40) : rng.below(2200)
                let context = "seed \(seed) step \(step)"
                switch rng.below(4) {
                case 0:  // the guest writes `out`
                    let payload = rng.bytes(count)
                    let c = payload.withUnsafeBytes { Int(console_reference_write(pageC, $0.baseAddress, UInt32(count))) }
                    let s = try payload.withUnsafeBytes { b throws(XenRingError) in try ring.output.write(b) }
                    guard c == s else { throw Mismatch(description: "\(context): C wrote \(c), Swift \(s)") }
                case 1:  // the guest reads `in`
                    var cBuf = [UInt8](repeating: 0, count: count), sBuf = cBuf
                    let c = cBuf.withUnsafeMutableBytes { Int(console_reference_read(pageC, $0.baseAddress, UInt32(count))) }
                    let s = try sBuf.withUnsafeMutableBytes { b throws(XenRingError) in try ring.input.read(into: b) }
                    guard c == s, cBuf == sBuf else { throw Mismatch(description: "\(context): C read \(c), Swift \(s)") }
                case 2:  // the console daemon consumes some of `out`
                    for page in [pageC, pageS] {
                        let cons = peek(page, xencons_interface.FieldOffset.out_cons), prod = peek(page, xencons_interface.FieldOffset.out_prod)
                        poke(page, xencons_interface.FieldOffset.out_cons, cons &+ min(prod &- cons, UInt32(count)))
                    }
                default:  // the console daemon produces into `in`
                    let cons = peek(pageC, xencons_interface.FieldOffset.in_cons), prod = peek(pageC, xencons_interface.FieldOffset.in_prod)
                    let n = min(UInt32(xencons_interface_in.capacity) - (prod &- cons), UInt32(count))
                    let payload = rng.bytes(Int(n))
                    for page in [pageC, pageS] {
                        for i in 0..<Int(n) { page.storeBytes(of: payload[i], toByteOffset: xencons_interface_in.dataOffset + Int((prod &+ UInt32(i)) & (xencons_interface_in.capacity - 1)), as: UInt8.self) }
                        poke(page, xencons_interface.FieldOffset.in_prod, prod &+ n)
                    }
                }
                guard memcmp(pageC, pageS, size) == 0 else { throw Mismatch(description: "\(context): console pages differ") }
            }
        }
    }
}

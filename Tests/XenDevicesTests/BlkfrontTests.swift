// Blkfront against the simulated blkback: the handshake with each feature combination, data end
// to end byte for byte (512- and 4096-byte sectors, every size, splitting), flush order,
// discard, read-only disks, a resize, a detach during I/O; then a backend that breaks the
// protocol in every way the driver defends against, each refused with one reason, the requests
// failed, the grants ended and the pages freed (or, while the backend still maps them, kept out
// of use), other devices untouched.
import Testing
import XenABI
@testable import XenDevices

typealias Vbd = XenBlkfront<SimulatedPlatform>

/// The writes of a vbd frontend key, with their transaction ids.
func vbdWrites(_ d: SimulatedXenStored, _ key: String) -> [UInt32] {
    let prefix = bytes("device/vbd/51712/\(key)") + [0]
    return d.received.filter { $0.header.type == xsd_sockmsg_type.XS_WRITE.rawValue && $0.payload.starts(with: prefix) }.map { $0.header.tx_id }
}

func vbdStates(_ d: SimulatedXenStored) -> [String] { statesWritten(d, kind: "vbd", id: 51712) }

/// Closes the rig and checks what every stopped device must show: the reason, Closing then
/// Closed, no grant left, every page freed but those abandoned, the port closed.
func expectStopped(_ rig: VbdRig, _ reason: BlkfrontError?, abandoned: Int = 0, sourceLocation: SourceLocation = #_sourceLocation) {
    rig.close(advancingClock: true)
    #expect(rig.vbd.failure == reason, sourceLocation: sourceLocation)
    #expect(rig.vbd.state == .closed, sourceLocation: sourceLocation)
    #expect(Array(vbdStates(rig.daemon).suffix(2)) == ["5", "6"], "Closing, then Closed", sourceLocation: sourceLocation)
    #expect(rig.grantsToBackend == abandoned, "every grant ended", sourceLocation: sourceLocation)
    #expect(rig.platform.pages.count == rig.pagesBefore + abandoned, "every page freed", sourceLocation: sourceLocation)
    #expect(rig.vbd.counters.pagesAbandoned == UInt64(abandoned), sourceLocation: sourceLocation)
    #expect(rig.vbd.port == nil, "the event channel closed", sourceLocation: sourceLocation)
    #expect(rig.vbd.takeCompletion() == nil, "every completion taken", sourceLocation: sourceLocation)
}

/// Every feature off: what a minimal blkback offers.
var bareFeatures: SimulatedBlkback.Features {
    var f = SimulatedBlkback.Features()
    f.maxIndirectSegments = nil; f.maxRingOrder = nil; f.flushCache = false; f.barrier = false; f.discard = false; f.persistent = false
    return f
}

@Suite("blkfront")
struct BlkfrontTests {
    // MARK: the handshake

    @Test("the handshake publishes what blkback reads in one transaction with state 3, reads the disk and goes 4")
    func handshake() {
        let rig = VbdRig()
        #expect(rig.connect())
        let bb = rig.blkback
        #expect(bb.complaints.isEmpty, "\(bb.complaints)")
        #expect(bb.value("ring-page-order") == "2" && bb.ringOrder == 2, "blkback's order 4 capped at the driver's 2")
        #expect(bb.value("ring-ref") == nil && bb.value("ring-ref3") != nil && bb.value("ring-ref4") == nil)
        #expect(bb.value("protocol") == "x86_64-abi" && bb.value("feature-persistent") == "1")
        #expect(bb.value("multi-queue-num-queues") == nil, "one queue")
        let keys = ["ring-page-order", "ring-ref0", "ring-ref1", "ring-ref2", "ring-ref3", "event-channel", "protocol", "feature-persistent"]
        let transactions = Set(keys.flatMap { vbdWrites(rig.daemon, $0) } + vbdWrites(rig.daemon, "state").prefix(1))
        #expect(transactions.count == 1 && transactions.first != 0, "one transaction with the first state: \(transactions)")
        #expect(vbdWrites(rig.daemon, "state").count == 2)
        #expect(vbdStates(rig.daemon) == ["3", "4"], "Initialising -> Initialised -> Connected")
        let d = rig.vbd.disk
        #expect(d.sectors == 2048 && d.capacity == 1 << 20 && d.sectorSize == 512 && d.physicalSectorSize == 4096)
        #expect(d.flush == .diskCache && d.discard && !d.discardSecure && d.discardGranularity == 4096 && d.persistent)
        #expect(d.maxSegments == 256 && d.indirect && d.ringPages == 4 && !d.readOnly && !d.cdrom)
        #expect(rig.vbd.trusted == true && rig.vbd.port == bb.eventChannel && rig.vbd.backendID == 0)
        #expect(rig.vbd.failure == nil)
    }

    @Test("the order of the keys read at connect is the one BlkfrontKeys indexes")
    func keyOrder() {
        let keys = XenBusDeviceKind.vbd.keysAtConnect.map { String(describing: $0) }
        let expected: [(Int, String)] = [(BlkfrontKeys.sectors, "sectors"), (BlkfrontKeys.info, "info"), (BlkfrontKeys.sectorSize, "sector-size"),
            (BlkfrontKeys.physicalSectorSize, "physical-sector-size"), (BlkfrontKeys.flushCache, "feature-flush-cache"),
            (BlkfrontKeys.barrier, "feature-barrier"), (BlkfrontKeys.discard, "feature-discard"), (BlkfrontKeys.discardGranularity, "discard-granularity"),
            (BlkfrontKeys.discardAlignment, "discard-alignment"), (BlkfrontKeys.discardSecure, "discard-secure"),
            (BlkfrontKeys.persistent, "feature-persistent"), (BlkfrontKeys.maxIndirectSegmentsKey, "feature-max-indirect-segments"), (BlkfrontKeys.mode, "mode")]
        for (i, name) in expected { #expect(keys[i] == name) }
        #expect(XenBusDeviceKind.vbd.keysBeforePublish.map { String(describing: $0) } == ["max-ring-page-order"])
    }

    @Test("each feature combination: used where offered, done without where not, data intact either way")
    func featureCombinations() throws {
        var indirectOnly = SimulatedBlkback.Features(); indirectOnly.persistent = false
        var persistentOnly = bareFeatures; persistentOnly.persistent = true
        var barrierOnly = bareFeatures; barrierOnly.barrier = true
        let combos: [(String, SimulatedBlkback.Features, Bool)] = [
            ("none", bareFeatures, true), ("all", .init(), true), ("indirect, no persistent", indirectOnly, true),
            ("persistent only", persistentOnly, true), ("barrier only", barrierOnly, true), ("all, no contiguous pages", .init(), false),
        ]
        for (name, features, contiguous) in combos {
            let rig = VbdRig(features: features, contiguous: contiguous)
            #expect(rig.connect(), "\(name)")
            let d = rig.vbd.disk
            let order = contiguous ? min(features.maxRingOrder ?? 0, 2) : 0
            #expect(d.ringPages == 1 << order && rig.blkback.ringOrder == order, "\(name)")
            #expect(order == 0 ? rig.blkback.value("ring-ref") != nil && rig.blkback.value("ring-page-order") == nil : rig.blkback.value("ring-ref") == nil, "\(name)")
            #expect(d.indirect == (features.maxIndirectSegments != nil) && d.persistent == features.persistent, "\(name)")
            #expect(d.flush == (features.flushCache ? .diskCache : features.barrier ? .barrier : .none) && d.discard == features.discard, "\(name)")
            let data = pattern(200 * 1024, seed: 3)
            #expect(try rig.write(40960, data) == .okay, "\(name)")
            #expect(Array(rig.blkback.disk[40960..<(40960 + data.count)]).elementsEqual(data), "\(name)")
            let (status, back) = try rig.read(40960, data.count)
            #expect(status == .okay && back.elementsEqual(data), "\(name)")
            let flush = try rig.submit(.flush)
            #expect(rig.wait(flush) == .okay, "\(name)")
            #expect(rig.blkback.flushes == (d.flush == .none ? 0 : 1), "\(name)")
            let ops = Set(rig.blkback.taken.map(\.operation))
            #expect(ops.contains(UInt8(BLKIF_OP_INDIRECT)) == d.indirect, "\(name): \(ops)")
            #expect(rig.blkback.taken.allSatisfy { $0.segments <= d.maxSegments }, "\(name)")
            #expect(rig.blkback.persistentMaps.isEmpty != d.persistent, "\(name)")
            #expect(rig.blkback.complaints.isEmpty, "\(name): \(rig.blkback.complaints)")
            rig.vbd.close()
            expectStopped(rig, nil)
        }
    }

    // MARK: data

    @Test("every size from one sector to 64 KiB and beyond, written and read back byte for byte, in 512-byte units")
    func everySize() throws {
        let rig = VbdRig(sectors: 4096)
        #expect(rig.connect())
        var offset: UInt64 = 0
        for sectors in 1...136 {
            let data = pattern(sectors * 512, seed: UInt8(truncatingIfNeeded: sectors))
            let before = rig.blkback.taken.count
            #expect(try rig.write(offset, data) == .okay)
            let first = rig.blkback.taken[before]
            #expect(first.sector == offset / 512 && first.dataOperation == UInt8(BLKIF_OP_WRITE))
            #expect(rig.blkback.taken[before...].reduce(0) { $0 + $1.sectors } == UInt64(sectors), "the sectors asked, in 512-byte units")
            #expect(Array(rig.blkback.disk[Int(offset)..<(Int(offset) + data.count)]).elementsEqual(data))
            let (status, back) = try rig.read(offset, data.count)
            #expect(status == .okay && back.elementsEqual(data), "\(sectors) sectors")
            offset = (offset + UInt64(data.count)) % (1 << 20)
        }
        #expect(rig.blkback.complaints.isEmpty, "\(rig.blkback.complaints)")
    }

    @Test("the largest request, the whole disk, is split into ring requests no larger than the segments allow")
    func splitting() throws {
        for (features, segments) in [(SimulatedBlkback.Features(), 256), (bareFeatures, 11)] {
            let rig = VbdRig(sectors: 8192, features: features, bufferPages: Vbd.defaultBufferPages)
            #expect(rig.connect())
            let data = pattern(8192 * 512, seed: 9)
            #expect(try rig.write(0, data) == .okay)
            let written = rig.blkback.disk == data  // outside #expect: a failing comparison of 4 MiB would be diffed
            #expect(written, "the disk holds what was written")
            let (status, back) = try rig.read(0, data.count)
            let read = back == data
            #expect(status == .okay && read, "what was read is the disk")
            let taken = rig.blkback.taken
            #expect(taken.allSatisfy { $0.segments <= segments }, "at most \(segments) segments each")
            #expect(taken.count >= 2 * 1024 / segments, "4 MiB in pieces of at most \(segments) pages: \(taken.count)")
            #expect(taken.contains { $0.segments == segments })
            #expect(rig.vbd.counters.requests == UInt64(taken.count))
            #expect(rig.blkback.complaints.isEmpty, "\(rig.blkback.complaints)")
        }
    }

    @Test("with the default pool a 1 MiB write or read goes at once, as one indirect request of 256 segments; with 32 offered, as eight of 32")
    func oneMiBInFlight() throws {
      for (offered, requests) in [(256, 1), (32, 8)] {
        var f = SimulatedBlkback.Features(); f.maxIndirectSegments = offered
        let rig = VbdRig(sectors: 8192, features: f, bufferPages: Vbd.defaultBufferPages)
        #expect(rig.connect())
        let data = pattern(1 << 20, seed: 5)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 8)
        defer { buffer.deallocate() }
        buffer.copyMemory(from: UnsafeRawBufferPointer(start: data, count: data.count))
        for write in [true, false] {
            rig.blkback.answers = false
            rig.blkback.taken = []
            let r: BlkfrontRequest = write ? .write(offset: 1 << 20, from: UnsafeRawBufferPointer(buffer)) : .read(offset: 1 << 20, into: buffer)
            if !write { buffer.initializeMemory(as: UInt8.self, repeating: 0xEE) }
            let id = try rig.submit(r)
            rig.run(rounds: 1)
            #expect(rig.blkback.held.count == requests, "every piece sent before any answer: \(rig.blkback.held.count)")
            #expect(rig.blkback.taken.allSatisfy { $0.operation == UInt8(BLKIF_OP_INDIRECT) && $0.segments == offered })
            rig.blkback.answers = true
            rig.blkback.answerHeld()
            #expect(rig.wait(id) == .okay)
        }
        #expect(Array(rig.blkback.disk[(1 << 20)..<(2 << 20)]) == data && Array(buffer) == data, "written and read back")
        #expect(rig.blkback.complaints.isEmpty && rig.vbd.failure == nil, "\(rig.blkback.complaints)")
      }
    }

    @Test("4096-byte sectors: whole sectors only, sector numbers still in 512-byte units, data intact")
    func largeSectors() throws {
        var f = SimulatedBlkback.Features(); f.sectorSize = 4096; f.physicalSectorSize = 4096
        let rig = VbdRig(sectors: 4096, features: f)
        #expect(rig.connect())
        #expect(rig.vbd.disk.sectorSize == 4096 && rig.vbd.disk.capacity == 4096 * 512)
        for (offset, length) in [(512, 4096), (0, 512), (4096, 6144), (1024, 8192)] as [(UInt64, Int)] {
            #expect(throws: BlkfrontSubmitError.misaligned) { try rig.read(offset, length) }
        }
        for pagesCount in [1, 2, 11, 12, 33, 100] {
            let data = pattern(pagesCount * 4096, seed: UInt8(pagesCount))
            let offset = UInt64(pagesCount * 8192)
            #expect(try rig.write(offset, data) == .okay)
            let (status, back) = try rig.read(offset, data.count)
            #expect(status == .okay && back.elementsEqual(data), "\(pagesCount) sectors of 4096")
        }
        #expect(rig.blkback.taken.allSatisfy { $0.sector % 8 == 0 && $0.sectors % 8 == 0 }, "every request in whole 4096-byte sectors")
        #expect(rig.blkback.complaints.isEmpty, "\(rig.blkback.complaints)")
    }

    @Test("ranges the disk does not take are refused before anything reaches the ring")
    func refusedRanges() throws {
        let rig = VbdRig()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8192, alignment: 8)
        defer { buffer.deallocate() }
        #expect(throws: BlkfrontSubmitError.notConnected) { try rig.submit(.read(offset: 0, into: buffer)) }
        #expect(rig.connect())
        #expect(throws: BlkfrontSubmitError.misaligned) { try rig.submit(.read(offset: 100, into: buffer)) }
        #expect(throws: BlkfrontSubmitError.misaligned) { try rig.submit(.read(offset: 0, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<1000]))) }
        #expect(throws: BlkfrontSubmitError.misaligned) { try rig.submit(.read(offset: 0, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<0]))) }
        #expect(throws: BlkfrontSubmitError.beyondEnd) { try rig.submit(.read(offset: (1 << 20) - 4096, into: buffer)) }
        #expect(throws: BlkfrontSubmitError.beyondEnd) { try rig.submit(.read(offset: UInt64.max - 511, into: buffer)) }
        #expect(throws: BlkfrontSubmitError.beyondEnd) { try rig.submit(.discard(offset: 0, length: UInt64.max - 511, secure: false)) }
        #expect(throws: BlkfrontSubmitError.notSupported) { try rig.submit(.discard(offset: 0, length: 4096, secure: true)) }
        #expect(rig.blkback.taken.isEmpty)
        let last = try rig.submit(.read(offset: (1 << 20) - 8192, into: buffer))
        #expect(rig.wait(last) == .okay, "the last bytes of the disk")
        // A full queue: take completions first.
        rig.blkback.answers = false
        for i in 0..<Vbd.queueDepth { _ = try rig.submit(.read(offset: UInt64(i) * 512, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<512]))) }
        #expect(throws: BlkfrontSubmitError.busy) { try rig.submit(.flush) }
        rig.blkback.answers = true
        rig.run(rounds: 2)
        rig.blkback.answerHeld()
        rig.run(rounds: 3)
        #expect(rig.completions.count == 1 + Vbd.queueDepth && rig.completions.allSatisfy { $0.status == .okay })
        #expect(try rig.submit(.flush) == UInt64(1 + Vbd.queueDepth), "ids count submissions")
    }

    @Test("completions come in submission order, with the caller's tags")
    func completionOrder() throws {
        let rig = VbdRig()
        #expect(rig.connect())
        rig.blkback.answers = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 3 * 4096, alignment: 8)
        defer { buffer.deallocate() }
        var ids: [UInt64] = []
        for i in 0..<3 { ids.append(try rig.submit(.read(offset: UInt64(i) * 4096, into: UnsafeMutableRawBufferPointer(rebasing: buffer[(i * 4096)..<((i + 1) * 4096)])), tag: 100 + UInt64(i))) }
        rig.run(rounds: 1)
        #expect(rig.blkback.held.count == 3)
        // Answer the last first: nothing completes until the first has.
        rig.blkback.answer(rig.blkback.held[2].response)
        rig.run(rounds: 2)
        #expect(rig.completions.isEmpty)
        rig.blkback.answer(rig.blkback.held[0].response)
        rig.blkback.answer(rig.blkback.held[1].response)
        rig.blkback.held = []
        rig.run(rounds: 2)
        #expect(rig.completions.map(\.tag) == [100, 101, 102] && rig.completions.map(\.id) == ids)
        #expect(Array(buffer) == Array(rig.blkback.disk[0..<(3 * 4096)]))
    }

    @Test("a flush waits for the writes before it, and nothing after it goes before it completes")
    func flushOrder() throws {
        for features in [SimulatedBlkback.Features(), { var f = bareFeatures; f.barrier = true; return f }(), bareFeatures] {
            let rig = VbdRig(features: features)
            #expect(rig.connect())
            let flushOp = features.flushCache ? UInt8(BLKIF_OP_FLUSH_DISKCACHE) : UInt8(BLKIF_OP_WRITE_BARRIER)
            rig.blkback.answers = false
            let a = pattern(8192, seed: 1), b = pattern(4096, seed: 2)
            let bufA = UnsafeMutableRawBufferPointer.allocate(byteCount: a.count, alignment: 8); bufA.copyBytes(from: a)
            let bufB = UnsafeMutableRawBufferPointer.allocate(byteCount: b.count, alignment: 8); bufB.copyBytes(from: b)
            defer { bufA.deallocate(); bufB.deallocate() }
            _ = try rig.submit(.write(offset: 0, from: UnsafeRawBufferPointer(bufA)), tag: 1)
            _ = try rig.submit(.flush, tag: 2)
            _ = try rig.submit(.write(offset: 65536, from: UnsafeRawBufferPointer(bufB)), tag: 3)
            rig.run(rounds: 3)
            #expect(rig.blkback.taken.map(\.dataOperation) == [UInt8(BLKIF_OP_WRITE)], "only the write before the flush")
            rig.blkback.answerHeld()
            rig.run(rounds: 3)
            if features.flushCache || features.barrier {
                #expect(rig.blkback.taken.map(\.operation) == [UInt8(BLKIF_OP_WRITE), flushOp], "then the flush alone")
                #expect(rig.completions.map(\.tag) == [1])
                rig.blkback.answerHeld()
                rig.run(rounds: 3)
            }
            #expect(rig.blkback.taken.last?.dataOperation == UInt8(BLKIF_OP_WRITE) && rig.blkback.taken.count == (features.flushCache || features.barrier ? 3 : 2))
            rig.blkback.answerHeld()
            rig.run(rounds: 3)
            #expect(rig.completions.map(\.tag) == [1, 2, 3] && rig.completions.allSatisfy { $0.status == .okay })
            #expect(rig.blkback.complaints.isEmpty, "\(rig.blkback.complaints)")
        }
    }

    @Test("a flush answered EOPNOTSUPP says so, and later flushes complete once the writes before them have")
    func flushNotSupported() throws {
        let rig = VbdRig()
        #expect(rig.connect())
        rig.blkback.features.flushCache = false  // the disk lost its cache: blkback answers EOPNOTSUPP
        let first = try rig.submit(.flush)
        #expect(rig.wait(first) == .notSupported)
        #expect(rig.vbd.disk.flush == .none)
        let second = try rig.submit(.flush)
        #expect(rig.wait(second) == .okay && rig.blkback.taken.count == 1, "the second never reaches the ring")
        #expect(rig.vbd.failure == nil)
    }

    @Test("discard: the range reaches blkback in 512-byte units; refused when not offered")
    func discard() throws {
        let rig = VbdRig()
        #expect(rig.connect())
        let id = try rig.submit(.discard(offset: 8192, length: 16384, secure: false))
        #expect(rig.wait(id) == .okay)
        let t = rig.blkback.taken.last!
        #expect(t.operation == UInt8(BLKIF_OP_DISCARD) && t.sector == 16 && t.sectors == 32)
        #expect(rig.blkback.disk[8192..<(8192 + 16384)].allSatisfy { $0 == 0 })
        var secure = SimulatedBlkback.Features(); secure.discardSecure = true
        let s = VbdRig(features: secure)
        #expect(s.connect())
        #expect(s.vbd.disk.discardSecure)
        #expect(s.wait(try s.submit(.discard(offset: 0, length: 4096, secure: true))) == .okay)
        let none = VbdRig(features: bareFeatures)
        #expect(none.connect())
        #expect(throws: BlkfrontSubmitError.notSupported) { try none.submit(.discard(offset: 0, length: 4096, secure: false)) }
        #expect(rig.blkback.complaints.isEmpty && s.blkback.complaints.isEmpty && none.blkback.taken.isEmpty)
    }

    @Test("a read-only disk (info VDISK_READONLY, or mode r) refuses writes and discards before the ring; reads and flushes work")
    func readOnly() throws {
        for override in [[:], ["info": "4"]] as [[String: String?]] {
            var f = SimulatedBlkback.Features()
            if override.isEmpty { f.mode = "r" }
            let rig = VbdRig(features: f, override: override)
            if !override.isEmpty { rig.daemon.set("\(rig.blkback.dir)/mode", "w") }
            #expect(rig.connect())
            #expect(rig.vbd.disk.readOnly)
            #expect(throws: BlkfrontSubmitError.readOnly) { try rig.write(0, pattern(4096, seed: 1)) }
            #expect(throws: BlkfrontSubmitError.readOnly) { try rig.submit(.discard(offset: 0, length: 4096, secure: false)) }
            let (status, back) = try rig.read(0, 4096)
            #expect(status == .okay && back == Array(rig.blkback.disk[0..<4096]))
            #expect(rig.wait(try rig.submit(.flush)) == .okay)
            #expect(rig.blkback.taken.count == 1 && rig.blkback.taken[0].operation == UInt8(BLKIF_OP_READ), "only the read reached the ring")
            #expect(rig.blkback.complaints.isEmpty, "\(rig.blkback.complaints)")
        }
        // A mode that is not "w" is read-only too.
        let rig = VbdRig()
        rig.daemon.set("\(rig.blkback.dir)/mode", "rw?")
        #expect(rig.connect())
        #expect(rig.vbd.disk.readOnly)
    }

    @Test("a resize while connected (blkback writes sectors, then state again) is picked up")
    func capacityChange() throws {
        let rig = VbdRig(sectors: 2048)
        #expect(rig.connect())
        #expect(throws: BlkfrontSubmitError.beyondEnd) { try rig.read(1 << 20, 4096) }
        rig.blkback.resize(sectors: 4096)
        rig.run(rounds: 5)
        #expect(rig.vbd.disk.sectors == 4096 && rig.vbd.state == .connected)
        let data = pattern(8192, seed: 5)
        #expect(try rig.write(1 << 20, data) == .okay)
        #expect(try rig.read(1 << 20, 8192).1.elementsEqual(data))
        rig.blkback.resize(sectors: 1024)
        rig.run(rounds: 5)
        #expect(rig.vbd.disk.capacity == 512 * 1024)
        #expect(throws: BlkfrontSubmitError.beyondEnd) { try rig.read(512 * 1024, 512) }
        #expect(vbdStates(rig.daemon) == ["3", "4"], "Connected written once")
        // A resize to garbage is a violation.
        rig.daemon.set("\(rig.blkback.dir)/sectors", "lots")
        rig.daemon.set("\(rig.blkback.dir)/state", "4")
        rig.run(rounds: 5)
        expectStopped(rig, .badSectors)
    }

    // MARK: closing

    @Test("xl block-detach during I/O: outstanding requests fail, grants end once blkback lets go, Closed quickly")
    func detachDuringIO() throws {
        let rig = VbdRig()
        #expect(rig.connect())
        rig.blkback.answers = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xAB)
        let first = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { first.deallocate() }
        let done = try rig.submit(.read(offset: 0, into: first), tag: 1)
        rig.run(rounds: 1)
        rig.blkback.answerHeld()
        rig.run(rounds: 1)
        #expect(rig.completions.map(\.id) == [done])
        _ = try rig.submit(.read(offset: 0, into: buffer), tag: 2)
        _ = try rig.submit(.write(offset: 0, from: UnsafeRawBufferPointer(buffer)), tag: 3)
        _ = try rig.submit(.flush, tag: 4)
        rig.run(rounds: 1)
        #expect(rig.blkback.held.count > 0)
        let port = rig.vbd.port!
        rig.blkback.detach()
        var rounds = 0
        while rig.blkback.value("state") != "6" && rounds < 20 { rig.run(rounds: 1); rounds += 1 }
        #expect(rounds <= 6, "Closed within a few rounds: \(rounds)")
        #expect(rig.completions.map(\.tag) == [1, 2, 3, 4])
        #expect(rig.completions.dropFirst().allSatisfy { $0.status == .disconnected })
        // The ring's answers after the close are never taken, and the buffer is not touched.
        rig.blkback.answerHeld()
        rig.run(rounds: 2)
        #expect(rig.completions.count == 4)
        #expect(buffer.allSatisfy { $0 == 0xAB })
        expectStopped(rig, nil)
        #expect(vbdStates(rig.daemon) == ["3", "4", "5", "6"])
        #expect(rig.platform.ports[port] == nil && !rig.blkback.connected)
        #expect(throws: BlkfrontSubmitError.notConnected) { try rig.submit(.flush) }
    }

    @Test("closing from this side: requests fail, Closing, Closed, blkback lets go, nothing left")
    func closeFromFrontend() throws {
        let rig = VbdRig()
        #expect(rig.connect())
        #expect(try rig.write(0, pattern(65536, seed: 1)) == .okay)
        rig.blkback.answers = false
        _ = try rig.submit(.flush, tag: 9)
        rig.vbd.close()
        #expect(throws: BlkfrontSubmitError.notConnected) { try rig.submit(.flush) }
        #expect(rig.vbd.handleEvent() == .ready, "advance is due")
        #expect(rig.vbd.takeCompletion() == BlkfrontCompletion(tag: 9, id: 1, status: .disconnected))
        expectStopped(rig, nil)
        #expect(vbdStates(rig.daemon) == ["3", "4", "5", "6"])
        #expect(rig.daemon.value("\(rig.blkback.dir)/state") == "6")
    }

    @Test("a backend that closes by itself, or vanishes, closes the vbd cleanly")
    func backendCloses() {
        for vanish in [false, true] {
            let rig = VbdRig()
            #expect(rig.connect())
            if vanish {
                rig.blkback.vanish()
                rig.close()
                #expect(rig.vbd.state == .closed && rig.vbd.failure == nil && rig.grantsToBackend == 0)
                #expect(rig.platform.pages.count == rig.pagesBefore)
            } else {
                rig.daemon.set("\(rig.blkback.dir)/state", "6")
                expectStopped(rig, nil)
            }
        }
    }

    @Test("trusted=0, or no trusted key, is read for the log and changes nothing")
    func trustedKey() throws {
        for (value, expected) in [("0", false as Bool?), (nil, nil), ("2", nil), ("1", true)] as [(String?, Bool?)] {
            let rig = VbdRig(trusted: value)
            #expect(rig.connect())
            #expect(rig.vbd.trusted == expected)
            #expect(try rig.write(0, pattern(4096, seed: 1)) == .okay)
        }
    }

    // MARK: a hostile backend: the ring

    @Test("a response producer beyond the requests issued (RING_RESPONSE_PROD_OVERFLOW)")
    func producerOverflow() throws {
        let rig = VbdRig()
        #expect(rig.connect())
        rig.blkback.answers = false
        _ = try rig.submit(.flush, tag: 1)
        rig.run(rounds: 1)
        rig.blkback.ring!.responseProducer = 5
        #expect(rig.vbd.handleEvent() == .ready)
        #expect(rig.vbd.takeCompletion()?.status == .disconnected, "the request in flight fails")
        expectStopped(rig, .ring(.producerOverflow(producer: 5, consumer: 0, limit: 1)))
    }

    @Test("a response producer that moves backwards")
    func producerBackwards() throws {
        let rig = VbdRig()
        #expect(rig.connect())
        for i in 0..<3 { #expect(try rig.write(UInt64(i) * 4096, pattern(4096, seed: UInt8(i))) == .okay) }
        rig.blkback.ring!.responseProducer = 1
        _ = rig.vbd.handleEvent()
        guard case .ring(.producerOverflow(producer: 1, consumer: 3, _))? = rig.vbd.failure else {
            Issue.record("expected a producer overflow, got \(String(describing: rig.vbd.failure))"); return
        }
        expectStopped(rig, rig.vbd.failure)
    }

    @Test("a response rewritten after it was read changes nothing: the driver works on its copy (XSA-155)")
    func rewrittenResponse() throws {
        var f = SimulatedBlkback.Features(); f.persistent = false
        let rig = VbdRig(features: f)
        #expect(rig.connect())
        rig.blkback.answers = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { buffer.deallocate() }
        let id = try rig.submit(.read(offset: 0, into: buffer))
        rig.run(rounds: 1)
        rig.blkback.answerHeld()
        let bb = rig.blkback
        // The moment the driver ends the page's grant it has read the response: rewrite it then.
        rig.platform.onEndAccess = { _ in bb.ring!.setResponse(blkResponse(id: 77, operation: BLKIF_OP_WRITE, status: -9), at: 0) }
        _ = rig.vbd.handleEvent()
        rig.platform.onEndAccess = nil
        #expect(rig.vbd.failure == nil)
        #expect(rig.vbd.takeCompletion() == BlkfrontCompletion(tag: 0, id: id, status: .okay))
        #expect(Array(buffer) == Array(rig.blkback.disk[0..<4096]))
    }

    @Test("ids out of range, answered twice, or never issued")
    func badIDs() throws {
        for attack in ["out of range", "huge", "twice", "never issued"] {
            let rig = VbdRig()
            #expect(rig.connect())
            rig.blkback.answers = false
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
            defer { buffer.deallocate() }
            _ = try rig.submit(.read(offset: 0, into: buffer))
            _ = try rig.submit(.read(offset: 4096, into: buffer))
            rig.run(rounds: 1)
            #expect(rig.blkback.held.count == 2)
            let issued = rig.blkback.held[0].response
            let bad: UInt64
            switch attack {
            case "out of range": bad = 128
            case "huge": bad = 1 << 40
            case "twice": bad = issued.id; rig.blkback.answer(issued)
            default: bad = (0..<128).first { $0 != issued.id && $0 != rig.blkback.held[1].response.id }!
            }
            rig.blkback.answer(blkResponse(id: bad, operation: Int32(issued.operation), status: BLKIF_RSP_OKAY))
            _ = rig.vbd.handleEvent()
            expectStopped(rig, .unknownID(bad))
        }
    }

    @Test("a status outside the protocol")
    func badStatus() throws {
        for status in [1, -3, Int16.min, Int16.max] as [Int16] {
            let rig = VbdRig()
            #expect(rig.connect())
            rig.blkback.answers = false
            _ = try rig.submit(.flush)
            rig.run(rounds: 1)
            var r = rig.blkback.held[0].response
            r.status = status
            rig.blkback.answer(r)
            _ = rig.vbd.handleEvent()
            expectStopped(rig, .badStatus(status))
        }
    }

    @Test("errors the protocol has are the request's status, not a violation")
    func requestErrors() throws {
        var f = SimulatedBlkback.Features(); f.maxIndirectSegments = 32  // 200 KiB in two pieces
        let rig = VbdRig(features: f)
        #expect(rig.connect())
        rig.blkback.answers = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 200 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        let a = try rig.submit(.read(offset: 0, into: buffer))
        let b = try rig.submit(.discard(offset: 0, length: 4096, secure: false))
        rig.run(rounds: 1)
        #expect(rig.blkback.held.count > 2, "the read in several pieces")
        rig.blkback.held[1].response.status = BLKIF_RSP_ERROR
        rig.blkback.held[rig.blkback.held.count - 1].response.status = BLKIF_RSP_EOPNOTSUPP
        rig.blkback.answerHeld()
        #expect(rig.wait(a) == .ioError && rig.wait(b) == .notSupported)
        rig.blkback.answers = true
        #expect(rig.vbd.failure == nil && rig.vbd.counters.failedRequests == 2)
        #expect(try rig.write(0, pattern(4096, seed: 1)) == .okay, "the disk goes on")
    }

    @Test("a response whose operation is not its request's")
    func wrongOperation() throws {
        for (indirect, answered) in [(false, BLKIF_OP_WRITE), (false, BLKIF_OP_INDIRECT), (true, BLKIF_OP_WRITE), (true, BLKIF_OP_DISCARD)] {
            let rig = VbdRig()
            #expect(rig.connect())
            rig.blkback.answers = false
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: indirect ? 65536 : 4096, alignment: 8)
            defer { buffer.deallocate() }
            _ = try rig.submit(.read(offset: 0, into: buffer))
            rig.run(rounds: 1)
            #expect(rig.blkback.taken[0].operation == UInt8(indirect ? BLKIF_OP_INDIRECT : BLKIF_OP_READ))
            var r = rig.blkback.held[0].response
            r.operation = UInt8(answered)
            rig.blkback.answer(r)
            _ = rig.vbd.handleEvent()
            expectStopped(rig, .wrongOperation(UInt8(answered)))
        }
        // An indirect request answered with BLKIF_OP_INDIRECT itself (blkif.h's "copied from
        // request") is taken, as the indirect operation (what blkback answers) is.
        let rig = VbdRig()
        #expect(rig.connect())
        rig.blkback.answers = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 8)
        defer { buffer.deallocate() }
        let id = try rig.submit(.read(offset: 0, into: buffer))
        rig.run(rounds: 1)
        rig.blkback.held[0].response.operation = UInt8(BLKIF_OP_INDIRECT)
        rig.blkback.answerHeld()
        #expect(rig.wait(id) == .okay && rig.vbd.failure == nil)
    }

    @Test("an event storm: bounded work per call, .ready instead of looping, and nothing answered with an event")
    func eventStorm() throws {
        let rig = VbdRig(bufferPages: 128)
        #expect(rig.connect())
        rig.blkback.answers = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { buffer.deallocate() }
        for i in 0..<Vbd.queueDepth { _ = try rig.submit(.read(offset: UInt64(i) * 512, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<512]))) }
        rig.run(rounds: 1)
        rig.blkback.answerHeld()
        rig.run(rounds: 2)
        #expect(rig.completions.count == Vbd.queueDepth)
        rig.blkback.taken = []
        let port = rig.vbd.port!
        let notified = rig.platform.notifications[port, default: 0]
        for _ in 0..<10_000 { _ = rig.vbd.handleEvent() }
        #expect(rig.platform.notifications[port, default: 0] == notified, "an event storm is not answered with one")
        #expect(rig.vbd.failure == nil)
        #expect(rig.blkback.taken.isEmpty)
    }

    @Test("a round takes at most responsesPerRound responses and says more wait")
    func boundedRound() throws {
        // No indirect requests: 12 pages are two ring requests each, so 21 of them put 42 on the ring.
        var f = bareFeatures; f.maxRingOrder = 2
        let rig = VbdRig(sectors: 8192, features: f, bufferPages: 256)
        #expect(rig.connect())
        rig.blkback.answers = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 12 * 4096, alignment: 8)
        defer { buffer.deallocate() }
        for i in 0..<21 { _ = try rig.submit(.read(offset: UInt64(i) * 12 * 4096, into: buffer)) }
        rig.run(rounds: 1)
        #expect(rig.blkback.held.count == 42)
        rig.blkback.answerHeld()
        let before = rig.vbd.ring.responsesConsumed
        #expect(rig.vbd.handleEvent() == .ready, "more wait")
        #expect(rig.vbd.ring.responsesConsumed &- before == RING_IDX(Vbd.responsesPerRound))
        #expect(rig.vbd.handleEvent() == .event)
        #expect(rig.vbd.ring.responsesConsumed &- before == 42)
        var n = 0
        while rig.vbd.takeCompletion() != nil { n += 1 }
        #expect(n == 21 && rig.vbd.failure == nil)
    }

    @Test("a page still mapped when access ends stays out of use until it ends (XSA-396), persistent or not")
    func stillMapped() throws {
        var f = SimulatedBlkback.Features(); f.persistent = false
        let rig = VbdRig(features: f, bufferPages: 12)
        #expect(rig.connect())
        rig.blkback.answers = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { buffer.deallocate() }
        _ = try rig.submit(.read(offset: 0, into: buffer))
        rig.run(rounds: 1)
        let held = rig.blkback.taken[0].grefs[0]
        let heldFrame = rig.platform.grants[held]!.frame
        let mapping = try rig.platform.mapGrant(from: 5, ref: held, readOnly: false)
        rig.blkback.answerHeld()
        #expect(rig.vbd.handleEvent() == .deadline(rig.platform.clock + Vbd.quarantineRetry), "a retry is due")
        #expect(rig.vbd.counters.grantsStillMapped == 1)
        // Eleven pages left: an 11-page request goes, a twelfth page does not exist.
        let big = UnsafeMutableRawBufferPointer.allocate(byteCount: 12 * 4096, alignment: 8)
        defer { big.deallocate() }
        _ = try rig.submit(.read(offset: 0, into: big))
        rig.run(rounds: 2)
        let frames = rig.blkback.taken.dropFirst().flatMap(\.grefs).compactMap { rig.platform.grants[$0]?.frame }
        #expect(!frames.contains(heldFrame), "the held page was not reused")
        #expect(rig.blkback.taken.count == 2 && rig.blkback.taken[1].segments == 11)
        try rig.platform.unmapGrant(mapping)
        rig.platform.clock += Vbd.quarantineRetry
        rig.blkback.answerHeld()
        rig.run(rounds: 3)
        rig.blkback.answerHeld()
        rig.run(rounds: 3)
        #expect(rig.vbd.failure == nil && rig.completions.count == 2)
        rig.vbd.close()
        expectStopped(rig, nil)
    }

    @Test("persistent grants stay granted; at close blkback lets go when Closed, and one it never lets go of is abandoned")
    func persistentAtClose() throws {
        let rig = VbdRig(bufferPages: 16)
        #expect(rig.connect())
        #expect(try rig.write(0, pattern(8 * 4096, seed: 1)) == .okay)
        #expect(try rig.write(0, pattern(8 * 4096, seed: 2)) == .okay)
        let refs = Set(rig.blkback.taken.flatMap(\.grefs))
        #expect(refs.count == 8, "the same eight grants reused: \(refs.count)")
        #expect(rig.blkback.persistentMaps.count == 8 && refs.allSatisfy { rig.platform.grants[$0] != nil })
        // A blkback that keeps one mapping past its own disconnect.
        let kept = rig.blkback.persistentMaps.first!
        rig.blkback.persistentMaps[kept.key] = nil
        let frame = rig.platform.grants[kept.key]!.frame
        rig.blkback.detach()
        expectStopped(rig, nil, abandoned: 1)
        #expect(rig.platform.pages[frame] != nil, "the abandoned page is never freed")
        #expect(rig.blkback.persistentMaps.isEmpty)
    }

    @Test("every granted page holds one thing: ring pages, data pages and indirect pages all distinct (XSA-403)")
    func dedicatedPages() throws {
        var f = SimulatedBlkback.Features(); f.persistent = false
        let rig = VbdRig(features: f)
        #expect(rig.connect())
        rig.blkback.answers = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 100 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        _ = try rig.submit(.read(offset: 0, into: buffer))
        _ = try rig.submit(.write(offset: 102400, from: UnsafeRawBufferPointer(buffer)))
        rig.run(rounds: 1)
        let granted = rig.platform.grants.filter { $0.value.domain == 0 }
        let frames = granted.map(\.value.frame)
        #expect(Set(frames).count == frames.count, "no page granted twice")
        #expect(granted.count == 2 * 25 + 2 + 4, "25 data pages and a segment list each, the ring's four: \(granted.count)")
        let read = rig.blkback.taken.filter { $0.dataOperation == UInt8(BLKIF_OP_READ) }.flatMap(\.grefs)
        let written = rig.blkback.taken.filter { $0.dataOperation == UInt8(BLKIF_OP_WRITE) }.flatMap(\.grefs)
        #expect(read.allSatisfy { !rig.platform.grants[$0]!.readOnly } && written.allSatisfy { rig.platform.grants[$0]!.readOnly })
    }

    // MARK: a hostile backend or toolstack: xenstore

    @Test("hostile disk keys: sector-size, sectors, info absent or out of range stop the vbd at connect")
    func hostileKeys() {
        let cases: [([String: String?], BlkfrontError)] = [
            (["sector-size": "0"], .badSectorSize), (["sector-size": "1000"], .badSectorSize), (["sector-size": "256"], .badSectorSize),
            (["sector-size": "8192"], .badSectorSize), (["sector-size": "5l2"], .badSectorSize), (["sector-size": nil], .badSectorSize),
            (["sector-size": "-512"], .badSectorSize),
            (["sectors": nil], .badSectors), (["sectors": "x"], .badSectors), (["sectors": "36028797018963968"], .badSectors),
            (["sectors": "99999999999999999999999"], .badSectors), (["sectors": ""], .badSectors),
            (["info": nil], .badInfo), (["info": "rw"], .badInfo), (["info": "4294967296"], .badInfo),
        ]
        for (override, reason) in cases {
            let rig = VbdRig(override: override)
            rig.run(rounds: 20)
            #expect(rig.vbd.state != .connected, "\(override)")
            #expect(rig.vbd.disk.sectors == 0 && rig.vbd.disk.capacity == 0, "nothing of a refused disk is taken: \(override)")
            expectStopped(rig, reason)
        }
        // The largest that does not overflow is taken.
        let rig = VbdRig(override: ["sectors": "36028797018963967", "info": "4294967295", "physical-sector-size": "3"])
        #expect(rig.connect())
        #expect(rig.vbd.disk.sectors == 36028797018963967 && rig.vbd.disk.readOnly && rig.vbd.disk.physicalSectorSize == 512)
    }

    @Test("max-ring-page-order and feature-max-indirect-segments beyond what the driver supports are capped, garbage is none")
    func cappedOffers() throws {
        for (order, indirect, expectOrder, expectSegments) in [("200", "4294967295", 2, 256), ("1", "300", 1, 256), ("0", "32", 0, 32), ("x", "12", 0, 12), ("1", "11", 1, 11), ("2", "abc", 2, 11)] {
            let rig = VbdRig()
            rig.daemon.set("\(rig.blkback.dir)/max-ring-page-order", order)
            rig.daemon.set("\(rig.blkback.dir)/feature-max-indirect-segments", indirect)
            rig.blkback.features.maxRingOrder = 200
            #expect(rig.connect())
            #expect(rig.vbd.disk.ringPages == 1 << expectOrder && rig.blkback.ringOrder == expectOrder)
            #expect(rig.vbd.disk.maxSegments == expectSegments)
            #expect(try rig.write(0, pattern(100 * 1024, seed: 4)) == .okay)
            #expect(rig.blkback.taken.allSatisfy { $0.segments <= expectSegments })
            #expect(rig.blkback.complaints.isEmpty, "\(rig.blkback.complaints)")
        }
    }

    @Test("backend state jumps: Connected without InitWait connects; back to InitWait is ignored; a state that is no state stops the vbd")
    func stateJumps() throws {
        let rig = VbdRig(initWait: false)
        rig.daemon.set("\(rig.blkback.dir)/state", "4")
        rig.run(rounds: 10)
        // blkback connects only once the frontend is Initialised; a backend already saying 4 gets
        // the ring published all the same and the keys read once it writes them.
        rig.blkback.step()
        #expect(rig.connect())
        rig.daemon.set("\(rig.blkback.dir)/state", "2")
        rig.run(rounds: 5)
        #expect(rig.vbd.state == .connected)
        #expect(try rig.write(0, pattern(4096, seed: 1)) == .okay)
        rig.daemon.set("\(rig.blkback.dir)/state", "9")
        rig.run(rounds: 5)
        expectStopped(rig, .xenstore(.invalidValue))
    }

    @Test("a vbd stopped by its backend leaves another vbd running")
    func otherDevicesUnaffected() throws {
        var s = Connected()
        let b0 = SimulatedBlkback(daemon: s.daemon, platform: s.platform, id: 51712)
        let b1 = SimulatedBlkback(daemon: s.daemon, platform: s.platform, id: 51728)
        var v0 = try Vbd(path: path("device/vbd/51712"), platform: s.platform, bufferPages: 16)
        var v1 = try Vbd(path: path("device/vbd/51728"), platform: s.platform, bufferPages: 16)
        func run(_ rounds: Int, _ s: inout Connected, _ a: inout Vbd, _ b: inout Vbd) {
            for _ in 0..<rounds {
                s.pump(rounds: 2)
                _ = a.advance(store: &s.client); _ = b.advance(store: &s.client)
                b0.step(); b1.step()
                _ = a.handleEvent(); _ = b.handleEvent()
            }
        }
        run(20, &s, &v0, &v1)
        let both = v0.state == .connected && v1.state == .connected
        #expect(both)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8192, alignment: 8)
        defer { buffer.deallocate() }
        _ = try v0.submit(.read(offset: 0, into: buffer), tag: 0)
        _ = try v1.submit(.read(offset: 8192, into: buffer), tag: 1)
        b0.answers = false
        b0.ring!.responseProducer = 100
        run(20, &s, &v0, &v1)
        let (state0, failure0, state1, failure1) = (v0.state, v0.failure, v1.state, v1.failure)
        #expect(state0 == .closed && failure0 == .ring(.producerOverflow(producer: 100, consumer: 0, limit: 1)))
        #expect(state1 == .connected && failure1 == nil)
        let c1 = v1.takeCompletion()
        #expect(c1 == BlkfrontCompletion(tag: 1, id: 0, status: .okay) && Array(buffer) == Array(b1.disk[8192..<16384]))
        #expect(v1.handle == 51728 && b1.complaints.isEmpty)
        #expect(s.platform.grants.values.filter { $0.domain == 0 }.count == 4 + 2, "vbd 1's ring and its two persistent grants, nothing of vbd 0")
    }

    @Test("the reason a vbd stopped is printable, with its number")
    func printableReason() {
        let e = BlkfrontError.unknownID(300)
        #expect(String(describing: e.reason) == "response for an id not in flight" && e.detail == 300)
        #expect(BlkfrontError.badStatus(-7).detail == -7 && BlkfrontError.badSectors.detail == nil)
        #expect(BlkfrontError.ring(.producerOverflow(producer: 9, consumer: 0, limit: 1)).detail == 9)
    }
}

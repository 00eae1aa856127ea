// Linux 6.1's blkback as a frontend meets it, over the simulated platform and xenstored, with a
// disk in memory. What it writes at probe and at connect, and what it reads of the frontend,
// follow drivers/block/xen-blkback/xenbus.c (xen_blkbk_probe, connect_ring, read_per_ring_refs,
// connect, frontend_changed); the keys libxl writes first follow libxl_disk.c (written by
// SimulatedLibxlDevice). Requests are checked as dispatch_rw_block_io, xen_blkbk_parse_indirect,
// xen_vbd_translate and dispatch_discard_io check them: 512-byte units whatever the sector
// size, each segment within its page, sector and segment aligned to the logical sector, the
// range inside the disk, writes refused on a read-only disk; a refused request is answered
// BLKIF_RSP_ERROR as blkback does, and recorded in `complaints` (a correct frontend never sends
// one). Responses carry the indirect operation for an indirect request, as blkback's do. With
// persistent grants every grant it is given stays mapped until the frontend is Closed
// (xen_blkif_disconnect), as blkback's do. A test plays a hostile blkback through `ring`: any
// response, any producer index, at any time.
import XenABI
@testable import XenDevices

func blkResponse(id: UInt64, operation: Int32, status: Int16) -> blkif_response {
    var r = blkif_response(); r.id = id; r.operation = UInt8(operation); r.status = status; return r
}

final class SimulatedBlkback: SimulatedLibxlDevice {
    struct Features {
        var maxIndirectSegments: Int? = 256
        var maxRingOrder: Int? = 4
        var flushCache = true
        var barrier = true
        var discard = true
        var discardSecure = false
        /// blkback's own feature_persistent parameter (written at connect; used only if the
        /// frontend asked for it too).
        var persistent = true
        var sectorSize = 512
        var physicalSectorSize = 4096
        /// libxl's `mode`: "w", or "r" for a read-only disk (blkback then sets VDISK_READONLY).
        var mode = "w"
        var cdrom = false
    }

    /// A request as taken off the ring.
    struct Taken {
        var operation: UInt8
        var dataOperation: UInt8
        var segments: Int
        var sector: UInt64
        var sectors: UInt64
        var grefs: [grant_ref_t]
    }

    var features: Features
    var disk: [UInt8]
    /// Keys written at connect in place of blkback's own values (nil: not written).
    var connectOverride: [String: String?] = [:]

    var persistentInUse = false
    var ringOrder = 0
    var ringMaps: [XenGrantMapping] = []
    var ring: RawRing<blkif_ring>?
    /// Grants mapped for good (persistent grants), by reference.
    var persistentMaps: [grant_ref_t: XenGrantMapping] = [:]
    var requestsTaken: RING_IDX = 0, responsesMade: RING_IDX = 0
    var taken: [Taken] = []
    /// Whether to answer requests as they are taken (otherwise their responses wait in `held`).
    var answers = true
    var held: [(request: Taken, response: blkif_response)] = []
    var flushes = 0

    var sectors: UInt64 { UInt64(disk.count / 512) }

    /// libxl's keys for a new vbd, then blkback's probe: its features and InitWait.
    init(daemon: SimulatedXenStored, platform: SimulatedPlatform, id: Int = 51712, sectors: Int = 2048,
         features: Features = Features(), trusted: String? = "1", initWait: Bool = true) {
        self.features = features
        disk = (0..<(sectors * 512)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let deviceType = features.cdrom ? "cdrom" : "disk"
        super.init(daemon: daemon, platform: platform, kind: "vbd", id: id,
                   backendKeys: [("params", "/dev/loop0"), ("mode", features.mode), ("type", "phy"), ("device-type", deviceType),
                                 ("dev", "xvda"), ("physical-device", "7:0")],
                   frontendKeys: [("virtual-device", "\(id)"), ("device-type", deviceType)], trusted: trusted)
        if let n = features.maxIndirectSegments { daemon.set("\(dir)/feature-max-indirect-segments", "\(n)") }
        daemon.set("\(dir)/multi-queue-max-queues", "2")
        if let n = features.maxRingOrder { daemon.set("\(dir)/max-ring-page-order", "\(n)") }
        if initWait { self.initWait() }
    }

    /// Follows the frontend's state as blkback's frontend_changed does.
    func step() {
        guard !gone else { return }
        switch value("state") {
        case "3", "4" where !connected && !["5", "6"].contains(backendState ?? ""):
            connect()
        case "5":
            enter("5")
        case "6":
            disconnect()
            enter("6")
        default:
            break
        }
        if connected { takeRequests() }
    }

    /// connect_ring, then connect: the frontend's keys, the ring mapped, the disk's keys written
    /// and Connected.
    func connect() {
        if value("multi-queue-num-queues") != nil { complaints.append("multi-queue-num-queues written") }
        if let p = value("protocol"), p != "x86_64-abi" { complaints.append("protocol \(p)") }
        if value("protocol") == nil { complaints.append("no protocol") }
        persistentInUse = features.persistent && value("feature-persistent").flatMap(UInt32.init).map { $0 != 0 } == true
        guard let port = frontendEventChannel() else { return }
        var refs: [grant_ref_t] = []
        if let order = value("ring-page-order").flatMap(Int.init) {
            guard order <= (features.maxRingOrder ?? 0) else { complaints.append("ring page order \(order) exceeds max"); return }
            if value("ring-ref") != nil { complaints.append("ring-ref beside ring-page-order") }
            for i in 0..<(1 << order) {
                guard let r = value("ring-ref\(i)").flatMap(UInt32.init) else { complaints.append("reading ring-ref\(i)"); return }
                refs.append(r)
            }
            ringOrder = order
        } else {
            guard let r = value("ring-ref").flatMap(UInt32.init) else { complaints.append("reading ring-ref"); return }
            refs = [r]
            ringOrder = 0
        }
        guard boundToBackend(port) else { return }
        for (i, r) in refs.enumerated() {
            guard let g = platform.grants[r], g.domain == domain, !g.readOnly, let m = try? platform.mapGrant(from: daemon.domainID, ref: r, readOnly: false) else {
                complaints.append("mapping ring-ref \(r)"); return
            }
            if i > 0 && m.address != ringMaps[0].address + 4096 * i { complaints.append("ring pages not consecutive") }
            ringMaps.append(m)
        }
        ring = RawRing(base: ringMaps[0].address, size: RING_IDX(32 << ringOrder))
        var keys: [(String, String)] = [("feature-flush-cache", features.flushCache ? "1" : "0")]
        if features.discard {
            keys += [("discard-granularity", "4096"), ("discard-alignment", "0"), ("discard-secure", features.discardSecure ? "1" : "0")]
        }
        keys += [("feature-discard", features.discard ? "1" : "0"), ("feature-barrier", features.barrier ? "1" : "0"),
                 ("feature-persistent", features.persistent ? "1" : "0"), ("sectors", "\(sectors)"),
                 ("info", "\((features.cdrom ? 1 : 0) | (features.mode == "w" ? 0 : 4))"),
                 ("sector-size", "\(features.sectorSize)"), ("physical-sector-size", "\(features.physicalSectorSize)")]
        for (key, value) in keys where connectOverride[key] == nil { daemon.set("\(dir)/\(key)", value) }
        for (key, value) in connectOverride { if let value { daemon.set("\(dir)/\(key)", value) } }
        finishConnect(port: port)
    }

    /// xen_blkif_disconnect: the ring and every persistent grant unmapped.
    override func disconnect() {
        for m in ringMaps { try? platform.unmapGrant(m) }
        ringMaps = []
        for (_, m) in persistentMaps { try? platform.unmapGrant(m) }
        persistentMaps = [:]
        ring = nil
        super.disconnect()
    }

    /// A resize (xen_vbd_resize): `sectors`, then `state` written again, in one transaction.
    func resize(sectors: Int) {
        if sectors * 512 < disk.count { disk.removeLast(disk.count - sectors * 512) } else { disk += [UInt8](repeating: 0, count: sectors * 512 - disk.count) }
        daemon.set("\(dir)/sectors", "\(sectors)")
        daemon.set("\(dir)/state", "4")
    }

    // MARK: requests

    /// Takes every request published and handles it (answered at once, or held).
    func takeRequests() {
        guard let ring else { return }
        while requestsTaken != ring.requestProducer {
            let request = ring.request(requestsTaken)
            requestsTaken &+= 1
            let (t, response) = handle(request)
            taken.append(t)
            if answers { answer(response) } else { held.append((t, response)) }
        }
    }

    /// Answers the held requests (all, or the first `n`), in order.
    func answerHeld(_ n: Int? = nil) {
        let count = min(n ?? held.count, held.count)
        for (_, r) in held.prefix(count) { answer(r) }
        held.removeFirst(count)
    }

    /// Writes a response in the next slot and publishes it.
    func answer(_ response: blkif_response, publish: Bool = true) {
        guard let ring else { return }
        ring.setResponse(response, at: responsesMade)
        responsesMade &+= 1
        if publish { ring.responseProducer = responsesMade }
    }

    /// The page behind a grant the frontend gave us (mapped for good with persistent grants).
    func page(_ ref: grant_ref_t, writable: Bool) -> UnsafeMutableRawPointer? {
        guard let g = platform.grants[ref], g.domain == domain else { complaints.append("gref \(ref) not granted to us"); return nil }
        if (writable || persistentInUse) && g.readOnly { complaints.append("gref \(ref) granted read-only"); return nil }
        if persistentInUse && persistentMaps[ref] == nil { persistentMaps[ref] = try? platform.mapGrant(from: daemon.domainID, ref: ref, readOnly: false) }
        return platform.pages[g.frame]
    }

    func refuse(_ why: String, _ t: Taken, _ op: UInt8) -> (Taken, blkif_response) {
        complaints.append(why)
        return (t, blkResponse(id: 0, operation: Int32(op), status: BLKIF_RSP_ERROR))
    }

    func handle(_ request: blkif_request) -> (Taken, blkif_response) {
        var response = blkif_response()
        response.id = request.id
        var t = Taken(operation: request.operation, dataOperation: request.operation, segments: 0, sector: request.sector_number, sectors: 0, grefs: [])
        func finish(_ status: Int16, operation: UInt8) -> (Taken, blkif_response) {
            response.operation = operation; response.status = status; return (t, response)
        }
        if held.contains(where: { [UInt8(BLKIF_OP_FLUSH_DISKCACHE), UInt8(BLKIF_OP_WRITE_BARRIER)].contains($0.request.operation) }) {
            complaints.append("a request sent before the flush in flight was answered")
        }
        switch Int32(request.operation) {
        case BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_WRITE_BARRIER:
            if held.contains(where: { $0.request.dataOperation == UInt8(BLKIF_OP_WRITE) }) { complaints.append("a flush sent before earlier writes completed") }
            if request.nr_segments != 0 { complaints.append("a flush with segments") }
            let offered = Int32(request.operation) == BLKIF_OP_FLUSH_DISKCACHE ? features.flushCache : features.barrier
            if !offered { complaints.append("a flush not offered") }
            if features.mode != "w" { return finish(BLKIF_RSP_ERROR, operation: request.operation) }
            flushes += 1
            return finish(offered ? BLKIF_RSP_OKAY : BLKIF_RSP_EOPNOTSUPP, operation: request.operation)
        case BLKIF_OP_DISCARD:
            let d = withUnsafeBytes(of: request) { $0.loadUnaligned(as: blkif_request_discard.self) }
            t.sector = d.sector_number; t.sectors = d.nr_sectors
            response.id = d.id
            guard features.discard else { complaints.append("a discard not offered"); return finish(BLKIF_RSP_EOPNOTSUPP, operation: request.operation) }
            if d.flag & UInt8(BLKIF_DISCARD_SECURE) != 0 && !features.discardSecure { complaints.append("secure discard not offered") }
            guard features.mode == "w" else { complaints.append("a discard on a read-only disk"); return finish(BLKIF_RSP_ERROR, operation: request.operation) }
            guard d.sector_number + d.nr_sectors <= sectors else { complaints.append("a discard past the end"); return finish(BLKIF_RSP_ERROR, operation: request.operation) }
            for i in Int(d.sector_number * 512)..<Int((d.sector_number + d.nr_sectors) * 512) { disk[i] = 0 }
            return finish(BLKIF_RSP_OKAY, operation: request.operation)
        case BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_INDIRECT:
            var segments: [blkif_request_segment] = []
            var op = request.operation
            if Int32(request.operation) == BLKIF_OP_INDIRECT {
                let ind = withUnsafeBytes(of: request) { $0.loadUnaligned(as: blkif_request_indirect.self) }
                op = ind.indirect_op
                t.dataOperation = op; t.sector = ind.sector_number
                guard op == UInt8(BLKIF_OP_READ) || op == UInt8(BLKIF_OP_WRITE) else { complaints.append("indirect op \(op)"); return finish(BLKIF_RSP_ERROR, operation: op) }
                guard features.maxIndirectSegments != nil else { complaints.append("indirect not offered"); return finish(BLKIF_RSP_ERROR, operation: op) }
                let n = Int(ind.nr_segments)
                guard n > 0, n <= features.maxIndirectSegments! else { complaints.append("\(n) indirect segments"); return finish(BLKIF_RSP_ERROR, operation: op) }
                for p in 0..<((n + 511) / 512) {
                    guard let list = page(ind.indirect_grefs[p], writable: false) else { return finish(BLKIF_RSP_ERROR, operation: op) }
                    for i in (p * 512)..<min(n, p * 512 + 512) { segments.append((list + (i % 512) * 8).loadUnaligned(as: blkif_request_segment.self)) }
                }
            } else {
                let n = Int(request.nr_segments)
                guard n > 0, n <= 11 else { complaints.append("\(n) segments"); return finish(BLKIF_RSP_ERROR, operation: op) }
                for i in 0..<n { segments.append(request.seg[i]) }
            }
            t.segments = segments.count
            let write = op == UInt8(BLKIF_OP_WRITE)
            let unit = UInt64(features.sectorSize / 512)
            var at = t.sector
            var pagesOf: [(UnsafeMutableRawPointer, Int, Int)] = []
            for s in segments {
                t.grefs.append(s.gref)
                guard s.last_sect < 8, s.last_sect >= s.first_sect else { complaints.append("segment \(s.first_sect)-\(s.last_sect)"); return finish(BLKIF_RSP_ERROR, operation: op) }
                let n = UInt64(s.last_sect - s.first_sect + 1)
                if (at | n) & (unit - 1) != 0 { complaints.append("misaligned: sector \(at), \(n) sectors"); return finish(BLKIF_RSP_ERROR, operation: op) }
                guard let p = page(s.gref, writable: !write) else { return finish(BLKIF_RSP_ERROR, operation: op) }
                pagesOf.append((p + Int(s.first_sect) * 512, Int(at) * 512, Int(n) * 512))
                at += n
            }
            t.sectors = at - t.sector
            if write && features.mode != "w" { complaints.append("a write on a read-only disk"); return finish(BLKIF_RSP_ERROR, operation: op) }
            guard at <= sectors else { complaints.append("past the end: \(at) > \(sectors)"); return finish(BLKIF_RSP_ERROR, operation: op) }
            for (p, offset, n) in pagesOf {
                if write {
                    disk.withUnsafeMutableBytes { ($0.baseAddress! + offset).copyMemory(from: p, byteCount: n) }
                } else {
                    disk.withUnsafeBytes { p.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
                }
            }
            return finish(BLKIF_RSP_OKAY, operation: op)
        default:
            complaints.append("operation \(request.operation)")
            return finish(BLKIF_RSP_EOPNOTSUPP, operation: request.operation)
        }
    }
}

/// A vbd against the simulated blkback: the store, the daemon, the platform, the driver.
final class VbdRig: SimulatedDeviceRig {
    var s: Connected
    var vbd: XenBlkfront<SimulatedPlatform>
    let blkback: SimulatedBlkback
    var platform: SimulatedPlatform { s.platform }
    var daemon: SimulatedXenStored { s.daemon }
    /// The pages the platform had before the driver took any.
    let pagesBefore: Int
    var completions: [BlkfrontCompletion] = []

    init(sectors: Int = 2048, features: SimulatedBlkback.Features = .init(), bufferPages: Int = 64, trusted: String? = "1",
         initWait: Bool = true, contiguous: Bool = true, override: [String: String?] = [:]) {
        s = Connected()
        s.platform.contiguousPages = contiguous
        blkback = SimulatedBlkback(daemon: s.daemon, platform: s.platform, sectors: sectors, features: features, trusted: trusted, initWait: initWait)
        blkback.connectOverride = override
        pagesBefore = s.platform.pages.count
        vbd = try! XenBlkfront(path: path("device/vbd/51712"), platform: s.platform, bufferPages: bufferPages)
    }

    var backend: SimulatedLibxlDevice { blkback }
    var driverConnected: Bool { vbd.state == .connected }
    var driverClosed: Bool { vbd.state == .closed }

    /// One round, the completions the driver hands over collected.
    func round() -> XenWait {
        s.pump(rounds: 2)
        var wait = vbd.advance(store: &s.client)
        blkback.step()
        wait = wait.sooner(vbd.handleEvent())
        while let c = vbd.takeCompletion() { completions.append(c) }
        return wait
    }

    func submit(_ r: BlkfrontRequest, tag: UInt64 = 0) throws(BlkfrontSubmitError) -> UInt64 { try vbd.submit(r, tag: tag) }

    /// Runs until the request with `id` completes; its status (nil if it never does).
    func wait(_ id: UInt64, rounds: Int = 200) -> BlkfrontStatus? {
        for _ in 0..<rounds {
            if let c = completions.first(where: { $0.id == id }) { return c.status }
            run(rounds: 1)
        }
        return completions.first(where: { $0.id == id })?.status
    }

    /// Reads `length` bytes at `offset` through the driver.
    func read(_ offset: UInt64, _ length: Int) throws(BlkfrontSubmitError) -> (BlkfrontStatus?, [UInt8]) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xEE)
        let id = try submit(.read(offset: offset, into: buffer))
        let status = wait(id)
        return (status, Array(buffer))
    }

    func write(_ offset: UInt64, _ bytes: [UInt8]) throws(BlkfrontSubmitError) -> BlkfrontStatus? {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        let id = try submit(.write(offset: offset, from: UnsafeRawBufferPointer(buffer)))
        return wait(id)
    }
}

/// Bytes whose values say where they are from.
func pattern(_ length: Int, seed: UInt8) -> [UInt8] {
    (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ Int(seed) &+ $0 >> 8) }
}

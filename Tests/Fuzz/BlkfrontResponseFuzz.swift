// libFuzzer target: blkfront's response path. The input picks the disk (sector size, ring
// order, indirect segments, persistent grants, flush and discard) and then plays blkback on the
// shared ring: it answers requests (echoing their ids and operations or not, any status), writes
// any response into any slot, sets the response producer to anything, maps and unmaps the
// frontend's grants, rewrites slots already answered, while the driver submits reads, writes,
// flushes and discards of sizes from the input, handles events and hands over completions
// between its moves. Nothing may crash, touch memory outside a page or a caller's buffer
// (AddressSanitizer), end a grant that does not exist, free a page still granted, complete a
// request twice or one never submitted, or go on after a violation; at the end every page is
// freed but those the backend still maps.
@_spi(Testing) import XenDevices
import XenABI

@inline(never) func check(_ condition: Bool, _ what: StaticString) { if !condition { fatalError("\(what)") } }

final class FuzzPlatform: XenPlatform {
    var pages: [UInt64: UnsafeMutableRawPointer] = [:]
    var blocks: [UInt64: UnsafeMutableRawPointer] = [:]
    var blockPages: [UnsafeMutableRawPointer: Int] = [:]
    var grants: [grant_ref_t: (frame: UInt64, mapped: Bool)] = [:]
    var nextFrame: UInt64 = 0x1000
    var nextRef: grant_ref_t = 8
    var domainID: domid_t { 1 }
    deinit {
        for (f, p) in pages where blocks[f] == nil { p.deallocate() }
        for (b, _) in blockPages { b.deallocate() }
    }

    func allocatePage() throws(XenPlatformError) -> XenPage {
        let p = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
        nextFrame += 1
        pages[nextFrame] = p
        return XenPage(address: p, frame: nextFrame)
    }
    func allocateContiguousPages(_ count: Int, _ take: (XenPage) -> Void) throws(XenPlatformError) {
        let base = UnsafeMutableRawPointer.allocate(byteCount: 4096 * count, alignment: 4096)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: 4096 * count)
        blockPages[base] = count
        for i in 0..<count {
            nextFrame += 1
            pages[nextFrame] = base + 4096 * i
            blocks[nextFrame] = base
            take(XenPage(address: base + 4096 * i, frame: nextFrame))
        }
    }
    func freePage(_ page: XenPage) {
        check(!grants.values.contains { $0.frame == page.frame }, "a page freed while granted")
        check(pages[page.frame] == page.address, "a page freed twice, or never allocated")
        pages[page.frame] = nil
        if let base = blocks.removeValue(forKey: page.frame) {
            blockPages[base]! -= 1
            if blockPages[base] == 0 { blockPages[base] = nil; base.deallocate() }
        } else {
            page.address.deallocate()
        }
    }
    func grantAccess(to domain: domid_t, frame: UInt64, readOnly: Bool) throws(XenPlatformError) -> grant_ref_t {
        check(pages[frame] != nil, "a grant of a page not allocated")
        check(!grants.values.contains { $0.frame == frame }, "a page granted twice at once")
        nextRef += 1
        grants[nextRef] = (frame, false)
        return nextRef
    }
    func endAccess(_ ref: grant_ref_t) -> XenGrantEnd {
        guard let g = grants[ref] else { check(false, "ending a grant that does not exist"); return .ended }
        if g.mapped { return .stillMapped }
        grants[ref] = nil
        return .ended
    }
    func mapGrant(from domain: domid_t, ref: grant_ref_t, readOnly: Bool) throws(XenPlatformError) -> XenGrantMapping { throw .unsupported }
    func unmapGrant(_ mapping: XenGrantMapping) throws(XenPlatformError) { throw .unsupported }
    func copyGrant(from source: XenGrantCopyEnd, to destination: XenGrantCopyEnd, length: UInt16) throws(XenPlatformError) { throw .unsupported }
    func allocateUnboundPort(for remote: domid_t) throws(XenPlatformError) -> evtchn_port_t { 3 }
    func bindInterdomain(remote: domid_t, remotePort: evtchn_port_t) throws(XenPlatformError) -> evtchn_port_t { 4 }
    func notify(_ port: evtchn_port_t) {}
    func closePort(_ port: evtchn_port_t) {}
    func now() -> UInt64 { 0 }
}

/// The input, read a byte at a time; zeros once it is used up.
struct Input {
    let data: UnsafeBufferPointer<UInt8>
    var at = 0
    var done: Bool { at >= data.count }
    mutating func byte() -> UInt8 { defer { at += 1 }; return at < data.count ? data[at] : 0 }
    mutating func u16() -> UInt16 { UInt16(byte()) | UInt16(byte()) << 8 }
    mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }
    mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }
}

/// The ring as blkback writes it.
struct Ring {
    let base: UnsafeMutableRawPointer
    let size: RING_IDX
    func slot(_ i: RING_IDX) -> UnsafeMutableRawPointer { base + blkif_ring.entriesOffset + Int(i & (size - 1)) * blkif_ring.entryStride }
    var requestProducer: RING_IDX { (base + blkif_ring.requestProducerOffset).load(as: RING_IDX.self) }
    func setResponseProducer(_ v: RING_IDX) { (base + blkif_ring.responseProducerOffset).storeBytes(of: v, as: RING_IDX.self) }
}

func decimal(_ v: UInt64) -> [UInt8] { var b: [UInt8] = []; b.appendDecimal(v); return b }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var input = Input(data: UnsafeBufferPointer(start: data, count: size))
    let platform = FuzzPlatform()
    let config = input.byte(), features = input.byte()
    let order = Int(config % 3)
    let pool = Int(input.byte() % 48) + 1
    let sectorSize: UInt64 = config & 0x4 == 0 ? 512 : 4096
    let sectors: UInt64 = 1024 + UInt64(input.u16())
    // The disk's keys in XenBusDeviceKind.vbd.keysAtConnect's order.
    var values: [[UInt8]?] = Array(repeating: nil, count: 13)
    values[0] = decimal(sectors); values[1] = decimal(UInt64(config >> 3 & 7)); values[2] = decimal(sectorSize)
    values[4] = decimal(UInt64(features & 1)); values[5] = decimal(UInt64(features >> 1 & 1)); values[6] = decimal(UInt64(features >> 2 & 1))
    values[9] = decimal(UInt64(features >> 3 & 1)); values[10] = decimal(UInt64(features >> 4 & 1))
    if features & 0x20 != 0 { values[11] = decimal(UInt64(input.byte())) }
    guard var vbd = try? XenBlkfront(path: XenStorePath("device/vbd/768"), platform: platform, bufferPages: pool) else { return 0 }
    vbd.connectWithoutXenBus(backend: 0, ringOrder: order, values)
    check(vbd.state == .connected, "not connected")
    let ring = Ring(base: vbd.sharedRing, size: RING_IDX(32 << order))
    var taken: RING_IDX = 0, made: RING_IDX = 0
    var buffers: [UInt64: UnsafeMutableRawBufferPointer] = [:]
    var submitted: UInt64 = 0, completed: UInt64 = 0
    var last: UInt64? = nil

    var steps = 0
    while !input.done, steps < 512 {
        steps += 1
        let op = input.byte()
        switch op % 10 {
        case 0, 1:  // a read or write of a size from the input (sometimes misaligned or past the end)
            let length = (Int(input.u16()) % 160 + 1) * (op & 0x80 == 0 ? 512 : 511)
            let offset = UInt64(input.u16()) * 512
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 8)
            buffer.initializeMemory(as: UInt8.self, repeating: 0x5A)
            let request: BlkfrontRequest = op % 10 == 0 ? .read(offset: offset, into: buffer) : .write(offset: offset, from: UnsafeRawBufferPointer(buffer))
            if let id = try? vbd.submit(request, tag: UInt64(length)) { buffers[id] = buffer; submitted += 1 } else { buffer.deallocate() }
        case 2:  // a flush or a discard
            let request: BlkfrontRequest = op & 0x80 == 0 ? .flush : .discard(offset: UInt64(input.u16()) * 512, length: UInt64(input.u16()) * 512, secure: op & 0x40 != 0)
            if (try? vbd.submit(request, tag: 0)) != nil { submitted += 1 }
        case 3:  // answer the next requests with their own ids, their operations (or another), a status from the input
            let n = Int(input.byte() % 8)
            for _ in 0..<n where taken != ring.requestProducer {
                let request = ring.slot(taken).loadUnaligned(as: blkif_request.self)
                taken &+= 1
                var r = blkif_response(); r.id = request.id
                r.operation = input.byte() & 0x80 == 0 ? request.operation : UInt8(truncatingIfNeeded: input.byte() % 8)
                if request.operation == UInt8(BLKIF_OP_INDIRECT) && r.operation == request.operation && op & 0x40 != 0 { r.operation = request.nr_segments }
                r.status = Int16(bitPattern: input.u16()) % 3 - 1
                ring.slot(made).storeBytes(of: r, as: blkif_response.self)
                made &+= 1
            }
            ring.setResponseProducer(made)
        case 4:  // a raw response at the next slot, published
            var r = blkif_response(); r.id = UInt64(input.byte()) | (op & 0x80 == 0 ? 0 : input.u64()); r.operation = input.byte(); r.status = Int16(bitPattern: input.u16())
            ring.slot(made).storeBytes(of: r, as: blkif_response.self)
            made &+= 1
            ring.setResponseProducer(made)
        case 5:  // any producer index
            ring.setResponseProducer(op & 0x80 == 0 ? made &+ RING_IDX(input.byte()) : input.u32())
        case 6:
            _ = vbd.handleEvent()
        case 7:  // take completions
            while let c = vbd.takeCompletion() {
                check(last.map { c.id > $0 } ?? true, "a completion twice, or out of order")
                last = c.id
                completed += 1
                if let b = buffers.removeValue(forKey: c.id) { b.deallocate() }
            }
        case 8:  // the backend maps (or lets go of) one of the grants
            let refs = platform.grants.keys.sorted()
            if !refs.isEmpty { let ref = refs[Int(input.byte()) % refs.count]; platform.grants[ref]!.mapped.toggle() }
        default:  // rewrite a slot already answered (the driver must have copied what it read)
            let back = RING_IDX(input.byte() % 4)
            ring.slot(made &- 1 &- back).storeBytes(of: input.u64(), toByteOffset: Int(op >> 4 & 1) * 8, as: UInt64.self)
        }
        check(completed <= submitted, "more completions than requests")
        check(platform.grants.count <= pool + 4, "more grants than pages")
        if vbd.failure != nil {
            check(vbd.state == .closing, "a failed vbd still open")
            check((try? vbd.submit(.flush, tag: 0)) == nil, "a failed vbd takes requests")
            check(vbd.handleEvent() == .ready, "a failed vbd does not ask for advance")
        }
    }
    let mapped = platform.grants.values.filter(\.mapped).count
    let abandoned = vbd.disconnectWithoutXenBus()
    while let c = vbd.takeCompletion() {
        check(last.map { c.id > $0 } ?? true, "a completion twice, or out of order")
        last = c.id
        completed += 1
    }
    check(completed == submitted, "a request never completed")
    for (_, b) in buffers { b.deallocate() }
    check(abandoned == mapped && platform.grants.count == mapped, "a grant left that the backend does not map")
    check(platform.pages.count == abandoned, "a page neither freed nor abandoned")
    return 0
}

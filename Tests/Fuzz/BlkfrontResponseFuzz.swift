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
// FuzzPlatform, Input, BackendRing: Support/DriverFuzzPlatform.swift; check and the platform stubs: Support/FuzzPlatformStubs.swift.
@_spi(Testing) import XenDevices
import XenABI

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
    let ring = BackendRing<blkif_ring>(base: vbd.sharedRing, size: RING_IDX(32 << order))
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

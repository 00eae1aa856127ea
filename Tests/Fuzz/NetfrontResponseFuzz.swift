// libFuzzer target: netfront's response paths. The input plays netback on the two shared ring
// pages: it answers requests (echoing their ids or not), writes any response into any slot, sets
// the response producers to anything, maps and unmaps the frontend's grants, while the driver
// transmits, handles events, receives (answering into the TX page it is handed, sometimes) and
// pushes between its moves. Nothing may crash, touch memory outside a page (AddressSanitizer),
// end a grant that does not exist, free a page still granted, hand over a frame longer than the
// limit or in a page still granted, hand out a TX page to write while it is granted, count more
// than it sent or posted, or go on after a violation; at the end every page is freed but those
// the backend still maps.
// FuzzPlatform, Input, BackendRing: Support/DriverFuzzPlatform.swift; check and the platform stubs: Support/FuzzPlatformStubs.swift.
@_spi(Testing) import XenDevices
import XenABI

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var input = Input(data: UnsafeBufferPointer(start: data, count: size))
    let platform = FuzzPlatform()
    let rxCount = Int(input.byte() % 16) + 1, txCount = Int(input.byte() % 16) + 1
    guard var vif = try? XenNetfront(path: XenStorePath("device/vif/0"), platform: platform, receiveBuffers: rxCount, transmitBuffers: txCount) else { return 0 }
    vif.connectWithoutXenBus(backend: 0)
    check(vif.state == .connected, "not connected")
    let rings = vif.sharedRings
    let tx = BackendRing<netif_tx_ring>(base: rings.tx), rx = BackendRing<netif_rx_ring>(base: rings.rx)
    // The backend's own indexes: requests taken and responses written, per ring.
    var txTaken: RING_IDX = 0, txMade: RING_IDX = 0, rxTaken: RING_IDX = 0, rxMade: RING_IDX = 0
    var sent: UInt64 = 0
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
    defer { buffer.deallocate() }
    let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: 4097, alignment: 8)
    defer { frame.deallocate() }
    frame.initializeMemory(as: UInt8.self, repeating: 0xA5)

    var steps = 0
    while !input.done, steps < 512 {
        steps += 1
        let op = input.byte()
        switch op % 10 {
        case 0:  // transmit a frame, its length from the input (sometimes one no vif takes)
            let length = Int(input.u16()) % 4098
            let blank = op & 0x80 != 0
            if let ok = try? vif.transmit(checksumBlank: blank, building: { page in
                check(page.count == 4096 && !platform.isGranted(page.baseAddress), "a TX page handed out while granted")
                page.copyMemory(from: UnsafeRawBufferPointer(rebasing: frame[0..<min(length, 4096)]))
                return length
            }), ok { sent += 1 }
            if op & 0x40 != 0 { vif.push() }
        case 1:  // answer the next TX requests with their own ids and a status from the input
            let n = Int(input.byte() % 8)
            for _ in 0..<n where txTaken != tx.requestProducer {
                let request = tx.slot(txTaken).loadUnaligned(as: netif_tx_request.self)
                txTaken &+= 1
                var r = netif_tx_response(); r.id = request.id; r.status = Int16(bitPattern: input.u16()) % 3 - 1
                tx.slot(txMade).storeBytes(of: r, as: netif_tx_response.self)
                txMade &+= 1
            }
            tx.setResponseProducer(txMade)
        case 2:  // answer the next RX requests with their ids, and offset, flags, status from the input
            let n = Int(input.byte() % 8)
            for _ in 0..<n where rxTaken != rx.requestProducer {
                let request = rx.slot(rxTaken).loadUnaligned(as: netif_rx_request.self)
                rxTaken &+= 1
                var r = netif_rx_response(); r.id = request.id
                r.offset = input.u16() % 4200; r.flags = UInt16(input.byte() & 0x1f); r.status = Int16(bitPattern: input.u16()) % 4200
                rx.slot(rxMade).storeBytes(of: r, as: netif_rx_response.self)
                rxMade &+= 1
            }
            rx.setResponseProducer(rxMade)
        case 3:  // a raw TX response at the next slot, published
            var r = netif_tx_response(); r.id = input.u16(); r.status = Int16(bitPattern: input.u16())
            tx.slot(txMade).storeBytes(of: r, as: netif_tx_response.self)
            txMade &+= 1
            tx.setResponseProducer(txMade)
        case 4:  // a raw RX response at the next slot, published
            var r = netif_rx_response(); r.id = input.u16(); r.offset = input.u16(); r.flags = input.u16(); r.status = Int16(bitPattern: input.u16())
            rx.slot(rxMade).storeBytes(of: r, as: netif_rx_response.self)
            rxMade &+= 1
            rx.setResponseProducer(rxMade)
        case 5:  // any producer index
            let v = input.u32()
            if op & 0x80 == 0 { tx.setResponseProducer(v) } else { rx.setResponseProducer(v) }
        case 6:
            _ = vif.handleEvent()
        case 7:  // receive with a limit from the input, answering with a length from it (a spare sometimes)
            let limit = Int(input.u16()) % 4097
            let answer = Int(input.u16()) % 4200
            let spare = op & 0x80 != 0 ? buffer : nil
            let freeBefore = vif.transmitBuffersFree
            let handled = vif.receive(limit: limit, spare: spare) { f, info, reply in
                check(f.count == info.length && f.count > 0 && f.count <= limit, "a frame longer than the limit, or empty")
                check(!platform.isGranted(f.baseAddress), "a frame handed over in a page still granted")
                check(!platform.isGranted(reply.baseAddress), "a reply page granted while written")
                check(reply.count == 4096 || reply.count == (spare?.count ?? 0), "a reply buffer neither a page nor the spare")
                var s = 0
                for b in f { s &+= Int(b) }  // the frame read whole (AddressSanitizer)
                let n = min(answer, reply.count)
                if n > 0 { reply[n - 1] = UInt8(truncatingIfNeeded: s) }  // the reply's last byte written
                return NetReply(length: min(answer, reply.count), checksumBlank: s & 1 == 0)
            }
            if handled && answer >= 14 && freeBefore > 0 { sent += 1 }
            if op & 0x40 != 0 { vif.push() }
        case 8:  // the backend maps (or lets go of) one of the grants
            let refs = platform.grants.keys.sorted()
            if !refs.isEmpty { let ref = refs[Int(input.byte()) % refs.count]; platform.grants[ref]!.mapped.toggle() }
        default:  // rewrite a slot already answered (the driver must have copied what it read)
            let back = RING_IDX(input.byte() % 4)
            if op & 0x80 == 0 { tx.slot(txMade &- 1 &- back).storeBytes(of: input.u32(), as: UInt32.self) }
            else { rx.slot(rxMade &- 1 &- back).storeBytes(of: UInt64(input.u32()) | UInt64(input.u32()) << 32, as: UInt64.self) }
        }
        let c = vif.counters
        // Each TX answer counted frees a frame in flight; each frame received used a buffer posted
        // (a producer set by hand makes stale slots responses, so what the input wrote is no bound).
        check(c.framesOut + c.txDropped + c.txErrors <= sent, "more TX answers counted than frames sent")
        check(c.framesIn <= UInt64(rx.requestProducer), "more frames received than buffers posted")
        check(platform.grants.count <= 2 + rxCount + txCount, "more grants than buffers and rings")
        if vif.failure != nil {
            check(vif.state == .closing, "a failed vif still open")
            check(!vif.receive { _, _, _ in check(false, "a frame from a failed vif"); return NetReply(length: 0) }, "a frame from a failed vif")
            check((try? vif.transmit { _ in 60 }) == nil, "a failed vif transmits")
        }
    }
    let mapped = platform.grants.values.filter(\.mapped).count
    let abandoned = vif.disconnectWithoutXenBus()
    check(abandoned == mapped && platform.grants.count == mapped, "a grant left that the backend does not map")
    check(platform.pages.count == abandoned, "a page neither freed nor abandoned")
    return 0
}

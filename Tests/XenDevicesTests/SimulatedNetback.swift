// Linux 6.1's netback as a frontend meets it, over the simulated platform and xenstored. What it
// writes at probe and what it reads at connect follow drivers/net/xen-netback/xenbus.c
// (netback_probe, connect, connect_data_rings, read_xenbus_vif_flags); the keys libxl writes
// first follow libxl_nic.c (written by SimulatedLibxlDevice). It maps both ring grants as netback
// does (so a frontend that ends them early gets `.stillMapped`), takes TX requests and answers
// them, and puts RX frames into posted buffers by grant copy (rx-copy). Whatever a frontend does
// that netback would refuse is recorded in `complaints`. A test plays a hostile netback through
// the raw ring accessors: any response, any producer index, at any time.
import XenABI
@testable import XenDevices

/// A ring's shared page as the back end touches it: no checks, so a test can write anything.
struct RawRing<Layout: XenRingLayout> {
    let base: UnsafeMutableRawPointer
    /// A one-page ring's entries unless told (a multi-page blkif ring has more).
    var size: RING_IDX = Layout.pageRingSize
    func index(_ offset: Int) -> RING_IDX { (base + offset).load(as: RING_IDX.self) }
    func setIndex(_ offset: Int, _ value: RING_IDX) { (base + offset).storeBytes(of: value, as: RING_IDX.self) }
    var requestProducer: RING_IDX { index(Layout.requestProducerOffset) }
    var responseProducer: RING_IDX {
        get { index(Layout.responseProducerOffset) }
        nonmutating set { setIndex(Layout.responseProducerOffset, newValue) }
    }
    var responseEvent: RING_IDX { index(Layout.responseEventOffset) }
    var requestEvent: RING_IDX {
        get { index(Layout.requestEventOffset) }
        nonmutating set { setIndex(Layout.requestEventOffset, newValue) }
    }
    func slot(_ i: RING_IDX) -> UnsafeMutableRawPointer { base + Layout.entriesOffset + Int(i & (size - 1)) * Layout.entryStride }
    func request(_ i: RING_IDX) -> Layout.Request { slot(i).loadUnaligned(as: Layout.Request.self) }
    func setResponse(_ r: Layout.Response, at i: RING_IDX) { slot(i).storeBytes(of: r, as: Layout.Response.self) }
}

func txResponse(id: UInt16, status: Int16) -> netif_tx_response {
    var r = netif_tx_response(); r.id = id; r.status = status; return r
}

func rxResponse(id: UInt16, offset: UInt16 = 0, flags: UInt16 = 0, status: Int16) -> netif_rx_response {
    var r = netif_rx_response(); r.id = id; r.offset = offset; r.flags = flags; r.status = status; return r
}

final class SimulatedNetback: SimulatedLibxlDevice {
    /// What netback writes at probe (netback_probe), before InitWait.
    static let probeKeys: [(String, String)] = [
        ("feature-sg", "1"), ("feature-gso-tcpv4", "1"), ("feature-gso-tcpv6", "1"),
        ("feature-ipv6-csum-offload", "1"), ("feature-rx-copy", "1"), ("feature-xdp-headroom", "1"),
        ("feature-rx-flip", "0"), ("feature-multicast-control", "1"), ("feature-dynamic-multicast-control", "1"),
        ("feature-split-event-channels", "1"), ("multi-queue-max-queues", "2"), ("feature-ctrl-ring", "1"),
    ]

    /// The frontend's flags as read_xenbus_vif_flags reads them.
    var flags: [String: String] = [:]
    var txRingRef: grant_ref_t = 0, rxRingRef: grant_ref_t = 0
    var txMap: XenGrantMapping?, rxMap: XenGrantMapping?
    var tx: RawRing<netif_tx_ring>?
    var rx: RawRing<netif_rx_ring>?
    var txRequestsTaken: RING_IDX = 0, txResponsesMade: RING_IDX = 0
    var rxRequestsTaken: RING_IDX = 0, rxResponsesMade: RING_IDX = 0
    /// Frames the frontend sent, in order.
    var sent: [[UInt8]] = []
    /// The TX requests taken, in order, and the frames of their grants.
    var txRequests: [(request: netif_tx_request, frame: UInt64)] = []
    /// Whether to answer TX requests as they are taken (otherwise `answerTx` does).
    var answersTx = true

    /// libxl's keys for a new vif, then netback's probe: its features and InitWait.
    init(daemon: SimulatedXenStored, platform: SimulatedPlatform, id: Int = 0, mac: String? = "00:16:3e:5a:01:02",
         trusted: String? = "1", omit: Set<String> = [], override: [String: String] = [:], initWait: Bool = true) {
        super.init(daemon: daemon, platform: platform, kind: "vif", id: id,
                   backendKeys: [("mac", mac ?? "00:16:3e:5a:01:02"), ("bridge", "xenbr0"), ("handle", "\(id)"),
                                 ("script", "/etc/xen/scripts/vif-bridge"), ("hotplug-status", "")],
                   frontendKeys: [("handle", "\(id)")] + (mac.map { [("mac", $0)] } ?? []), trusted: trusted)
        for (key, value) in Self.probeKeys where !omit.contains(key) { daemon.set("\(dir)/\(key)", override[key] ?? value) }
        // libxl's keys that netback does not write, when a test gives them.
        for (key, value) in override where !Self.probeKeys.contains(where: { $0.0 == key }) { daemon.set("\(dir)/\(key)", value) }
        if initWait { self.initWait() }
    }

    /// Follows the frontend's state as netback's frontend_changed does.
    func step() {
        guard !gone else { return }
        switch value("state") {
        case "4" where !connected && backendState != "5":
            connect()
        case "5":
            disconnect()
            enter("5")
        case "6":
            disconnect()
            enter("6")
        default:
            break
        }
        if connected { takeTransmitted() }
    }

    /// connect(): one queue unless multi-queue-num-queues says more, the frontend's flags, the
    /// rings mapped, and Connected once the hotplug script has run (at once here).
    func connect() {
        if let queues = value("multi-queue-num-queues"), queues != "1" { complaints.append("multi-queue-num-queues \(queues)") }
        guard let t = value("tx-ring-ref").flatMap(UInt32.init), let r = value("rx-ring-ref").flatMap(UInt32.init) else {
            complaints.append("reading ring-ref"); return
        }
        if value("event-channel-tx") != nil || value("event-channel-rx") != nil { complaints.append("split event channels") }
        guard let port = frontendEventChannel() else { return }
        // read_xenbus_vif_flags: request-rx-copy must be a nonzero %u.
        guard let copy = value("request-rx-copy").flatMap(UInt32.init), copy != 0 else { complaints.append("request-rx-copy"); return }
        for key in ["feature-rx-notify", "feature-sg", "feature-gso-tcpv4", "feature-gso-tcpv6", "feature-no-csum-offload", "feature-ipv6-csum-offload", "feature-xdp"] {
            if let v = value(key) { flags[key] = v }
        }
        guard boundToBackend(port) else { return }
        do {
            txMap = try platform.mapGrant(from: daemon.domainID, ref: t, readOnly: false)
            rxMap = try platform.mapGrant(from: daemon.domainID, ref: r, readOnly: false)
        } catch {
            complaints.append("mapping shared-frames \(t)/\(r)"); return
        }
        if platform.grants[t]!.readOnly || platform.grants[r]!.readOnly { complaints.append("a ring granted read-only") }
        txRingRef = t; rxRingRef = r
        tx = RawRing(base: txMap!.address)
        rx = RawRing(base: rxMap!.address)
        daemon.set("\(dir)/hotplug-status", "connected")
        finishConnect(port: port)
    }

    /// backend_disconnect: the rings unmapped.
    override func disconnect() {
        if let m = txMap { try? platform.unmapGrant(m); txMap = nil }
        if let m = rxMap { try? platform.unmapGrant(m); rxMap = nil }
        tx = nil; rx = nil
        super.disconnect()
    }

    // MARK: TX

    /// Takes every TX request published, checks it as netback's xenvif_tx_build_gops would,
    /// reads its frame through the grant, and (when `answersTx`) answers it OKAY.
    func takeTransmitted() {
        guard let tx else { return }
        while txRequestsTaken != tx.requestProducer {
            let request = tx.request(txRequestsTaken)
            txRequestsTaken &+= 1
            guard let grant = platform.grants[request.gref], grant.domain == domain, let page = platform.pages[grant.frame] else {
                complaints.append("TX gref \(request.gref) not granted to us"); continue
            }
            if !grant.readOnly { complaints.append("TX page granted writable") }
            if request.size < 14 { complaints.append("TX size \(request.size)") }
            if Int(request.offset) + Int(request.size) > 4096 { complaints.append("TX crosses its page") }
            let frame = Array(UnsafeRawBufferPointer(start: page + Int(request.offset), count: Int(request.size)))
            let blank = UInt16(NETTXF_csum_blank | NETTXF_data_validated)
            if request.flags == blank {
                checkPartialChecksum(frame)
            } else if request.flags != 0 {
                complaints.append("TX flags \(request.flags)")
            }
            sent.append(frame)
            txRequests.append((request, grant.frame))
            if answersTx { answerTx(txResponse(id: request.id, status: NETIF_RSP_OKAY)) }
        }
    }

    /// A frame sent NETTXF_csum_blank: netback's checksum_setup (without recalculation) takes
    /// only IPv4 TCP or UDP, and leaves the field as the frontend wrote it, so it must hold the
    /// pseudo-header's sum (addresses, protocol, UDP length), folded and not complemented.
    func checkPartialChecksum(_ f: [UInt8]) {
        guard f.count >= 42, f[12] == 0x08, f[13] == 0x00, f[14] >> 4 == 4, f[23] == 17 else {
            complaints.append("TX csum_blank on a frame that is not IPv4 UDP"); return
        }
        let l4 = 14 + Int(f[14] & 0x0F) * 4
        guard l4 + 8 <= f.count else { complaints.append("TX csum_blank, UDP header cut short"); return }
        var sum = 17 + (Int(f[l4 + 4]) << 8 | Int(f[l4 + 5]))
        for i in stride(from: 26, to: 34, by: 2) { sum += Int(f[i]) << 8 | Int(f[i + 1]) }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        let field = Int(f[l4 + 6]) << 8 | Int(f[l4 + 7])
        if field != sum { complaints.append("TX csum_blank, field \(field) is not the pseudo-header sum \(sum)") }
        blankSent += 1
    }
    /// Frames sent with a partial checksum that checkPartialChecksum accepted.
    var blankSent = 0

    /// Writes a TX response in the next slot and publishes it.
    func answerTx(_ response: netif_tx_response, publish: Bool = true) {
        guard let tx else { return }
        tx.setResponse(response, at: txResponsesMade)
        txResponsesMade &+= 1
        if publish { tx.responseProducer = txResponsesMade }
    }

    // MARK: RX

    /// The RX requests posted and not yet taken.
    var rxPosted: Int { rx.map { Int($0.requestProducer &- rxRequestsTaken) } ?? 0 }

    /// Takes the next posted buffer (nil when none), as netback does before copying into it.
    func takeRxRequest() -> netif_rx_request? {
        guard let rx, rxRequestsTaken != rx.requestProducer else { return nil }
        let request = rx.request(rxRequestsTaken)
        rxRequestsTaken &+= 1
        return request
    }

    /// A frame into the next posted buffer by grant copy, answered with its size: false when no
    /// buffer is posted.
    @discardableResult
    func deliver(_ frame: [UInt8], flags: UInt16 = 0, offset: UInt16 = 0) -> Bool {
        guard let request = takeRxRequest() else { return false }
        guard let grant = platform.grants[request.gref], grant.domain == domain, !grant.readOnly, let page = platform.pages[grant.frame] else {
            complaints.append("RX gref \(request.gref) not granted writable to us"); return false
        }
        frame.withUnsafeBytes { (page + Int(offset)).copyMemory(from: $0.baseAddress!, byteCount: frame.count) }
        answerRx(rxResponse(id: request.id, offset: offset, flags: flags, status: Int16(frame.count)))
        return true
    }

    /// Writes an RX response in the next slot and publishes it.
    func answerRx(_ response: netif_rx_response, publish: Bool = true) {
        guard let rx else { return }
        rx.setResponse(response, at: rxResponsesMade)
        rxResponsesMade &+= 1
        if publish { rx.responseProducer = rxResponsesMade }
    }
}

/// A vif against the simulated netback: the store, the daemon, the platform, the driver.
final class VifRig: SimulatedDeviceRig {
    var s: Connected
    var vif: XenNetfront<SimulatedPlatform>
    let netback: SimulatedNetback
    var platform: SimulatedPlatform { s.platform }
    var daemon: SimulatedXenStored { s.daemon }
    /// The pages the platform had before the driver took any.
    let pagesBefore: Int

    init(receiveBuffers: Int = 8, transmitBuffers: Int = 8, mac: String? = "00:16:3e:5a:01:02", trusted: String? = "1",
         omit: Set<String> = [], override: [String: String] = [:], initWait: Bool = true) {
        s = Connected()
        netback = SimulatedNetback(daemon: s.daemon, platform: s.platform, mac: mac, trusted: trusted, omit: omit, override: override, initWait: initWait)
        pagesBefore = s.platform.pages.count
        vif = try! XenNetfront(path: path("device/vif/0"), platform: s.platform, receiveBuffers: receiveBuffers, transmitBuffers: transmitBuffers)
    }

    var backend: SimulatedLibxlDevice { netback }
    var driverConnected: Bool { vif.state == .connected }
    var driverClosed: Bool { vif.state == .closed }

    func round() -> XenWait {
        s.pump(rounds: 2)
        let wait = vif.advance(store: &s.client)
        netback.step()
        return wait.sooner(vif.handleEvent())
    }

    /// Every frame `receive` hands over now (one round's budget at most), with its checksum's
    /// state, answering none; then `push` (unless told not to).
    func receive(limit: Int = 4096, push: Bool = true) -> [(bytes: [UInt8], checksum: NetChecksum)] {
        var out: [(bytes: [UInt8], checksum: NetChecksum)] = []
        while vif.receive(limit: limit, { frame, info, _ in
            out.append((Array(frame), info.checksum))
            return NetReply(length: 0)
        }) {}
        if push { vif.push() }
        return out
    }

    /// Sends `frame` through `transmit(building:)`, then `push` (unless told not to).
    func transmit(_ frame: [UInt8], checksumBlank: Bool = false, push: Bool = true) throws(NetfrontTransmitError) -> Bool {
        let sent = try vif.transmit(checksumBlank: checksumBlank) { page in
            page.copyBytes(from: frame.prefix(page.count))
            return frame.count
        }
        if push { vif.push() }
        return sent
    }

    /// The frame (page number) of a page the platform handed out, by its address.
    func frame(of address: UnsafeRawPointer?) -> UInt64? {
        platform.pages.first { UnsafeRawPointer($0.value) == address }?.key
    }

    /// Whether the page at `address` is granted to anyone now.
    func isGranted(_ address: UnsafeRawPointer?) -> Bool {
        guard let frame = frame(of: address) else { return false }
        return platform.grants.values.contains { $0.frame == frame }
    }

    func handleEvent() -> XenWait { vif.handleEvent() }
}

/// A frame of `length` bytes whose bytes say which it is.
func testFrame(_ length: Int, seed: UInt8) -> [UInt8] {
    (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) }
}

// Every generic driver of XenDevices specialised over a stand-in platform, so that scripts/test
// compiles all of them in Embedded Swift for x86_64-unknown-none-elf (generic code is only
// compiled where it is specialised) and the objects show what the kernel will pay for them.
import XenABI
import XenDevices

public struct ProbePlatform: XenPlatform {
    public init() {}
    public var domainID: domid_t { 1 }
    @inline(never) public func allocatePage() throws(XenPlatformError) -> XenPage { throw .outOfPages }
    @inline(never) public func freePage(_ page: XenPage) {}
    @inline(never) public func grantAccess(to domain: domid_t, frame: UInt64, readOnly: Bool) throws(XenPlatformError) -> grant_ref_t { 8 }
    @inline(never) public func endAccess(_ ref: grant_ref_t) -> XenGrantEnd { .ended }
    @inline(never) public func mapGrant(from domain: domid_t, ref: grant_ref_t, readOnly: Bool) throws(XenPlatformError) -> XenGrantMapping { throw .unsupported }
    @inline(never) public func unmapGrant(_ mapping: XenGrantMapping) throws(XenPlatformError) { throw .unsupported }
    @inline(never) public func copyGrant(from source: XenGrantCopyEnd, to destination: XenGrantCopyEnd, length: UInt16) throws(XenPlatformError) { throw .unsupported }
    @inline(never) public func allocateUnboundPort(for remote: domid_t) throws(XenPlatformError) -> evtchn_port_t { 3 }
    @inline(never) public func bindInterdomain(remote: domid_t, remotePort: evtchn_port_t) throws(XenPlatformError) -> evtchn_port_t { 4 }
    @inline(never) public func notify(_ port: evtchn_port_t) {}
    @inline(never) public func closePort(_ port: evtchn_port_t) {}
    @inline(never) public func now() -> UInt64 { 0 }
}

/// What a kernel's event loop does with the store port and two vifs.
public func probeXenStoreAndXenBus(_ page: UnsafeMutableRawPointer) -> Bool {
    guard var store = try? XenStoreClient(interface: page, port: 1, platform: ProbePlatform()) else { return false }
    var discovery = XenBusDiscovery(kind: .vif)
    var vif = XenBusFrontend(kind: .vif, path: XenStorePath("device/vif/0"))
    var vbd = XenBusFrontend(kind: .vbd, path: XenStorePath("device/vbd/768"))
    var transaction = XenStoreTransaction([.write(XenStorePath("data/x"), [UInt8]("1"))])
    var listing = XenStoreDirectoryListing(XenStorePath("device"))
    var control = XenBusControl()
    try? control.start(store: &store)
    var wait = store.handleEvent()
    wait = wait.sooner(discovery.advance(store: &store))
    wait = wait.sooner(vif.advance(store: &store))
    wait = wait.sooner(vbd.advance(store: &store))
    wait = wait.sooner(control.advance(store: &store))
    if control.requested == .reboot, control.takeEvent() != nil { wait = .ready }
    while let change = discovery.takeChange() { if case .added = change { wait = .ready } }
    while let action = vif.takeAction() {
        if case .publish = action { try? vif.publish([([UInt8]("tx-ring-ref"), [UInt8]("8"))]) }
        if case .closing = action { vif.released() }
    }
    if case .committed = transaction.advance(store: &store) { wait = .ready }
    if case .listed(let names) = listing.advance(store: &store), !names.isEmpty { wait = .ready }
    if let id = try? store.submit(.read(XenStorePath("name"))), case .success(.value(let v))? = store.takeReply(id) { return v.isEmpty }
    return wait == .event
}

public func probeXenConsole(_ page: UnsafeMutableRawPointer, _ bytes: UnsafeRawBufferPointer, _ input: UnsafeMutableRawBufferPointer) -> Int {
    guard var console = try? XenConsole(interface: page, port: 2, platform: ProbePlatform()) else { return -1 }
    _ = console.write(bytes)
    _ = console.handleEvent()
    return console.read(into: input) + Int(console.bytesLost)
}

/// What netfront's receive path does with each frame, and the announcement when the vif connects.
public func probeNetStack(_ frame: UnsafeRawBufferPointer, _ reply: UnsafeMutableRawBufferPointer, _ now: UInt64) -> Int {
    var stack = NetStack(NetConfiguration(mac: MACAddress(value: 0x0016_3E00_0002), address: IPv4Address(value: 0x0A00_0002),
                                          netmask: IPv4Address(value: 0xFFFF_FF00), gateway: IPv4Address(value: 0x0A00_0001), udpEchoPort: 7))
    var n = stack.announce(into: reply)
    n += stack.receive(frame, checksum: now & 1 == 0 ? .validated : .blank, now: now, reply: reply).length
    return n + Int(stack.counters.dropped)
}

/// What a kernel's event loop does with a vif: the handshake, then frames both ways.
public func probeNetfront(_ storePage: UnsafeMutableRawPointer, _ frame: UnsafeMutableRawBufferPointer) -> Int {
    guard var store = try? XenStoreClient(interface: storePage, port: 1, platform: ProbePlatform()),
          var vif = try? XenNetfront(path: XenStorePath("device/vif/0"), platform: ProbePlatform()) else { return -1 }
    var wait = store.handleEvent()
    wait = wait.sooner(vif.advance(store: &store))
    wait = wait.sooner(vif.handleEvent())
    var received = 0
    while vif.receive(spare: frame, { f, info, reply in
        received += f.count + (info.checksum == .validated ? 1 : 0)
        return NetReply(length: min(reply.count, f.count))
    }) {}
    if (try? vif.transmit { $0.count }) == true { received += 1 }
    vif.push()
    if let failure = vif.failure { received += failure.reason.utf8CodeUnitCount + Int(failure.detail ?? 0) }
    if vif.state == .closed, wait == .event { return Int(vif.counters.framesIn) + (vif.mac.map { Int($0[0]) } ?? 0) }
    if received > 1500 { vif.close() }
    return received
}

/// What a kernel's event loop does with a vbd: the handshake, then reads, writes, a flush.
public func probeBlkfront(_ storePage: UnsafeMutableRawPointer, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
    guard var store = try? XenStoreClient(interface: storePage, port: 1, platform: ProbePlatform()),
          var vbd = try? XenBlkfront(path: XenStorePath("device/vbd/768"), platform: ProbePlatform()) else { return -1 }
    var wait = store.handleEvent()
    wait = wait.sooner(vbd.advance(store: &store))
    wait = wait.sooner(vbd.handleEvent())
    var done = 0
    _ = try? vbd.submit(.read(offset: 0, into: buffer), tag: 1)
    _ = try? vbd.submit(.write(offset: 4096, from: UnsafeRawBufferPointer(buffer)), tag: 2)
    _ = try? vbd.submit(.flush, tag: 3)
    _ = try? vbd.submit(.discard(offset: 0, length: 4096, secure: false), tag: 4)
    while let c = vbd.takeCompletion() { done += Int(c.tag) + (c.status == .okay ? 1 : 0) }
    if let failure = vbd.failure { done += failure.reason.utf8CodeUnitCount + Int(failure.detail ?? 0) }
    if vbd.state == .closed, wait == .event { return Int(vbd.disk.sectors) + (vbd.trusted == true ? 1 : 0) }
    if done > 1500 { vbd.close() }
    return done
}

// The vifs the toolstack gives this domU, at boot or later: each a XenNetfront (XenDevices) with
// a NetStack answering on it (ARP, ping, the UDP echo port), one event-loop owner per vif that
// runs on its port and after each round of the store; a vif detached is closed, reported and its
// owner released. The address is the backend's `ip` key (xl's `vif = ['ip=...']`); the command line's `netmask=` (default 255.255.255.0), `gw=` and
// `echo=PORT` (the UDP echo port, none by default) apply to every vif.
import XenABI
import XenDevices

final class Vif {
    var front: XenNetfront<GuestPlatform>
    var stack: NetStack? = nil
    var life: DeviceLifecycle
    var id: UInt32 { life.id }
    /// Since when frames have waited with every TX buffer in flight (0: a buffer is free).
    var txFullSince: UInt64 = 0
    /// Rounds that left frames on the ring for want of a TX buffer, and frames taken anyway
    /// because their hold ran out (their replies counted in netfront's tx-full).
    var held: UInt64 = 0
    var holdsExpired: UInt64 = 0
    init(_ front: consuming XenNetfront<GuestPlatform>, id: UInt32) { self.front = front; life = DeviceLifecycle(Network.label, id: id) }
}

enum Network {
    nonisolated(unsafe) static var vifs: [Vif] = []
    /// `device/vif`, watched: vifs present at boot and attached later (xl network-attach) are
    /// found the same way, and one the toolstack removes is closed and forgotten.
    nonisolated(unsafe) static var discovery = XenBusDiscovery(kind: .vif)
    nonisolated(unsafe) static var owner = -1
    /// `data/net-report`, which dom0 writes to have every vif's counters printed (tagged with
    /// the value written), and the read of its value.
    nonisolated(unsafe) static var reportWatch: XenStoreWatchID?
    nonisolated(unsafe) static var reportRead: XenStoreRequestID?
    /// Where a reply is written when every TX buffer is in flight (and so not sent): the
    /// kernel's own page, never granted. Frames are otherwise read in their RX page and answered
    /// in a TX page.
    nonisolated(unsafe) static var spare = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    static var label: StaticString { "guest: net: vif " }
    static var reportKey: XenStorePath { XenStorePath("data/net-report") }
    /// How long received frames wait for a free TX buffer (nanoseconds): longer than dom0 may
    /// stall under load (tens of ms under QEMU's TCG; 10 ms was measured too short), far
    /// shorter than netback's own 10 s before it drops what waits for the guest.
    static var holdLimit: UInt64 { 500_000_000 }

    /// Starts watching for vifs; each found gets a netfront, its stack and an owner of its own.
    static func start() {
        guard let a = PageAllocator.allocate() else { Console.write("guest: net: no page for replies\n"); return }
        spare = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: Boot.address(ofPFN: a)), count: Boot.pageSize)
        owner = Store.startOwner { _ in discover() }
    }

    /// The discovery owner: vifs added and removed, and report requests.
    static func discover() -> Progress {
        let wait = discovery.advance(store: &Store.client!)
        while let change = discovery.takeChange() {
            switch change {
            case .added(let id, let path): add(id, path)
            case .removed(let id):
                // The toolstack removes the directory once the vif has closed (xl network-detach);
                // one still open here was torn away: close it from this side.
                for vif in vifs where vif.id == id && vif.front.state != .closed {
                    vif.front.close()
                    EventLoop.schedule(vif.life.owner)
                }
            }
        }
        followReports()
        return EventLoop.progress(owner, after: wait)
    }

    static func add(_ id: UInt32, _ path: XenStorePath) {
        let front: XenNetfront<GuestPlatform>
        do { front = try XenNetfront(path: path, platform: GuestPlatform()) } catch {
            DeviceLifecycle.writeNotStarted(label, id, error.reason)
            return
        }
        let vif = Vif(front, id: id)
        vifs.append(vif)
        vif.life.owner = Store.startOwner { _ in run(vif) }
    }

    static func commandLineAddress(_ key: StaticString) -> IPv4Address? {
        guard let v = CommandLine.value(key) else { return nil }
        return IPv4Address(parsing: Array(v))
    }

    /// One call of a vif's owner: the handshake, the port's events, every frame waiting.
    static func run(_ vif: Vif) -> Progress {
        var wait = vif.front.advance(store: &Store.client!)
        if vif.stack == nil, vif.front.state == .connected, let mac = vif.front.mac { connected(vif, mac) }
        vif.life.track(port: vif.front.port, failure: vif.front.failure.map { ($0.reason, $0.detail) }, closing: vif.front.state == .closing)
        if vif.front.state == .closed { closed(vif); return .done }
        wait = wait.sooner(vif.front.handleEvent())
        let now = Time.now()
        // Every frame may need a reply: with every TX buffer in flight, frames wait on the ring
        // (and in netback's queue) until a TX response frees one, which the loop's next round
        // reaps; a backend that answers no TX for `holdLimit` gets its frames taken anyway, the
        // replies then dropped and counted (tx-full).
        while true {
            if vif.front.transmitBuffersFree > 0 {
                vif.txFullSince = 0
            } else {
                guard vif.front.framesWaiting() else { vif.txFullSince = 0; break }  // nothing to hold
                if vif.txFullSince == 0 { vif.txFullSince = now }
                if now &- vif.txFullSince < holdLimit { vif.held &+= 1; break }  // handleEvent said .ready: next round
                vif.holdsExpired &+= 1
            }
            // The frame is read in its RX page and the reply written straight into a TX page.
            guard vif.front.receive(spare: spare, { frame, f, reply in
                guard vif.stack != nil else { return NetReply(length: 0) }
                return vif.stack!.receive(frame, checksum: f.checksum, now: now, reply: reply)
            }) else { break }
        }
        vif.front.push()  // the round's replies and RX buffers, one notification at most
        return EventLoop.progress(vif.life.owner, after: wait)
    }

    /// Closed (detached, the backend gone, or a violation): its counters, and it is forgotten.
    /// A vif attached later under the same id is a new device.
    static func closed(_ vif: Vif) {
        vif.life.writeClosed()
        write(counters: vif)
        Store.endOwner(vif.life.owner)
        vifs.removeAll { $0 === vif }
    }

    static func connected(_ vif: Vif, _ mac: NetfrontMAC) {
        let netmask = commandLineAddress("netmask") ?? IPv4Address(255, 255, 255, 0)
        let gateway = commandLineAddress("gw") ?? .any
        let echo = CommandLine.value("echo").flatMap { xenParseDecimal(Array($0), maximum: 0xFFFF) }.map { UInt16($0) } ?? 0
        // The first address of the backend's `ip` key (xl writes what the vif spec's `ip=` says).
        let address = vif.front.backendIP.flatMap { IPv4Address(parsing: Array($0.prefix { $0 != 0x20 })) } ?? .any
        vif.stack = NetStack(NetConfiguration(mac: MACAddress(value: mac.rawValue), address: address, netmask: netmask, gateway: gateway, udpEchoPort: echo))
        vif.life.writeName(); Console.write(" connected, mac ")
        for i in 0..<6 { if i > 0 { Console.write(":") }; Console.write(hexByte: mac[i]) }
        Console.write(", address "); Console.write(address: address)
        Console.write(", udp echo port "); Console.write(UInt64(echo))
        if let t = vif.front.trusted { Console.write(t ? ", backend trusted=1 (treated as untrusted)" : ", backend trusted=0") }
        Console.newline()
        _ = try? vif.front.transmit { vif.stack!.announce(into: $0) }  // pushed by the handleEvent that follows
    }

    // MARK: reports

    /// Sets the watch once; after each of its events reads the key, and prints a report for a
    /// value that is there (the watch fires once when set, before dom0 has written anything).
    static func followReports() {
        guard Store.client != nil else { return }
        if reportWatch == nil { reportWatch = try? Store.client!.watch(reportKey) }
        if let w = reportWatch {
            var fired = false
            while Store.client!.takeWatchEvent(w) != nil { fired = true }
            if fired && reportRead == nil { reportRead = try? Store.client!.submit(.read(reportKey)) }
        }
        if let r = reportRead, let reply = Store.client!.takeReply(r) {
            reportRead = nil
            guard case .success(.value(let tag)) = reply, !tag.isEmpty, tag.count <= 64 else { return }
            for vif in vifs {
                Console.write("guest: net: report "); Console.write(bytes: tag)
                Console.write(" vif "); Console.write(UInt64(vif.id)); Console.write(": ")
                write(counters: vif)
            }
            Console.write("guest: net: report "); Console.write(bytes: tag); Console.write(" done\n")
        }
    }

    /// Everything counted on one vif, on one line: the stack's frames and drops by reason (only
    /// those that happened), then netfront's own.
    @inline(never) static func write(counters vif: Vif) {
        if let c = vif.stack?.counters {
            Console.write("stack received ", c.received)
            Console.write(" sent ", c.sent)
            Console.write(" udp-echoed ", c.udpEchoesSent)
            Console.write(" icmp-echoed ", c.echoRepliesSent)
            Console.write(" dropped ", c.dropped)
            for reason in NetDrop.allCases where c[reason] > 0 {
                Console.write(" "); Console.write(reason.name); Console.write("="); Console.write(c[reason])
            }
            Console.write("; ")
        }
        let n = vif.front.counters
        Console.write("netfront in ", n.framesIn)
        Console.write(" out ", n.framesOut)
        Console.write(" tx-full ", n.txFull)
        Console.write(" tx-dropped ", n.txDropped)
        Console.write(" tx-errors ", n.txErrors)
        Console.write(" rx-errors ", n.rxErrors)
        Console.write(" rx-empty ", n.rxEmpty)
        Console.write(" rx-still-mapped ", n.rxStillMapped)
        Console.write(" rx-multi-slot ", n.rxMultiSlot)
        Console.write(" rx-too-long ", n.rxTooLong)
        Console.write(" grants-still-mapped ", n.grantsStillMapped)
        Console.write(" pages-abandoned ", n.pagesAbandoned)
        Console.write("; held ", vif.held); Console.write(" expired ", vif.holdsExpired)
        Console.newline()
    }
}

extension Console {
    @inline(never) static func write(hexByte b: UInt8) {
        let digits: StaticString = "0123456789abcdef"
        let d = digits.utf8Start
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2) { buf in
            buf[0] = d[Int(b >> 4)]; buf[1] = d[Int(b & 15)]
            write(bytes: UnsafeBufferPointer(buf))
        }
    }

    @inline(never) static func write(address a: IPv4Address) {
        for i in 0..<4 {
            if i > 0 { write(".") }
            write(UInt64((a.value >> UInt32(24 - 8 * i)) & 0xFF))
        }
    }
}

// The vifs the toolstack gave this domU: each a XenNetfront (XenDevices) with a NetStack
// answering on it (ARP, ping, the UDP echo port), one event-loop owner per vif that runs on its
// port and after each round of the store. The address is the backend's `ip` key (xl's
// `vif = ['ip=...']`); the command line's `netmask=` (default 255.255.255.0), `gw=` and
// `echo=PORT` (the UDP echo port, none by default) apply to every vif.
import XenABI
import XenDevices

final class Vif {
    var front: XenNetfront<GuestPlatform>
    var stack: NetStack? = nil
    let id: UInt64
    var address = IPv4Address.any
    var owner = -1
    var bound = false
    var reported = false
    init(_ front: consuming XenNetfront<GuestPlatform>, id: UInt64) { self.front = front; self.id = id }
}

enum Network {
    nonisolated(unsafe) static var vifs: [Vif] = []
    /// One frame in, one frame out: a page each, the kernel's own (never granted).
    nonisolated(unsafe) static var frame = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    nonisolated(unsafe) static var reply = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    /// Starts a netfront for every `device/vif/N`; a vif that cannot start is reported and left.
    static func start() {
        guard case .success(let ids) = Store.directory(XenStorePath("device/vif")) else { return }
        guard let a = PageAllocator.allocate(), let b = PageAllocator.allocate() else { Console.write("guest: net: no pages for frame buffers\n"); return }
        frame = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: Boot.address(ofPFN: a)), count: Boot.pageSize)
        reply = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: Boot.address(ofPFN: b)), count: Boot.pageSize)
        for idBytes in ids {
            guard let id = xenParseDecimal(idBytes, maximum: 0xFFFF), let path = try? XenStorePath("device/vif").appending(idBytes) else { continue }
            let front: XenNetfront<GuestPlatform>
            do { front = try XenNetfront(path: path, platform: GuestPlatform()) } catch {
                Console.write("guest: net: vif "); Console.write(id); Console.write(" not started: "); Console.write(error.reason); Console.newline()
                continue
            }
            let vif = Vif(front, id: id)
            vif.address = backendAddress(path)
            vifs.append(vif)
            vif.owner = EventLoop.register { _ in run(vif) }
            Store.subscribe(vif.owner)
            EventLoop.schedule(vif.owner)
        }
    }

    /// The first address of the backend's `ip` key (libxl writes what the vif spec's `ip=` says).
    static func backendAddress(_ path: XenStorePath) -> IPv4Address {
        guard case .success(let backend) = Store.read(path.appending("backend")),
              let key = try? XenStorePath(validating: backend).appending("ip"),
              case .success(let ip) = Store.read(key) else { return .any }
        let first = ip.prefix { $0 != 0x20 }
        return IPv4Address(parsing: Array(first)) ?? .any
    }

    static func commandLineAddress(_ key: StaticString) -> IPv4Address? {
        guard let v = CommandLine.value(key) else { return nil }
        return IPv4Address(parsing: Array(v))
    }

    /// One call of a vif's owner: the handshake, the port's events, every frame waiting.
    static func run(_ vif: Vif) -> Progress {
        var wait = vif.front.advance(store: &Store.client!)
        if !vif.bound, let port = vif.front.port {
            do { try EventLoop.bind(port, to: vif.owner); vif.bound = true } catch { Console.write("guest: net: vif port not bound\n") }
        }
        if vif.stack == nil, vif.front.state == .connected, let mac = vif.front.mac { connected(vif, mac) }
        if let failure = vif.front.failure, !vif.reported {
            vif.reported = true
            Console.write("guest: net: vif "); Console.write(vif.id); Console.write(" stopped: "); Console.write(failure.reason)
            if let d = failure.detail { Console.write(" "); Console.write(d) }
            Console.newline()
        }
        wait = wait.sooner(vif.front.handleEvent())
        let now = Time.now()
        while let f = vif.front.receive(into: frame) {
            guard vif.stack != nil else { continue }
            let n = vif.stack!.receive(UnsafeRawBufferPointer(rebasing: frame[0..<f.length]), checksumTrusted: f.checksumTrusted, now: now, reply: reply)
            if n > 0 { _ = try? vif.front.transmit(frame: UnsafeRawBufferPointer(rebasing: reply[0..<n])) }
        }
        return EventLoop.progress(vif.owner, after: wait)
    }

    static func connected(_ vif: Vif, _ mac: NetfrontMAC) {
        let netmask = commandLineAddress("netmask") ?? IPv4Address(255, 255, 255, 0)
        let gateway = commandLineAddress("gw") ?? .any
        let echo = CommandLine.value("echo").flatMap { xenParseDecimal(Array($0), maximum: 0xFFFF) }.map { UInt16($0) } ?? 0
        vif.stack = NetStack(NetConfiguration(mac: MACAddress(value: mac.rawValue), address: vif.address, netmask: netmask, gateway: gateway, udpEchoPort: echo))
        Console.write("guest: net: vif "); Console.write(vif.id); Console.write(" connected, mac ")
        for i in 0..<6 { if i > 0 { Console.write(":") }; Console.write(hexByte: mac[i]) }
        Console.write(", address "); Console.write(address: vif.address)
        Console.write(", udp echo port "); Console.write(UInt64(echo))
        if let t = vif.front.trusted { Console.write(t ? ", backend trusted=1 (treated as untrusted)" : ", backend trusted=0") }
        Console.newline()
        let n = vif.stack!.announce(into: reply)
        if n > 0 { _ = try? vif.front.transmit(frame: UnsafeRawBufferPointer(rebasing: reply[0..<n])) }
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

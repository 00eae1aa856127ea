// The vbds the toolstack gives this domU, at boot or later (xl block-attach): each a XenBlkfront
// (XenDevices) with an event-loop owner of its own that runs on its port and after each round of
// the store; one the toolstack detaches is closed, reported and its owner released. Requests
// come from the kernel's own users (SelfTests/DiskTest.swift), which submit and take completions.
import XenABI
import XenDevices

final class Disk {
    var front: XenBlkfront<GuestPlatform>
    var life: DeviceLifecycle
    var id: UInt32 { life.id }
    var connectedReported = false
    /// The size last reported (512-byte units), to report a resize once.
    var sectorsReported: UInt64 = 0
    init(_ front: consuming XenBlkfront<GuestPlatform>, id: UInt32) { self.front = front; life = DeviceLifecycle(Block.label, id: id) }
}

enum Block {
    nonisolated(unsafe) static var disks: [Disk] = []
    /// `device/vbd`, watched: disks present at boot and attached later are found the same way.
    nonisolated(unsafe) static var discovery = XenBusDiscovery(kind: .vbd)
    nonisolated(unsafe) static var owner = -1
    static var label: StaticString { "guest: blkfront: vbd " }

    /// Starts watching for vbds; each found gets a blkfront and an owner of its own.
    static func start() {
        owner = Store.startOwner { _ in discover() }
    }

    /// The disk with this vbd id (the directory's name: xl's vdev number, e.g. 51712 for xvda).
    static func disk(_ id: UInt32) -> Disk? { disks.first { $0.id == id } }

    static func discover() -> Progress {
        let wait = discovery.advance(store: &Store.client!)
        while let change = discovery.takeChange() {
            switch change {
            case .added(let id, let path): add(id, path)
            case .removed(let id):
                // The toolstack removes the directory once the vbd has closed (xl block-detach);
                // one still open here was torn away: close it from this side.
                for disk in disks where disk.id == id && disk.front.state != .closed {
                    disk.front.close()
                    EventLoop.schedule(disk.life.owner)
                }
            }
        }
        return EventLoop.progress(owner, after: wait)
    }

    static func add(_ id: UInt32, _ path: XenStorePath) {
        let front: XenBlkfront<GuestPlatform>
        do { front = try XenBlkfront(path: path, platform: GuestPlatform()) } catch {
            DeviceLifecycle.writeNotStarted(label, id, error.reason)
            return
        }
        let disk = Disk(front, id: id)
        disks.append(disk)
        disk.life.owner = Store.startOwner { _ in run(disk) }
    }

    /// One call of a disk's owner: the handshake (or the close), then the port's responses.
    /// Completions stay queued for whoever submitted the requests.
    static func run(_ disk: Disk) -> Progress {
        var wait = disk.front.advance(store: &Store.client!)
        if !disk.connectedReported, disk.front.state == .connected {
            disk.connectedReported = true
            disk.sectorsReported = disk.front.disk.sectors
            connected(disk)
        }
        if disk.connectedReported, disk.front.state == .connected, disk.front.disk.sectors != disk.sectorsReported {
            disk.sectorsReported = disk.front.disk.sectors
            disk.life.writeName(); Console.write(" resized to ")
            Console.write(disk.sectorsReported); Console.write(" sectors\n")
        }
        disk.life.track(port: disk.front.port, failure: disk.front.failure.map { ($0.reason, $0.detail) }, closing: disk.front.state == .closing)
        if disk.front.state == .closed { closed(disk); return .done }
        wait = wait.sooner(disk.front.handleEvent())
        return EventLoop.progress(disk.life.owner, after: wait)
    }

    static func closed(_ disk: Disk) {
        let c = disk.front.counters
        disk.life.writeClosed()
        Console.write("requests ", c.requests)
        Console.write(" failed ", c.failedRequests)
        Console.write(" grants-still-mapped ", c.grantsStillMapped)
        Console.write(" pages-abandoned ", c.pagesAbandoned)
        Console.newline()
        Store.endOwner(disk.life.owner)
        disks.removeAll { $0 === disk }
    }

    /// What was negotiated, on one line.
    @inline(never) static func connected(_ disk: Disk) {
        let d = disk.front.disk
        disk.life.writeName(); Console.write(" connected, sectors ", d.sectors)
        Console.write(", sector-size ", d.sectorSize)
        Console.write(", physical ", d.physicalSectorSize)
        Console.write(d.readOnly ? ", read-only" : ", read-write")
        if d.cdrom { Console.write(", cdrom") }
        if d.removable { Console.write(", removable") }
        Console.write(", ring pages ", d.ringPages)
        Console.write(", segments ", d.maxSegments)
        Console.write(d.indirect ? " (indirect)" : " (direct)")
        Console.write(d.persistent ? ", persistent" : ", not persistent")
        Console.write(d.flush == .diskCache ? ", flush" : d.flush == .barrier ? ", barrier" : ", no flush")
        if d.discard {
            Console.write(", discard granularity "); Console.write(UInt64(d.discardGranularity))
            if d.discardSecure { Console.write(" secure") }
        } else {
            Console.write(", no discard")
        }
        if let t = disk.front.trusted { Console.write(t ? ", backend trusted=1 (treated as untrusted)" : ", backend trusted=0") }
        Console.newline()
    }
}

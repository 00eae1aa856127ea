// Finding a kind's frontends: a watch on `device/<kind>` (relative: our own domain's directory),
// and after each of its events a DIRECTORY of it, compared with what was there before. The watch
// fires once when set, so devices present at boot are found the same way as one attached later.
// The listing comes from the toolstack but is checked: names must be decimal device ids, and
// there is a bound on how many devices one kind may have.
import XenABI

public enum XenBusDiscoveryChange: Equatable {
    /// A frontend directory appeared: `path` is `device/<kind>/<id>`.
    case added(id: UInt32, path: XenStorePath)
    case removed(id: UInt32)
}

public struct XenBusDiscovery: ~Copyable {
    public let directory: XenStorePath
    public private(set) var devices: [UInt32] = []
    /// Names in the listing that are no device id, and devices past the bound: ignored.
    public private(set) var refusedNames = 0
    /// Devices of one kind at most.
    public static var maxDevices: Int { 32 }

    var watch: XenStoreWatchID?
    var listing: XenStoreRequestID?
    var listingWanted = false
    var changes: [XenBusDiscoveryChange] = []

    @inline(never)
    public init(kind: XenBusDeviceKind) {
        directory = XenStorePath("device").appending(kind.name)
    }

    @inline(never)
    public mutating func takeChange() -> XenBusDiscoveryChange? {
        changes.isEmpty ? nil : changes.removeFirst()
    }

    /// Sets the watch on the first call; lists the directory after every event on it.
    @inline(never)
    public mutating func advance<P: XenPlatform>(store: inout XenStoreClient<P>) -> XenWait {
        if watch == nil {
            guard let id = try? store.watch(directory) else { return .event }
            watch = id
        }
        if let id = watch {
            if case .failed? = store.watchStatus(id) { watch = nil; return .event }
            while store.takeWatchEvent(id) != nil { listingWanted = true }
        }
        if let id = listing, let reply = store.takeReply(id) {
            listing = nil
            switch reply {
            case .success(.children(let names)): update(names)
            case .failure(.daemon(.XEN_ENOENT)): update([])  // no device of this kind (yet)
            default: break  // refused reply: keep what we know, list again on the next event
            }
        }
        if listing == nil && listingWanted, let id = try? store.submit(.directory(directory)) {
            listing = id
            listingWanted = false
        }
        return changes.isEmpty ? .event : .ready
    }

    mutating func update(_ names: [[UInt8]]) {
        var present: [UInt32] = []
        for name in names {
            guard let id = xenParseDecimal(name, maximum: UInt64(UInt32.max)), !present.contains(UInt32(id)) else {
                refusedNames += 1
                continue
            }
            guard present.count < Self.maxDevices else { refusedNames += 1; continue }
            present.append(UInt32(id))
        }
        for id in devices where !present.contains(id) { changes.append(.removed(id: id)) }
        for id in present where !devices.contains(id) { changes.append(.added(id: id, path: directory.appending(decimal: UInt64(id)))) }
        devices = present
    }
}

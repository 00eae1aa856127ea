// The toolstack's requests to a guest (docs/misc/xenstore-paths.pandoc, `control/shutdown`):
// xl shutdown writes `poweroff`, xl reboot `reboot`, xl save `suspend`. A watch on the key; each
// event reads it (an event says only that something may have changed); a request this guest
// honours is acknowledged by clearing the key, as libxl expects of a PV guest, and kept for the
// caller, who ends the domain when its work allows. Anything else (`suspend` until suspend is
// built, or a value no toolstack writes) is refused and left in place unacknowledged, so libxl
// gives up on it instead of waiting for a suspend that will not come. Nothing here blocks.
import XenABI

public struct XenBusControl: ~Copyable {
    public enum Request: Equatable { case poweroff, reboot }

    /// What happened, for the caller to log.
    public enum Event: Equatable {
        case accepted(Request)
        /// The value, cut to `refusedValueLimit` bytes.
        case refused([UInt8])
    }

    public static var key: XenStorePath { XenStorePath("control/shutdown") }
    /// Bytes of a refused value kept for the log line: a peer's value is not echoed whole.
    public static var refusedValueLimit: Int { 32 }

    /// The first request accepted; later ones do not replace it.
    public private(set) var requested: Request?
    var watch: XenStoreWatchID?
    var read: XenStoreRequestID?
    var events: [Event] = []

    public init() {}

    /// Says which requests this guest honours (`control/feature-poweroff`, `-reboot`: libxl
    /// reads them for HVM guests, Linux PV writes them too) and sets the watch.
    public mutating func start<P: XenPlatform>(store: inout XenStoreClient<P>) throws(XenStoreError) {
        for feature in [XenStorePath("control/feature-poweroff"), XenStorePath("control/feature-reboot")] {
            let id = try store.submit(.write(feature, [UInt8(ascii: "1")]))
            store.cancel(id)  // its reply changes nothing here
        }
        watch = try store.watch(Self.key)
    }

    /// Takes the watch's events and the read's reply, whatever has come. Call after the store's
    /// `handleEvent`.
    public mutating func advance<P: XenPlatform>(store: inout XenStoreClient<P>) -> XenWait {
        guard let watch else { return .event }
        // Every queued event is one reason to look again; one read covers them all.
        var changed = false
        while store.takeWatchEvent(watch) != nil { changed = true }
        if changed && read == nil { read = try? store.submit(.read(Self.key)) }
        guard let id = read, let reply = store.takeReply(id) else { return .event }
        read = nil
        // Gone, empty (our own acknowledgement firing the watch) or unreadable: nothing asked.
        guard case .success(.value(let value)) = reply, !value.isEmpty else { return .event }
        let request: Request?
        if value.equals("poweroff") || value.equals("halt") { request = .poweroff }
        else if value.equals("reboot") { request = .reboot }
        else { request = nil }
        guard let request else {
            events.append(.refused(Array(value.prefix(Self.refusedValueLimit))))
            return .event
        }
        if let ack = try? store.submit(.write(Self.key, [])) { store.cancel(ack) }
        if requested == nil { requested = request }
        events.append(.accepted(request))
        return .event
    }

    public mutating func takeEvent() -> Event? { events.isEmpty ? nil : events.removeFirst() }
}

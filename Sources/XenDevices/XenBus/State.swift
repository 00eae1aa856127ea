// Xenbus states (io/xenbus.h's `enum xenbus_state`) as a device's `state` key holds them, and
// what differs between device kinds: the states a frontend passes through. Linux's netback
// ignores a frontend in Initialised and connects when it says Connected, so a vif goes
// Initialising -> Connected; blkback waits for Initialised, so a vbd goes Initialising ->
// Initialised -> Connected (Linux 6.1, drivers/net/xen-netback/xenbus.c, drivers/block/xen-blkback/xenbus.c).
import XenABI

extension xenbus_state {
    /// A `state` value from a peer: decimal, and one of the states io/xenbus.h defines.
    public init?<C: Collection>(parsing bytes: C) where C.Element == UInt8 {
        guard let value = xenParseDecimal(bytes, maximum: UInt64(xenbus_state.XenbusStateReconfigured.rawValue)) else { return nil }
        self.init(rawValue: UInt32(value))
    }

    /// The value to write.
    public var value: [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendDecimal(UInt64(rawValue))
        return bytes
    }
}

/// One kind of PV device as its frontend sees it.
public struct XenBusDeviceKind {
    /// The directory under `device/` (`vif`, `vbd`).
    public let name: StaticString
    /// The state the frontend announces with its ring references: Connected for a vif (netback
    /// ignores Initialised), Initialised for a vbd (blkback connects on it, then the frontend
    /// goes Connected once it has read the disk's keys).
    public let publishedState: xenbus_state
    /// Backend keys read when the backend is ready (InitWait), handed to the driver before it
    /// publishes (netback's `feature-split-event-channels`, `multi-queue-max-queues`).
    public let keysBeforePublish: [StaticString]
    /// Backend keys read when the backend is Connected (blkback's `sectors`, `info`, `sector-size`).
    public let keysAtConnect: [StaticString]

    public init(name: StaticString, publishedState: xenbus_state, keysBeforePublish: [StaticString], keysAtConnect: [StaticString]) {
        self.name = name; self.publishedState = publishedState
        self.keysBeforePublish = keysBeforePublish; self.keysAtConnect = keysAtConnect
    }

    public static var vif: XenBusDeviceKind {
        XenBusDeviceKind(name: "vif", publishedState: .XenbusStateConnected,
                         keysBeforePublish: ["feature-split-event-channels", "multi-queue-max-queues", "feature-rx-copy", "ip"],
                         keysAtConnect: [])
    }

    public static var vbd: XenBusDeviceKind {
        @inline(never) get {
        // blkback writes max-ring-page-order (and feature-max-indirect-segments) at probe, the
        // disk's keys and feature-persistent at connect (Linux 6.1's xen-blkback/xenbus.c); the
        // order of keysAtConnect is BlkfrontKeys' indexes.
        XenBusDeviceKind(name: "vbd", publishedState: .XenbusStateInitialised,
                         keysBeforePublish: ["max-ring-page-order"],
                         keysAtConnect: ["sectors", "info", "sector-size", "physical-sector-size", "feature-flush-cache",
                                         "feature-barrier", "feature-discard", "discard-granularity", "discard-alignment",
                                         "discard-secure", "feature-persistent", "feature-max-indirect-segments", "mode"])
        }
    }

    /// Does `state` say the backend is ready for the frontend's rings? InitWait normally; a
    /// backend that skipped it (Initialised, or straight to Connected after a restart) is taken
    /// as ready too, as Linux's blkfront does.
    func backendReady(_ state: xenbus_state) -> Bool {
        state == .XenbusStateInitWait || state == .XenbusStateInitialised || state == .XenbusStateConnected
    }
}

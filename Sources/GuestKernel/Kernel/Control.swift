// The toolstack's requests to the domain: `control/shutdown` (xl shutdown, xl reboot). A watch
// on the key; each event reads it; `poweroff` and `reboot` are acknowledged by clearing the key
// (as libxl expects of a PV guest) and recorded for the main flow, which ends the domain once
// its work is done. `suspend` is refused with a line and left unacknowledged, so libxl gives up
// on it rather than wait for a suspend that will not come.
import XenABI
import XenDevices

enum Control {
    /// What the toolstack asked for, once it has.
    nonisolated(unsafe) static var requested: ShutdownReason? = nil
    nonisolated(unsafe) static var watch: XenStoreWatchID? = nil
    nonisolated(unsafe) static var owner = -1
    nonisolated(unsafe) static var read: XenStoreRequestID? = nil
    static let key = XenStorePath("control/shutdown")

    static func start() -> XenStoreError? {
        // What this kernel honours (libxl reads these for HVM guests; Linux PV writes them too).
        if let e = Store.write(XenStorePath("control/feature-poweroff"), [UInt8(ascii: "1")]) { return e }
        if let e = Store.write(XenStorePath("control/feature-reboot"), [UInt8(ascii: "1")]) { return e }
        do { watch = try Store.client!.watch(key) } catch { return error }
        owner = EventLoop.register { _ in advance(); return .done }
        Store.subscribe(owner)
        return nil
    }

    /// Non-blocking, as every store subscriber: takes events and replies that have come.
    static func advance() {
        guard let watch else { return }
        if read == nil, Store.client!.takeWatchEvent(watch) != nil {
            read = try? Store.client!.submit(.read(key))
        }
        guard let id = read, let reply = Store.client!.takeReply(id) else { return }
        read = nil
        guard case .success(.value(let value)) = reply, !value.isEmpty else { return }  // gone, or our own clearing
        if value.equals("poweroff") || value.equals("halt") {
            accept(.poweroff, value)
        } else if value.equals("reboot") {
            accept(.reboot, value)
        } else {
            Console.write("guest: control/shutdown \""); Console.write(bytes: value)
            Console.write("\" refused: this kernel does not suspend (only poweroff and reboot are built)\n")
        }
    }

    static func accept(_ reason: ShutdownReason, _ value: [UInt8]) {
        Console.write("guest: control/shutdown \""); Console.write(bytes: value); Console.write("\" accepted\n")
        _ = try? Store.client!.submit(.write(key, []))
        if requested == nil { requested = reason }
    }
}

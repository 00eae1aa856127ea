// A PV device as libxl and a Linux backend set it up, over the simulated platform and
// xenstored: what SimulatedBlkback and SimulatedNetback share. libxl writes the backend's
// directory (frontend, frontend-id, online, state Initialising, then the kind's own keys:
// libxl_disk.c, libxl_nic.c) and the frontend's (backend, backend-id, state, the kind's keys,
// trusted) before the backend probes (PLATFORM-NOTES.md); the probe writes its features and
// InitWait. A backend connects by reading the frontend's event channel, which must be bound to
// its domain, and says Connected; `xl KIND-detach` takes the device offline and asks the backend
// to close; `vanish` removes the backend's directory under the frontend.
import XenABI
@testable import XenDevices

class SimulatedLibxlDevice {
    let daemon: SimulatedXenStored
    let platform: SimulatedPlatform
    /// The directory's name under `backend/` and `device/`: `vbd`, `vif`.
    let kind: String
    let id: Int
    let domain: domid_t = 0
    var dir: String { "/local/domain/\(domain)/backend/\(kind)/\(daemon.domainID)/\(id)" }
    var front: String { "device/\(kind)/\(id)" }

    /// What the backend found wrong with the frontend (it would have refused to connect, or failed).
    var complaints: [String] = []
    var connected = false
    var eventChannel: evtchn_port_t = 0
    /// The backend's directory was removed (`vanish`): the backend no longer follows the frontend.
    var gone = false

    /// libxl's keys for a new device: the backend's directory with `backendKeys` after the common
    /// ones, the frontend's with `frontendKeys`, then `trusted` when given.
    init(daemon: SimulatedXenStored, platform: SimulatedPlatform, kind: String, id: Int,
         backendKeys: [(String, String)], frontendKeys: [(String, String)], trusted: String?) {
        self.daemon = daemon
        self.platform = platform
        self.kind = kind
        self.id = id
        daemon.set("\(dir)/frontend", "/local/domain/\(daemon.domainID)/\(front)")
        daemon.set("\(dir)/frontend-id", "\(daemon.domainID)")
        daemon.set("\(dir)/online", "1")
        daemon.set("\(dir)/state", "1")
        for (key, value) in backendKeys { daemon.set("\(dir)/\(key)", value) }
        daemon.set("\(front)/backend", dir)
        daemon.set("\(front)/backend-id", "\(domain)")
        daemon.set("\(front)/state", "1")
        for (key, value) in frontendKeys { daemon.set("\(front)/\(key)", value) }
        if let trusted { daemon.set("\(front)/trusted", trusted) }
    }

    /// A key of the frontend's.
    func value(_ key: String) -> String? { daemon.value("\(front)/\(key)") }

    /// The backend's own state.
    var backendState: String? { daemon.value("\(dir)/state") }

    /// Writes the backend's state unless it already is that (a rewrite would fire the watch).
    func enter(_ state: String) {
        if backendState != state { daemon.set("\(dir)/state", state) }
    }

    /// The end of the backend's probe: InitWait, the frontend may publish.
    func initWait() { daemon.set("\(dir)/state", "2") }

    /// The frontend's event channel (`event-channel`); nil, with a complaint, when it is
    /// missing or not a number.
    func frontendEventChannel() -> evtchn_port_t? {
        guard let port = value("event-channel").flatMap(UInt32.init) else { complaints.append("reading event-channel"); return nil }
        return port
    }

    /// Whether `port` is bound to the backend's domain (a complaint when it is not).
    func boundToBackend(_ port: evtchn_port_t) -> Bool {
        guard platform.ports[port] == domain else { complaints.append("event channel \(port) not for domain \(domain)"); return false }
        return true
    }

    /// The end of a connect: the event channel kept, Connected written.
    func finishConnect(port: evtchn_port_t) {
        eventChannel = port
        connected = true
        daemon.set("\(dir)/state", "4")
    }

    /// The backend's disconnect; a backend unmaps its rings and grants, then calls this.
    func disconnect() {
        connected = false
    }

    /// The backend domain's directory removed under the frontend (its driver is gone).
    func vanish() {
        disconnect()
        daemon.remove(dir)
        gone = true
    }

    /// xl block-detach, xl network-detach: libxl takes the device offline and asks the backend
    /// to close.
    func detach() {
        daemon.set("\(dir)/online", "0")
        daemon.set("\(dir)/state", "5")
    }
}

/// A driver against its simulated backend, the store and the daemon between them (VbdRig,
/// VifRig): run round by round, until connected, until closed. A class, so that `#expect` can
/// call it.
protocol SimulatedDeviceRig: AnyObject {
    var platform: SimulatedPlatform { get }
    var backend: SimulatedLibxlDevice { get }
    /// Whether the driver says it is connected, and closed.
    var driverConnected: Bool { get }
    var driverClosed: Bool { get }
    /// One round: the store pumped, the driver advanced, the backend stepped, the driver's
    /// event handled; the driver's wait.
    func round() -> XenWait
}

extension SimulatedDeviceRig {
    /// Runs store, driver and backend; returns the driver's last wait.
    @discardableResult
    func run(rounds: Int = 20) -> XenWait {
        var wait = XenWait.event
        for _ in 0..<rounds { wait = round() }
        return wait
    }

    /// Runs until connected; whether both the driver and the backend are.
    func connect() -> Bool {
        for _ in 0..<10 where !driverConnected { run(rounds: 5) }
        return driverConnected && backend.connected
    }

    /// Runs until the driver is closed, moving the clock on so that waits for grants can expire.
    func close(advancingClock: Bool = false) {
        for _ in 0..<40 where !driverClosed {
            run(rounds: 3)
            if advancingClock { platform.clock += 500_000_000 }
        }
        run(rounds: 2)  // Closed, written as the driver closed, reaches the store
    }

    /// Grants still held for the backend's domain.
    var grantsToBackend: Int { platform.grants.values.filter { $0.domain == backend.domain }.count }
}

// The domain itself: who it is (dom0 or a domU, and its id) and its lifecycle (SCHEDOP_shutdown).
import XenABI

enum Domain {
    /// The id the peers know this domain by: 0 for the initial domain; a domU learns its own from
    /// xenstore (`domid`, written by the toolstack) once the store is connected.
    nonisolated(unsafe) static var id: domid_t = 0

    /// Xen built this domain at boot (dom0): it has `console_io` and no console ring or store.
    static var isInitial: Bool { StartInfoFlags(rawValue: Int32(bitPattern: Boot.startInfo.pointee.flags)).contains(.INITDOMAIN) }

    /// Ends the domain. A domU's console ring is drained first (bounded: a stalled xenconsoled
    /// cannot hold the shutdown), so the last lines, the verdict among them, reach the log.
    static func shutdown(_ reason: ShutdownReason) -> Never {
        Console.flush()
        if !isInitial { PVConsole.drain(timeout: 1_000_000_000) }
        _ = try? Xen.sched_op.shutdown(sched_shutdown(reason: reason.rawValue))
        // Xen does not return from a successful shutdown; if it did, stop here.
        while true { _ = try? Xen.sched_op.yield() }
    }
}

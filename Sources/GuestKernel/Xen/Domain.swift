// The domain's own lifecycle: SCHEDOP_shutdown with a reason.
import XenABI

enum Domain {
    static func shutdown(_ reason: ShutdownReason) -> Never {
        _ = try? Xen.sched_op.shutdown(sched_shutdown(reason: reason.rawValue))
        // Xen does not return from a successful shutdown; if it did, stop here.
        while true { _ = try? Xen.sched_op.yield() }
    }
}

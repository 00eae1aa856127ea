// Call sites of generated wrappers, for Benchmarks/hypercall-zero-cost.sh to disassemble.
import XenABI

/// `EVTCHNOP_send` through the typed wrapper, with its error mapping: 0 or the XEN_E* number.
@_cdecl("swift_evtchn_send")
public func swiftEventChannelSend(_ port: UInt32) -> Int32 {
    do {
        try Xen.event_channel_op.send(evtchn_send(port: port))
        return 0
    } catch {
        return error.code
    }
}

/// `SCHEDOP_yield`: a sub-op with no argument struct.
@_cdecl("swift_sched_yield")
public func swiftSchedYield() -> Int32 {
    do {
        try Xen.sched_op.yield()
        return 0
    } catch {
        return error.code
    }
}

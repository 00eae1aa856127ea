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

/// One `mmu_update` request through the single-element form: the request, its count of 1, the
/// done count Xen writes back, DOMID_SELF. Returns the done count or the negated XEN_E* number.
@_cdecl("swift_mmu_update_one")
public func swiftMMUUpdateOne(_ ptr: UInt64, _ val: UInt64) -> Int32 {
    do {
        return Int32(truncatingIfNeeded: try Xen.mmu_update(mmu_update(ptr: ptr, val: val), DOMID_SELF))
    } catch {
        return 0 &- error.code
    }
}

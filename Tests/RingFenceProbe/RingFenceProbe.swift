// The ring engine's notify, final-check and consume paths compiled as a kernel compiles them
// (Embedded Swift, x86_64-unknown-none-elf, -Osize), for RingTests' disassembly test: xen_mb must
// be a real fence where ring.h puts one, and the consume path must have none.
import XenABI

@_cdecl("ring_probe_push_requests")
public func ringProbePushRequests(_ page: UnsafeMutableRawPointer, _ index: UInt32) -> Bool {
    guard var front = try? XenFrontRing<blkif_ring>(attachingTo: page, bytes: 4096, index: index) else { return false }
    return front.pushRequests()
}

@_cdecl("ring_probe_push_responses")
public func ringProbePushResponses(_ page: UnsafeMutableRawPointer, _ index: UInt32) -> Bool {
    guard var back = try? XenBackRing<blkif_ring>(attachingTo: page, bytes: 4096, index: index) else { return false }
    return back.pushResponses()
}

@_cdecl("ring_probe_final_check_requests")
public func ringProbeFinalCheckRequests(_ page: UnsafeMutableRawPointer, _ index: UInt32) -> Bool {
    guard var back = try? XenBackRing<blkif_ring>(attachingTo: page, bytes: 4096, index: index) else { return false }
    return (try? back.finalCheckForRequests()) ?? false
}

@_cdecl("ring_probe_final_check_responses")
public func ringProbeFinalCheckResponses(_ page: UnsafeMutableRawPointer, _ index: UInt32) -> Bool {
    guard var front = try? XenFrontRing<blkif_ring>(attachingTo: page, bytes: 4096, index: index) else { return false }
    return (try? front.finalCheckForResponses()) ?? false
}

@_cdecl("ring_probe_take_request")
public func ringProbeTakeRequest(_ page: UnsafeMutableRawPointer, _ index: UInt32, _ out: UnsafeMutableRawPointer) -> Bool {
    guard var back = try? XenBackRing<blkif_ring>(attachingTo: page, bytes: 4096, index: index),
          let request = try? back.takeRequest() else { return false }
    out.storeBytes(of: request, as: blkif_request.self)
    return true
}

// What every fuzz target's platform answers the same way, compiled into XenStoreReplyFuzz and the
// drivers' targets by scripts/fuzz-rings: the check that stops a run, domain 1, fixed ports, no
// clock, and no mapping or copying of another domain's grants (a frontend never does either).
import XenABI
import XenDevices

@inline(never) func check(_ condition: Bool, _ what: StaticString) { if !condition { fatalError("\(what)") } }

/// A platform that says only how it allocates, grants and ends grants; the rest is here.
protocol FuzzPlatformStubs: XenPlatform {}

extension FuzzPlatformStubs {
    var domainID: domid_t { 1 }
    func mapGrant(from domain: domid_t, ref: grant_ref_t, readOnly: Bool) throws(XenPlatformError) -> XenGrantMapping { throw .unsupported }
    func unmapGrant(_ mapping: XenGrantMapping) throws(XenPlatformError) { throw .unsupported }
    func copyGrant(from source: XenGrantCopyEnd, to destination: XenGrantCopyEnd, length: UInt16) throws(XenPlatformError) { throw .unsupported }
    func allocateUnboundPort(for remote: domid_t) throws(XenPlatformError) -> evtchn_port_t { 3 }
    func bindInterdomain(remote: domid_t, remotePort: evtchn_port_t) throws(XenPlatformError) -> evtchn_port_t { 4 }
    func notify(_ port: evtchn_port_t) {}
    func closePort(_ port: evtchn_port_t) {}
    func now() -> UInt64 { 0 }
}

// What a device driver needs from the domain it runs in, and nothing more: pages, grants, event
// channels and the clock. The kernel supplies it over hypercalls; host tests supply a simulation
// over host memory. Drivers are generic over it (Embedded Swift wants generics, not existentials),
// and hold a copy of it: a platform is a handle (the kernel's is an empty struct over its
// per-domain services), never the owner of a driver's state.
import XenABI

/// A page of this domain's memory: where it is mapped, and the frame number a grant names.
@frozen
public struct XenPage {
    public let address: UnsafeMutableRawPointer
    /// The guest frame number (a PV guest's machine frame) to put in a grant entry.
    public let frame: UInt64
    @inlinable public init(address: UnsafeMutableRawPointer, frame: UInt64) { self.address = address; self.frame = frame }
}

/// How ending a grant went. XSA-396: while the peer still maps the page, access cannot end, and
/// the page must not be freed or reused: the peer could read or write whatever goes there next.
public enum XenGrantEnd: Equatable {
    /// No one maps the page any more; the entry is free and the page may be reused.
    case ended
    /// The peer still maps it: keep the page out of use and try again later.
    case stillMapped
}

/// A peer's page mapped into this domain (a backend's view of a frontend's grant).
@frozen
public struct XenGrantMapping {
    public let address: UnsafeMutableRawPointer
    /// What `GNTTABOP_unmap_grant_ref` needs back.
    public let handle: grant_handle_t
    @inlinable public init(address: UnsafeMutableRawPointer, handle: grant_handle_t) { self.address = address; self.handle = handle }
}

/// One side of a grant copy: a peer's grant, or a page of our own.
public enum XenGrantCopyEnd {
    case grant(domain: domid_t, ref: grant_ref_t, offset: UInt16)
    case local(frame: UInt64, offset: UInt16)
}

/// What a platform operation reports when it fails.
public enum XenPlatformError: Error, Equatable {
    /// The hypercall failed with this error.
    case hypercall(xen_errno)
    /// No free page.
    case outOfPages
    /// No free grant entry.
    case outOfGrantEntries
    /// The grant operation's own status (`GNTST_*`, a `GrantStatus`) though the hypercall
    /// returned 0: a peer's grant that does not exist, is not for us, or is read-only.
    case grantStatus(Int16)
    /// This platform does not implement the operation (a frontend-only kernel and grant mapping).
    case unsupported
}

/// The platform interface. Every operation is non-blocking: nothing here waits for a peer.
public protocol XenPlatform {
    /// This domain's id as the peers see it (for the directories a driver writes into).
    var domainID: domid_t { get }

    // MARK: pages
    /// A zeroed page of this domain's memory.
    func allocatePage() throws(XenPlatformError) -> XenPage
    /// Gives the page back. Only a page no grant still exposes (see `endAccess`).
    func freePage(_ page: XenPage)
    /// `count` zeroed pages at consecutive addresses, handed to `take` in address order (a
    /// multi-page shared ring, which the ring engine addresses as one area); their frames need
    /// not be consecutive, and each is freed on its own with `freePage`. All or nothing: it
    /// throws before handing over any page. The default offers one page only (`.unsupported`
    /// for more): a driver then falls back to a one-page ring.
    func allocateContiguousPages(_ count: Int, _ take: (XenPage) -> Void) throws(XenPlatformError)

    // MARK: grants offered (frontends)
    /// Grants `domain` access to the frame; returns the grant reference to publish.
    func grantAccess(to domain: domid_t, frame: UInt64, readOnly: Bool) throws(XenPlatformError) -> grant_ref_t
    /// Ends the grant if the peer no longer maps the page (`gnttab_end_foreign_access_ref`'s
    /// check of GTF_reading/GTF_writing); `.stillMapped` leaves the grant in place (XSA-396).
    func endAccess(_ ref: grant_ref_t) -> XenGrantEnd

    // MARK: grants used (backends, for a driver domain)
    /// `GNTTABOP_map_grant_ref`: maps a peer's grant.
    func mapGrant(from domain: domid_t, ref: grant_ref_t, readOnly: Bool) throws(XenPlatformError) -> XenGrantMapping
    /// `GNTTABOP_unmap_grant_ref`.
    func unmapGrant(_ mapping: XenGrantMapping) throws(XenPlatformError)
    /// `GNTTABOP_copy`: `length` bytes from `source` to `destination`, one of them a peer's grant.
    func copyGrant(from source: XenGrantCopyEnd, to destination: XenGrantCopyEnd, length: UInt16) throws(XenPlatformError)

    // MARK: event channels
    /// `EVTCHNOP_alloc_unbound`: a port `remote` may bind to; the local end is returned.
    func allocateUnboundPort(for remote: domid_t) throws(XenPlatformError) -> evtchn_port_t
    /// `EVTCHNOP_bind_interdomain`: binds to a port a peer allocated for us; the local end is returned.
    func bindInterdomain(remote: domid_t, remotePort: evtchn_port_t) throws(XenPlatformError) -> evtchn_port_t
    /// `EVTCHNOP_send`.
    func notify(_ port: evtchn_port_t)
    /// `EVTCHNOP_close`.
    func closePort(_ port: evtchn_port_t)

    // MARK: time
    /// Xen system time in nanoseconds (monotonic, since boot).
    func now() -> UInt64
}

extension XenPlatform {
    public func allocateContiguousPages(_ count: Int, _ take: (XenPage) -> Void) throws(XenPlatformError) {
        guard count == 1 else { throw .unsupported }
        take(try allocatePage())
    }
}

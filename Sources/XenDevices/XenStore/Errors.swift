// What a xenstore request or the connection reports. The daemon's own errors arrive as errno
// names (docs/misc/xenstore.txt: "ERROR E<something>|"), mapped here to Xen's `xen_errno`.
import XenABI

public enum XenStoreError: Error, Equatable {
    /// The daemon refused the request (`XS_ERROR` with a name from xs_wire.h's `xsd_errors`).
    case daemon(xen_errno)
    /// `XS_ERROR` with a name that is not one of xs_wire.h's (oxenstored's quota errors, say).
    case unknownDaemonError
    /// A path that breaks xenstore's rules, ours or read from a peer's key.
    case invalidPath
    /// A value read from a peer that is not what the key holds (a state that is no number, a
    /// domid out of range, a device id that is not decimal).
    case invalidValue
    /// A request's payload would exceed XENSTORE_PAYLOAD_MAX: xenstored would kill the connection.
    case requestTooLong
    /// The reply's payload does not follow its type's syntax (missing nul, not "OK", bad number).
    case malformedReply
    /// The reply's type is neither the request's nor XS_ERROR, or its tx_id is not the request's.
    case mismatchedReply
    /// A header's `len` over XENSTORE_PAYLOAD_MAX: the stream's framing cannot be trusted after it.
    case oversizedReply(UInt32)
    /// As many requests are in flight as the client allows (the C daemon allows 20 per connection).
    case tooManyRequests
    /// No reply before the request's deadline.
    case timedOut
    /// The ring refused: a bad index, the server's error field, or a reconnection in progress.
    case ring(XenRingError)
    /// The connection is down (failed, or reconnecting): requests in flight are lost.
    case disconnected
    /// A transaction got EAGAIN on every attempt.
    case transactionConflict
}

/// The names xs_wire.h's `xsd_errors` lists, in its order, with their `xen_errno`.
@usableFromInline
let xenStoreErrorNames: [(name: StaticString, errno: xen_errno)] = [
    ("EINVAL", .XEN_EINVAL), ("EACCES", .XEN_EACCES), ("EEXIST", .XEN_EEXIST), ("EISDIR", .XEN_EISDIR),
    ("ENOENT", .XEN_ENOENT), ("ENOMEM", .XEN_ENOMEM), ("ENOSPC", .XEN_ENOSPC), ("EIO", .XEN_EIO),
    ("ENOTEMPTY", .XEN_ENOTEMPTY), ("ENOSYS", .XEN_ENOSYS), ("EROFS", .XEN_EROFS), ("EBUSY", .XEN_EBUSY),
    ("EAGAIN", .XEN_EAGAIN), ("EISCONN", .XEN_EISCONN), ("E2BIG", .XEN_E2BIG), ("EPERM", .XEN_EPERM),  // EPERM: new in 4.17
]

/// The `xen_errno` for an error name as the daemon sends it (without its nul), or nil.
public func xenStoreErrno<C: Collection>(named name: C) -> xen_errno? where C.Element == UInt8 {
    for entry in xenStoreErrorNames where name.elementsEqual(UnsafeBufferPointer(start: entry.name.utf8Start, count: entry.name.utf8CodeUnitCount)) {
        return entry.errno
    }
    return nil
}

/// The name for an errno (what a simulated daemon sends), or nil if xs_wire.h has none.
public func xenStoreErrorName(_ errno: xen_errno) -> [UInt8]? {
    for entry in xenStoreErrorNames where entry.errno == errno { return [UInt8](entry.name) }
    return nil
}

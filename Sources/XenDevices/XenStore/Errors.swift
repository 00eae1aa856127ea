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
    /// A header's `len` over XENSTORE_PAYLOAD_MAX. A reply to a request in flight, of its type,
    /// up to `XenStoreClient.maxDroppedReply` (oxenstored's long DIRECTORY) fails that request and
    /// is dropped; anything else fails the connection, whose framing cannot be trusted after it.
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
    /// A directory listing past its bound on children or bytes (a daemon that sends an endless list).
    case directoryTooLong
    /// A directory changed between the pages of its listing on every pass.
    case directoryUnstable
}

/// The names xs_wire.h's `xsd_errors` lists, in its order, each followed by a nul; `xenStoreErrno(at:)`
/// gives their `xen_errno` (one literal and a switch: a table of pairs costs the kernel more).
let xenStoreErrorNames: StaticString = "EINVAL\0EACCES\0EEXIST\0EISDIR\0ENOENT\0ENOMEM\0ENOSPC\0EIO\0ENOTEMPTY\0ENOSYS\0EROFS\0EBUSY\0EAGAIN\0EISCONN\0E2BIG\0EPERM\0"  // EPERM: new in 4.17

func xenStoreErrno(at index: Int) -> xen_errno? {
    switch index {
    case 0: return .XEN_EINVAL
    case 1: return .XEN_EACCES
    case 2: return .XEN_EEXIST
    case 3: return .XEN_EISDIR
    case 4: return .XEN_ENOENT
    case 5: return .XEN_ENOMEM
    case 6: return .XEN_ENOSPC
    case 7: return .XEN_EIO
    case 8: return .XEN_ENOTEMPTY
    case 9: return .XEN_ENOSYS
    case 10: return .XEN_EROFS
    case 11: return .XEN_EBUSY
    case 12: return .XEN_EAGAIN
    case 13: return .XEN_EISCONN
    case 14: return .XEN_E2BIG
    case 15: return .XEN_EPERM
    default: return nil
    }
}

/// The names, one at a time: `body(index, name)` until it returns true; the index it stopped at.
@inline(never)
func xenStoreErrorNameIndex(_ body: (Int, UnsafeRawBufferPointer) -> Bool) -> Int? {
    let all = UnsafeRawBufferPointer(start: xenStoreErrorNames.utf8Start, count: xenStoreErrorNames.utf8CodeUnitCount)
    var start = 0
    var index = 0
    for i in 0..<all.count where all[i] == 0 {
        if body(index, UnsafeRawBufferPointer(rebasing: all[start..<i])) { return index }
        start = i + 1
        index += 1
    }
    return nil
}

/// The `xen_errno` for an error name as the daemon sends it (without its nul), or nil.
public func xenStoreErrno<C: Collection>(named name: C) -> xen_errno? where C.Element == UInt8 {
    Array(name).withUnsafeBytes { xenStoreErrno(raw: $0) }
}

func xenStoreErrno(raw name: UnsafeRawBufferPointer) -> xen_errno? {
    guard let i = xenStoreErrorNameIndex({ _, entry in entry.elementsEqual(name) }) else { return nil }
    return xenStoreErrno(at: i)
}

/// The name for an errno (what a simulated daemon sends), or nil if xs_wire.h has none.
public func xenStoreErrorName(_ errno: xen_errno) -> [UInt8]? {
    var found: [UInt8]?
    _ = xenStoreErrorNameIndex { i, entry in
        guard xenStoreErrno(at: i) == errno else { return false }
        found = [UInt8](entry)
        return true
    }
    return found
}

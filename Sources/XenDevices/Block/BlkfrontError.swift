// Why a vbd stopped: one reason, the first, kept for the caller to print. Everything a backend
// can do wrong on the ring or in its keys is a violation that ends the device (its grants are
// then ended and its pages kept out of use until the backend lets go of them); what a backend
// may legitimately do (fail a request, or not support it) is the request's status instead.
import XenABI

public enum BlkfrontError: Error, Equatable {
    // MARK: setting up
    /// A page, a grant entry or the event channel could not be had.
    case platform(XenPlatformError)
    /// The xenbus handshake failed: a bad `backend`/`backend-id`, a state that is no state, a
    /// store connection that failed, a publishing transaction that never committed.
    case xenstore(XenStoreError)

    // MARK: the backend's keys
    /// `sectors` absent, not decimal, or so large that its bytes overflow 64 bits.
    case badSectors
    /// `sector-size` absent, or not a power of two from 512 to 4096 (a logical sector must fit
    /// in the page a segment names: Linux's blkback checks each segment against it).
    case badSectorSize
    /// `info` absent or not decimal.
    case badInfo

    // MARK: the backend broke the protocol
    /// The response producer: more responses than requests issued (RING_RESPONSE_PROD_OVERFLOW),
    /// or moved backwards.
    case ring(XenRingError)
    /// A response whose id is out of range, was never issued, or was answered already.
    case unknownID(UInt64)
    /// A response whose status is none of OKAY, ERROR, EOPNOTSUPP.
    case badStatus(Int16)
    /// A response whose operation is not its request's (for an indirect request: neither
    /// BLKIF_OP_INDIRECT nor the indirect operation, which Linux's blkback answers with).
    case wrongOperation(UInt8)

    /// What to print: a fixed phrase (the kernel has no String); `detail` carries the number.
    public var reason: StaticString {
        switch self {
        case .platform: return "out of pages, grant entries or event channels"
        case .xenstore: return "xenbus handshake failed"
        case .badSectors: return "backend's sectors missing or out of range"
        case .badSectorSize: return "backend's sector-size not a power of two from 512 to 4096"
        case .badInfo: return "backend's info missing or not a number"
        case .ring: return "response producer out of range"
        case .unknownID: return "response for an id not in flight"
        case .badStatus: return "response with an unknown status"
        case .wrongOperation: return "response for another operation"
        }
    }

    /// The number that goes with `reason`, where there is one (an id, a status, a producer index).
    public var detail: Int64? {
        switch self {
        case .ring(.producerOverflow(let producer, _, _)): return Int64(producer)
        case .unknownID(let id): return Int64(truncatingIfNeeded: id)
        case .badStatus(let status): return Int64(status)
        case .wrongOperation(let op): return Int64(op)
        default: return nil
        }
    }
}

/// What `submit` refuses: the caller's mistakes (or the disk's limits), not the backend's.
public enum BlkfrontSubmitError: Error, Equatable {
    /// Not (or no longer) connected.
    case notConnected
    /// Offset or length not a multiple of the logical sector size, or a length of zero.
    case misaligned
    /// The range goes past the end of the disk.
    case beyondEnd
    /// A write or discard on a read-only disk (`info` has VDISK_READONLY, or `mode` is not `w`).
    case readOnly
    /// A discard the backend does not offer (`feature-discard`, or `discard-secure` for a secure one).
    case notSupported
    /// Every request slot is taken: take completions first.
    case busy
}

/// How a request ended.
public enum BlkfrontStatus: Equatable {
    case okay
    /// The backend answered BLKIF_RSP_ERROR for some part of it.
    case ioError
    /// The backend answered BLKIF_RSP_EOPNOTSUPP (a flush or discard the disk cannot do).
    case notSupported
    /// The device stopped or closed before it completed; its buffer is no longer touched.
    case disconnected
}

/// A finished request: the caller's tag, the id `submit` returned, and how it ended.
public struct BlkfrontCompletion: Equatable {
    public let tag: UInt64
    public let id: UInt64
    public let status: BlkfrontStatus
}

/// What a vbd has done (none of these stops it).
public struct BlkfrontCounters: Equatable {
    /// Ring requests sent, and those of them answered with an error or EOPNOTSUPP.
    public var requests: UInt64 = 0
    public var failedRequests: UInt64 = 0
    /// Grants the backend still mapped when access was to end (XSA-396): their pages waited.
    public var grantsStillMapped: UInt64 = 0
    /// Pages given up at close because the backend never let go of them: never freed, never reused.
    public var pagesAbandoned: UInt64 = 0
}

// Why a vif stopped: one reason, the first, kept for the caller to print. Everything a backend
// can do wrong on the rings is a violation that ends the device (its grants are then ended and
// its pages kept out of use until the backend lets go of them); what a backend may legitimately
// do (drop a frame, report an error) is counted in `NetfrontCounters` instead.
import XenABI

public enum NetfrontError: Error, Equatable {
    // MARK: setting up
    /// A page, a grant entry or the event channel could not be had.
    case platform(XenPlatformError)
    /// The xenbus handshake failed: a bad `backend`/`backend-id`, a state that is no state, a
    /// store connection that failed, a publishing transaction that never committed.
    case xenstore(XenStoreError)
    /// `device/vif/N/mac` is missing or no unicast MAC address (`xx:xx:xx:xx:xx:xx`, hex).
    case badMAC
    /// The backend does not offer `feature-rx-copy`=1: received frames would have to arrive by
    /// page flipping, which this driver does not do (Linux's netback has offered copy since 2.6.27).
    case backendWithoutRxCopy

    // MARK: the backend broke the protocol
    /// The TX ring's response producer: more responses than requests issued
    /// (RING_RESPONSE_PROD_OVERFLOW), or moved backwards.
    case txRing(XenRingError)
    /// The RX ring's response producer, likewise.
    case rxRing(XenRingError)
    /// A TX response whose id is out of range, was never issued, or was answered already.
    case txUnknownID(UInt16)
    /// A TX response whose status is none of OKAY, DROPPED, ERROR (NULL answers only the extra
    /// info slots this driver never sends).
    case txBadStatus(Int16)
    /// An RX response whose id is out of range, was never posted, or was answered already.
    case rxUnknownID(UInt16)
    /// An RX response whose data would lie past the end of its page (offset + size > 4096):
    /// more than was granted.
    case rxBeyondPage(offset: UInt16, size: Int16)
    /// An RX response with flags this driver never negotiated (extra info: GSO or hash; the
    /// deprecated GSO prefix; bits netif.h does not define).
    case rxBadFlags(UInt16)
    /// A `NETRXF_more_data` chain longer than any frame can be (XEN_NETIF_NR_SLOTS_MIN slots).
    case rxChainTooLong

    /// What to print: a fixed phrase (the kernel has no String); `detail` carries the number.
    public var reason: StaticString {
        switch self {
        case .platform: return "out of pages, grant entries or event channels"
        case .xenstore: return "xenbus handshake failed"
        case .badMAC: return "bad or missing MAC address in device/vif/N/mac"
        case .backendWithoutRxCopy: return "backend does not offer feature-rx-copy"
        case .txRing: return "TX response producer out of range"
        case .rxRing: return "RX response producer out of range"
        case .txUnknownID: return "TX response for an id not in flight"
        case .txBadStatus: return "TX response with an unknown status"
        case .rxUnknownID: return "RX response for an id not posted"
        case .rxBeyondPage: return "RX response past the end of its page"
        case .rxBadFlags: return "RX response with flags not negotiated"
        case .rxChainTooLong: return "RX more_data chain too long"
        }
    }

    /// The number that goes with `reason`, where there is one (an id, a status, a producer index).
    public var detail: Int64? {
        switch self {
        case .txRing(.producerOverflow(let producer, _, _)), .rxRing(.producerOverflow(let producer, _, _)): return Int64(producer)
        case .txUnknownID(let id), .rxUnknownID(let id): return Int64(id)
        case .txBadStatus(let status): return Int64(status)
        case .rxBeyondPage(let offset, let size): return Int64(offset) + Int64(size)
        case .rxBadFlags(let flags): return Int64(flags)
        default: return nil
        }
    }
}

/// What a vif has done, and what it dropped by reason (none of these stops it).
public struct NetfrontCounters: Equatable {
    /// Frames the backend took (TX responses with NETIF_RSP_OKAY) and their bytes.
    public var framesOut: UInt64 = 0
    public var bytesOut: UInt64 = 0
    /// Frames handed to the caller and their bytes.
    public var framesIn: UInt64 = 0
    public var bytesIn: UInt64 = 0
    /// `transmit` refused for want of a free TX buffer or grant entry (the caller may retry).
    public var txFull: UInt64 = 0
    /// TX responses NETIF_RSP_DROPPED and NETIF_RSP_ERROR.
    public var txDropped: UInt64 = 0
    public var txErrors: UInt64 = 0
    /// RX responses with a negative status (the backend's error), or none of the frame's bytes.
    public var rxErrors: UInt64 = 0
    public var rxEmpty: UInt64 = 0
    /// Frames whose page the backend still mapped when their grant was to end (XSA-396): the
    /// page is quarantined and the frame dropped, never read while the backend could write it.
    public var rxStillMapped: UInt64 = 0
    /// Frames in more than one slot (`NETRXF_more_data`): this driver does not offer
    /// `feature-sg`, so a backend should not send them; dropped whole.
    public var rxMultiSlot: UInt64 = 0
    /// Frames longer than the limit the caller gave `receive`.
    public var rxTooLong: UInt64 = 0
    /// Grants the backend still mapped when access was to end (XSA-396): their pages waited.
    public var grantsStillMapped: UInt64 = 0
    /// Pages given up at close because the backend never let go of them: never freed, never reused.
    public var pagesAbandoned: UInt64 = 0
}

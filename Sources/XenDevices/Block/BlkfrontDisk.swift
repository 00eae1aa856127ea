// The disk as the backend describes it at connect (io/blkif.h's backend keys, as Linux 6.1's
// blkback writes them in xen-blkback/xenbus.c's connect()), each value checked before use: a
// key from the backend is a peer's word. `sectors` is in 512-byte units whatever `sector-size`
// says (blkback's vbd_sz; this driver does not offer feature-large-sector-size), and so are
// every `sector_number` and segment's first/last sector on the ring.
import XenABI

public struct BlkfrontDisk: Equatable {
    public enum Flush: Equatable {
        /// No flush on the ring: writes completed are on the disk (blkback writes
        /// feature-flush-cache=0 for a device without a write cache).
        case none
        /// BLKIF_OP_FLUSH_DISKCACHE (`feature-flush-cache`=1).
        case diskCache
        /// BLKIF_OP_WRITE_BARRIER (`feature-barrier`=1 without feature-flush-cache).
        case barrier
    }

    /// The size in 512-byte units (`sectors`), whatever the logical sector size.
    public internal(set) var sectors: UInt64 = 0
    /// `sector-size`: the logical sector, a power of two from 512 to 4096. Every request's
    /// offset and length are multiples of it (blkback refuses a misaligned one).
    public internal(set) var sectorSize = 512
    /// `physical-sector-size` if it is a power of two no smaller than the logical sector
    /// (for the caller's alignment choices; the driver needs only the logical one).
    public internal(set) var physicalSectorSize = 512
    /// `info` has VDISK_READONLY, or the backend's `mode` is not `w`: writes, discards and
    /// flushes never reach the ring.
    public internal(set) var readOnly = false
    public internal(set) var cdrom = false
    public internal(set) var removable = false
    public internal(set) var flush = Flush.none
    /// `feature-discard`=1, with `discard-secure`=1 for BLKIF_DISCARD_SECURE; granularity and
    /// alignment (bytes) for the caller, 0 when absent.
    public internal(set) var discard = false
    public internal(set) var discardSecure = false
    public internal(set) var discardGranularity: UInt32 = 0
    public internal(set) var discardAlignment: UInt32 = 0
    /// The backend confirmed `feature-persistent`=1: data pages stay granted and are reused.
    public internal(set) var persistent = false
    /// Segments per ring request: 11, or the indirect count used (BLKIF_OP_INDIRECT).
    public internal(set) var maxSegments = Int(BLKIF_MAX_SEGMENTS_PER_REQUEST)
    /// Pages of the shared ring (1 << ring-page-order).
    public internal(set) var ringPages = 1

    /// The bytes requests may reach: `sectors` × 512, down to a whole logical sector.
    public var capacity: UInt64 { (sectors << 9) & ~UInt64(sectorSize - 1) }
    /// BLKIF_OP_INDIRECT in use.
    public var indirect: Bool { maxSegments > Int(BLKIF_MAX_SEGMENTS_PER_REQUEST) }
}

/// Where each key is in `XenBusDeviceKind.vbd.keysAtConnect` (a test pins the order), and what
/// the frontend writes.
enum BlkfrontKeys {
    static var sectors: Int { 0 }
    static var info: Int { 1 }
    static var sectorSize: Int { 2 }
    static var physicalSectorSize: Int { 3 }
    static var flushCache: Int { 4 }
    static var barrier: Int { 5 }
    static var discard: Int { 6 }
    static var discardGranularity: Int { 7 }
    static var discardAlignment: Int { 8 }
    static var discardSecure: Int { 9 }
    static var persistent: Int { 10 }
    static var maxIndirectSegmentsKey: Int { 11 }
    static var mode: Int { 12 }

    /// The most indirect segments per request this driver uses: 256 (1 MiB, its segment list in
    /// one indirect page, which holds 512), all Linux 6.1's blkback offers; a larger offer is
    /// capped, not trusted. A 1 MiB read or write is then one ring request, one response and
    /// one event where Linux's blkfront (32 by default) sends eight.
    static var indirectSegmentsUsed: Int { 256 }

    /// A decimal value of at most `maximum`, nil when absent or anything else.
    static func number(_ values: [[UInt8]?], _ i: Int, _ maximum: UInt64) -> UInt64? {
        guard i < values.count, let v = values[i] else { return nil }
        return xenParseDecimal(v, maximum: maximum)
    }

    /// A feature flag: exactly 1 is on; absent, 0 or anything else is off.
    static func flag(_ values: [[UInt8]?], _ i: Int) -> Bool { number(values, i, 1) == 1 }

    /// The disk's keys at connect. `sectors`, `info` and `sector-size` must be there and sane
    /// (Linux's blkfront refuses a disk without them too); optional keys out of range count as
    /// absent. Unknown `info` bits are ignored, as Linux's blkfront does.
    @inline(never)
    static func disk(_ values: [[UInt8]?], ringPages: Int) throws(BlkfrontError) -> BlkfrontDisk {
        var d = BlkfrontDisk()
        guard let sectors = number(values, Self.sectors, UInt64.max >> 9) else { throw .badSectors }
        guard let info = number(values, Self.info, UInt64(UInt32.max)) else { throw .badInfo }
        guard let size = number(values, Self.sectorSize, 4096), size >= 512, size & (size - 1) == 0 else { throw .badSectorSize }
        d.sectors = sectors
        d.sectorSize = Int(size)
        let physical = number(values, physicalSectorSize, 1 << 30) ?? 0
        d.physicalSectorSize = physical >= size && physical & (physical - 1) == 0 ? Int(physical) : Int(size)
        // libxl writes mode "w" or "r"; blkback opens the disk read-only unless it has a 'w'.
        let writable = values.count <= mode || values[mode].map { $0.equals("w") } ?? true
        d.readOnly = info & UInt64(VDISK_READONLY) != 0 || !writable
        d.cdrom = info & UInt64(VDISK_CDROM) != 0
        d.removable = info & UInt64(VDISK_REMOVABLE) != 0
        d.flush = flag(values, flushCache) ? .diskCache : flag(values, barrier) ? .barrier : .none
        d.discard = flag(values, discard)
        d.discardSecure = d.discard && flag(values, discardSecure)
        d.discardGranularity = UInt32(number(values, discardGranularity, UInt64(UInt32.max)) ?? 0)
        d.discardAlignment = UInt32(number(values, discardAlignment, UInt64(UInt32.max)) ?? 0)
        d.persistent = flag(values, persistent)
        let indirect = number(values, maxIndirectSegmentsKey, UInt64.max) ?? 0
        d.maxSegments = max(Int(BLKIF_MAX_SEGMENTS_PER_REQUEST), Int(min(indirect, UInt64(indirectSegmentsUsed))))
        d.ringPages = ringPages
        return d
    }

    /// The keys of the publishing transaction (relative to the frontend directory): the ring
    /// (`ring-ref`, or `ring-page-order` and `ring-refN` for more than one page), the event
    /// channel, the protocol, and `feature-persistent`=1 (offered always; used only if the
    /// backend confirms it at connect). One queue: no `multi-queue-num-queues`, so blkback
    /// takes the keys at the top level.
    @inline(never)
    static func published(ring refs: InlineArray<4, grant_ref_t>, order: Int, port: evtchn_port_t) -> [(key: [UInt8], value: [UInt8])] {
        var keys: [(key: [UInt8], value: [UInt8])] = [([UInt8]("protocol"), [UInt8](XEN_IO_PROTO_ABI_X86_64))]
        if order > 0 { XenBusFrontend.add(&keys, "ring-page-order", UInt64(order)) }
        for i in 0..<(1 << order) { XenBusFrontend.add(&keys, order == 0 ? "ring-ref" : ringRef(i), UInt64(refs[i])) }
        XenBusFrontend.add(&keys, "event-channel", UInt64(port))
        XenBusFrontend.add(&keys, "feature-persistent", 1)
        return keys
    }

    /// `ring-refN` for the pages of a ring of up to 1 << BlkfrontPages.maxRingOrder.
    static func ringRef(_ i: Int) -> StaticString {
        switch i {
        case 0: return "ring-ref0"
        case 1: return "ring-ref1"
        case 2: return "ring-ref2"
        default: return "ring-ref3"
        }
    }
}

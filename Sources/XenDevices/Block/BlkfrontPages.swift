// The pages one vbd shares with its backend: the ring's pages and a pool of buffer pages, each
// a page of its own that holds nothing but this disk's data or a request's segment list
// (XSA-403: a granted page holds nothing the backend was not given anyway). The caller's bytes
// are copied in and out: no page of the caller's is ever granted. A request's pages are chained
// through `next` in segment order; idle pool pages wait on a free list chained the same way.
// With persistent grants a pool page stays granted (writable: blkback maps every persistent
// grant writable) and goes back on the free list granted; otherwise each use grants it and its
// answer ends the grant. Ending a grant the backend still maps is refused (XSA-396): the page is
// quarantined, out of every list, until a later retry ends it.
import XenABI

/// A vbd's fixed tables on the heap, allocated once: the pages' entries, the ring's requests in
/// flight, their free ids, the caller's requests and a direct request's segments while it is
/// built. A class, as the deinit of a non-copyable struct inside a generic driver is not visible
/// where Embedded Swift specialises it; and a loop to initialise each, where inline arrays of
/// these element types cost the kernel an unrolled initialiser apiece.
final class BlkfrontTables {
    let pages = UnsafeMutablePointer<BlkfrontPages.Entry>.allocate(capacity: BlkfrontPages.ring + 1 << BlkfrontPages.maxRingOrder)
    let slots = UnsafeMutablePointer<BlkfrontSlot>.allocate(capacity: 128)
    let freeIDs = UnsafeMutablePointer<UInt8>.allocate(capacity: 128)
    let queue = UnsafeMutablePointer<BlkfrontEntry>.allocate(capacity: 32)
    let segments = UnsafeMutablePointer<blkif_request_segment>.allocate(capacity: 11)

    @inline(never)
    init() {
        pages.initialize(repeating: BlkfrontPages.Entry(), count: BlkfrontPages.ring + 1 << BlkfrontPages.maxRingOrder)
        slots.initialize(repeating: BlkfrontSlot(), count: 128)
        freeIDs.initialize(repeating: 0, count: 128)
        queue.initialize(repeating: BlkfrontEntry(), count: 32)
        segments.initialize(repeating: blkif_request_segment(), count: 11)
    }

    deinit {
        pages.deallocate(); slots.deallocate(); freeIDs.deallocate(); queue.deallocate(); segments.deallocate()
    }
}

struct BlkfrontPages: ~Copyable {
    enum Use: UInt8 {
        /// No page: never allocated, or freed.
        case none
        /// On the free list (granted still, with persistent grants).
        case free
        /// In a request in flight, or the ring.
        case busy
        /// Access did not end (the backend still maps it): waiting for a retry.
        case quarantined
        /// Given up at close while still mapped: never freed, never reused.
        case abandoned
    }

    struct Entry {
        var address: UnsafeMutableRawPointer? = nil
        var frame: UInt64 = 0
        var ref: grant_ref_t = 0
        var granted = false
        var use = Use.none
        var next = BlkfrontPages.end
    }

    static var pageSize: Int { 4096 }
    /// Pool pages at most: 1 MiB of data in flight (one indirect request of 256 segments and
    /// its page of segments, or eight of 32 and theirs), as Linux's blkfront has a 1 MiB direct
    /// read or write in flight at once.
    static var maxPool: Int { 264 }
    /// The ring's pages follow the pool's: `ring ..< ring + ringPages`.
    static var ring: Int { maxPool }
    /// The largest ring this driver sets up: 4 pages, 128 requests (ring-page-order 2; blkback
    /// offers 4). More requests in flight than that would need more pool pages than a small
    /// kernel gives a disk: a larger ring could not be filled.
    static var maxRingOrder: Int { 2 }
    /// The end of a chain.
    static var end: UInt16 { 0xFFFF }

    let tables = BlkfrontTables()
    var entries: UnsafeMutablePointer<Entry> { tables.pages }
    var freeHead = BlkfrontPages.end
    var freeCount = 0
    /// Pool pages: 0..<count.
    let count: Int
    /// Ring pages allocated (consecutive addresses): 1, or 1 << maxRingOrder.
    var ringPages = 0
    var quarantined = 0

    /// Allocates `count` pool pages (1...maxPool) and the ring's pages: four at consecutive addresses
    /// if the platform can, else one. On failure frees what it had.
    init<P: XenPlatform>(count: Int, platform: P) throws(XenPlatformError) {
        self.count = min(max(count, 1), Self.maxPool)
        do {
            for i in 0..<self.count {
                let page = try platform.allocatePage()
                entries[i] = Entry(address: page.address, frame: page.frame)
                put(i)
            }
            let want = 1 << Self.maxRingOrder
            do {
                try platform.allocateContiguousPages(want) { page in
                    entries[Self.ring + ringPages] = Entry(address: page.address, frame: page.frame, use: .busy)
                    ringPages += 1
                }
            } catch {
                let page = try platform.allocatePage()
                entries[Self.ring] = Entry(address: page.address, frame: page.frame, use: .busy)
                ringPages = 1
            }
        } catch {
            _ = freePages(platform)
            throw error
        }
    }

    func address(_ i: Int) -> UnsafeMutableRawPointer { entries[i].address.unsafelyUnwrapped }
    func next(_ i: Int) -> Int { Int(entries[i].next) }

    /// Takes a page off the free list (the caller checked `freeCount`).
    mutating func take() -> Int {
        let i = Int(freeHead)
        freeHead = entries[i].next
        freeCount -= 1
        entries[i].use = .busy
        entries[i].next = Self.end
        return i
    }

    /// Puts a page that is ours (or persistently granted) back on the free list.
    mutating func put(_ i: Int) {
        entries[i].use = .free
        entries[i].next = freeHead
        freeHead = UInt16(i)
        freeCount += 1
    }

    /// The grant for a page about to be used: a persistent grant is made once, writable, and
    /// kept; otherwise a fresh one, writable only for a read's data.
    mutating func grant<P: XenPlatform>(_ i: Int, to domain: domid_t, writable: Bool, persistent: Bool, _ platform: P) throws(XenPlatformError) -> grant_ref_t {
        if entries[i].granted { return entries[i].ref }
        let ref = try platform.grantAccess(to: domain, frame: entries[i].frame, readOnly: !(writable || persistent))
        entries[i].ref = ref
        entries[i].granted = true
        return ref
    }

    /// A page whose request was answered goes back on the free list: at once with a persistent
    /// grant, once access has ended otherwise (still mapped: quarantined, returns false).
    mutating func release<P: XenPlatform>(_ i: Int, persistent: Bool, _ platform: P) -> Bool {
        if persistent && entries[i].granted { put(i); return true }
        return end(i, platform)
    }

    /// Ends the page's access. Ended: the page is ours again (a pool page goes back on the
    /// free list). Still mapped: it is (or stays) quarantined; returns false.
    @inline(never)
    mutating func end<P: XenPlatform>(_ i: Int, _ platform: P) -> Bool {
        let was = entries[i].use
        if entries[i].granted {
            guard platform.endAccess(entries[i].ref) == .ended else {
                if was != .quarantined { entries[i].use = .quarantined; quarantined += 1 }
                return false
            }
            entries[i].granted = false
        }
        if was == .quarantined { quarantined -= 1 }
        if i < count {
            if was != .free { put(i) }
        } else {
            entries[i].use = .busy
        }
        return true
    }

    /// Tries again to end every quarantined page; returns how many stay quarantined.
    @inline(never)
    mutating func retryQuarantined<P: XenPlatform>(_ platform: P) -> Int {
        guard quarantined > 0 else { return 0 }
        for i in 0..<(Self.ring + ringPages) where entries[i].use == .quarantined { _ = end(i, platform) }
        return quarantined
    }

    /// Ends every grant (closing): pages in flight, persistent grants, the ring. Returns how
    /// many the backend still maps.
    @inline(never)
    mutating func endAll<P: XenPlatform>(_ platform: P) -> Int {
        // Nothing is taken from the free list any more: pages ended go back on it afresh.
        for i in 0..<count where entries[i].use == .free { entries[i].use = .busy }
        freeHead = Self.end
        freeCount = 0
        for i in 0..<(Self.ring + ringPages) where entries[i].granted && entries[i].use != .quarantined { _ = end(i, platform) }
        return retryQuarantined(platform)
    }

    /// Frees every page that is ours again; one still granted is abandoned instead: it may
    /// never be freed or reused while the backend can reach it. Returns how many were abandoned.
    @inline(never)
    mutating func freePages<P: XenPlatform>(_ platform: P) -> Int {
        var abandoned = 0
        for i in 0..<(Self.ring + ringPages) where entries[i].address != nil && entries[i].use != .abandoned {
            if entries[i].granted {
                entries[i].use = .abandoned
                abandoned += 1
            } else {
                platform.freePage(XenPage(address: address(i), frame: entries[i].frame))
                entries[i] = Entry()
            }
        }
        freeCount = 0
        freeHead = Self.end
        quarantined = 0
        return abandoned
    }
}

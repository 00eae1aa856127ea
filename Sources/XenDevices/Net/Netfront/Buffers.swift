// The pages one ring of a vif shares with its backend: the ring's own page and up to 256 buffers,
// each a page of its own that holds nothing but that buffer (XSA-403: never grant a page that
// holds other data). A buffer's id is its index here, so a response's id names its page, and the
// ids of idle buffers wait on a free list. Ending a grant the backend still maps is refused
// (XSA-396): the page is quarantined, kept out of use until a later retry ends it.
import XenABI

struct NetfrontBuffers: ~Copyable {
    enum Use: UInt8 {
        /// No page: never allocated, or freed.
        case none
        /// Ours alone, not granted. A buffer in this state is on the free list.
        case idle
        /// Granted to the backend: a buffer posted (RX) or in flight (TX), or the ring.
        case granted
        /// Access did not end (the backend still maps it): waiting for a retry.
        case quarantined
        /// Given up at close while still mapped: never freed, never reused.
        case abandoned
    }

    struct Entry {
        var address: UnsafeMutableRawPointer? = nil
        var frame: UInt64 = 0
        var ref: grant_ref_t = 0
        /// The bytes a TX buffer holds (for the counters once it is answered).
        var length: UInt16 = 0
        var use = Use.none
    }

    static var pageSize: Int { 4096 }
    /// Buffers per ring at most: one per ring slot (both netif rings have 256 in a page), so a
    /// request for every outstanding buffer always fits and ids fit in a byte.
    static var maxBuffers: Int { 256 }
    /// The entry of the ring's own page, after the buffers.
    static var ring: Int { 256 }

    var entries = InlineArray<257, Entry>(repeating: Entry())
    var free = InlineArray<256, UInt8>(repeating: 0)
    var freeCount = 0
    /// Buffers: ids 0..<count.
    let count: Int
    var quarantined = 0

    /// Allocates the ring's page and `count` buffers (1...256); on failure frees what it had.
    init<P: XenPlatform>(count: Int, platform: P) throws(XenPlatformError) {
        self.count = min(max(count, 1), Self.maxBuffers)
        do {
            for n in 0...self.count {
                let i = n == self.count ? Self.ring : n
                let page = try platform.allocatePage()
                entries[i] = Entry(address: page.address, frame: page.frame, use: .idle)
                if i < self.count { release(i) }
            }
        } catch {
            _ = freePages(platform)
            throw error
        }
    }

    func address(_ i: Int) -> UnsafeMutableRawPointer { entries[i].address.unsafelyUnwrapped }

    /// Is `id` a buffer the backend holds (posted or in flight)? Any 16-bit id may be asked.
    func isGranted(_ id: UInt16) -> Bool { Int(id) < count && entries[Int(id)].use == .granted }

    mutating func takeFree() -> Int? {
        guard freeCount > 0 else { return nil }
        freeCount -= 1
        return Int(free[freeCount])
    }

    /// Puts an idle buffer back on the free list.
    mutating func release(_ id: Int) {
        entries[id].use = .idle
        free[freeCount] = UInt8(id)
        freeCount += 1
    }

    mutating func grant<P: XenPlatform>(_ i: Int, to domain: domid_t, readOnly: Bool, _ platform: P) throws(XenPlatformError) -> grant_ref_t {
        let ref = try platform.grantAccess(to: domain, frame: entries[i].frame, readOnly: readOnly)
        entries[i].ref = ref
        entries[i].use = .granted
        return ref
    }

    /// Ends a granted or quarantined entry's access. Ended: the page is ours again (a buffer goes
    /// back on the free list, or with `keep` stays off it, idle, until `release`: its frame is
    /// still being read). Still mapped: it is (or stays) quarantined; returns false.
    @inline(never)
    mutating func end<P: XenPlatform>(_ i: Int, _ platform: P, keep: Bool = false) -> Bool {
        let was = entries[i].use
        guard platform.endAccess(entries[i].ref) == .ended else {
            if was != .quarantined { entries[i].use = .quarantined; quarantined += 1 }
            return false
        }
        if was == .quarantined { quarantined -= 1 }
        if i < count && !keep { release(i) } else { entries[i].use = .idle }
        return true
    }

    /// Tries again to end every quarantined entry; returns how many stay quarantined.
    @inline(never)
    mutating func retryQuarantined<P: XenPlatform>(_ platform: P) -> Int {
        guard quarantined > 0 else { return 0 }
        for i in 0...Self.ring where entries[i].use == .quarantined { _ = end(i, platform) }
        return quarantined
    }

    /// Ends every grant (closing); returns how many the backend still maps.
    @inline(never)
    mutating func endAll<P: XenPlatform>(_ platform: P) -> Int {
        for i in 0...Self.ring where entries[i].use == .granted { _ = end(i, platform) }
        return retryQuarantined(platform)
    }

    /// Frees every page that is ours again; one still quarantined is abandoned instead: it may
    /// never be freed or reused while the backend can reach it. Returns how many were abandoned.
    /// Only after `endAll`: a granted page is never freed.
    @inline(never)
    mutating func freePages<P: XenPlatform>(_ platform: P) -> Int {
        var abandoned = 0
        for i in 0...Self.ring {
            switch entries[i].use {
            case .idle:
                platform.freePage(XenPage(address: address(i), frame: entries[i].frame))
                entries[i].use = .none
            case .quarantined, .granted:
                entries[i].use = .abandoned
                abandoned += 1
            case .none, .abandoned:
                break
            }
        }
        freeCount = 0
        quarantined = 0
        return abandoned
    }
}

// The page allocator: one bit per pseudo-physical page of the domain.
import XenABI

/// One bit per pseudo-physical page: set = in use. Pages below `first` belong to the image and
/// Xen's bootstrap structures and are never handed out.
enum PageAllocator {
    nonisolated(unsafe) static var bitmap: UnsafeMutablePointer<UInt64> = .init(bitPattern: 8)!
    nonisolated(unsafe) static var first = 0
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var free = 0
    nonisolated(unsafe) static var hint = 0

    /// Manages pfns `first..<count`; the bitmap itself is carved from the front of that range.
    static func start(first: Int, count: Int) {
        let words = (count + 63) / 64
        let bitmapPages = (words * 8 + Boot.pageSize - 1) / Boot.pageSize
        bitmap = UnsafeMutableRawPointer(bitPattern: Boot.address(ofPFN: first))!.bindMemory(to: UInt64.self, capacity: words)
        for i in 0..<words { bitmap[i] = 0 }
        self.first = first + bitmapPages
        self.count = count
        for pfn in 0..<self.first { mark(pfn, used: true) }
        free = count - self.first
        hint = self.first
    }

    static func isUsed(_ pfn: Int) -> Bool { bitmap[pfn / 64] & (1 << UInt64(pfn % 64)) != 0 }

    static func mark(_ pfn: Int, used: Bool) {
        if used { bitmap[pfn / 64] |= 1 << UInt64(pfn % 64) } else { bitmap[pfn / 64] &= ~(1 << UInt64(pfn % 64)) }
    }

    /// A free page's pfn, or nil when none is left. Its virtual address is `Boot.address(ofPFN:)`.
    static func allocate() -> Int? {
        guard free > 0 else { return nil }
        var pfn = hint
        for _ in 0..<count {
            if pfn >= count { pfn = first }
            if !isUsed(pfn) {
                mark(pfn, used: true)
                free -= 1
                hint = pfn + 1
                return pfn
            }
            pfn += 1
        }
        return nil
    }

    /// A free page below `limit` (page tables must come from pages that are already mapped).
    static func allocate(below limit: Int) -> Int? {
        for pfn in first..<min(limit, count) where !isUsed(pfn) {
            mark(pfn, used: true)
            free -= 1
            return pfn
        }
        return nil
    }

    /// `n` free pages in a row (every pfn is mapped at its place, so a run of pfns is a run of
    /// virtual memory), the first pfn of the run.
    static func allocate(contiguous n: Int) -> Int? {
        var start = first
        while start + n <= count {
            var end = start
            while end < start + n && !isUsed(end) { end += 1 }
            if end == start + n {
                for pfn in start..<end { mark(pfn, used: true) }
                free -= n
                return start
            }
            start = end + 1
        }
        return nil
    }

    static func release(_ pfn: Int) {
        precondition(pfn >= first && pfn < count && isUsed(pfn), "freeing a page that is not allocated")
        mark(pfn, used: false)
        free += 1
    }
}


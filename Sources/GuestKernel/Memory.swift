// Memory: a page allocator over every page of the domain and the heap the Swift runtime uses.
import GuestKernelRuntime
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

    static func release(_ pfn: Int) {
        precondition(pfn >= first && pfn < count && isUsed(pfn), "freeing a page that is not allocated")
        mark(pfn, used: false)
        free += 1
    }
}

/// First-fit heap with boundary headers over a fixed run of mapped pages, for the Swift runtime
/// (`posix_memalign`/`free`). Freed blocks merge with a free successor.
enum Heap {
    struct Header { var size: Int; var free: Bool }
    nonisolated(unsafe) static var base: UnsafeMutableRawPointer = .init(bitPattern: 8)!
    nonisolated(unsafe) static var size = 0
    nonisolated(unsafe) static var inUse = 0
    static let headerSize = 16

    static func start(at address: UInt, size: Int) {
        base = UnsafeMutableRawPointer(bitPattern: address)!
        self.size = size
        base.storeBytes(of: Header(size: size, free: true), as: Header.self)
        RuntimeHeap.allocate = { size, alignment in Heap.allocate(size, alignment: alignment) }
        RuntimeHeap.release = { Heap.release($0) }
    }

    static func allocate(_ bytes: Int, alignment: Int) -> UnsafeMutableRawPointer? {
        let need = (max(bytes, 16) + 15) & ~15
        var offset = 0
        while offset < size {
            let block = base + offset
            var h = block.load(as: Header.self)
            if h.free {
                // Merge free successors before deciding.
                while offset + h.size < size, (base + offset + h.size).load(as: Header.self).free {
                    h.size += (base + offset + h.size).load(as: Header.self).size
                }
                // Place the payload at the alignment asked for, with a header just before it.
                let payload = (UInt(bitPattern: block + headerSize) + UInt(alignment - 1)) & ~UInt(alignment - 1)
                var lead = Int(payload - UInt(bitPattern: block)) - headerSize
                // A gap before the block must be able to hold a free block of its own.
                while lead != 0 && lead < headerSize * 2 { lead += alignment }
                do {
                    let total = lead + headerSize + need
                    if total <= h.size {
                        var start = block
                        var remaining = h.size
                        if lead > 0 {
                            block.storeBytes(of: Header(size: lead, free: true), as: Header.self)
                            start = block + lead
                            remaining -= lead
                        }
                        let used = remaining - (headerSize + need) >= headerSize * 2 ? headerSize + need : remaining
                        start.storeBytes(of: Header(size: used, free: false), as: Header.self)
                        if used < remaining { (start + used).storeBytes(of: Header(size: remaining - used, free: true), as: Header.self) }
                        inUse += used
                        return start + headerSize
                    }
                }
                block.storeBytes(of: h, as: Header.self)
            }
            offset += h.size
        }
        return nil
    }

    static func release(_ p: UnsafeMutableRawPointer) {
        let block = p - headerSize
        var h = block.load(as: Header.self)
        precondition(!h.free, "double free")
        inUse -= h.size
        h.free = true
        block.storeBytes(of: h, as: Header.self)
    }
}

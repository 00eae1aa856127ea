// The heap the Swift runtime allocates from (`posix_memalign`/`free`): first fit with boundary
// headers over one run of mapped pages.
import GuestKernelRuntime
import XenABI

/// Freed blocks merge with a free successor when the next allocation passes them.
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

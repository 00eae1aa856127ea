// What the drivers' fuzz targets (NetfrontResponseFuzz, BlkfrontResponseFuzz) share, compiled
// into each by scripts/fuzz-rings with Support/FuzzPlatformStubs.swift: a platform whose pages are real memory and whose grants the
// input maps and unmaps, the input read a byte at a time, and a ring as the backend writes it.
// The platform checks what a driver must never do with its pages and grants: end a grant that
// does not exist, free a page still granted or twice, grant a page twice at once.
@_spi(Testing) import XenDevices
import XenABI

final class FuzzPlatform: FuzzPlatformStubs {
    var pages: [UInt64: UnsafeMutableRawPointer] = [:]
    /// The block a page from allocateContiguousPages is part of, by frame, and each block's
    /// pages not yet freed (the block is deallocated with its last page).
    var blocks: [UInt64: UnsafeMutableRawPointer] = [:]
    var blockPages: [UnsafeMutableRawPointer: Int] = [:]
    /// `mapped`: the backend maps the page (the input toggles it), so access cannot end.
    var grants: [grant_ref_t: (frame: UInt64, mapped: Bool)] = [:]
    var nextFrame: UInt64 = 0x1000
    var nextRef: grant_ref_t = 8
    deinit {
        for (f, p) in pages where blocks[f] == nil { p.deallocate() }
        for (b, _) in blockPages { b.deallocate() }
    }

    func allocatePage() throws(XenPlatformError) -> XenPage {
        let p = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
        nextFrame += 1
        pages[nextFrame] = p
        return XenPage(address: p, frame: nextFrame)
    }
    func allocateContiguousPages(_ count: Int, _ take: (XenPage) -> Void) throws(XenPlatformError) {
        let base = UnsafeMutableRawPointer.allocate(byteCount: 4096 * count, alignment: 4096)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: 4096 * count)
        blockPages[base] = count
        for i in 0..<count {
            nextFrame += 1
            pages[nextFrame] = base + 4096 * i
            blocks[nextFrame] = base
            take(XenPage(address: base + 4096 * i, frame: nextFrame))
        }
    }
    /// Whether any grant covers the page that holds `address`.
    func isGranted(_ address: UnsafeRawPointer?) -> Bool {
        guard let address else { return false }
        for (frame, p) in pages where UnsafeRawPointer(p) <= address && address < UnsafeRawPointer(p) + 4096 {
            return grants.values.contains { $0.frame == frame }
        }
        return false
    }
    func freePage(_ page: XenPage) {
        check(!grants.values.contains { $0.frame == page.frame }, "a page freed while granted")
        check(pages[page.frame] == page.address, "a page freed twice, or never allocated")
        pages[page.frame] = nil
        if let base = blocks.removeValue(forKey: page.frame) {
            blockPages[base]! -= 1
            if blockPages[base] == 0 { blockPages[base] = nil; base.deallocate() }
        } else {
            page.address.deallocate()
        }
    }
    func grantAccess(to domain: domid_t, frame: UInt64, readOnly: Bool) throws(XenPlatformError) -> grant_ref_t {
        check(pages[frame] != nil, "a grant of a page not allocated")
        check(!grants.values.contains { $0.frame == frame }, "a page granted twice at once")
        nextRef += 1
        grants[nextRef] = (frame, false)
        return nextRef
    }
    func endAccess(_ ref: grant_ref_t) -> XenGrantEnd {
        guard let g = grants[ref] else { check(false, "ending a grant that does not exist"); return .ended }
        if g.mapped { return .stillMapped }
        grants[ref] = nil
        return .ended
    }
}

/// The input, read a byte at a time; zeros once it is used up.
struct Input {
    let data: UnsafeBufferPointer<UInt8>
    var at = 0
    var done: Bool { at >= data.count }
    mutating func byte() -> UInt8 { defer { at += 1 }; return at < data.count ? data[at] : 0 }
    mutating func u16() -> UInt16 { UInt16(byte()) | UInt16(byte()) << 8 }
    mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }
    mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }
}

/// A ring as the backend writes it: any slot, any response producer, no checks.
struct BackendRing<Layout: XenRingLayout> {
    let base: UnsafeMutableRawPointer
    /// A one-page ring's entries unless told (a multi-page blkif ring has more).
    var size: RING_IDX = Layout.pageRingSize
    func slot(_ i: RING_IDX) -> UnsafeMutableRawPointer { base + Layout.entriesOffset + Int(i & (size - 1)) * Layout.entryStride }
    var requestProducer: RING_IDX { (base + Layout.requestProducerOffset).load(as: RING_IDX.self) }
    func setResponseProducer(_ v: RING_IDX) { (base + Layout.responseProducerOffset).storeBytes(of: v, as: RING_IDX.self) }
}

// libFuzzer target: a flex ring's back end (pvcalls, 9pfs), with the interface page and the data
// pages as the input. The order comes from the page, so every allocation is sized from what the
// peer wrote, exactly, and AddressSanitizer sees any access past it.
import XenABI

@inline(never) func check(_ condition: Bool, _ what: StaticString) { if !condition { fatalError("\(what)") } }

let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 13, alignment: 8)

func run<L: XenFlexRingLayout>(_: L.Type, _ data: UnsafePointer<UInt8>, _ size: Int) {
    let intf = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
    defer { intf.deallocate() }
    intf.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
    intf.copyMemory(from: data, byteCount: min(4096, size))
    // A back end that accepts at most order 1 (two pages): larger orders are refused.
    guard let order = try? XenFlexRing<L>.ringOrder(of: intf, maximumOrder: 1) else { return }
    let half = Int(XenFlexRing<L>.halfSize(order: order))
    let data2 = UnsafeMutableRawPointer.allocate(byteCount: 2 * half, alignment: 4096)
    defer { data2.deallocate() }
    data2.initializeMemory(as: UInt8.self, repeating: 0xAA, count: 2 * half)
    if size > 4096 { data2.copyMemory(from: data + 4096, byteCount: min(2 * half, size - 4096)) }
    guard var ring = try? XenFlexRing<L>(backendOf: intf, data: data2, order: order) else { return }
    var total = 0
    while let n = try? ring.reader.read(into: scratch), n > 0 {
        total += n
        check(total <= half, "read more than one ring's worth")
    }
    if let n = try? ring.writer.write(UnsafeRawBufferPointer(rebasing: scratch[0..<(size % 5000)])) { check(n <= half, "wrote more than fits") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 1 else { return 0 }
    if size & 1 == 0 { run(pvcalls_flex_ring.self, data, size) } else { run(xen_9pfs_flex_ring.self, data, size) }
    return 0
}

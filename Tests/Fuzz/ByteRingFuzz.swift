// libFuzzer target: the console and xenstore byte rings, with the page as the input. The page is
// allocated at exactly the interface's size, so AddressSanitizer sees any access past it.
import XenABI

@inline(never) func check(_ condition: Bool, _ what: StaticString) { if !condition { fatalError("\(what)") } }

let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 1 else { return 0 }
    let console = data[0] & 1 == 0
    let bytes = console ? MemoryLayout<xencons_interface>.size : MemoryLayout<xenstore_domain_interface>.size
    let page = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4)
    defer { page.deallocate() }
    page.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    page.copyMemory(from: data + 1, byteCount: min(bytes, size - 1))
    let writeCount = Int(data[0] >> 1) * 33
    if console {
        guard var ring = try? XenConsoleRing(page) else { return 0 }
        let start = ring.input.consumed
        var total = 0
        while let n = try? ring.input.read(into: scratch), n > 0 {
            check(n <= Int(xencons_interface_in.capacity), "read more than the ring holds")
            total += n
            if total > Int(xencons_interface_in.capacity) { break }
        }
        check(ring.input.consumed &- start <= xencons_interface_in.capacity, "consumed more than one ring")
        if let n = try? ring.output.write(UnsafeRawBufferPointer(rebasing: scratch[0..<writeCount])) {
            check(n <= writeCount && n <= Int(xencons_interface_out.capacity), "wrote more than asked or fits")
        }
    } else {
        guard var ring = try? XenStoreRing(page) else { return 0 }
        _ = ring.serverFeatures
        for _ in 0..<3 {
            if let n = try? ring.read(into: scratch) { check(n <= Int(xenstore_domain_interface_rsp.capacity), "read more than the ring holds") }
            if let n = try? ring.write(UnsafeRawBufferPointer(rebasing: scratch[0..<writeCount])) {
                check(n <= Int(xenstore_domain_interface_req.capacity), "wrote more than fits")
            }
        }
        if (try? ring.requestReconnection()) != nil { _ = try? ring.reattachIfConnected() }
    }
    return 0
}

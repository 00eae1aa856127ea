// The C symbols the Embedded Swift runtime links against, written in Swift where it can be.
// Built with loop idiom recognition off, so these loops are not turned back into calls to
// themselves.
import XenABI

@_cdecl("memset")
public func memset(_ dst: UnsafeMutableRawPointer, _ c: CInt, _ n: Int) -> UnsafeMutableRawPointer {
    let d = dst.assumingMemoryBound(to: UInt8.self)
    var i = 0
    while i < n { d[i] = UInt8(truncatingIfNeeded: c); i += 1 }
    return dst
}

@_cdecl("memcpy")
public func memcpy(_ dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer, _ n: Int) -> UnsafeMutableRawPointer {
    let d = dst.assumingMemoryBound(to: UInt8.self)
    let s = src.assumingMemoryBound(to: UInt8.self)
    var i = 0
    while i < n { d[i] = s[i]; i += 1 }
    return dst
}

@_cdecl("memmove")
public func memmove(_ dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer, _ n: Int) -> UnsafeMutableRawPointer {
    let d = dst.assumingMemoryBound(to: UInt8.self)
    let s = src.assumingMemoryBound(to: UInt8.self)
    if UnsafeRawPointer(dst) < src {
        var i = 0
        while i < n { d[i] = s[i]; i += 1 }
    } else {
        var i = n
        while i > 0 { i -= 1; d[i] = s[i] }
    }
    return dst
}

@_cdecl("memcmp")
public func memcmp(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> CInt {
    let x = a.assumingMemoryBound(to: UInt8.self)
    let y = b.assumingMemoryBound(to: UInt8.self)
    var i = 0
    while i < n {
        if x[i] != y[i] { return CInt(x[i]) - CInt(y[i]) }
        i += 1
    }
    return 0
}

/// The runtime's own output (a fatal error's message) goes to the console like ours.
@_cdecl("putchar")
public func putchar(_ c: CInt) -> CInt {
    var byte = Int8(truncatingIfNeeded: c)
    _ = withUnsafePointer(to: &byte) { try? Xen.console_io.write(UnsafeBufferPointer(start: $0, count: 1)) }
    return c
}

/// Hash seeds only; a kernel without an entropy source gives a fixed stream.
@_cdecl("arc4random_buf")
public func arc4random_buf(_ buf: UnsafeMutableRawPointer, _ n: Int) {
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15
    let d = buf.assumingMemoryBound(to: UInt8.self)
    var i = 0
    while i < n {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        d[i] = UInt8(truncatingIfNeeded: x)
        i += 1
    }
}

/// The heap the Swift runtime allocates from: set up by the kernel once memory is known.
public enum RuntimeHeap {
    /// `allocate(size, alignment)` and `release(pointer)`, provided by the kernel's allocator.
    nonisolated(unsafe) public static var allocate: (@convention(c) (Int, Int) -> UnsafeMutableRawPointer?)?
    nonisolated(unsafe) public static var release: (@convention(c) (UnsafeMutableRawPointer) -> Void)?
}

@_cdecl("posix_memalign")
public func posix_memalign(_ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ alignment: Int, _ size: Int) -> CInt {
    guard let allocate = RuntimeHeap.allocate, let p = allocate(size, max(alignment, 16)) else {
        out.pointee = nil
        return 12 // ENOMEM
    }
    out.pointee = p
    return 0
}

@_cdecl("guest_kernel_free")
public func guestKernelFree(_ p: UnsafeMutableRawPointer?) {
    guard let p, let release = RuntimeHeap.release else { return }
    release(p)
}

/// Set and Dictionary size their storage with `ceil`. Written with integer arithmetic: on a CPU
/// without SSE4.1 (QEMU's qemu64) LLVM's own lowering of rounding is itself a call to `ceil`.
@_cdecl("ceil")
public func ceil(_ x: Double) -> Double {
    // NaN, infinities and anything at or above 2^52 are already integral.
    guard x.magnitude < 4_503_599_627_370_496.0 else { return x }
    let truncated = Double(Int64(x))
    if truncated < x { return truncated + 1 }
    return truncated == 0 && x < 0 ? -0.0 : truncated
}

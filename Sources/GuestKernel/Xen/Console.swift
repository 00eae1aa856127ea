// Console output, with no String in sight: a dom0 writes with console_io (it has no PV console
// ring), a domU into its PV console ring (PVConsole: Xen refuses its console_io).
import GuestKernelBoot
import XenABI

/// Out of line on purpose: inlined at every call site the printing code would be most of the image.
enum Console {
    /// One console_io hypercall (or ring write) per line, not per piece: output is gathered here
    /// until a newline.
    nonisolated(unsafe) static var line = (console_line_buffer()!, 0)

    @inline(never) static func write(_ s: StaticString) {
        s.withUTF8Buffer { write(bytes: $0) }
    }

    @inline(never) static func write(bytes: UnsafeBufferPointer<UInt8>) {
        for b in bytes {
            line.0[line.1] = Int8(bitPattern: b)
            line.1 += 1
            if b == 0x0A || line.1 == 160 { flush() }
        }
    }

    @inline(never) static func flush() {
        guard line.1 > 0 else { return }
        let bytes = UnsafeBufferPointer(start: line.0, count: line.1)
        line.1 = 0
        if Domain.isInitial { _ = try? Xen.console_io.write(bytes) } else { PVConsole.write(UnsafeRawBufferPointer(bytes)) }
    }

    /// A number in decimal, or in hexadecimal with `0x`.
    @inline(never) static func write(_ value: UInt64, hex: Bool = false) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buf in
            var i = 24
            var v = value
            let base: UInt64 = hex ? 16 : 10
            repeat {
                let d = UInt8(v % base)
                i -= 1
                buf[i] = d < 10 ? 0x30 + d : 0x57 + d
                v /= base
            } while v != 0
            if hex { i -= 1; buf[i] = 0x78; i -= 1; buf[i] = 0x30 }
            write(bytes: UnsafeBufferPointer(rebasing: buf[i..<24]))
        }
    }

    @inline(never) static func write(_ value: Int64) {
        if value < 0 { write("-") }
        write(value.magnitude)
    }

    @inline(never) static func write(_ value: Int) { write(Int64(value)) }
    @inline(never) static func write(_ value: UInt32, hex: Bool = false) { write(UInt64(value), hex: hex) }

    /// A NUL-terminated C string of at most `limit` bytes.
    @inline(never) static func write(cString p: UnsafePointer<Int8>, limit: Int) {
        var n = 0
        while n < limit && p[n] != 0 { n += 1 }
        p.withMemoryRebound(to: UInt8.self, capacity: n) { write(bytes: UnsafeBufferPointer(start: $0, count: n)) }
    }

    /// A label and its count ("tx-full 3"): one call where a line lists many counters.
    @inline(never) static func write(_ label: StaticString, _ value: UInt64) { write(label); write(value) }
    @inline(never) static func write(_ label: StaticString, _ value: Int) { write(label); write(value) }

    @inline(never) static func newline() { write("\n") }
}

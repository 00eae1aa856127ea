// Console output through console_io (a dom0 has no PV console ring), with no String in sight.
import XenABI

enum Console {
    static func write(_ s: StaticString) {
        s.withUTF8Buffer { bytes in
            bytes.withMemoryRebound(to: Int8.self) { _ = try? Xen.console_io.write($0) }
        }
    }

    static func write(bytes: UnsafeBufferPointer<UInt8>) {
        bytes.withMemoryRebound(to: Int8.self) { _ = try? Xen.console_io.write($0) }
    }

    /// A number in decimal, or in hexadecimal with `0x`.
    static func write(_ value: UInt64, hex: Bool = false) {
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

    static func write(_ value: Int64) {
        if value < 0 { write("-") }
        write(value.magnitude)
    }

    static func write(_ value: Int) { write(Int64(value)) }
    static func write(_ value: UInt32, hex: Bool = false) { write(UInt64(value), hex: hex) }

    /// A NUL-terminated C string of at most `limit` bytes.
    static func write(cString p: UnsafePointer<Int8>, limit: Int) {
        var n = 0
        while n < limit && p[n] != 0 { n += 1 }
        _ = try? Xen.console_io.write(UnsafeBufferPointer(start: p, count: n))
    }

    static func newline() { write("\n") }
}

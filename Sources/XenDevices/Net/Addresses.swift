// The two kinds of address the stack speaks: Ethernet (MAC-48) and IPv4. Each is one integer,
// the first byte on the wire in its high bits, so comparing and copying them costs nothing.
// Their text forms are what the kernel is configured with: xenstore's `mac` and `ip` keys of a
// vif, or the command line.

/// An Ethernet address: six bytes in the low 48 bits, the first on the wire highest.
public struct MACAddress: Equatable {
    public let value: UInt64

    @inlinable public init(value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        self.init(value: UInt64(b0) << 40 | UInt64(b1) << 32 | UInt64(b2) << 24 | UInt64(b3) << 16 | UInt64(b4) << 8 | UInt64(b5))
    }

    public static var broadcast: MACAddress { MACAddress(value: 0xFFFF_FFFF_FFFF) }

    /// The I/G bit (the low bit of the first byte): a group (multicast or broadcast) address,
    /// which names no single sender.
    public var isGroup: Bool { value & (1 << 40) != 0 }

    /// `xx:xx:xx:xx:xx:xx` in hexadecimal, either case, as xenstore's `mac` key holds it.
    public init?(parsing text: UnsafeRawBufferPointer) {
        guard text.count == 17 else { return nil }
        var value: UInt64 = 0
        for i in 0..<17 {
            let c = text[i]
            if i % 3 == 2 {
                guard c == UInt8(ascii: ":") else { return nil }
                continue
            }
            guard let digit = hexDigit(c) else { return nil }
            value = value << 4 | UInt64(digit)
        }
        self.init(value: value)
    }
}

@inline(__always)
private func hexDigit(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
}

/// An IPv4 address: the first byte on the wire highest.
public struct IPv4Address: Equatable {
    public let value: UInt32

    @inlinable public init(value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// 0.0.0.0: no address (an unset gateway, an ARP probe's sender).
    public static var any: IPv4Address { IPv4Address(value: 0) }
    /// 255.255.255.255, the limited broadcast.
    public static var broadcast: IPv4Address { IPv4Address(value: .max) }

    /// The netmask of a prefix length (0...32).
    public static func netmask(prefixLength: Int) -> IPv4Address? {
        guard prefixLength >= 0, prefixLength <= 32 else { return nil }
        return IPv4Address(value: prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength))
    }

    /// Dotted decimal, four parts of 0...255. A part with a leading zero is refused: inet_aton
    /// reads `010` as octal 8, so such a text has no one meaning.
    public init?(parsing text: UnsafeRawBufferPointer) {
        var value: UInt32 = 0
        var parts = 0
        var start = 0
        for end in 0...text.count where end == text.count || text[end] == UInt8(ascii: ".") {
            let part = UnsafeRawBufferPointer(rebasing: text[start..<end])
            guard parts < 4, part.count <= 3, part.count == 1 || part.first != UInt8(ascii: "0"),
                  let n = xenParseDecimal(raw: part, maximum: 255) else { return nil }
            value = value << 8 | UInt32(n)
            parts += 1
            start = end + 1
        }
        guard parts == 4 else { return nil }
        self.value = value
    }
}

extension MACAddress {
    public init?(parsing text: [UInt8]) {
        guard let a = text.withUnsafeBytes({ MACAddress(parsing: $0) }) else { return nil }
        self = a
    }
}

extension IPv4Address {
    public init?(parsing text: [UInt8]) {
        guard let a = text.withUnsafeBytes({ IPv4Address(parsing: $0) }) else { return nil }
        self = a
    }
}

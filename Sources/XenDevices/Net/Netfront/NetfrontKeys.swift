// What a vif reads and writes in xenstore (io/netif.h; Linux 6.1's netback: xenbus.c's
// connect_data_rings and read_xenbus_vif_flags). Read from the frontend directory, as libxl wrote
// it: `mac` and, since Xen 4.17, `trusted`. From the backend's, before publishing:
// `feature-rx-copy` (required), and the toolstack's `ip` for the kernel. Written in one transaction with state Connected: the two ring
// references and one event channel at the top level (one queue, so no `multi-queue-num-queues`
// and no `queue-N/`), `request-rx-copy` and `feature-rx-notify`. Not written:
// `feature-no-csum-offload`, so checksum offload is on both ways, as for a Linux domU: under
// it dom0 computes no checksum for its local traffic to and from the guest (frames from its own
// sockets arrive NETRXF_csum_blank, the guest's UDP echoes go back NETTXF_csum_blank), where
// without it dom0's stack sums every frame to the guest in software and verifies every one
// from it; the guest's stack only fills in a checksum it must (its ICMP replies, from the
// request's). Not taken, and why: `feature-sg` and `feature-gso-*`, because a frame of the
// bridge's 1500-byte MTU (1514 bytes) fits one 4 KiB slot each way, and scatter-gather only pays
// for frames larger than a page, which come with GSO, which needs a TCP stack to segment (this
// one has none); multiple queues (`multi-queue-num-queues`), because a queue pays with a vCPU to
// run it and this kernel runs one; split event channels, because one port serves both rings
// and the event loop handles both on any event anyway (two ports would be two upcalls).
import XenABI

enum NetfrontKeys {
    /// The keys of the publishing transaction (relative to the frontend directory).
    @inline(never)
    static func published(txRing: grant_ref_t, rxRing: grant_ref_t, port: evtchn_port_t) -> [(key: [UInt8], value: [UInt8])] {
        var keys: [(key: [UInt8], value: [UInt8])] = []
        add(&keys, "tx-ring-ref", UInt64(txRing))
        add(&keys, "rx-ring-ref", UInt64(rxRing))
        add(&keys, "event-channel", UInt64(port))
        add(&keys, "request-rx-copy", 1)
        add(&keys, "feature-rx-notify", 1)
        return keys
    }

    @inline(never)
    static func add(_ keys: inout [(key: [UInt8], value: [UInt8])], _ name: StaticString, _ value: UInt64) {
        XenBusFrontend.add(&keys, name, value)
    }

    static var mac: StaticString { "mac" }
    static var trusted: StaticString { "trusted" }
    /// Where `feature-rx-copy` is in `XenBusDeviceKind.vif.keysBeforePublish` (a test pins it).
    static var rxCopyIndex: Int { 2 }
    /// Where `ip` is: what the toolstack wrote for the vif spec's `ip=` (libxl puts it in the
    /// backend directory; Mini-OS's netfront reads it there too). The driver does not use it.
    static var ipIndex: Int { 3 }
    /// Longer than any list of addresses a vif spec gives: refused, not truncated.
    static var maxIPLength: Int { 255 }

    /// The backend's `ip` key as written, when present and of a sane length.
    static func backendIP(_ values: [[UInt8]?]) -> [UInt8]? {
        guard values.count > ipIndex, let value = values[ipIndex], value.count <= maxIPLength else { return nil }
        return value
    }

    /// Does the backend offer rx-copy? Exactly "1" (netback writes it so); anything else is no.
    static func offersRxCopy(_ values: [[UInt8]?]) -> Bool {
        guard values.count > rxCopyIndex, let value = values[rxCopyIndex] else { return false }
        return xenParseDecimal(value, maximum: 1) == 1
    }
}

/// A vif's MAC address, as libxl writes it: six pairs of hex digits joined by colons.
public struct NetfrontMAC: Equatable {
    /// The six octets in the low 48 bits, the first octet most significant.
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue & 0xFFFF_FFFF_FFFF }

    /// Octet `i` (0...5), in the order they appear on the wire.
    public subscript(i: Int) -> UInt8 { UInt8(truncatingIfNeeded: rawValue >> UInt64(8 * (5 - i))) }

    /// The value of a `mac` key: `xx:xx:xx:xx:xx:xx` in hex digits of either case, nothing
    /// else. A group address (the first octet's low bit) or all zeros is no vif's address.
    @inline(never)
    public init?(parsing bytes: [UInt8]) {
        guard let mac = bytes.withUnsafeBytes({ MACAddress(parsing: $0) }), mac.value != 0, !mac.isGroup else { return nil }
        rawValue = mac.value
    }
}

/// A frame `receive` hands over, in its RX page.
public struct NetfrontFrame: Equatable {
    public let length: Int
    /// What the backend said of its checksums: `NETRXF_csum_blank` (with or without
    /// `NETRXF_data_validated`) is `.blank`, `NETRXF_data_validated` alone `.validated`. A
    /// backend can forge any frame anyway, so believing it gives it nothing.
    public let checksum: NetChecksum
}

// The PV console (io/console.h) over XenConsoleRing: a domU's only console (Debian's release Xen
// refuses `console_io` writes from anything but dom0). Output that does not fit waits in a
// bounded buffer for xenconsoled to drain the ring, at most `holdTime`; what is still waiting
// then, or does not fit in the buffer, is dropped and counted, so a stalled xenconsoled cannot
// stall the kernel. Nothing here blocks: the caller calls `handleEvent` when the port fires or
// at the deadline it returned.
import XenABI

public struct XenConsole<Platform: XenPlatform>: ~Copyable {
    var ring: XenConsoleRing
    public let port: evtchn_port_t
    public let platform: Platform
    /// How long output may wait for room (nanoseconds).
    public var holdTime: UInt64 = 100_000_000
    /// Bytes held while the ring is full, at most.
    public static var holdLimit: Int { 4096 }

    var held = XenByteBuffer(capacity: holdLimit)
    var heldSince: UInt64 = 0
    /// Output dropped: the hold buffer was full, its time ran out, or the ring failed.
    public private(set) var bytesLost: UInt64 = 0
    /// The ring's indexes were refused once: nothing more is written or read.
    public private(set) var failure: XenRingError?
    /// The hold time ran out with the ring still full: xenconsoled is not reading. Until the ring
    /// has room again, output is dropped at once instead of waiting the hold time line by line
    /// (a kernel printing into a dead console would otherwise crawl).
    public private(set) var stalled = false

    /// `start_info.console.domU.mfn` mapped, and `.evtchn`.
    public init(interface: UnsafeMutableRawPointer, port: evtchn_port_t, platform: Platform) throws(XenRingError) {
        ring = try XenConsoleRing(interface)
        self.port = port
        self.platform = platform
    }

    /// Writes what fits and holds the rest (in order, behind what is held already).
    @inline(never)
    public mutating func write(_ bytes: UnsafeRawBufferPointer) -> XenWait {
        guard failure == nil else { bytesLost &+= UInt64(bytes.count); return .event }
        var rest = bytes
        if held.isEmpty {
            let n = put(bytes)
            if n > 0 { stalled = false }
            rest = UnsafeRawBufferPointer(rebasing: bytes[n...])
            guard failure == nil, !stalled else { bytesLost &+= UInt64(rest.count); return .event }
            if !rest.isEmpty { heldSince = platform.now() }
        }
        let kept = held.append(rest)
        if rest.count > kept { bytesLost &+= UInt64(rest.count - kept) }
        return wait
    }

    public mutating func write(_ literal: StaticString) -> XenWait {
        write(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Moves held output into the ring; drops it once it has waited `holdTime`.
    @inline(never)
    public mutating func handleEvent() -> XenWait {
        guard failure == nil, !held.isEmpty else { return .event }
        let n = put(held.bytes)
        held.removeFirst(n)
        if n > 0 { heldSince = platform.now() }
        if !held.isEmpty && platform.now() &- heldSince >= holdTime {
            bytesLost &+= UInt64(held.count)
            held.removeAll()
            stalled = true
        }
        return wait
    }

    /// Reads input that has arrived, up to `buffer.count` bytes.
    @inline(never)
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard failure == nil else { return 0 }
        do {
            let n = try ring.input.read(into: buffer)
            if n > 0 { platform.notify(port) }  // xenconsoled may be waiting for room
            return n
        } catch {
            fail(error)
            return 0
        }
    }

    public var bytesHeld: Int { held.count }

    /// Free bytes in the ring now (0 once the ring has failed).
    @inline(never)
    public func roomInRing() -> Int {
        guard failure == nil, let free = try? ring.output.space() else { return 0 }
        return free
    }

    /// Output in the ring that xenconsoled has not taken yet (0 once it has drained it, or once
    /// the ring has failed: nothing more will leave then).
    @inline(never)
    public func bytesUnread() -> Int {
        guard failure == nil, let free = try? ring.output.space() else { return 0 }
        return ring.output.capacity - free
    }

    var wait: XenWait { held.isEmpty ? .event : .deadline(heldSince &+ holdTime) }

    mutating func put(_ bytes: UnsafeRawBufferPointer) -> Int {
        do {
            let n = try ring.output.write(bytes)
            if n > 0 { platform.notify(port) }
            return n
        } catch {
            fail(error)
            return 0
        }
    }

    mutating func fail(_ error: XenRingError) {
        failure = error
        bytesLost &+= UInt64(held.count)
        held.removeAll()
    }
}

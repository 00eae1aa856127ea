// A domU's console: the PV console ring of start_info (io/console.h) through XenDevices'
// XenConsole. Debian's release Xen refuses a domU's `console_io`, so every line a domU prints
// goes here. Output that finds the ring full waits for xenconsoled at most XenConsole's hold
// time, in SCHEDOP_poll on the console's port (nothing else runs meanwhile: console output is
// synchronous for its callers), and what is dropped is counted and reported once output flows
// again. Input is read by the console's owner in the event loop into a line buffer.
import GuestKernelBoot
import XenABI
import XenDevices

enum PVConsole {
    nonisolated(unsafe) static var console: XenConsole<GuestPlatform>? = nil
    nonisolated(unsafe) static var attachFailed = false
    /// Bytes lost already reported in a console line.
    nonisolated(unsafe) static var reportedLoss: UInt64 = 0
    /// The last output lost its end (part of a line reached the ring, or none of it).
    nonisolated(unsafe) static var truncated = false
    /// Input not yet taken as a line; a line longer than the buffer is cut there.
    nonisolated(unsafe) static var input = [UInt8](repeating: 0, count: 256)
    nonisolated(unsafe) static var inputCount = 0
    nonisolated(unsafe) static var lines: [[UInt8]] = []
    nonisolated(unsafe) static var owner = -1

    static var port: evtchn_port_t { Boot.startInfo.pointee.console.domU.evtchn }

    /// The attached console, for reading its state (a noncopyable optional's stored properties
    /// cannot be read through `!` without consuming it; an inout access can).
    static func with<R>(_ body: (inout XenConsole<GuestPlatform>) -> R) -> R { body(&console!) }

    /// The ring page: start_info names its machine frame, which lies in our own memory (the
    /// domain builder put it beside start_info), mapped where its pseudo-physical page is.
    static func attach() -> Bool {
        guard console == nil else { return true }
        guard !attachFailed else { return false }
        let mfn = Boot.startInfo.pointee.console.domU.mfn
        let pfn = Memory.pfn(ofMFN: UInt64(mfn))
        guard mfn != 0, pfn < Int(Boot.startInfo.pointee.nr_pages) else { attachFailed = true; return false }
        do {
            console = try XenConsole(interface: UnsafeMutableRawPointer(bitPattern: Boot.address(ofPFN: pfn))!, port: port, platform: GuestPlatform())
        } catch {
            attachFailed = true
            return false
        }
        return true
    }

    /// Writes `bytes`, waiting for room at most the hold time once Xen's clock can be read.
    static func write(_ bytes: UnsafeRawBufferPointer) {
        // The first lines come before the heap that XenConsole's hold buffer lives in.
        guard Heap.size > 0 else { writeEarly(bytes); return }
        guard attach() else { return }
        // A line cut off by a loss is ended before the next output, once there is room for it.
        if truncated, with({ $0.roomInRing() }) > 0 { _ = console!.write("\n"); truncated = false }
        let lostBefore = with { $0.bytesLost }
        var wait = console!.write(bytes)
        while case .deadline(let deadline) = wait, SharedInfo.isMapped {
            poll(until: deadline)
            wait = console!.handleEvent()
        }
        if with({ $0.bytesLost }) != lostBefore { truncated = true }
        reportLoss()
    }

    /// Bytes the early path could not place (the ring full before there is a clock to wait by).
    nonisolated(unsafe) static var earlyLoss: UInt64 = 0

    /// Before the heap: straight into the ring, nothing held; what does not fit is counted and
    /// reported with XenConsole's own losses.
    static func writeEarly(_ bytes: UnsafeRawBufferPointer) {
        let mfn = Boot.startInfo.pointee.console.domU.mfn
        let pfn = Memory.pfn(ofMFN: UInt64(mfn))
        guard mfn != 0, pfn < Int(Boot.startInfo.pointee.nr_pages),
              var ring = try? XenConsoleRing(UnsafeMutableRawPointer(bitPattern: Boot.address(ofPFN: pfn))!) else { return }
        let n = (try? ring.output.write(bytes)) ?? 0
        earlyLoss &+= UInt64(bytes.count - n)
        if n > 0 { _ = try? Xen.event_channel_op.send(evtchn_send(port: port)) }
    }

    /// Once output flows again, one line saying how much was dropped while it could not.
    static func reportLoss() {
        var (lost, held) = with { ($0.bytesLost, $0.bytesHeld) }
        lost &+= earlyLoss
        guard lost != reportedLoss, held == 0 else { return }
        reportedLoss = lost
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buf in
            var n = 0
            func put(_ s: StaticString) { s.withUTF8Buffer { for b in $0 { buf[n] = b; n += 1 } } }
            put("guest: console: ")
            var digits = [UInt8](); var v = lost
            repeat { digits.append(0x30 + UInt8(v % 10)); v /= 10 } while v != 0
            for d in digits.reversed() { buf[n] = d; n += 1 }
            put(" bytes lost so far (xenconsoled stalled)\n")
            _ = console!.write(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buf[0..<n])))
        }
    }

    /// Waits until xenconsoled has taken everything in the ring, or `timeout` nanoseconds pass.
    static func drain(timeout: UInt64) {
        guard console != nil, SharedInfo.isMapped else { return }
        let deadline = Time.now() &+ timeout
        while Time.now() < deadline {
            _ = console!.handleEvent()
            if with({ $0.bytesHeld == 0 && $0.bytesUnread() == 0 }) { return }
            poll(until: min(deadline, Time.now() &+ 10_000_000))
        }
    }

    /// SCHEDOP_poll on the console's port until it is pending or `deadline` (Xen system time).
    /// An event found pending is cleared and handed to the event loop, which would otherwise
    /// miss it (the poll returns at once while the bit stays set).
    @inline(never) static func poll(until deadline: UInt64) {
        if Events.started { Events.takePending(port) }
        var p = port
        withUnsafeMutablePointer(to: &p) { ports in
            var op = sched_poll()
            op.ports = XenGuestHandle(ports)
            op.nr_ports = 1
            op.timeout = max(deadline, 1)
            _ = try? Xen.sched_op.poll(op)
        }
        if Events.started { Events.takePending(port) }
    }

    // MARK: input

    /// The console's owner in the event loop: drains output held back and reads input.
    static func start() throws(KernelError) {
        guard attach(), owner < 0 else { return }
        owner = EventLoop.register { _ in
            var wait = console!.handleEvent()
            if case .deadline(let d) = wait { EventLoop.wake(owner, at: d); wait = .event }
            return readInput() ? .more : .done
        }
        try EventLoop.bind(port, to: owner)
        EventLoop.schedule(owner)
    }

    /// Reads what has arrived, at most four ring's worth per call (a peer that types without
    /// pause gets the rest read next round, after the other owners): true if it stopped there.
    static func readInput() -> Bool {
        for _ in 0..<4 {
            let n = input.withUnsafeMutableBytes { console!.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[inputCount...])) }
            guard n > 0 else { return false }
            inputCount += n
            var start = 0
            for i in 0..<inputCount where input[i] == 0x0A || input[i] == 0x0D {
                if i > start { lines.append(Array(input[start..<i])) }
                start = i + 1
            }
            if start == 0 && inputCount == input.count {
                lines.append(Array(input[0..<inputCount]))  // too long for a line: cut here
                start = inputCount
            }
            for i in start..<inputCount { input[i - start] = input[i] }
            inputCount -= start
            // Bounded: a peer typing without pause cannot fill the heap with lines nobody takes.
            if lines.count > 16 { lines.removeFirst(lines.count - 16) }
        }
        return true
    }

    /// The oldest line typed on the console, without its end of line.
    static func takeLine() -> [UInt8]? { lines.isEmpty ? nil : lines.removeFirst() }
}

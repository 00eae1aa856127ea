// The PV console: output that does not fit waits a bounded time and is then counted as lost;
// input is read as it comes; a ring with bad indexes stops the console, not the kernel.
import Testing
import XenABI
@testable import XenDevices

@Suite("PV console")
struct XenConsoleTests {
    /// xenconsoled's end: drains `out`, fills `in`.
    struct Daemon: ~Copyable {
        var out: XenByteReader
        var input: XenByteWriter
        init(_ page: UnsafeMutableRawPointer) {
            out = XenByteReader(try! XenByteStream(xencons_interface_out.self, interface: page))
            input = XenByteWriter(try! XenByteStream(xencons_interface_in.self, interface: page))
        }
        mutating func drain() -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { try! out.read(into: $0) }
            return Array(buffer[0..<n])
        }
    }

    @Test("output goes to the ring and the port is notified")
    func writes() {
        let page = zeroedPage(); defer { page.deallocate() }
        let platform = SimulatedPlatform()
        var console = try! XenConsole(interface: page, port: 3, platform: platform)
        var daemon = Daemon(page)
        #expect(console.write("hello\n") == .event)
        #expect(daemon.drain() == bytes("hello\n"))
        #expect(platform.notifications[3] == 1)
    }

    @Test("a full ring holds output until drained, within the hold time")
    func holdsWhenFull() {
        let page = zeroedPage(); defer { page.deallocate() }
        let platform = SimulatedPlatform()
        var console = try! XenConsole(interface: page, port: 3, platform: platform)
        var daemon = Daemon(page)
        let text = [UInt8]((0..<3000).map { UInt8(48 + $0 % 10) })
        let wait = text.withUnsafeBytes { console.write($0) }
        #expect(wait == .deadline(platform.clock + console.holdTime))
        #expect(console.bytesHeld == 3000 - Int(xencons_interface_out.capacity))
        var got = daemon.drain()
        platform.clock += 1000
        #expect(console.handleEvent() == .event)
        got += daemon.drain()
        #expect(got == text, "every byte, in order")
        #expect(console.bytesLost == 0)
    }

    @Test("a stalled xenconsoled: output still held after the hold time is dropped and counted")
    func dropsAfterHoldTime() {
        let page = zeroedPage(); defer { page.deallocate() }
        let platform = SimulatedPlatform()
        var console = try! XenConsole(interface: page, port: 3, platform: platform)
        let text = [UInt8](repeating: 65, count: 3000)
        _ = text.withUnsafeBytes { console.write($0) }
        let held = console.bytesHeld
        platform.clock += console.holdTime
        #expect(console.handleEvent() == .event)
        #expect(console.bytesLost == UInt64(held))
        #expect(console.bytesHeld == 0)
        let more = [UInt8](repeating: 66, count: 10_000)
        #expect(more.withUnsafeBytes { console.write($0) } == .event, "stalled: dropped at once, no second wait")
        let (stalled, heldNow, lost) = (console.stalled, console.bytesHeld, console.bytesLost)
        #expect(stalled && heldNow == 0 && lost == UInt64(held + 10_000))
    }

    @Test("a full ring holds at most holdLimit bytes; the rest is counted at once")
    func holdBufferIsBounded() {
        let page = zeroedPage(); defer { page.deallocate() }
        var console = try! XenConsole(interface: page, port: 3, platform: SimulatedPlatform())
        let text = [UInt8](repeating: 65, count: 2048 + 10_000)
        _ = text.withUnsafeBytes { console.write($0) }
        let (held, lost) = (console.bytesHeld, console.bytesLost)
        #expect(held == XenConsole<SimulatedPlatform>.holdLimit)
        #expect(lost == UInt64(10_000 - XenConsole<SimulatedPlatform>.holdLimit))
    }

    @Test("a stalled console comes back as soon as xenconsoled reads again")
    func recoversFromStall() {
        let page = zeroedPage(); defer { page.deallocate() }
        let platform = SimulatedPlatform()
        var console = try! XenConsole(interface: page, port: 3, platform: platform)
        var daemon = Daemon(page)
        _ = [UInt8](repeating: 65, count: 3000).withUnsafeBytes { console.write($0) }
        platform.clock += console.holdTime
        _ = console.handleEvent()
        let stalled = console.stalled
        #expect(stalled)
        #expect(daemon.drain().count == 2048, "the ring's contents were never lost")
        #expect(console.write("back\n") == .event)
        let after = console.stalled
        #expect(!after && daemon.drain() == [UInt8]("back\n".utf8))
    }

    @Test("input is read as it arrives")
    func reads() {
        let page = zeroedPage(); defer { page.deallocate() }
        var console = try! XenConsole(interface: page, port: 3, platform: SimulatedPlatform())
        var daemon = Daemon(page)
        _ = bytes("ls\n").withUnsafeBytes { try! daemon.input.write($0) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = buffer.withUnsafeMutableBytes { console.read(into: $0) }
        #expect(Array(buffer[0..<n]) == bytes("ls\n"))
    }

    @Test("bogus ring indexes stop the console; writes are counted as lost")
    func bogusIndexes() {
        let page = zeroedPage(); defer { page.deallocate() }
        var console = try! XenConsole(interface: page, port: 3, platform: SimulatedPlatform())
        (page + xencons_interface.FieldOffset.out_cons).storeBytes(of: UInt32(5000), as: UInt32.self)
        _ = console.write("x")
        #expect(console.failure != nil)
        _ = console.write("yz")
        #expect(console.bytesLost == 3)
        (page + xencons_interface.FieldOffset.in_prod).storeBytes(of: UInt32(9999), as: UInt32.self)
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(buffer.withUnsafeMutableBytes { console.read(into: $0) } == 0)
    }
}

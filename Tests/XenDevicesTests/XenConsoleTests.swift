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
        _ = more.withUnsafeBytes { console.write($0) }
        #expect(console.bytesLost == UInt64(held + 10_000 - XenConsole<SimulatedPlatform>.holdLimit), "the hold buffer is bounded")
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

// What a device's owner does the same way whatever its driver (Kernel/Network.swift's vifs,
// Kernel/Block.swift's vbds): the port bound to the owner once the handshake has one, a failure
// reported once, the time the close began, and the lines that name the device. The driver's own
// state is read by the caller and handed over, so this knows no driver.

struct DeviceLifecycle {
    /// How every line about the device begins, without its id: "guest: net: vif ".
    let label: StaticString
    let id: UInt32
    var owner = -1
    var bound = false
    var failureReported = false
    /// When the device was first seen closing (the backend closed, or this side did).
    var closingSince: UInt64 = 0

    init(_ label: StaticString, id: UInt32) { self.label = label; self.id = id }

    /// The bookkeeping of one owner call, after the driver's handshake step: binds `port` once,
    /// reports `failure` once, notes when closing began.
    @inline(never) mutating func track(port: UInt32?, failure: (reason: StaticString, detail: Int64?)?, closing: Bool) {
        if !bound, let port {
            do { try EventLoop.bind(port, to: owner); bound = true } catch { writeName(); Console.write(": port not bound: "); Console.write(error); Console.newline() }
        }
        if let failure, !failureReported {
            failureReported = true
            writeName(); Console.write(" stopped: "); Console.write(failure.reason)
            if let d = failure.detail { Console.write(" "); Console.write(d) }
            Console.newline()
        }
        if closing && closingSince == 0 { closingSince = Time.now() }
    }

    /// "guest: net: vif 1".
    @inline(never) func writeName() { Console.write(label); Console.write(UInt64(id)) }

    /// "guest: net: vif 1 closed 83000 us after closing began: ", the counters to follow.
    @inline(never) func writeClosed() {
        writeName(); Console.write(" closed")
        if closingSince != 0 { Console.write(" "); Console.write((Time.now() &- closingSince) / 1000); Console.write(" us after closing began") }
        Console.write(": ")
    }

    /// "guest: net: vif 1 not started: <reason>" for a device its driver refused at once.
    @inline(never) static func writeNotStarted(_ label: StaticString, _ id: UInt32, _ reason: StaticString) {
        DeviceLifecycle(label, id: id).writeName(); Console.write(" not started: "); Console.write(reason); Console.newline()
    }
}

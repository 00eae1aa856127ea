// Self-tests: a client of the kernel like any other. Each group proves Xen behaviours (or the
// kernel's own machinery) on the real hypervisor, through the services main.swift started; the
// command line picks the groups (`tests=...`, all by default).
import XenABI

enum SelfTests {
    static func run() {
        group("xen", XenTests.run)
        group("memory", MemoryTests.run)
        group("time", TimeTests.run)
        group("events", EventTests.run)
        group("timer", EventTests.timerWakesAtItsDeadline)
        group("grants", GrantTests.run)
        group("platform", PlatformTests.run)
        group("ring", RingSelfTest.run)
        group("traps", TrapTests.run)
        group("xenstore", StoreTests.run)
        #if GUEST_INJECT_FAILURE
        Report.fail("injected failure", "built with --inject-failure")
        #endif
    }

    /// Runs a group if the command line asks for it and, with `timings`, reports how long it
    /// took in Xen's system time (off by default: every byte on the serial console costs boot time).
    static func group(_ name: StaticString, _ tests: () -> Void) {
        guard CommandLine.list("tests", contains: name, absent: true) else { return }
        let start = Time.now()
        tests()
        if CommandLine.has("timings") { Report.figure(name, (Time.now() - start) / 1000, "us") }
    }

    /// A port pair to ourselves: alloc_unbound, then bind_interdomain to it; sending on one end
    /// raises the other.
    static func loopback() throws(XenError) -> (receive: UInt32, send: UInt32) {
        var unbound = evtchn_alloc_unbound(dom: DOMID_SELF, remote_dom: DOMID_SELF)
        try Xen.event_channel_op.alloc_unbound(&unbound)
        var bind = evtchn_bind_interdomain(remote_dom: DOMID_SELF, remote_port: unbound.port)
        try Xen.event_channel_op.bind_interdomain(&bind)
        return (unbound.port, bind.local_port)
    }

    static func send(_ port: UInt32) throws(XenError) { try Xen.event_channel_op.send(evtchn_send(port: port)) }

    /// Within `ms` milliseconds of Xen's system time from now.
    static func deadline(ms: UInt64) -> UInt64 { Time.now() + ms * 1_000_000 }
}

/// A count an event owner keeps (closures capture it by reference).
final class Counter {
    var value = 0
}

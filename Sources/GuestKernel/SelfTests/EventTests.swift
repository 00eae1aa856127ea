// Event channels through the kernel's event loop: each test binds its ports to an owner of its
// own, as a driver would, and lets the loop deliver.
import XenABI

enum EventTests {
    static func run() {
        deliveredThroughTheUpcall()
        maskedPortStaysPendingUntilUnmasked()
        storm()
        aPortThatNeverStopsFiringDoesNotStarveTheOthers()
    }

    /// An owner counting its deliveries on a new loopback pair.
    static func counted() throws(XenError) -> (receive: UInt32, send: UInt32, count: Counter) {
        let pair = try SelfTests.loopback()
        let count = Counter()
        let owner = EventLoop.register { _ in count.value += 1; return .done }
        do { try EventLoop.bind(pair.receive, to: owner) } catch { Panic.fail("EventLoop.bind", error) }
        return (pair.receive, pair.send, count)
    }

    static func deliveredThroughTheUpcall() {
        let name: StaticString = "event channel: sent to itself, delivered through the upcall to its owner"
        do {
            let (_, send, count) = try counted()
            let upcallsBefore = Events.upcalls
            try SelfTests.send(send)
            let delivered = EventLoop.run(until: { count.value >= 1 }, timeout: SelfTests.deadline(ms: 100))
            Report.check(name, delivered && count.value == 1 && Events.upcalls > upcallsBefore, "one delivery by the upcall, not by polling")
        } catch {
            Report.error(name, "event channel loopback", error)
        }
    }

    static func maskedPortStaysPendingUntilUnmasked() {
        let name: StaticString = "event channel: a masked port stays pending, delivered on unmask"
        do {
            let (receive, send, count) = try counted()
            Events.maskPort(receive)
            try SelfTests.send(send)
            EventLoop.runRound()
            let heldBack = count.value == 0 && Events.isPending(receive)
            try Events.unmaskPort(receive)
            let delivered = EventLoop.run(until: { count.value >= 1 }, timeout: SelfTests.deadline(ms: 100))
            Report.check(name, heldBack && delivered && count.value == 1, "pending while masked, one delivery after EVTCHNOP_unmask")
        } catch {
            Report.error(name, "event channel loopback", error)
        }
    }

    static func storm() {
        let name: StaticString = "event storm: 1000 sends delivered, none lost or invented"
        do {
            let (_, send, count) = try counted()
            for _ in 0..<1000 { try SelfTests.send(send) }
            _ = EventLoop.run(until: { count.value >= 1 }, timeout: SelfTests.deadline(ms: 100))
            EventLoop.runRound()
            Report.check(name, count.value >= 1 && count.value <= 1000, "between 1 and 1000 deliveries")
            Report.figure("deliveries for 1000 sends", UInt64(count.value), "calls")
        } catch {
            Report.error(name, "event channel loopback", error)
        }
    }

    /// XSA-391: an owner whose port is raised again every time it runs (a backend flooding it),
    /// and one port sent once: the second must be delivered within a few rounds, and the storm
    /// owner gets no more than one call per round.
    static func aPortThatNeverStopsFiringDoesNotStarveTheOthers() {
        let name: StaticString = "event loop: a port that never stops firing does not starve another (XSA-391)"
        do {
            let flood = try SelfTests.loopback()
            let floodCalls = Counter()
            let flooder = EventLoop.register { _ in
                floodCalls.value += 1
                if floodCalls.value < 10_000 { _ = try? SelfTests.send(flood.send) }
                return .done
            }
            try? EventLoop.bind(flood.receive, to: flooder)
            let (_, quiet, quietCount) = try counted()
            try SelfTests.send(flood.send)
            EventLoop.runRound()
            let roundsBefore = EventLoop.rounds
            try SelfTests.send(quiet)
            let delivered = EventLoop.run(until: { quietCount.value >= 1 }, timeout: SelfTests.deadline(ms: 100))
            let rounds = EventLoop.rounds - roundsBefore
            Report.check(name, delivered && rounds <= 3 && floodCalls.value <= EventLoop.rounds, "the quiet port delivered within 3 rounds of the storm")
            // Stop the flood: its owner lets go of the port, and nothing else is woken by it.
            floodCalls.value = 10_000
            EventLoop.runRound()
            EventLoop.unbind(flood.receive)
        } catch {
            Report.error(name, "event channel loopback", error)
        }
    }

    /// A deadline through the loop: the owner is woken by VIRQ_TIMER (set_timer_op and
    /// SCHEDOP_block inside the loop), never before its deadline in Xen's own system time.
    /// A domU's other owners (its console and store, as their daemons answer) can keep the loop
    /// busy through a whole 1 ms wait, so that it never needs to block: such an attempt proves
    /// nothing and is made again, up to three times.
    static func timerWakesAtItsDeadline() {
        var attempt = 0
        while true {
            attempt += 1
            let woke = Counter()
            var at: UInt64 = 0
            let owner = EventLoop.register { wake in
                if case .deadline = wake { woke.value += 1; at = Time.now() }
                return .done
            }
            let blocksBefore = EventLoop.blocks
            let deadline = Time.now() + 1_000_000
            EventLoop.wake(owner, at: deadline)
            let fired = EventLoop.run(until: { woke.value > 0 }, timeout: deadline + 100_000_000)
            let blocked = EventLoop.blocks > blocksBefore
            if !blocked && fired && attempt < 3 { continue }
            Report.check("timer: the loop wakes an owner at its deadline from SCHEDOP_block, never before",
                         fired && woke.value == 1 && at >= deadline && blocked, "woken once, at or after the deadline, after blocking")
            if at >= deadline { Report.figure("timer lateness", at - deadline, "ns") }
            return
        }
    }
}

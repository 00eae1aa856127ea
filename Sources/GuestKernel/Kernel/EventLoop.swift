// The kernel's one loop: each fired port goes to the owner that bound it, each deadline to the
// owner that asked for it, and with nothing to run the vCPU blocks in SCHEDOP_block.
import XenABI
import XenDevices

/// What an owner is woken for.
enum Wake {
    case port(UInt32)
    case deadline
    /// The owner said it had more to do: it goes on without a new event.
    case resume
}

/// An owner's answer: done, or more work left than its budget allowed (it runs again next round
/// without waiting for another event).
enum Progress { case done, more }

enum EventLoop {
    /// Units of work (ring entries, messages) an owner does at most per call before it answers
    /// `.more` (a one-page ring's worth of netif entries); with one call per round for each fired port, a port that never stops firing
    /// cannot starve the others (XSA-391).
    static let budget = 256
    typealias Handler = (Wake) -> Progress

    nonisolated(unsafe) static var handlers: [Handler] = []
    nonisolated(unsafe) static var deadlines: [UInt64] = []
    nonisolated(unsafe) static var again: [Bool] = []
    /// The owner of each port, or -1.
    nonisolated(unsafe) static var owners = [Int16](repeating: -1, count: Events.maxPorts)
    /// Owners released (a device gone), reused by the next `register`.
    nonisolated(unsafe) static var released: [Int] = []
    nonisolated(unsafe) static var timerPort: UInt32 = 0
    nonisolated(unsafe) static var armed: UInt64 = 0
    nonisolated(unsafe) static var rounds = 0
    nonisolated(unsafe) static var blocks = 0

    /// Binds VIRQ_TIMER, which the loop uses for deadlines.
    static func start() throws(XenError) {
        var bind = evtchn_bind_virq(virq: VIRQ_TIMER, vcpu: 0)
        try Xen.event_channel_op.bind_virq(&bind)
        timerPort = bind.port
    }

    /// A new owner; ports and deadlines are then bound to it.
    static func register(_ handler: @escaping Handler) -> Int {
        if let owner = released.popLast() {
            handlers[owner] = handler
            return owner
        }
        handlers.append(handler)
        deadlines.append(0)
        again.append(false)
        return handlers.count - 1
    }

    /// The owner is gone (its device removed): it runs no more, its ports are unbound, and its
    /// slot goes to the next owner registered. What its handler captured is freed with it.
    static func release(_ owner: Int) {
        handlers[owner] = { _ in .done }
        deadlines[owner] = 0
        again[owner] = false
        for port in owners.indices where owners[port] == Int16(owner) { owners[port] = -1 }
        released.append(owner)
    }

    static func bind(_ port: UInt32, to owner: Int) throws(KernelError) {
        guard port < UInt32(Events.maxPorts), port != timerPort else { throw .portOutOfRange }
        guard owners[Int(port)] < 0 else { throw .portAlreadyBound }
        owners[Int(port)] = Int16(owner)
    }

    static func unbind(_ port: UInt32) {
        if port < UInt32(Events.maxPorts) { owners[Int(port)] = -1 }
    }

    /// Runs `owner` (with `.resume`) in the next round, without an event: how an owner starts.
    static func schedule(_ owner: Int) { again[owner] = true }

    /// Wakes `owner` with `.deadline` once Xen's system time has reached `time` (0: no deadline).
    static func wake(_ owner: Int, at time: UInt64) { deadlines[owner] = time }

    /// One round: every owner whose port fired, whose deadline passed or who had more to do is
    /// called once. Returns whether anyone was.
    @discardableResult
    static func runRound() -> Bool {
        rounds += 1
        var ran = false
        var words = Events.takeWords()
        while words != 0 {
            let word = words.trailingZeroBitCount
            words &= words - 1
            var bits = Events.take(word: word)
            while bits != 0 {
                let port = UInt32(word * 64 + bits.trailingZeroBitCount)
                bits &= bits - 1
                // The one-shot timer has fired: the deadlines are looked at below.
                if port == timerPort { armed = 0; continue }
                let owner = owners[Int(port)]
                // An unowned port is dropped (a backend may signal a port we closed).
                guard owner >= 0 else { continue }
                ran = true
                if handlers[Int(owner)](.port(port)) == .more { again[Int(owner)] = true }
            }
        }
        let now = Time.now()
        for owner in deadlines.indices where deadlines[owner] != 0 && deadlines[owner] <= now {
            deadlines[owner] = 0
            ran = true
            if handlers[owner](.deadline) == .more { again[owner] = true }
        }
        for owner in again.indices where again[owner] {
            again[owner] = false
            ran = true
            if handlers[owner](.resume) == .more { again[owner] = true }
        }
        return ran
    }

    /// Runs rounds until `done` holds, blocking when nothing is runnable. With a `timeout` (Xen
    /// system time), gives up then and returns false.
    static func run(until done: () -> Bool, timeout: UInt64 = 0) -> Bool {
        while !done() {
            if runRound() { continue }
            if timeout != 0 && Time.now() >= timeout { return done() }
            block(until: timeout)
        }
        return true
    }

    /// A driver's wait as an owner's answer: `.ready` is more to do now, a deadline wakes the
    /// owner then, an event needs nothing (its port is bound to the owner).
    static func progress(_ owner: Int, after wait: XenWait) -> Progress {
        switch wait {
        case .ready: return .more
        case .deadline(let d): wake(owner, at: d); return .done
        case .event: return .done
        }
    }

    /// Waits once for what a state machine driven from the boot path or a test waits for.
    static func wait(for wait: XenWait) {
        switch wait {
        case .ready: return
        case .deadline(let d): waitOnce(until: d)
        case .event: waitOnce(until: 0)
        }
    }

    /// One round, or, with nothing to run, one block until an event or `timeout` (0: none): how
    /// a caller that waits on a state machine's deadline waits once.
    static func waitOnce(until timeout: UInt64) {
        if !runRound() { block(until: timeout) }
    }

    /// Mask, check, block: with upcalls masked nothing can fire unseen between the check and
    /// SCHEDOP_block, which unmasks them and sleeps only if no event is pending. The one-shot
    /// timer is set to the earliest deadline (Xen may run it up to its slop early: the next
    /// round simply finds the deadline not yet passed and blocks again).
    static func block(until timeout: UInt64) {
        Events.maskUpcalls()
        if Events.anyFired || again.contains(true) { Events.unmaskUpcalls(); return }
        var earliest = timeout
        for d in deadlines where d != 0 && (earliest == 0 || d < earliest) { earliest = d }
        if earliest != armed {
            do { try Xen.set_timer_op(earliest) } catch { Panic.fail("set_timer_op", error) }
            armed = earliest
        }
        blocks += 1
        do { try Xen.sched_op.block() } catch { Panic.fail("SCHEDOP_block", error) }
    }
}

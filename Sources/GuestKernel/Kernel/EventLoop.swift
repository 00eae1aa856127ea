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

    /// An owner: its handler, its deadline (0: none), whether it asked to run again, and
    /// whether it is released (its device gone: the slot waits for the next `register`).
    struct Owner {
        var handler: Handler
        var deadline: UInt64 = 0
        var again = false
        var released = false
    }

    // Tables from the heap, made by `start` (arrays of four element types cost a set of
    // copy-on-write and growth specialisations each, and a uniqueness check at every access);
    // the owner table doubles when full. Until `start` they point into the unmapped page 0: a
    // use before it faults.
    nonisolated(unsafe) static var table = UnsafeMutablePointer<Owner>(bitPattern: 0x10)!
    nonisolated(unsafe) static var capacity = 0
    nonisolated(unsafe) static var count = 0
    /// The owner of each port, or -1.
    nonisolated(unsafe) static var owners = UnsafeMutablePointer<Int16>(bitPattern: 0x10)!
    nonisolated(unsafe) static var timerPort: UInt32 = 0
    nonisolated(unsafe) static var armed: UInt64 = 0
    nonisolated(unsafe) static var rounds = 0
    nonisolated(unsafe) static var blocks = 0

    /// Makes the tables (the heap must be up) and binds VIRQ_TIMER, which the loop uses for deadlines.
    static func start() throws(XenError) {
        capacity = 16
        table = .allocate(capacity: capacity)
        owners = .allocate(capacity: Events.maxPorts)
        owners.initialize(repeating: -1, count: Events.maxPorts)
        var bind = evtchn_bind_virq(virq: VIRQ_TIMER, vcpu: 0)
        try Xen.event_channel_op.bind_virq(&bind)
        timerPort = bind.port
    }

    /// A new owner; ports and deadlines are then bound to it.
    @inline(never) static func register(_ handler: @escaping Handler) -> Int {
        for owner in 0..<count where table[owner].released {
            table[owner] = Owner(handler: handler)
            return owner
        }
        if count == capacity {
            let bigger = UnsafeMutablePointer<Owner>.allocate(capacity: capacity * 2)
            bigger.moveInitialize(from: table, count: count)
            table.deallocate()
            table = bigger
            capacity *= 2
        }
        (table + count).initialize(to: Owner(handler: handler))
        count += 1
        return count - 1
    }

    /// The owner is gone (its device removed): it runs no more, its ports are unbound, and its
    /// slot goes to the next owner registered. What its handler captured is freed with it.
    static func release(_ owner: Int) {
        table[owner] = Owner(handler: { _ in .done }, released: true)
        for port in 0..<Events.maxPorts where owners[port] == Int16(owner) { owners[port] = -1 }
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
    static func schedule(_ owner: Int) { table[owner].again = true }

    /// Wakes `owner` with `.deadline` once Xen's system time has reached `time` (0: no deadline).
    static func wake(_ owner: Int, at time: UInt64) { table[owner].deadline = time }

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
                call(Int(owner), .port(port))
            }
        }
        let now = Time.now()
        for owner in 0..<count where table[owner].deadline != 0 && table[owner].deadline <= now {
            table[owner].deadline = 0
            ran = true
            call(owner, .deadline)
        }
        for owner in 0..<count where table[owner].again {
            table[owner].again = false
            ran = true
            call(owner, .resume)
        }
        return ran
    }

    /// Calls an owner; `.more` runs it again next round.
    @inline(never) static func call(_ owner: Int, _ wake: Wake) {
        if table[owner].handler(wake) == .more { table[owner].again = true }
    }

    /// Runs rounds until `done` holds, blocking when nothing is runnable. With a `timeout` (Xen
    /// system time), gives up then and returns false.
    @inline(never) static func run(until done: () -> Bool, timeout: UInt64 = 0) -> Bool {
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
    @inline(never) static func wait(for wait: XenWait) {
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
        var earliest = timeout
        for owner in 0..<count {
            if table[owner].again { Events.unmaskUpcalls(); return }
            let d = table[owner].deadline
            if d != 0 && (earliest == 0 || d < earliest) { earliest = d }
        }
        if Events.anyFired { Events.unmaskUpcalls(); return }
        if earliest != armed {
            do { try Xen.set_timer_op(earliest) } catch { Panic.fail("set_timer_op", error) }
            armed = earliest
        }
        blocks += 1
        do { try Xen.sched_op.block() } catch { Panic.fail("SCHEDOP_block", error) }
    }
}

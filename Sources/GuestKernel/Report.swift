// The one reporting path for self-tests: each result is a line, the verdict is the last one.
import XenABI

enum Report {
    nonisolated(unsafe) static var passed = 0
    nonisolated(unsafe) static var failed = 0

    @inline(never) static func pass(_ name: StaticString) {
        passed += 1
        Console.write("guest: pass "); Console.write(name); Console.newline()
    }

    @inline(never) static func fail(_ name: StaticString, _ why: StaticString) {
        failed += 1
        Console.write("guest: FAIL "); Console.write(name); Console.write(": "); Console.write(why); Console.newline()
    }

    /// Records `ok` under `name`; `why` says what was expected when it does not hold.
    @inline(never) static func check(_ name: StaticString, _ ok: Bool, _ why: StaticString) {
        if ok { pass(name) } else { fail(name, why) }
    }

    /// A measured figure (reported, not asserted).
    @inline(never) static func figure(_ name: StaticString, _ value: UInt64, _ unit: StaticString) {
        Console.write("guest: figure "); Console.write(name); Console.write(" ")
        Console.write(value); Console.write(" "); Console.write(unit); Console.newline()
    }

    /// `guest: N passed, N failed`, exactly once, then the shutdown that matches it.
    static func finish() -> Never {
        Console.write("guest: "); Console.write(passed); Console.write(" passed, ")
        Console.write(failed); Console.write(" failed\n")
        Console.flush()
        Domain.shutdown(failed == 0 ? .poweroff : .crash)
    }
}

// The one reporting path for self-tests (pass, fail, skip, error), and the verdict line (every
// profile prints it: the harness reads it whether or not the build has self-tests).
import XenABI

enum Report {
    nonisolated(unsafe) static var passed = 0
    nonisolated(unsafe) static var failed = 0
    nonisolated(unsafe) static var skipped = 0

    @inline(never) static func pass(_ name: StaticString) {
        passed += 1
        Console.write("guest: pass "); Console.write(name); Console.newline()
    }

    @inline(never) static func fail(_ name: StaticString, _ why: StaticString) {
        failed += 1
        Console.write("guest: FAIL "); Console.write(name); Console.write(": "); Console.write(why); Console.newline()
    }

    /// The test could not run here (a feature this domain lacks); not a failure.
    @inline(never) static func skip(_ name: StaticString, _ why: StaticString) {
        skipped += 1
        Console.write("guest: skip "); Console.write(name); Console.write(": "); Console.write(why); Console.newline()
    }

    /// A command-line word asking for self-tests this build left out (the domu profile's).
    @inline(never) static func notBuilt(_ word: UnsafeBufferPointer<UInt8>) {
        skipped += 1
        Console.write("guest: skip "); Console.write(bytes: word); Console.write(": self-tests not in this build (xen-guest build --profile domu)\n")
    }

    /// The test could not get as far as its check: an operation failed. Counts as failed.
    @inline(never) static func error(_ name: StaticString, _ operation: StaticString, _ error: XenError) {
        failed += 1
        Console.write("guest: ERROR "); Console.write(name); Console.write(": "); Console.write(operation)
        Console.write(" "); Console.write(error: error); Console.newline()
    }

    @inline(never) static func error(_ name: StaticString, _ operation: StaticString, _ error: KernelError) {
        failed += 1
        Console.write("guest: ERROR "); Console.write(name); Console.write(": "); Console.write(operation)
        Console.write(" "); Console.write(error); Console.newline()
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

    /// `guest: N passed, N failed` (`, N skipped` when any were), exactly once, then the
    /// shutdown that matches it: `reason` (power-off, or the reboot the toolstack asked for)
    /// when all passed, a crash when any failed.
    static func finish(then reason: ShutdownReason = .poweroff) -> Never {
        Console.write("guest: "); Console.write(passed); Console.write(" passed, ")
        Console.write(failed); Console.write(" failed")
        if skipped > 0 { Console.write(", "); Console.write(skipped); Console.write(" skipped") }
        Console.newline()
        Console.flush()
        Domain.shutdown(failed == 0 ? reason : .crash)
    }
}

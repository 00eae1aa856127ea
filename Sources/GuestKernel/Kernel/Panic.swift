// A boot step that cannot go on: one line naming the operation and the error, then the domain
// crashes (Xen logs the crash; the harness reads both).
import XenABI

enum Panic {
    static func fail(_ operation: StaticString, _ error: XenError) -> Never {
        Console.write("guest: panic: "); Console.write(operation); Console.write(": ")
        Console.write(error: error)
        Console.newline()
        stop()
    }

    static func fail(_ operation: StaticString, _ error: KernelError) -> Never {
        Console.write("guest: panic: "); Console.write(operation); Console.write(": ")
        Console.write(error)
        Console.newline()
        stop()
    }

    static func fail(_ operation: StaticString, _ error: BootError) -> Never {
        switch error {
        case let .xen(e): fail(operation, e)
        case let .kernel(e): fail(operation, e)
        }
    }

    /// A condition the kernel's own code promised would hold.
    static func fail(_ what: StaticString) -> Never {
        Console.write("guest: panic: "); Console.write(what); Console.newline()
        stop()
    }

    static func stop() -> Never {
        Console.flush()
        Domain.shutdown(.crash)
    }
}

extension Console {
    /// `rc -22 XEN_EINVAL`: the code a hypercall returned and its name in errno.h.
    @inline(never) static func write(error: XenError) {
        write("rc "); write(Int64(0 - Int64(error.code)))
        if let name = error.errno.cName { write(" "); write(name) }
    }

    /// A kernel condition, with the `GNTST_*` name of a grant status.
    @inline(never) static func write(_ error: KernelError) {
        write(error.description)
        if case let .grantStatus(status) = error {
            write(" "); write(Int64(status))
            if let name = GrantStatus(rawValue: .init(truncatingIfNeeded: status)).cName { write(" "); write(name) }
        }
    }
}

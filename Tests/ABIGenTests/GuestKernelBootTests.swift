// The guest kernel on the real Xen hypervisor: booted as dom0 under QEMU, judged by its serial line.
import Foundation
import Testing
import XenGuestHarness

/// One QEMU at a time: each boot wants a core of its own to keep Xen's timers honest.
@Suite(.serialized) struct GuestKernelBootTests {
    static var xenGuest: URL { Paths.abigen.deletingLastPathComponent().appendingPathComponent("xen-guest") }

    func boot(_ kernel: String, _ extra: [String] = []) throws -> CommandResult {
        try runTool(Self.xenGuest, ["boot", "--kernel", kernel, "--timeout", "120"] + extra)
    }

    @Test func kernelPassesEveryXenSelfTestUnderRealXen() throws {
        let kernel = Paths.packageRoot.appendingPathComponent(".build-kernel/GuestKernel.stripped").path
        try #require(FileManager.default.fileExists(atPath: kernel), "build the kernel first: xen-guest build (scripts/test does)")
        let r = try boot(kernel)
        // `guest: N passed, N failed`, with `, N skipped` when any were (a dom0 skips xenstore).
        let verdict = r.stdout.split(separator: "\n").first { $0.hasPrefix("guest: ") && $0.contains(" passed, ") && $0.contains(" failed") }
        #expect(r.status == 0, "the boot failed; serial log:\n\(r.stdout)\n\(r.stderr)")
        #expect(verdict?.contains(" passed, 0 failed") == true, "serial log:\n\(r.stdout)")
        #expect(r.stdout.contains("guest: skip xenstore: no xenstore connection"), "a dom0 says why it has no xenstore tests:\n\(r.stdout)")
        let passed = verdict.flatMap { Int($0.dropFirst("guest: ".count).prefix { $0.isNumber }) } ?? 0
        #expect(passed >= 20, "expected at least 20 self-tests; serial log:\n\(r.stdout)")
        #expect(r.stdout.contains("Hardware Dom0 halted"), "Xen must report a power-off halt")
    }

    /// Whatever memory Xen gives dom0 is mapped: just below the 1 GiB boundary (the boot L2
    /// suffices), just past it (the kernel's first L2 of its own), and past 2 GiB (a second).
    @Test(arguments: [(1020, 0), (1030, 1), (2100, 2)])
    func everyPageIsMappedWhateverTheMemorySize(_ mib: Int, _ l2Tables: Int) throws {
        let kernel = Paths.packageRoot.appendingPathComponent(".build-kernel/GuestKernel.stripped").path
        try #require(FileManager.default.fileExists(atPath: kernel), "build the kernel first: xen-guest build (scripts/test does)")
        let r = try boot(kernel, ["--memory", String(mib), "--args", "tests=memory timings"])
        #expect(r.status == 0, "dom0 with \(mib) MiB; serial log:\n\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("guest: pass pages past the boot mapping written and read back"), "\(mib) MiB: \(r.stdout)")
        #expect(r.stdout.contains("guest: figure L2 tables made \(l2Tables) tables"), "\(mib) MiB needs \(l2Tables) L2 tables of the kernel's own: \(r.stdout)")
    }

    /// The page under the boot stack is unmapped: a deliberate overflow stops in it, and Xen
    /// crashes the domain (it cannot push the fault's frame there) instead of the stack running
    /// on into .bss.
    @Test func stackOverflowStopsAtTheGuardPage() throws {
        let kernel = Paths.packageRoot.appendingPathComponent(".build-kernel/GuestKernel.stripped").path
        try #require(FileManager.default.fileExists(atPath: kernel), "build the kernel first: xen-guest build (scripts/test does)")
        let r = try boot(kernel, ["--args", "overflow-stack"])
        let log = r.stdout
        #expect(r.status != 0, "a crashed dom0 fails the boot; log:\n\(log)")
        #expect(log.contains("guest: stack depth 192"), "it recursed most of the 256 KB stack first; log:\n\(log)")
        #expect(log.contains("domain_crash_sync called from entry.S"), "Xen could not push the fault's frame; log:\n\(log)")
        #expect(log.contains("Hardware Dom0 crashed"), "log:\n\(log)")
        #expect(!log.contains("the recursion came back"))
        // Xen's register dump: the fault's address (cr2) lies in the guard page the kernel named.
        func hex(after marker: String) -> UInt64? {
            guard let range = log.range(of: marker) else { return nil }
            return UInt64(log[range.upperBound...].prefix { $0.isHexDigit }, radix: 16)
        }
        let guardPage = try #require(hex(after: "guard page at 0x"), "log:\n\(log)")
        let cr2 = try #require(hex(after: "cr2: "), "Xen dumps the registers; log:\n\(log)")
        #expect(cr2 >= guardPage && cr2 < guardPage + 4096, "cr2 \(String(cr2, radix: 16)) outside the guard page \(String(guardPage, radix: 16))")
    }

    @Test func injectedFailureMakesTheBootFail() throws {
        let kernel = Paths.packageRoot.appendingPathComponent(".build-kernel-inject-failure/GuestKernel.stripped").path
        try #require(FileManager.default.fileExists(atPath: kernel), "build it first: xen-guest build --inject-failure (scripts/test does)")
        let r = try boot(kernel)
        #expect(r.status != 0, "xen-guest boot must fail when a self-test fails; log:\n\(r.stdout)")
        #expect(r.stdout.contains(" passed, 1 failed"), "exactly one failure is injected; log:\n\(r.stdout)")
        #expect(r.stdout.contains("Hardware Dom0 crashed"), "a failed run ends in SHUTDOWN_crash; log:\n\(r.stdout)")
    }

    @Test func serialVerdictReadsXensLines() {
        var v = SerialVerdict()
        for line in ["(XEN) [    0.954174] Freed 656kB init memory", "guest: 20 passed, 0 failed",
                     "(XEN) [    0.963921] Hardware Dom0 halted: halting machine"] { v.read(Substring(line)) }
        #expect(v.success && v.passed == 20 && v.failed == 0 && v.xen == .halted)
        #expect(abs((v.milliseconds ?? 0) - 9.747) < 0.01)
        var crashed = SerialVerdict()
        for line in ["guest: 19 passed, 1 failed", "(XEN) [    1.0] Hardware Dom0 crashed: rebooting machine in 5 seconds."] { crashed.read(Substring(line)) }
        #expect(!crashed.success && crashed.xen == .crashed)
        var lying = SerialVerdict()
        for line in ["guest: 20 passed, 0 failed", "(XEN) [    1.0] Hardware Dom0 crashed: rebooting machine in 5 seconds."] { lying.read(Substring(line)) }
        #expect(!lying.success, "Xen's word must agree with the guest's")
    }
}

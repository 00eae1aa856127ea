// xen-guest: builds the Embedded Swift PV kernel and boots it on real Xen under QEMU, as dom0 or as
// a domU of Debian's Linux dom0.
import ArgumentParser
import Foundation
import XenGuestHarness

@main
struct XenGuest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xen-guest",
        abstract: "Build the guest kernel, and boot it on Xen 4.17 under QEMU.",
        subcommands: [Build.self, Boot.self, PrepareDomU.self, XLConfigCommand.self])
}

/// The package root: the current directory or the nearest parent with Package.swift.
func packageRoot() throws -> URL {
    var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
        let parent = dir.deletingLastPathComponent()
        if parent.path == dir.path { throw HarnessError("no Package.swift here or above: run xen-guest inside the project") }
        dir = parent
    }
    return dir
}

/// What a kernel build has in it. Each profile builds in its own scratch path, so switching
/// never reuses the other's objects (SwiftPM would not see the define change on its own).
enum KernelProfile: String, ExpressibleByArgument, CaseIterable {
    /// Every self-test, the domU services, netfront and the net stack: the dom0 self-test mode.
    case all
    /// No self-tests: the console, xenstore, xenbus, control, netfront and the net stack.
    case domu

    var about: String {
        switch self {
        case .all: "with every self-test, the domU services (console ring, xenstore, control key), netfront, blkfront and the net stack"
        case .domu: "profile domu: the domU services (console ring, xenstore, control key), netfront, blkfront and the net stack, no self-tests (the disk exercise is one)"
        }
    }
}

func scratch(_ root: URL, profile: KernelProfile = .all, injectFailure: Bool) -> URL {
    let base = profile == .all ? ".build-kernel" : ".build-kernel-\(profile.rawValue)"
    return root.appendingPathComponent(injectFailure ? base + "-inject-failure" : base)
}

/// The stripped kernel `xen-guest build --profile` leaves.
func builtKernel(_ root: URL, _ profile: KernelProfile) -> String {
    scratch(root, profile: profile, injectFailure: false).appendingPathComponent("GuestKernel.stripped").path
}

func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("xen-guest: error: \(message)\n".utf8))
    return ExitCode.failure
}

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Build the kernel ELF (Embedded Swift, x86_64-unknown-none-elf); print its path and stripped size.")

    @Option(help: "all (every self-test) or domu (no self-tests: what a domU runs).")
    var profile: KernelProfile = .all

    @Flag(help: "Build with one deliberately failing self-test (the boot must then fail).")
    var injectFailure = false

    func validate() throws {
        if injectFailure && profile != .all { throw ValidationError("--inject-failure needs the self-tests (--profile all)") }
    }

    func run() throws {
        let root = try packageRoot()
        let dir = scratch(root, profile: profile, injectFailure: injectFailure)
        var env = ProcessInfo.processInfo.environment
        env["XENSWIFT_KERNEL"] = "1"
        env["XENSWIFT_PROFILE"] = profile.rawValue
        if injectFailure { env["XENSWIFT_INJECT_FAILURE"] = "1" }
        // SwiftPM does not know the link depends on the linker script: relink when it changed.
        // Nor does a changed -Xllvm flag in Package.swift reach the objects: the compiler skips
        // LLVM's code generation for a file whose IR is unchanged (the .swift_modhash check), so
        // after an edit of Package.swift everything of this scratch path is built again.
        let triple = dir.appendingPathComponent("x86_64-unknown-none-elf").path
        let elfPath = triple + "/release/GuestKernel"
        func modified(_ path: String) -> Date? { try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date }
        if let built = modified(elfPath) {
            if let edited = modified(root.appendingPathComponent("Package.swift").path), edited > built {
                try? FileManager.default.removeItem(atPath: triple)
            } else if let edited = modified(root.appendingPathComponent("Sources/GuestKernelBoot/kernel.ld").path), edited > built {
                try? FileManager.default.removeItem(atPath: elfPath)
            }
        }
        let swift = Process()
        swift.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        swift.arguments = ["swift", "build", "-c", "release", "--scratch-path", dir.path,
                           "--triple", "x86_64-unknown-none-elf", "--product", "GuestKernel",
                           "--experimental-lto-mode", "full"]
        swift.environment = env
        swift.currentDirectoryURL = root
        try swift.run()
        swift.waitUntilExit()
        guard swift.terminationStatus == 0 else { throw fail("the kernel build failed") }
        let elf = dir.appendingPathComponent("x86_64-unknown-none-elf/release/GuestKernel")
        let stripped = dir.appendingPathComponent("GuestKernel.stripped")
        let strip = Process()
        strip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        strip.arguments = ["strip", "-o", stripped.path, elf.path]
        try strip.run()
        strip.waitUntilExit()
        guard strip.terminationStatus == 0 else { throw fail("strip failed on \(elf.path)") }
        let size = (try FileManager.default.attributesOfItem(atPath: stripped.path)[.size] as? Int) ?? 0
        print("kernel: \(elf.path)")
        print("stripped: \(stripped.path)")
        print("stripped size: \(size) bytes (\(profile.about); the target for netfront and blkfront without self-tests is 61,440; XTF's smallest pv64 test kernel is 36,984)")
    }
}

/// Where the kernel runs: as dom0 directly on Xen, or as a domU created by Linux dom0's `xl create`.
enum GuestRole: String, ExpressibleByArgument, CaseIterable {
    case dom0
    case domU
}

/// `--xenstored`: one daemon, or a run with each.
enum XenstoredChoice: String, ExpressibleByArgument, CaseIterable {
    case oxenstored, xenstored, both

    var daemons: [XenstoreDaemon] {
        switch self {
        case .oxenstored: [.oxenstored]
        case .xenstored: [.xenstored]
        case .both: XenstoreDaemon.allCases
        }
    }
}

struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot the kernel on Xen 4.17 under QEMU; exit 0 only if it passed.",
        discussion: """
            --as dom0 (the default): the kernel is dom0; it passes if every self-test passed and Xen halted on power-off.
            --as domU: Debian's Linux is dom0 (assets from `xen-guest prepare-domu`, made first if needed) and runs a plan's \
            guests with `xl create`; it passes if every guest's steps passed and it ended as expected. Plans: \
            \(DomUPlans.all.map { "\($0.name): \($0.about)" }.joined(separator: "; ")).
            """)

    @Option(name: .customLong("as"), help: "dom0 or domU.")
    var role: GuestRole = .dom0

    @Option(help: "The kernel ELF (default: the stripped kernel of `xen-guest build --profile P`).")
    var kernel: String?

    @Option(help: "Which build's kernel to boot when --kernel is not given: all or domu.")
    var profile: KernelProfile = .all

    @Option(help: "Seconds before a run is stopped and counted as failed (domU: each guest's time from xl create to its end; default 60, Linux 120).")
    var timeout: Double?

    @Option(help: "Boot this many times; all must pass.")
    var `repeat`: Int = 1

    @Option(help: "dom0: module arguments (the kernel's start_info command line). domU: the guest's command line (xl's extra; for --linux appended to `console=hvc0 quiet`).")
    var args: String = ""

    @Option(help: "dom0: dom0's memory in MiB (Xen's dom0_mem, default 16). domU: the guest's memory in MiB (default 32, Linux 256).")
    var memory: Int?

    @Option(help: "domU: the xenstore daemon dom0 runs: oxenstored, xenstored, or both (a run with each).")
    var xenstored: XenstoredChoice = .both

    @Flag(help: "domU: run Debian's Linux with the harness's busybox initramfs as the guest instead of the Swift kernel.")
    var linux = false

    @Option(help: "domU: the plan to run.")
    var plan: String = "default"

    @Option(help: "domU: the toolstack's floor for the figures plan (Benchmarks/domu-figures.sh builds Benchmarks/FloorKernel).")
    var floorKernel: String?

    @Flag(help: "domU: trace dom0's script (every command with the time) on the serial line.")
    var traceDom0 = false

    @Flag(help: "Do not echo the serial console.")
    var quiet = false

    func validate() throws {
        if let memory {
            guard memory >= 8 && memory <= 16384 else { throw ValidationError("--memory must be between 8 and 16384 MiB") }
        }
        if role == .domU, DomUPlans.named(plan) == nil {
            throw ValidationError("no plan \(plan); plans: \(DomUPlans.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        switch role {
        case .dom0: try bootDom0()
        case .domU: try bootDomU()
        }
    }

    func bootDom0() throws {
        let root = try packageRoot()
        let memory = self.memory ?? 16
        let timeout = self.timeout ?? 60
        let path = kernel ?? builtKernel(root, profile)
        guard FileManager.default.fileExists(atPath: path) else { throw fail("no kernel at \(path): run `xen-guest build --profile \(profile.rawValue)` first") }
        let env: BootEnvironment
        do { env = try BootEnvironment.locate(cacheDirectory: scratch(root, injectFailure: false)) } catch { throw fail("\(error)") }
        var passedRuns = 0
        var times: [Double] = []
        for run in 1...max(self.repeat, 1) {
            let quiet = self.quiet
            let (verdict, timedOut) = try QEMURun.boot(env, kernel: path, moduleArguments: args, memory: memory, timeout: timeout) { line in
                if !quiet { print(line); fflush(stdout) }
            }
            var summary = "xen-guest: run \(run): "
            if let p = verdict.passed, let f = verdict.failed { summary += "guest \(p) passed, \(f) failed; " } else { summary += "no guest verdict; " }
            summary += "Xen: \(verdict.xen?.rawValue ?? (timedOut ? "timed out" : "no word"))"
            if let panic = verdict.panic { summary += "; panic: \(panic)" }
            if let ms = verdict.milliseconds { summary += String(format: "; hand-over to %@: %.1f ms", verdict.xen?.rawValue ?? "end", ms); times.append(ms) }
            print(summary)
            if verdict.success && !timedOut { passedRuns += 1 }
        }
        if self.repeat > 1 {
            let sorted = times.sorted()
            print("xen-guest: \(passedRuns) of \(self.repeat) runs passed" + (sorted.isEmpty ? "" :
                String(format: "; hand-over to halt: min %.1f ms, median %.1f ms, max %.1f ms", sorted.first!, sorted[sorted.count / 2], sorted.last!)))
        }
        if passedRuns != max(self.repeat, 1) { throw ExitCode.failure }
    }

    func bootDomU() throws {
        let root = try packageRoot()
        let assets: Dom0Assets
        do { assets = try Dom0Assets.prepare(packageRoot: root) { print("xen-guest: prepare-domu: \($0)"); fflush(stdout) } }
        catch { throw fail("preparing the dom0 assets: \(error)") }
        // Checked by the plan's spec: a Linux-only plan needs no Swift kernel.
        let kernelPath = kernel ?? builtKernel(root, profile)
        let runner: DomURun
        do { runner = try DomURun(assets: assets) } catch { throw fail("\(error)") }
        let make = DomUPlans.named(plan)!
        var results: [DomURunResult] = []
        for _ in 1...max(self.repeat, 1) {
            for daemon in xenstored.daemons {
                let options = DomUPlanOptions(assets: assets, xenstored: daemon, kernel: URL(fileURLWithPath: kernelPath), linux: linux,
                                              memoryMiB: memory, args: args, timeout: timeout,
                                              floorKernel: floorKernel.map { URL(fileURLWithPath: $0) })
                var spec = make(options)
                spec.traceDom0 = traceDom0
                print("xen-guest: run \(spec.plan) with \(daemon.rawValue): \(spec.guests.map { "\($0.name) (\($0.memoryMiB) MiB)" }.joined(separator: ", "))")
                fflush(stdout)
                let quiet = self.quiet
                let result: DomURunResult
                do {
                    result = try runner.run(spec) { line, _ in
                        if !quiet { print(line); fflush(stdout) }
                    }
                } catch {
                    let hint = FileManager.default.fileExists(atPath: kernelPath) ? "" : " (the Swift kernel: run `xen-guest build` first)"
                    throw fail("\(error)\(hint)")
                }
                if !result.success { print(DomUReport.failureLogs(result), terminator: "") }
                for line in DomUReport.summary(result) { print(line) }
                fflush(stdout)
                results.append(result)
            }
        }
        if results.count > 1 {
            print("xen-guest: \(results.filter(\.success).count) of \(results.count) runs passed")
        }
        if !results.allSatisfy(\.success) { throw ExitCode.failure }
    }
}

struct PrepareDomU: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare-domu",
        abstract: "Prepare (or refresh) the Linux dom0's cached assets in .build-domu/: Debian's kernel as an ELF, dom0's and the Linux domU's initramfs, the root filesystem (debootstrap, Xen's tools at the hypervisor's version; needs root).")

    @Flag(help: "Make everything again even if the cache is current.")
    var force = false

    func run() throws {
        let root = try packageRoot()
        let start = Date()
        let assets: Dom0Assets
        do { assets = try Dom0Assets.prepare(packageRoot: root, force: force) { print("xen-guest: prepare-domu: \($0)"); fflush(stdout) } }
        catch { throw fail("\(error)") }
        print("xen-guest: prepare-domu: Xen \(assets.hypervisorVersion), Linux \(assets.kernelRelease)")
        for (what, url) in [("hypervisor", URL(fileURLWithPath: assets.hypervisor)), ("vmlinux", assets.vmlinux),
                            ("dom0 initramfs", assets.dom0Initramfs), ("Linux domU initramfs", assets.linuxDomUInitramfs), ("root", assets.root)] {
            print("xen-guest: prepare-domu:   \(what): \(url.path)")
        }
        print(String(format: "xen-guest: prepare-domu: done in %.1f s", Date().timeIntervalSince(start)))
    }
}

struct XLConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xl-config",
        abstract: "Write the xl config (xl.cfg(5)) that runs the kernel as a PV domU on a real Xen host: `xl create FILE`.")

    @Option(help: "The kernel's path on the Xen host (default: the stripped kernel of `xen-guest build`, as an absolute path).")
    var kernel: String?

    @Option(help: "The guest's memory in MiB.")
    var memory: Int = 32

    @Option(help: "The guest's command line (xl's extra).")
    var args: String = ""

    @Option(help: "The domain's name.")
    var name: String = "swift-guest"

    @Option(help: "The number of vcpus.")
    var vcpus: Int = 1

    @Option(help: "Write here instead of standard output.")
    var output: String?

    func run() throws {
        let path: String
        if let kernel { path = kernel } else {
            path = scratch(try packageRoot(), injectFailure: false).appendingPathComponent("GuestKernel.stripped").path
        }
        let text = XLConfig(name: name, kernel: path, memoryMiB: memory, vcpus: vcpus, extra: args, restartOnReboot: true).text
        if let output {
            do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch { throw fail("cannot write \(output): \(error)") }
        } else {
            print(text, terminator: "")
        }
    }
}

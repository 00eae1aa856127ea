// xen-guest: builds the Embedded Swift PV kernel and boots it as dom0 on real Xen under QEMU.
import ArgumentParser
import Foundation
import XenGuestHarness

@main
struct XenGuest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xen-guest",
        abstract: "Build the guest kernel, and boot it on Xen 4.17 under QEMU.",
        subcommands: [Build.self, Boot.self])
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

func scratch(_ root: URL, injectFailure: Bool) -> URL {
    root.appendingPathComponent(injectFailure ? ".build-kernel-inject-failure" : ".build-kernel")
}

func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("xen-guest: error: \(message)\n".utf8))
    return ExitCode.failure
}

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Build the kernel ELF (Embedded Swift, x86_64-unknown-none-elf); print its path and stripped size.")

    @Flag(help: "Build with one deliberately failing self-test (the boot must then fail).")
    var injectFailure = false

    func run() throws {
        let root = try packageRoot()
        let dir = scratch(root, injectFailure: injectFailure)
        var env = ProcessInfo.processInfo.environment
        env["XENSWIFT_KERNEL"] = "1"
        if injectFailure { env["XENSWIFT_INJECT_FAILURE"] = "1" }
        // SwiftPM does not know the link depends on the linker script: relink when it changed.
        let elfPath = dir.appendingPathComponent("x86_64-unknown-none-elf/release/GuestKernel").path
        let script = root.appendingPathComponent("Sources/GuestKernelBoot/kernel.ld").path
        if let built = try? FileManager.default.attributesOfItem(atPath: elfPath)[.modificationDate] as? Date,
           let edited = try? FileManager.default.attributesOfItem(atPath: script)[.modificationDate] as? Date, edited > built {
            try? FileManager.default.removeItem(atPath: elfPath)
        }
        let swift = Process()
        swift.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        swift.arguments = ["swift", "build", "-c", "release", "--scratch-path", dir.path,
                           "--triple", "x86_64-unknown-none-elf", "--product", "GuestKernel"]
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
        print("stripped size: \(size) bytes (target: at most 48 KB with the services; XTF's smallest pv64 test kernel is 36,984)")
    }
}

struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Boot the kernel as dom0 on Xen 4.17 under QEMU; exit 0 only if every self-test passed and Xen halted on power-off.")

    @Option(help: "The kernel ELF (default: the stripped kernel of `xen-guest build`).")
    var kernel: String?

    @Option(help: "Seconds before a run is stopped and counted as failed.")
    var timeout: Double = 60

    @Option(help: "Boot this many times; all must pass.")
    var `repeat`: Int = 1

    @Option(help: "Module arguments (the guest's start_info command line).")
    var args: String = ""

    @Option(help: "dom0's memory in MiB (Xen's dom0_mem); QEMU gets room for Xen beside it.")
    var memory: Int = 16

    @Flag(help: "Do not echo the serial console.")
    var quiet = false

    func validate() throws {
        guard memory >= 8 && memory <= 16384 else { throw ValidationError("--memory must be between 8 and 16384 MiB") }
    }

    func run() throws {
        let root = try packageRoot()
        let path = kernel ?? scratch(root, injectFailure: false).appendingPathComponent("GuestKernel.stripped").path
        guard FileManager.default.fileExists(atPath: path) else { throw fail("no kernel at \(path): run `xen-guest build` first") }
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
}

// One domU run: Xen under QEMU with Debian's Linux as dom0, a per-run directory shared into dom0
// over 9p (the guests' kernels and xl configs, dom0's script, dom0's logs), and the serial line
// read into a DomURunResult.
import Foundation

public struct DomURun {
    public var assets: Dom0Assets
    public var qemu: String

    public init(assets: Dom0Assets) throws {
        self.assets = assets
        qemu = try BootEnvironment.locate(cacheDirectory: assets.directory).qemu
    }

    /// dom0's kernel command line: the PV console, Xen's early console, our /init. `quiet`: each
    /// kernel message costs a serial write under emulation; dmesg is saved with the logs anyway.
    static let dom0KernelArguments = "console=hvc0 earlyprintk=xen rdinit=/init quiet"

    /// Xen's command line: as for a dom0 boot, with dom0's memory fixed (no ballooning, so the
    /// rest of the machine is free for guests) and one vcpu for dom0, the other for the guests.
    /// bootscrub=false: Xen would otherwise scrub all free RAM in the background while dom0 boots,
    /// emulated instruction by instruction (dom0 ready 10-17 s with it, 7-8 s without); QEMU's
    /// RAM is fresh, so there is nothing to scrub.
    static func xenCommandLine(dom0MemoryMiB: Int) -> String {
        "console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all console_timestamps=boot "
            + "dom0_mem=\(dom0MemoryMiB)M,max:\(dom0MemoryMiB)M dom0_max_vcpus=1 bootscrub=false"
    }

    /// The machine's memory: dom0's, the largest guest's (they run one after another), and room
    /// for Xen's own (heap, frame table, the guests' page tables).
    static func machineMemoryMiB(_ spec: DomURunSpec) -> Int {
        spec.dom0MemoryMiB + (spec.guests.map(\.memoryMiB).max() ?? 0) + 256
    }

    /// QEMU's line, run in the kernel assets' directory: `-initrd` takes "PATH ARGS,PATH" and
    /// cannot quote a space in a path, so the modules are named relative to it.
    func qemuArguments(_ spec: DomURunSpec, runDirectory: URL) -> [String] {
        func option(_ s: String) -> String { s.replacingOccurrences(of: ",", with: ",,") }   // QEMU's escape
        return ["-machine", "q35,accel=tcg", "-cpu", "qemu64", "-m", String(Self.machineMemoryMiB(spec)), "-smp", "2",
                "-display", "none", "-nodefaults", "-monitor", "none", "-serial", "stdio", "-no-reboot",
                "-kernel", assets.hypervisor,
                "-append", Self.xenCommandLine(dom0MemoryMiB: spec.dom0MemoryMiB),
                "-initrd", "\(assets.vmlinux.lastPathComponent) \(option(Self.dom0KernelArguments)),\(assets.dom0Initramfs.lastPathComponent)",
                // Entropy for dom0 (InitramfsImages.dom0NinePModules says why).
                "-object", "rng-random,filename=/dev/urandom,id=rng0", "-device", "virtio-rng-pci,rng=rng0",
                "-virtfs", "local,path=\(option(assets.root.path)),mount_tag=root,security_model=none,readonly=on",
                "-virtfs", "local,path=\(option(runDirectory.path)),mount_tag=run,security_model=none"]
    }

    /// Seconds for the whole QEMU run: dom0's boot and teardown, and each guest's own timeout.
    static func runTimeout(_ spec: DomURunSpec) -> Double {
        120 + spec.guests.reduce(0) { $0 + $1.timeout + 15 }
    }

    /// The run's directory: guests/ (kernels, ramdisks, xl configs), dom0.sh, logs/ (dom0 writes),
    /// serial.log (the host writes).
    func makeRunDirectory(_ spec: DomURunSpec) throws -> URL {
        let fm = FileManager.default
        try fm.createDirectory(at: assets.runs, withIntermediateDirectories: true)
        pruneRuns(keeping: 20)
        let stamp = DateFormatter()
        stamp.dateFormat = "yyyyMMdd-HHmmss"
        stamp.locale = Locale(identifier: "en_US_POSIX")
        let dir = assets.runs.appendingPathComponent("\(stamp.string(from: Date()))-\(spec.plan)-\(spec.xenstored.rawValue)-\(getpid())")
        let guests = dir.appendingPathComponent("guests")
        try fm.createDirectory(at: guests, withIntermediateDirectories: true)
        try fm.createDirectory(at: dir.appendingPathComponent("logs"), withIntermediateDirectories: true)
        let toolBinaries = try Dom0Tools.build(packageRoot: assets.directory.deletingLastPathComponent(), cache: assets.directory.appendingPathComponent("tools"))
        for guest in spec.guests {
            try place(guest.kernel, at: guests.appendingPathComponent("\(guest.name).kernel"))
            if let ramdisk = guest.ramdisk {
                let target = guests.appendingPathComponent("\(guest.name).ramdisk")
                if guest.ramdiskTools {
                    var bytes = try [UInt8](Data(contentsOf: ramdisk))
                    bytes += Initramfs.archive(try toolBinaries.map { .executable("bin/\($0.lastPathComponent)", try [UInt8](Data(contentsOf: $0))) })
                    try Data(bytes).write(to: target)
                } else {
                    try place(ramdisk, at: target)
                }
            }
            try XLConfig(guest, directory: Dom0Script.stagingDirectory).text
                .write(to: guests.appendingPathComponent("\(guest.name).cfg"), atomically: true, encoding: .utf8)
        }
        let tools = dir.appendingPathComponent("tools")
        try fm.createDirectory(at: tools, withIntermediateDirectories: true)
        for tool in toolBinaries {
            try place(tool, at: tools.appendingPathComponent(tool.lastPathComponent))
        }
        try Dom0Script.fstab.write(to: dir.appendingPathComponent(Dom0Script.fstabName), atomically: true, encoding: .utf8)
        let script = dir.appendingPathComponent(InitramfsImages.dom0ScriptName)
        try Dom0Script.text(spec).write(to: script, atomically: true, encoding: .utf8)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return dir
    }

    /// A hard link where it can (the 66 MB vmlinux), else a copy.
    func place(_ file: URL, at target: URL) throws {
        do { try FileManager.default.linkItem(at: file, to: target) } catch { try FileManager.default.copyItem(at: file, to: target) }
    }

    func pruneRuns(keeping count: Int) {
        let runs = ((try? FileManager.default.contentsOfDirectory(atPath: assets.runs.path)) ?? []).sorted()
        for old in runs.dropLast(count) { try? FileManager.default.removeItem(at: assets.runs.appendingPathComponent(old)) }
    }

    /// Boots, runs `spec`'s guests, and returns what the serial line said. `echo` gets every line
    /// as it comes, with its kind.
    public func run(_ spec: DomURunSpec, echo: (Substring, DomUSerialLine) -> Void) throws -> DomURunResult {
        try spec.validate()
        let dir = try makeRunDirectory(spec)
        var serial = DomUSerial(spec)
        var log = ""
        let started = Date()
        let timedOut = try QEMURun.serialLines(qemu, qemuArguments(spec, runDirectory: dir), in: assets.vmlinux.deletingLastPathComponent(),
                                               timeout: Self.runTimeout(spec)) { line, time in
            log += String(format: "[%7.2f] ", time) + line + "\n"
            echo(line, serial.read(line, at: time))
            return true
        }
        try? log.write(to: dir.appendingPathComponent("serial.log"), atomically: true, encoding: .utf8)
        var result = serial.result
        result.timedOut = timedOut
        result.duration = Date().timeIntervalSince(started)
        result.runDirectory = dir
        return result
    }
}

/// How a finished run is told to a person: one summary line per guest, and on failure the logs
/// dom0 left in the run's share.
public enum DomUReport {
    public static func summary(_ r: DomURunResult) -> [String] {
        var lines: [String] = []
        func s(_ t: Double?) -> String { t.map { String(format: "%.1f s", $0) } ?? "-" }
        // A guest's own times to the millisecond: the host's clock as each line arrives.
        func ms(_ t: Double?) -> String { t.map { String(format: "%.3f s", $0) } ?? "-" }
        lines.append("xen-guest: run \(r.plan) with \(r.xenstored.rawValue): dom0 ready at \(s(r.dom0ReadyAt))"
                     + (r.dom0ReadyUptime.map { String(format: " (dom0 uptime %.1f s)", $0) } ?? "")
                     + ", run done at \(s(r.runDoneAt)), QEMU \(s(r.duration))" + (r.success ? "" : "; FAILED"))
        for g in r.guests {
            let steps = "\(g.steps.filter { $0.outcome == .ok }.count)/\(g.expectedSteps) steps ok"
            var timing = ""
            if let c = g.createdAt {
                if let st = g.stagingAt { timing += "; kernel into dom0 \(s(c - st))" }
                timing += "; create to domid \(ms(g.domidAt.map { $0 - c })), to first console line \(ms(g.firstConsoleAt.map { $0 - c })), to end \(ms(g.endedAt.map { $0 - c }))"
            }
            lines.append("xen-guest: guest \(g.name) (domid \(g.domid.map(String.init) ?? "-"), \(r.xenstored.rawValue)): "
                         + "ended \(g.endingWord ?? "?") (expected \(g.expectedEnding.rawValue)), \(steps), \(g.console.count) console lines\(timing): "
                         + (g.success ? "PASS" : "FAIL"))
        }
        for failure in r.failures { lines.append("xen-guest:   \(failure)") }
        return lines
    }

    /// dom0's logs for the guests that failed (or all of dom0's when dom0 itself failed).
    public static func failureLogs(_ r: DomURunResult) -> String {
        guard let dir = r.runDirectory, !r.success else { return "" }
        let logs = dir.appendingPathComponent("logs")
        var files: [String] = []
        for g in r.guests where !g.success {
            files += ["\(g.name)-create.log", "xl-\(g.name).log", "console-\(g.name).log", "\(g.name)-xenctx.txt"]
            files += (1...max(1, g.expectedSteps)).map { "\(g.name)-step\($0).log" }
        }
        if r.dom0Failure != nil || r.runDoneAt == nil || r.guests.contains(where: { !$0.success }) {
            files += ["xen-init-dom0.log", "xen/xenstored.log", "xen/xenconsoled.log", "dmesg.txt"]
        }
        var out = ""
        for file in files {
            guard let text = try? String(contentsOf: logs.appendingPathComponent(file), encoding: .utf8), !text.isEmpty else { continue }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            out += "----- \(logs.path)/\(file)" + (lines.count > 60 ? " (last 60 of \(lines.count) lines)" : "") + "\n"
            out += lines.suffix(60).joined(separator: "\n") + "\n"
        }
        return out + "----- run directory: \(dir.path) (serial.log has the whole serial line)\n"
    }
}

// Boots a kernel as dom0 on the real Xen hypervisor under QEMU and watches the serial line.
import Foundation

public struct BootEnvironment: Sendable {
    public var qemu: String
    public var hypervisor: String

    /// Finds QEMU and Debian's Xen 4.17 where Debian installs them, and says what to install if not.
    public static func locate(cacheDirectory: URL) throws -> BootEnvironment {
        let qemuCandidates = ["/usr/bin/qemu-system-x86_64", "/usr/local/bin/qemu-system-x86_64"]
        guard let qemu = qemuCandidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw HarnessError("qemu-system-x86_64 is not installed: apt-get install qemu-system-x86")
        }
        let gz = "/boot/xen-4.17-amd64.gz"
        guard FileManager.default.fileExists(atPath: gz) else {
            throw HarnessError("Xen 4.17 is not installed (no \(gz)): apt-get install xen-hypervisor-4.17-amd64")
        }
        // QEMU's -kernel takes the plain multiboot ELF; given the .gz it would treat it as Linux.
        try FileManager.default.createDirectory(at: cacheDirectory, withIntermediateDirectories: true)
        let plain = cacheDirectory.appendingPathComponent("xen-4.17-amd64")
        let gzDate = (try? FileManager.default.attributesOfItem(atPath: gz)[.modificationDate] as? Date) ?? .distantPast
        let plainDate = (try? FileManager.default.attributesOfItem(atPath: plain.path)[.modificationDate] as? Date) ?? .distantPast
        if plainDate < gzDate {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            // A private temporary name, renamed into place: two boots may unpack at once.
            let tmp = "\(plain.path).\(ProcessInfo.processInfo.processIdentifier).tmp"
            p.arguments = ["-c", "gzip -dc '\(gz)' > '\(tmp)' && mv '\(tmp)' '\(plain.path)'"]
            try p.run(); p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw HarnessError("cannot unpack \(gz) into \(plain.path)") }
        }
        return BootEnvironment(qemu: qemu, hypervisor: plain.path)
    }

    /// The QEMU line: software emulation, serial on stdout, Xen as the multiboot kernel and the
    /// guest as dom0, its first module (module arguments follow its path; commas doubled).
    /// `memory`: dom0's MiB (Xen's `dom0_mem`); the machine gets that and room for Xen.
    public func arguments(kernel: String, moduleArguments: String, memory: Int = 16) -> [String] {
        let module = ([kernel] + (moduleArguments.isEmpty ? [] : [moduleArguments.replacingOccurrences(of: ",", with: ",,")])).joined(separator: " ")
        // -mem-prealloc: the host backs all guest RAM before Xen starts. Without it the first
        // touch of each untouched 2 MiB of host memory (a huge page to fault in and zero) landed
        // inside the guest's timeline, some 4.5 ms each.
        return ["-machine", "q35,accel=tcg", "-cpu", "qemu64", "-m", String(max(512, memory + 384)), "-mem-prealloc", "-smp", "1", "-display", "none",
                "-nodefaults", "-monitor", "none", "-serial", "stdio", "-no-reboot",
                "-kernel", hypervisor,
                "-append", "console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all console_timestamps=boot dom0_mem=\(memory)M dom0_max_vcpus=1",
                "-initrd", module]
    }
}

public struct HarnessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

public enum QEMURun {
    /// Runs one boot, passing each serial line to `echo` as it arrives, until Xen says what became
    /// of dom0 (then QEMU is stopped: it does not exit on a halt) or the timeout passes.
    public static func boot(_ env: BootEnvironment, kernel: String, moduleArguments: String = "", memory: Int = 16,
                            timeout: TimeInterval, echo: @escaping (Substring) -> Void) throws -> (SerialVerdict, timedOut: Bool) {
        var verdict = SerialVerdict()
        let timedOut = try serialLines(env.qemu, env.arguments(kernel: kernel, moduleArguments: moduleArguments, memory: memory),
                                       timeout: timeout) { line, _ in
            echo(line)
            verdict.read(line)
            return !verdict.finished
        }
        return (verdict, timedOut)
    }

    /// Runs QEMU with `arguments` (in `directory`), its serial console on stdout, and hands each
    /// line with the seconds since the start to `line`, until `line` says stop, QEMU exits, or
    /// `timeout` passes (then true). QEMU is stopped if it is still running.
    public static func serialLines(_ qemu: String, _ arguments: [String], in directory: URL? = nil, timeout: TimeInterval,
                                   _ line: (Substring, Double) -> Bool) throws -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: qemu)
        p.arguments = arguments
        if let directory { p.currentDirectoryURL = directory }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        // A child inherits its parent's blocked signals. Run from a test runner (whose threads
        // block nearly all of them), QEMU's vCPU thread is never kicked and Xen stalls: start it
        // with none blocked.
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        let start = Date()
        try p.run()
        let fd = pipe.fileHandleForReading.fileDescriptor
        let deadline = start.addingTimeInterval(timeout)
        var pending = Data()
        var timedOut = false
        var stop = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stop {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { timedOut = true; break }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(remaining, 1) * 1000))
            if ready <= 0 { if !p.isRunning { break }; continue }
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            pending.append(contentsOf: buffer[0..<n])
            // The rest of a chunk is still handed over after a stop, as it arrived together.
            while let nl = pending.firstIndex(of: 0x0A) {
                let text = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
                pending.removeSubrange(pending.startIndex...nl)
                if !line(Substring(text), Date().timeIntervalSince(start)) { stop = true }
            }
        }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        return timedOut
    }
}

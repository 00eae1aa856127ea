// Runs the host's tools (apt, dpkg, debootstrap, xz, QEMU's helpers) for the harness, as root
// where it must be.
import Foundation

public enum HostCommand {
    /// What a finished command printed.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `arguments[0]` (looked up on PATH) with the rest, no standard input, collecting both
    /// streams. `log`: where a long tool's output goes instead (debootstrap prints thousands of
    /// lines); the error then quotes its last lines.
    @discardableResult
    public static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:],
                           asRoot: Bool = false, log: URL? = nil, allowFailure: Bool = false) throws -> Output {
        // Variables go on the line (`env K=V tool`), so that they survive sudo's env_reset.
        let assignments = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let line = (asRoot ? try Privilege.prefix() : []) + (assignments.isEmpty ? [] : ["env"] + assignments) + arguments
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = line
        p.standardInput = FileHandle.nullDevice
        if let directory { p.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        var logHandle: FileHandle?
        if let log {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            logHandle = try FileHandle(forWritingTo: log)
            p.standardOutput = logHandle
            p.standardError = logHandle
        } else {
            p.standardOutput = out
            p.standardError = err
        }
        try p.run()
        // Read both pipes at once: a tool that fills one while we wait on the other would block.
        var outData = Data()
        let errData = CollectedBytes()
        if log == nil {
            let group = DispatchGroup()
            group.enter()
            DispatchQueue.global().async {
                errData.bytes = err.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
            outData = out.fileHandleForReading.readDataToEndOfFile()
            group.wait()
        }
        p.waitUntilExit()
        try? logHandle?.close()
        let result = Output(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                            stderr: String(decoding: errData.bytes, as: UTF8.self))
        if result.status != 0 && !allowFailure {
            var said = result.stderr.isEmpty ? result.stdout : result.stderr
            if let log { said = (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
            let tail = said.split(separator: "\n", omittingEmptySubsequences: false).suffix(15).joined(separator: "\n")
            throw HarnessError("`\(line.joined(separator: " "))` exited with status \(result.status)"
                + (log.map { " (log: \($0.path))" } ?? "") + (tail.isEmpty ? "" : ":\n\(tail)"))
        }
        return result
    }

    /// The path of `tool` on PATH, or nil.
    public static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        // Typed: otherwise `split(...) + [literals]` infers arrays of Characters.
        let dirs: [String] = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        for dir in dirs {
            let candidate = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Fails with what to install when a host tool is missing.
    public static func require(_ tool: String, package: String) throws {
        guard which(tool) != nil else {
            throw HarnessError("`\(tool)` is not installed: run scripts/install-deps (Debian package \(package))")
        }
    }
}

/// Bytes one thread collects and another reads after the group's wait (which orders the two).
final class CollectedBytes: @unchecked Sendable {
    var bytes = Data()
}

/// debootstrap and chroot need root. As root the harness runs them directly; otherwise through
/// sudo (non-interactively: a password prompt would hang a test run) when there is one.
public enum Privilege {
    public static var isRoot: Bool { geteuid() == 0 }

    static func prefix() throws -> [String] {
        if isRoot { return [] }
        guard HostCommand.which("sudo") != nil else {
            throw HarnessError("preparing the dom0 root needs root (debootstrap, chroot): run `xen-guest prepare-domu` as root, or install sudo")
        }
        return ["sudo", "-n"]
    }
}

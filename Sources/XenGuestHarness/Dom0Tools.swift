// Programs of the project's own that dom0 runs in a test (Tests/Dom0Tools/*.c: the UDP peer of
// the network tests), built static on the host with gcc, kept in .build-domu/tools/ and rebuilt
// when their source is newer, and put in each run's share (dom0's PATH has $RUN/tools first).
// Shell tools (Tests/Dom0Tools/*.sh: steps too long for a plan's line) are copied the same way,
// executable and without the suffix.
import Foundation

public enum Dom0Tools {
    /// Builds each tool whose binary is missing or older than its source; returns the binaries.
    public static func build(packageRoot: URL, cache: URL) throws -> [URL] {
        let fm = FileManager.default
        let sources = packageRoot.appendingPathComponent("Tests/Dom0Tools")
        let names = ((try? fm.contentsOfDirectory(atPath: sources.path)) ?? []).filter { $0.hasSuffix(".c") || $0.hasSuffix(".sh") }.sorted()
        try fm.createDirectory(at: cache, withIntermediateDirectories: true)
        var built: [URL] = []
        for name in names {
            let source = sources.appendingPathComponent(name)
            let script = name.hasSuffix(".sh")
            let binary = cache.appendingPathComponent(String(name.dropLast(script ? 3 : 2)))
            let sourceDate = (try? fm.attributesOfItem(atPath: source.path)[.modificationDate] as? Date) ?? .distantFuture
            let binaryDate = (try? fm.attributesOfItem(atPath: binary.path)[.modificationDate] as? Date) ?? .distantPast
            if binaryDate < sourceDate {
                // A private name, renamed into place: two runs may build at once.
                let temporary = cache.appendingPathComponent(".\(binary.lastPathComponent).\(getpid())")
                if script {
                    _ = try? fm.removeItem(at: temporary)
                    try fm.copyItem(at: source, to: temporary)
                    try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: temporary.path)
                } else {
                    _ = try HostCommand.run(["gcc", "-O2", "-static", "-Wall", "-o", temporary.path, source.path])
                }
                _ = try? fm.removeItem(at: binary)
                try fm.moveItem(at: temporary, to: binary)
            }
            built.append(binary)
        }
        return built
    }
}

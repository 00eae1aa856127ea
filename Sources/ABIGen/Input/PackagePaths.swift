// How a path the user gave is named in what the generator writes: relative to the package when it
// lies inside it, so the same project regenerates the same bytes wherever it is checked out.
import Foundation

public struct PackagePaths: Sendable {
    /// The project the command runs in: the nearest directory at or above `start` holding
    /// Specs/xen.yaml, if any.
    public let root: URL?

    public init(from start: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) {
        var dir = start.standardizedFileURL
        while true {
            let fm = FileManager.default
            if fm.fileExists(atPath: dir.appendingPathComponent("Specs/xen.yaml").path) { root = dir; return }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { root = nil; return }
            dir = parent
        }
    }

    /// `given` relative to the package when it names something inside it, otherwise as given.
    public func display(_ given: String) -> String {
        guard let root else { return given }
        let absolute = URL(fileURLWithPath: given).standardizedFileURL.resolvingSymlinksInPath().path
        let base = root.resolvingSymlinksInPath().path
        if absolute == base { return "." }
        return absolute.hasPrefix(base + "/") ? String(absolute.dropFirst(base.count + 1)) : given
    }

    /// The spec a run reads: `given`, or the package's Specs/xen.yaml.
    public func spec(_ given: String?) throws -> (url: URL, name: String) {
        if let given { return (URL(fileURLWithPath: given), display(given)) }
        guard let root else { throw ABIGenError("no Specs/xen.yaml in the current directory or above it: pass --spec") }
        return (root.appendingPathComponent("Specs/xen.yaml"), "Specs/xen.yaml")
    }
}

// Other ways to get a release's public headers: a Xen source tree, or a ref of a xen.git clone.
import Foundation

public enum HeaderSource: Sendable {
    /// A tree laid out as installed (`DIR/xen.h`, `DIR/io/...`); carries no release number.
    case installed(String)
    /// A Xen source tree: `DIR/xen/include/public`, the release in `DIR/xen/Makefile`.
    case sourceTree(String)
    /// A ref of a xen.git clone, bare or not, read from its objects with no checkout.
    case git(repository: String, ref: String)

    /// The header directory to read, the release it is (when the source says), and a directory
    /// to remove afterwards.
    public func materialize() throws -> (headers: URL, release: String?, temporary: URL?) {
        switch self {
        case let .installed(dir):
            return (URL(fileURLWithPath: dir), nil, nil)
        case let .sourceTree(dir):
            let root = URL(fileURLWithPath: dir)
            let headers = root.appendingPathComponent("xen/include/public")
            guard FileManager.default.fileExists(atPath: headers.appendingPathComponent("xen.h").path) else {
                throw ABIGenError("\(dir) is not a Xen source tree: no xen/include/public/xen.h")
            }
            return (headers, try Self.release(makefile: root.appendingPathComponent("xen/Makefile")), nil)
        case let .git(repository, ref):
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("abigen-git-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let archive = work.appendingPathComponent("public.tar")
            let git = try Subprocess.run(["git", "-C", repository, "archive", "--format=tar", "-o", archive.path, ref, "xen/include/public", "xen/Makefile"])
            guard git.status == 0 else {
                try? FileManager.default.removeItem(at: work)
                throw ABIGenError("cannot read \(ref) from the xen.git clone \(repository): \(git.output.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            let tar = try Subprocess.run(["tar", "-x", "-f", archive.path, "-C", work.path])
            guard tar.status == 0 else {
                try? FileManager.default.removeItem(at: work)
                throw ABIGenError("cannot unpack \(ref)'s headers: \(tar.output)")
            }
            return (work.appendingPathComponent("xen/include/public"), try Self.release(makefile: work.appendingPathComponent("xen/Makefile")), work)
        }
    }

    /// `export XEN_VERSION = 4` and `export XEN_SUBVERSION = 17` -> "4.17".
    static func release(makefile: URL) throws -> String {
        let text = (try? String(contentsOf: makefile, encoding: .utf8)) ?? ""
        func value(_ name: String) -> String? {
            for line in text.split(separator: "\n") {
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "=" })
                if words.count >= 3, words[0] == "export", words[1] == name, Int(words[2]) != nil { return String(words[2]) }
            }
            return nil
        }
        guard let major = value("XEN_VERSION"), let minor = value("XEN_SUBVERSION") else {
            throw ABIGenError("no XEN_VERSION/XEN_SUBVERSION in \(makefile.path)")
        }
        return "\(major).\(minor)"
    }
}

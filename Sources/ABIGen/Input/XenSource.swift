// The three places a release's public headers come from: a tree laid out as installed, a Xen
// source tree, or a ref of a xen.git clone.
import Foundation

public enum HeaderSource: Sendable, Equatable {
    /// A tree laid out as installed (`DIR/xen.h`, `DIR/io/...`); carries no release number.
    case installed(String)
    /// A Xen source tree: `DIR/xen/include/public`, the release in `DIR/xen/Makefile`.
    case sourceTree(String)
    /// A ref of a xen.git clone, bare or not, read from its objects with no checkout.
    case git(repository: String, ref: String)

    /// Runs `body` on the header tree and the release it is (when the source says). Whatever the
    /// source needed on disk (a git ref's unpacked headers, the include staging) is removed when
    /// `body` returns or throws.
    public func withTree<T>(_ body: (HeaderTree, _ release: String?) throws -> T) throws -> T {
        switch self {
        case let .installed(dir):
            return try HeaderTree.with(root: URL(fileURLWithPath: dir)) { try body($0, nil) }
        case let .sourceTree(dir):
            let root = URL(fileURLWithPath: dir)
            let headers = root.appendingPathComponent("xen/include/public")
            guard FileManager.default.fileExists(atPath: headers.appendingPathComponent("xen.h").path) else {
                throw ABIGenError("\(dir) is not a Xen source tree: no xen/include/public/xen.h")
            }
            let release = try Self.release(makefile: root.appendingPathComponent("xen/Makefile"))
            return try HeaderTree.with(root: headers) { try body($0, release) }
        case let .git(repository, ref):
            return try TemporaryDirectory.with("git") { work in
                let archive = work.appendingPathComponent("public.tar")
                let git = try Subprocess.run(["git", "-C", repository, "archive", "--format=tar", "-o", archive.path, ref, "xen/include/public", "xen/Makefile"])
                guard git.status == 0 else {
                    throw ABIGenError("cannot read \(ref) from the xen.git clone \(repository): \(git.output.trimmingCharacters(in: .whitespacesAndNewlines))")
                }
                let tar = try Subprocess.run(["tar", "-x", "-f", archive.path, "-C", work.path])
                guard tar.status == 0 else { throw ABIGenError("cannot unpack \(ref)'s headers: \(tar.output)") }
                let release = try Self.release(makefile: work.appendingPathComponent("xen/Makefile"))
                return try HeaderTree.with(root: work.appendingPathComponent("xen/include/public")) { try body($0, release) }
            }
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

// Where the public headers come from, and which of them are Xen's public ABI for x86_64.
import Foundation

/// A directory laid out like an installed `/usr/include/xen` (`xen.h`, `io/`, `hvm/` ...).
public struct HeaderTree: Sendable {
    public let root: URL
    /// A directory holding only a `xen` link to `root`, so headers are included as `<xen/...>`:
    /// putting `root` itself on the include path would let Xen's `features.h` shadow the C library's.
    public let includeDir: URL

    public init(root: URL) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDir), isDir.boolValue else {
            throw ABIGenError("header directory \(root.path) does not exist")
        }
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent("xen.h").path) else {
            throw ABIGenError("\(root.path) has no xen.h: not a Xen public header tree")
        }
        self.root = root.standardizedFileURL
        let staging = try TemporaryDirectory.make("include")
        do { try FileManager.default.createSymbolicLink(at: staging.appendingPathComponent("xen"), withDestinationURL: self.root) } catch {
            try? FileManager.default.removeItem(at: staging)
            throw ABIGenError("cannot stage \(self.root.path) for inclusion: \(error.localizedDescription)")
        }
        includeDir = staging
    }

    /// The tree at `root` for the length of `body`; its staging directory is removed after.
    public static func with<T>(root: URL, _ body: (HeaderTree) throws -> T) throws -> T {
        let tree = try HeaderTree(root: root)
        defer { tree.removeStaging() }
        return try body(tree)
    }

    public func removeStaging() { try? FileManager.default.removeItem(at: includeDir) }

    /// Every `.h` file under the root, relative, sorted.
    public func allHeaders() -> [String] {
        guard let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var out: [String] = []
        let base = root.path.hasSuffix("/") ? root.path : root.path + "/"
        for case let url as URL in e where url.pathExtension == "h" {
            let p = url.standardizedFileURL.path
            out.append(p.hasPrefix(base) ? String(p.dropFirst(base.count)) : url.lastPathComponent)
        }
        return out.sorted()
    }

    public func contents(of header: String) -> String {
        (try? String(contentsOf: root.appendingPathComponent(header), encoding: .utf8))
            ?? (try? String(contentsOf: root.appendingPathComponent(header), encoding: .isoLatin1)) ?? ""
    }

    /// The release's `__XEN_LATEST_INTERFACE_VERSION__`, read from `xen-compat.h`.
    public func latestInterfaceVersion() throws -> UInt32 {
        let text = contents(of: "xen-compat.h")
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.count >= 3, words[0] == "#define", words[1] == "__XEN_LATEST_INTERFACE_VERSION__",
               let v = UInt32(words[2].dropFirst(2), radix: 16), words[2].hasPrefix("0x") {
                return v
            }
        }
        throw ABIGenError("no __XEN_LATEST_INTERFACE_VERSION__ in \(root.path)/xen-compat.h")
    }
}

/// The rule that picks Xen's public ABI headers for an x86_64 target out of a header tree.
///
/// Xen's public headers are those of `xen/include/public`. An installed tree holds more: Linux's
/// uapi driver headers (`privcmd.h`, `gntdev.h` ...; they define ioctls or include `<linux/...>`),
/// the tools' generated `foreign/` copies, and other architectures' headers. Each file left out is
/// named with its reason so a reviewer sees the whole tree accounted for.
public struct HeaderSelection: Sendable {
    public var selected: [String] = []
    public var skipped: [Skipped] = []
    /// Headers compiled only through another header (the way Xen's own header check does).
    public var includedThrough: [String: String] = [:]
    /// Extra C headers a header needs first (Xen's headers.chk `-prereq`).
    public var prerequisites: [String: [String]] = [:]

    public static func x86_64(_ tree: HeaderTree) -> HeaderSelection {
        var s = HeaderSelection()
        for header in tree.allHeaders() {
            if let reason = exclusionReason(header, text: tree.contents(of: header)) {
                s.skipped.append(Skipped(header: header, reason: reason))
                continue
            }
            s.selected.append(header)
        }
        // Xen's header check compiles the arch part of the HVM save format through hvm/save.h.
        for h in s.selected where h.hasPrefix("arch-x86/hvm/save.h") && s.selected.contains("hvm/save.h") {
            s.includedThrough[h] = "hvm/save.h"
        }
        // 9pfs.h and pvcalls.h use size_t and friends without including anything (headers99.chk
        // gives them string.h first).
        for h in s.selected where h == "io/9pfs.h" || h == "io/pvcalls.h" { s.prerequisites[h] = ["string.h"] }
        return s
    }

    static let otherArchitectures = ["arch-arm", "arch-x86_32", "arch-ppc", "arch-riscv", "arch-x86/xen-x86_32.h"]

    static func exclusionReason(_ header: String, text: String) -> String? {
        for prefix in otherArchitectures where header.hasPrefix(prefix) {
            return "another architecture's header (not x86_64)"
        }
        if header.hasPrefix("foreign/") {
            return "generated by Xen's tools build (mkheader.py), not part of xen/include/public"
        }
        if text.contains("_IOC(") || text.range(of: #"#\s*include\s*<linux/"#, options: .regularExpression) != nil {
            return "a Linux driver (uapi) header: defines ioctls or includes <linux/...>, not Xen's public ABI"
        }
        return nil
    }
}

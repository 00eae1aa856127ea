// Asks the host's apt and dpkg about the packages the dom0 assets are made from, and unpacks them
// without installing anything on the host.
import Foundation

/// A binary package at one version.
public struct DebianPackage: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var version: String
    public var description: String { "\(name) \(version)" }
}

public enum DebianPackages {
    /// The installed version of `name` (dpkg's database), or nil.
    public static func installedVersion(_ name: String) -> String? {
        guard let out = try? HostCommand.run(["dpkg-query", "-W", "-f=${Status}\t${Version}", name], allowFailure: true),
              out.status == 0 else { return nil }
        let fields = out.stdout.split(separator: "\t", omittingEmptySubsequences: false)
        guard fields.count == 2, fields[0].hasSuffix("installed"), !fields[0].contains("not-installed") else { return nil }
        return String(fields[1])
    }

    /// apt's candidate stanza of each package, by name (one `apt-cache show` for all: each call
    /// costs half a second).
    public static func candidates(_ names: [String]) throws -> [String: [String: String]] {
        let out = try HostCommand.run(["apt-cache", "show", "--no-all-versions"] + names, allowFailure: true)
        var stanzas: [String: [String: String]] = [:]
        for block in out.stdout.components(separatedBy: "\n\n") {
            var fields: [String: String] = [:]
            for line in block.split(separator: "\n") where !line.hasPrefix(" ") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            if let name = fields["Package"], stanzas[name] == nil { stanzas[name] = fields }
        }
        for name in names where stanzas[name] == nil {
            throw HarnessError("apt knows no package \(name): run `apt-get update` (the host's sources need Debian 12's main)")
        }
        return stanzas
    }

    /// The kernel image package the metapackage `linux-image-amd64` currently depends on
    /// (`linux-image-6.1.0-N-amd64 (= VERSION)`), read from the metapackage's stanza.
    public static func kernelImage(fromMetapackage stanza: [String: String]) throws -> DebianPackage {
        let depends = stanza["Depends"] ?? ""
        for alternative in depends.split(separator: ",") {
            let words = alternative.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == ")" })
            guard let name = words.first, name.hasPrefix("linux-image-") else { continue }
            if words.count >= 3, words[1] == "=" { return DebianPackage(name: String(name), version: String(words[2])) }
        }
        throw HarnessError("linux-image-amd64 depends on no linux-image-VERSION-amd64 at one version (Depends: \(depends))")
    }

    /// Downloads `package` at its version into `directory` (apt's cache of the host stays as it is)
    /// and returns the .deb.
    public static func download(_ package: DebianPackage, into directory: URL) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        if let have = before.first(where: { debMatches($0, package) }) { return directory.appendingPathComponent(have) }
        // As root apt drops to the _apt user for downloads, who cannot write into a root-owned
        // build directory; the sandbox buys nothing for a file we only unpack.
        let sandbox = Privilege.isRoot ? ["-o", "APT::Sandbox::User=root"] : []
        try HostCommand.run(["apt-get", "download", "-q"] + sandbox + ["\(package.name)=\(package.version)"], in: directory)
        let after = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        guard let deb = after.first(where: { debMatches($0, package) }) else {
            throw HarnessError("apt-get download \(package.name)=\(package.version) left no .deb in \(directory.path)")
        }
        return directory.appendingPathComponent(deb)
    }

    /// apt names a download NAME_VERSION_ARCH.deb with the epoch's colon as %3a.
    static func debMatches(_ file: String, _ package: DebianPackage) -> Bool {
        file.hasPrefix("\(package.name)_\(package.version.replacingOccurrences(of: ":", with: "%3a"))_") && file.hasSuffix(".deb")
    }

    /// Unpacks a .deb's files into `directory` (dpkg-deb -x: no maintainer scripts, no database).
    public static func unpack(_ deb: URL, into directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try HostCommand.run(["dpkg-deb", "-x", deb.path, directory.path])
    }
}

// What an argument of `abigen diff` and `abigen report` names, recognised in one place, and the
// model it holds.
import Foundation

public enum ABISource: Sendable, Equatable {
    /// A manifest (`abi.json`) written by `regenerate`.
    case manifest(String)
    /// A directory `regenerate` wrote (it holds `abi.json`).
    case generated(String)
    /// Headers to read: an installed tree, a Xen source tree, or `REPO@REF`.
    case headers(HeaderSource)

    public static let forms = "a manifest (abi.json), a generated directory, a Xen source tree, an installed header directory (DIR/xen.h) or REPO@REF"

    public static func recognize(_ argument: String) throws -> ABISource {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: argument, isDirectory: &isDir) {
            guard isDir.boolValue else { return .manifest(argument) }
            let dir = URL(fileURLWithPath: argument)
            if fm.fileExists(atPath: dir.appendingPathComponent("abi.json").path) { return .generated(argument) }
            if fm.fileExists(atPath: dir.appendingPathComponent("xen/include/public/xen.h").path) { return .headers(.sourceTree(argument)) }
            if fm.fileExists(atPath: dir.appendingPathComponent("xen.h").path) { return .headers(.installed(argument)) }
            throw ABIGenError("\(argument) holds none of abi.json, xen/include/public/xen.h and xen.h: expected \(forms)")
        }
        // The last '@' splits, so a repository path may hold one; a ref cannot.
        if let at = argument.lastIndex(of: "@") {
            let repository = String(argument[..<at]), ref = String(argument[argument.index(after: at)...])
            guard fm.fileExists(atPath: repository, isDirectory: &isDir), isDir.boolValue else {
                throw ABIGenError("\(argument): no repository \(repository)")
            }
            guard !ref.isEmpty else { throw ABIGenError("\(argument): no ref after '@'") }
            return .headers(.git(repository: repository, ref: ref))
        }
        throw ABIGenError("\(argument) does not exist: expected \(forms)")
    }

    /// The model: read back from a manifest, or built from the headers with the spec (interface
    /// ranges included, so the diff's gate rule can apply). An installed tree carries no release:
    /// `xenVersion`, or its path, names it.
    public func model(spec: () throws -> Spec, xenVersion: String? = nil, project: PackagePaths = PackagePaths()) throws -> ABIModel {
        switch self {
        case let .manifest(path):
            return try Self.decode(path)
        case let .generated(dir):
            return try Self.decode(URL(fileURLWithPath: dir).appendingPathComponent("abi.json").path)
        case let .headers(source):
            let spec = try spec()
            return try source.withTree { tree, found in
                var label = found ?? xenVersion
                if label == nil, case let .installed(dir) = source { label = project.display(dir) }
                return try Generator(tree: tree, options: GenerationOptions(xenVersion: label ?? "unknown", interfaceRanges: true), spec: spec, provenance: "abigen").model()
            }
        }
    }

    static func decode(_ path: String) throws -> ABIModel {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ABIGenError("cannot read \(path): \(error.localizedDescription)")
        }
        return try ManifestWriter.decode(data, from: path)
    }
}

// What `regenerate` and `verify` read, as the command line gave it, and the provenance line that
// reproduces their output.
import Foundation

public struct GenerationRequest: Sendable {
    public var source: HeaderSource
    /// The release the headers are from; required for an installed tree (it carries none).
    public var xenVersion: String?
    /// `__XEN_INTERFACE_VERSION__` as given (`0x00040e00`); nil: the headers' latest.
    public var interfaceVersion: String?
    public var interfaceRanges = true
    /// The spec as given; nil: the project's Specs/xen.yaml.
    public var spec: String?
    public var jobs: Int?
    public var project: PackagePaths

    public init(source: HeaderSource, xenVersion: String? = nil, interfaceVersion: String? = nil, interfaceRanges: Bool = true,
                spec: String? = nil, jobs: Int? = nil, project: PackagePaths = PackagePaths()) {
        self.source = source; self.xenVersion = xenVersion; self.interfaceVersion = interfaceVersion
        self.interfaceRanges = interfaceRanges; self.spec = spec; self.jobs = jobs; self.project = project
    }

    /// `0x00040e00` or a decimal number.
    public static func parseInterfaceVersion(_ s: String) -> UInt32? {
        s.hasPrefix("0x") || s.hasPrefix("0X") ? UInt32(s.dropFirst(2), radix: 16) : UInt32(s)
    }

    /// Runs `body` with the generator for this input; what the source put on disk is gone after.
    public func withGenerator<T>(_ verb: String, _ body: (Generator) throws -> T) throws -> T {
        let loader = SpecLoader(given: spec, project: project)
        let specName = try loader.name()
        let spec = try loader.load()
        let interface = try interfaceVersion.map { given in
            guard let v = Self.parseInterfaceVersion(given) else { throw ABIGenError("--interface-version must be a number such as 0x00040e00, not '\(given)'") }
            return v
        }
        return try source.withTree { tree, found in
            guard let release = xenVersion ?? found else {
                throw ABIGenError("--xen-version is required with --headers: installed headers carry no release number")
            }
            let options = GenerationOptions(xenVersion: release, interfaceVersion: interface, jobs: jobs, interfaceRanges: interfaceRanges)
            return try body(Generator(tree: tree, options: options, spec: spec, provenance: provenance(verb, release: release, spec: specName)))
        }
    }

    /// Where `regenerate` writes when not told: the project's Generated/xen-X.Y.
    public func defaultOutput(release: String) -> URL {
        (project.root ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).appendingPathComponent("Generated/xen-\(release)")
    }

    /// The command line that reproduces a run's output: every option that shapes it (not where it
    /// was written, nor how many threads read it), paths inside the project relative to it.
    func provenance(_ verb: String, release: String, spec: String) -> String {
        var s = "abigen \(verb)"
        switch source {
        case let .installed(dir): s += " --headers \(project.display(dir)) --xen-version \(release)"
        case let .sourceTree(dir): s += " --xen-source \(project.display(dir))"
        case let .git(repo, ref): s += " --xen-git \(project.display(repo)) --ref \(ref)"
        }
        if case .installed = source {} else if let xenVersion { s += " --xen-version \(xenVersion)" }
        if let interfaceVersion { s += " --interface-version \(interfaceVersion)" }
        if !interfaceRanges { s += " --no-interface-ranges" }
        return s + " --spec \(spec)"
    }
}

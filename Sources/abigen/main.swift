// abigen: argument parsing and wiring only; the pipeline lives in the ABIGen library.
import ABIGen
import ArgumentParser
import Foundation

@main
struct ABIGenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abigen",
        abstract: "Generate and verify a Swift ABI layer from Xen's public headers.",
        subcommands: [Regenerate.self, Verify.self, Diff.self, Report.self])

    /// Usage errors exit with 2, as abidiff's do (ArgumentParser's own default is 64).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Where the headers come from and how they are read; shared by every subcommand.
struct InputOptions: ParsableArguments {
    @Option(help: "A Xen public header tree laid out as installed (DIR/xen.h, DIR/io/...); default /usr/include/xen.")
    var headers: String?

    @Option(help: "A Xen source tree (its xen/include/public; the release from xen/Makefile).")
    var xenSource: String?

    @Option(help: "A xen.git clone, bare or not, read at --ref without a checkout.")
    var xenGit: String?

    @Option(help: "The ref of --xen-git to read (a tag such as RELEASE-4.19.0, a branch or a commit).")
    var ref: String?

    @Option(help: "The Xen release the headers are from, e.g. 4.17: required with --headers (installed headers carry no release number), read from xen/Makefile otherwise.")
    var xenVersion: String?

    @Option(help: "__XEN_INTERFACE_VERSION__ to read the guest view at (default: the headers' __XEN_LATEST_INTERFACE_VERSION__).")
    var interfaceVersion: String?

    @Option(help: "The spec (default: Specs/xen.yaml in the current directory or a parent).")
    var spec: String?

    @Option(help: "Translation units parsed in parallel (default: the number of cores).")
    var jobs: Int?

    @Flag(inversion: .prefixedNo, help: "Read every interface version the headers test for, and record in the manifest where each layout and value holds (default; --no-interface-ranges skips them).")
    var interfaceRanges = true

    func validate() throws {
        let sources = [headers != nil, xenSource != nil, xenGit != nil].filter { $0 }.count
        if sources > 1 { throw ValidationError("give one of --headers, --xen-source and --xen-git") }
        if (xenGit == nil) != (ref == nil) { throw ValidationError("--xen-git and --ref go together") }
        if xenSource == nil && xenGit == nil && xenVersion == nil {
            throw ValidationError("--xen-version is required with --headers: installed headers carry no release number")
        }
        if let xenVersion, xenVersion.range(of: #"^[0-9]+\.[0-9]+$"#, options: .regularExpression) == nil {
            throw ValidationError("--xen-version must look like 4.17, not '\(xenVersion)'")
        }
        if let iv = interfaceVersion, Self.parseHex(iv) == nil {
            throw ValidationError("--interface-version must be a number such as 0x00040e00, not '\(iv)'")
        }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    static func parseHex(_ s: String) -> UInt32? {
        s.hasPrefix("0x") || s.hasPrefix("0X") ? UInt32(s.dropFirst(2), radix: 16) : UInt32(s)
    }

    var source: HeaderSource {
        if let xenSource { return .sourceTree(xenSource) }
        if let xenGit, let ref { return .git(repository: xenGit, ref: ref) }
        return .installed(headers ?? "/usr/include/xen")
    }

    /// The command line that reproduces a run's output (without where it was written).
    func provenance(_ verb: String, release: String) -> String {
        var s = "abigen \(verb)"
        switch source {
        case let .installed(dir): s += " --headers \(dir) --xen-version \(release)"
        case let .sourceTree(dir): s += " --xen-source \(dir)"
        case let .git(repo, ref): s += " --xen-git \(repo) --ref \(ref)"
        }
        if let iv = interfaceVersion { s += " --interface-version \(iv)" }
        if !interfaceRanges { s += " --no-interface-ranges" }
        return s
    }

    func specURL() throws -> URL {
        if let spec { return URL(fileURLWithPath: spec) }
        var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        while true {
            let candidate = dir.appendingPathComponent("Specs/xen.yaml")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { throw ABIGenError("no Specs/xen.yaml in the current directory or above it: pass --spec") }
            dir = parent
        }
    }

    /// The generator for this input, and a directory to remove when done (git sources).
    func generator(_ verb: String) throws -> (Generator, temporary: URL?) {
        let (headers, found, temporary) = try source.materialize()
        let release = xenVersion ?? found ?? "unknown"
        let tree = try HeaderTree(root: headers)
        let spec = try Spec.load(try specURL())
        let options = GenerationOptions(xenVersion: release, interfaceVersion: interfaceVersion.flatMap(Self.parseHex), jobs: jobs, interfaceRanges: interfaceRanges)
        return (Generator(tree: tree, options: options, spec: spec, provenance: provenance(verb, release: release)), temporary)
    }
}

/// Runs a body, turning generator errors into one clear line on stderr and exit status 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do { try body() } catch let e as ABIGenError {
        FileHandle.standardError.write(Data("abigen: \(e)\n".utf8))
        throw ExitCode.failure
    }
}

struct Regenerate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read the headers and write Generated/xen-X.Y (Swift layer, abi.json, checks).")

    @OptionGroup var input: InputOptions

    @Option(help: "Where to write (default: Generated/xen-X.Y). Replaced whole, or left untouched on any error.")
    var output: String?

    func run() throws {
        try reportingErrors {
            let (generator, temporary) = try input.generator("regenerate")
            defer {
                generator.tree.removeStaging()
                if let temporary { try? FileManager.default.removeItem(at: temporary) }
            }
            let start = Date()
            let generation = try generator.generate()
            let out = URL(fileURLWithPath: output ?? "Generated/xen-\(generator.options.xenVersion)")
            try OutputWriter.replace(out, with: generation.files)
            print(generation.summary, terminator: "")
            print(String(format: "wrote %d files to %@ in %.2f s", generation.files.count, out.path, Date().timeIntervalSince(start)))
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check every generated layout against gcc and against the Swift compiler.")

    @OptionGroup var input: InputOptions

    @Option(help: "text or json") var format: String = "text"

    @Flag(help: "Check against gcc only (skip compiling the Swift layer).")
    var cOnly = false

    func validate() throws {
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
    }

    func run() throws {
        var report: VerificationReport?
        try reportingErrors {
            let (generator, temporary) = try input.generator("verify")
            defer {
                generator.tree.removeStaging()
                if let temporary { try? FileManager.default.removeItem(at: temporary) }
            }
            let generation = try generator.generate()
            report = try Verifier(generation: generation, includeDir: generator.tree.includeDir, checkSwift: !cOnly).run()
        }
        guard let report else { return }
        print(format == "json" ? report.json() : report.text(), terminator: "")
        if !report.mismatches.isEmpty { throw ExitCode.failure }
    }
}

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two ABIs and write a review report.",
        discussion: """
        OLD and NEW are each a manifest (abi.json), a generated directory holding one, a Xen source \
        tree, or REPO@REF for a ref of a xen.git clone. Exit status follows abidiff: 0 no change, \
        4 the ABI changed compatibly, 12 (4|8) an incompatible change, 1 an error, 2 a usage error.
        """)

    @Argument(help: "The old ABI.") var old: String
    @Argument(help: "The new ABI.") var new: String
    @Option(help: "markdown or json") var format: String = "markdown"
    @Option(help: "Write the report here (replaced atomically) instead of standard output.") var output: String?
    @Option(help: "compatible: any change fails (the default statuses); breaking: only an incompatible change fails.")
    var failOn: String?
    @Option(help: "The spec, for sources that must be read (default: Specs/xen.yaml here or above).") var spec: String?

    func validate() throws {
        guard ["markdown", "json"].contains(format) else { throw ValidationError("--format must be markdown or json") }
        if let failOn, !["compatible", "breaking"].contains(failOn) { throw ValidationError("--fail-on must be compatible or breaking") }
    }

    func model(_ argument: String) throws -> ABIModel {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if argument.hasSuffix(".json"), fm.fileExists(atPath: argument) {
            return try ManifestWriter.decode(try Data(contentsOf: URL(fileURLWithPath: argument)), from: argument)
        }
        if fm.fileExists(atPath: argument, isDirectory: &isDir), isDir.boolValue {
            let manifest = URL(fileURLWithPath: argument).appendingPathComponent("abi.json")
            if fm.fileExists(atPath: manifest.path) { return try ManifestWriter.decode(try Data(contentsOf: manifest), from: manifest.path) }
            if fm.fileExists(atPath: URL(fileURLWithPath: argument).appendingPathComponent("xen/include/public/xen.h").path) {
                return try read(.sourceTree(argument))
            }
            throw ABIGenError("\(argument) holds neither abi.json nor a Xen source tree")
        }
        if let at = argument.lastIndex(of: "@") {
            return try read(.git(repository: String(argument[..<at]), ref: String(argument[argument.index(after: at)...])))
        }
        throw ABIGenError("\(argument) is not a manifest, a generated directory, a Xen source tree or REPO@REF")
    }

    func read(_ source: HeaderSource) throws -> ABIModel {
        var input = try InputOptions.parse([])
        input.spec = spec
        let (headers, release, temporary) = try source.materialize()
        defer { if let temporary { try? FileManager.default.removeItem(at: temporary) } }
        let tree = try HeaderTree(root: headers)
        defer { tree.removeStaging() }
        let generator = Generator(tree: tree, options: GenerationOptions(xenVersion: release ?? "unknown"),
                                  spec: try Spec.load(try input.specURL()), provenance: "abigen diff")
        return try generator.model()
    }

    func run() throws {
        var status: Int32 = 0
        do {
            let report = ABIDiff.compare(try model(old), try model(new))
            let text = format == "json" ? try DiffReportWriter.json(report) : DiffReportWriter.markdown(report)
            if let output {
                let url = URL(fileURLWithPath: output)
                let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).abigen-tmp")
                do {
                    try Data(text.utf8).write(to: tmp)
                    // rename(2) replaces the report whole: a reader never sees half of it.
                    guard rename(tmp.path, url.path) == 0 else { throw ABIGenError("rename failed (errno \(errno))") }
                } catch {
                    try? FileManager.default.removeItem(at: tmp)
                    throw ABIGenError("cannot write \(output): \(error.localizedDescription)")
                }
            } else {
                print(text, terminator: "")
            }
            status = failOn == "breaking" ? (report.breaking > 0 ? 12 : 0) : report.exitStatus
        } catch let e as ABIGenError {
            FileHandle.standardError.write(Data("abigen: \(e)\n".utf8))
            throw ExitCode(1)
        }
        if status != 0 { throw ExitCode(status) }
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List what the guest kernel uses of the ABI and, against another release, which of it changed.")

    @Option(help: "The ABI the kernel is built on (manifest or generated directory).")
    var abi: String = "Generated/xen-4.17"
    @Option(help: "Another release's ABI (manifest, generated directory, source tree or REPO@REF): adds the upgrade checklist.")
    var against: String?
    @Option(parsing: .upToNextOption, help: "The kernel's source directories.")
    var sources: [String] = ["Sources/GuestKernel", "Sources/GuestKernelBoot", "Sources/GuestKernelRuntime"]
    @Option(help: "The spec, for sources that must be read.") var spec: String?

    func run() throws {
        do {
            var diff = try Diff.parse([abi, against ?? abi])
            diff.spec = spec
            let model = try diff.model(abi)
            let usage = try ABIUsage.scan(sources.map { URL(fileURLWithPath: $0) }, model: model)
            let report = try against.map { ABIDiff.compare(model, try diff.model($0)) }
            print(usage.markdown(model: model, against: report), terminator: "")
        } catch let e as ABIGenError {
            FileHandle.standardError.write(Data("abigen: \(e)\n".utf8))
            throw ExitCode(1)
        }
    }
}

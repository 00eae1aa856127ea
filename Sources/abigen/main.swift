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

/// How every subcommand ends: a generator error is one line on standard error and status 1;
/// otherwise the status the body gives.
func finish(_ body: () throws -> Int32) throws {
    let status: Int32
    do { status = try body() } catch let e as ABIGenError {
        FileHandle.standardError.write(Data((e.diagnostic + "\n").utf8))
        throw ExitCode.failure
    }
    if status != 0 { throw ExitCode(status) }
}

/// Where `regenerate` and `verify` read the headers from, and how.
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

    @Option(help: "The spec (default: Specs/xen.yaml of the project in the current directory or above).")
    var spec: String?

    @Option(help: "Translation units parsed in parallel (default: the number of cores).")
    var jobs: Int?

    @Flag(inversion: .prefixedNo, help: "Record in the manifest where each layout and value holds across the interface versions the headers test for.")
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
        if let iv = interfaceVersion, GenerationRequest.parseInterfaceVersion(iv) == nil {
            throw ValidationError("--interface-version must be a number such as 0x00040e00, not '\(iv)'")
        }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    var request: GenerationRequest {
        let source: HeaderSource
        if let xenSource { source = .sourceTree(xenSource) }
        else if let xenGit, let ref { source = .git(repository: xenGit, ref: ref) }
        else { source = .installed(headers ?? "/usr/include/xen") }
        return GenerationRequest(source: source, xenVersion: xenVersion, interfaceVersion: interfaceVersion,
                                 interfaceRanges: interfaceRanges, spec: spec, jobs: jobs)
    }
}

struct Regenerate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read the headers and write Generated/xen-X.Y (Swift layer, abi.json, checks).")

    @OptionGroup var input: InputOptions

    @Option(help: "Where to write (default: the project's Generated/xen-X.Y). Replaced whole, or left untouched on any error.")
    var output: String?

    func run() throws {
        try finish {
            let request = input.request
            return try request.withGenerator("regenerate") { generator in
                let start = Date()
                let out = output.map { URL(fileURLWithPath: $0) } ?? request.defaultOutput(release: generator.options.xenVersion)
                // Every file but the manifest is written while the interface ranges are read.
                let staging = OutputWriter.Staging(out)
                var written = Set<String>()
                let generation: Generation
                do {
                    generation = try generator.generate(early: { files in
                        try staging.write(files)
                        written = Set(files.map(\.path))
                    })
                    try staging.write(generation.files.filter { !written.contains($0.path) })
                    try staging.commit()
                } catch {
                    staging.discard()
                    throw error
                }
                print(generation.summary, terminator: "")
                print(String(format: "wrote %d files to %@ in %.2f s", generation.files.count, out.path, Date().timeIntervalSince(start)))
                return 0
            }
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
        try finish {
            let report = try input.request.withGenerator("verify") { generator in
                try Verifier(generation: try generator.generate(), includeDir: generator.tree.includeDir, checkSwift: !cOnly).run()
            }
            print(format == "json" ? report.json() : report.text(), terminator: "")
            return report.mismatches.isEmpty ? 0 : 1
        }
    }
}

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two ABIs and write a review report.",
        discussion: """
        OLD and NEW are each \(ABISource.forms). Exit status follows abidiff: 0 no change, \
        4 the ABI changed compatibly, 12 (4|8) an incompatible change, 1 an error, 2 a usage error.
        """)

    @Argument(help: "The old ABI.") var old: String
    @Argument(help: "The new ABI.") var new: String
    @Option(help: "markdown or json") var format: String = "markdown"
    @Option(help: "Write the report here (replaced atomically) instead of standard output.") var output: String?
    @Option(help: "compatible: any change fails (the default statuses); breaking: only an incompatible change fails.")
    var failOn: ABIDiffReport.FailOn = .compatible
    @Option(help: "The spec, for sources that must be read (default: Specs/xen.yaml of the project here or above).") var spec: String?

    func validate() throws {
        guard ["markdown", "json"].contains(format) else { throw ValidationError("--format must be markdown or json") }
    }

    func run() throws {
        try finish {
            let spec = SpecLoader(given: spec)
            let report = ABIDiff.compare(try ABISource.recognize(old).model(spec: spec.load),
                                         try ABISource.recognize(new).model(spec: spec.load))
            let text = format == "json" ? try DiffReportWriter.json(report) : DiffReportWriter.markdown(report)
            if let output { try OutputWriter.replaceFile(URL(fileURLWithPath: output), with: text) } else { print(text, terminator: "") }
            return report.exitStatus(failingOn: failOn)
        }
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List what the guest kernel uses of the ABI and, against another release, which of it changed.")

    @Option(help: "The ABI the kernel is built on: \(ABISource.forms).")
    var abi: String = "Generated/xen-4.17"
    @Option(help: "Another release's ABI (the same forms): adds the upgrade checklist.")
    var against: String?
    @Option(parsing: .upToNextOption, help: "The kernel's source directories.")
    var sources: [String] = ["Sources/GuestKernel", "Sources/GuestKernelBoot", "Sources/GuestKernelRuntime"]
    @Option(help: "The spec, for sources that must be read.") var spec: String?

    func run() throws {
        try finish {
            let spec = SpecLoader(given: spec)
            let model = try ABISource.recognize(abi).model(spec: spec.load)
            let usage = try ABIUsage.scan(sources.map { URL(fileURLWithPath: $0) }, model: model)
            let report = try against.map { ABIDiff.compare(model, try ABISource.recognize($0).model(spec: spec.load)) }
            print(usage.markdown(model: model, against: report), terminator: "")
            return 0
        }
    }
}

extension ABIDiffReport.FailOn: ExpressibleByArgument {}

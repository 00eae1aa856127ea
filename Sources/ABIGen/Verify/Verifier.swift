// Proves the generated layer against two compilers: gcc on the headers, swiftc on the Swift.
import Foundation

public struct VerificationReport: Sendable {
    public var types: Int
    public var fields: Int
    public var constants: Int
    /// Assertions gcc evaluated (static) and ran (bitfields, strings); Swift checks run.
    public var gccStaticChecks: Int
    public var gccRuntimeChecks: Int
    public var swiftChecks: Int?
    public var mismatches: [String]

    public func text() -> String {
        var s = ""
        for m in mismatches { s += "mismatch: \(m)\n" }
        s += "gcc: \(gccStaticChecks) static assertions, \(gccRuntimeChecks) bitfield and string checks"
        s += swiftChecks.map { "; swift: \($0) MemoryLayout and accessor checks\n" } ?? "; swift: not checked (--c-only)\n"
        s += mismatches.isEmpty ? "verified \(types) types, \(fields) fields, \(constants) constants\n"
                                : "FAILED: \(mismatches.count) mismatches over \(types) types, \(fields) fields, \(constants) constants\n"
        return s
    }

    public func json() -> String {
        struct Out: Encodable {
            var verified: Bool; var types: Int; var fields: Int; var constants: Int
            var gccStaticChecks: Int; var gccRuntimeChecks: Int; var swiftChecks: Int?; var mismatches: [String]
        }
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        let out = Out(verified: mismatches.isEmpty, types: types, fields: fields, constants: constants,
                      gccStaticChecks: gccStaticChecks, gccRuntimeChecks: gccRuntimeChecks, swiftChecks: swiftChecks, mismatches: mismatches)
        return String(decoding: (try? e.encode(out)) ?? Data(), as: UTF8.self) + "\n"
    }
}

public struct Verifier {
    let generation: Generation
    let includeDir: URL
    let checkSwift: Bool

    public init(generation: Generation, includeDir: URL, checkSwift: Bool) {
        self.generation = generation; self.includeDir = includeDir; self.checkSwift = checkSwift
    }

    public func run() throws -> VerificationReport {
        let model = generation.model
        let work = try TemporaryDirectory.make("verify")
        defer { try? FileManager.default.removeItem(at: work) }
        let tree = work.appendingPathComponent("generated")
        try OutputWriter.replace(tree, with: generation.files)

        var report = VerificationReport(types: model.types.count, fields: Self.distinctFields(model),
                                        constants: model.constants.count + model.types.reduce(0) { $0 + ($1.enumerators?.count ?? 0) },
                                        gccStaticChecks: 0, gccRuntimeChecks: 0, swiftChecks: nil, mismatches: [])
        for (name, tools) in [("guest", false), ("tools", true), ("boot", false)] {
            let source = tree.appendingPathComponent(name == "boot" ? "check/boot_constants.c" : "check/\(name)_layout.c")
            let text = try String(contentsOf: source, encoding: .utf8)
            report.gccStaticChecks += text.components(separatedBy: "\nCHECK(").count - 1 + text.components(separatedBy: "\n_Static_assert(").count - 1
            let exe = work.appendingPathComponent("\(name)_layout")
            var args = ["gcc", "-std=gnu11", "-fmax-errors=0", "-w", "-I", includeDir.path,
                        "-D__XEN_INTERFACE_VERSION__=\(model.interfaceVersion)", "-o", exe.path, source.path]
            if tools { args.insert("-D__XEN_TOOLS__", at: 1) }
            let compile = try Subprocess.run(args)
            let failed = compile.output.split(separator: "\n").compactMap { line -> String? in
                guard let r = line.range(of: "static assertion failed: ") else { return nil }
                return "gcc (\(name) view): " + line[r.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            }
            report.mismatches += failed
            if compile.status != 0 {
                if failed.isEmpty { throw ABIGenError("gcc could not compile the \(name) layout check:\n\(compile.output.prefix(4000))") }
                continue
            }
            let runResult = try Subprocess.run([exe.path])
            report.mismatches += runResult.output.split(separator: "\n").filter { $0.hasPrefix("MISMATCH ") }.map { "gcc (\(name) view): " + $0.dropFirst(9) }
            if let last = runResult.output.split(separator: "\n").last(where: { $0.hasPrefix("bitfields and strings checked: ") }),
               let n = Int(last.dropFirst("bitfields and strings checked: ".count).prefix { $0.isNumber }) {
                report.gccRuntimeChecks += n
            }
        }
        if checkSwift { try verifySwift(tree: tree, work: work, report: &report) }
        return report
    }

    /// Compiles the two generated modules and the check program with swiftc, then runs it.
    func verifySwift(tree: URL, work: URL, report: inout VerificationReport) throws {
        let build = work.appendingPathComponent("swift")
        try FileManager.default.createDirectory(at: build, withIntermediateDirectories: true)
        func sources(_ dir: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: tree.appendingPathComponent(dir).path)
                .filter { $0.hasSuffix(".swift") }.sorted().map { tree.appendingPathComponent(dir).appendingPathComponent($0).path }
        }
        let steps: [[String]] = [
            ["swiftc", "-parse-as-library", "-emit-module", "-emit-library", "-static", "-module-name", "XenABI",
             "-emit-module-path", build.appendingPathComponent("XenABI.swiftmodule").path,
             "-o", build.appendingPathComponent("libXenABI.a").path] + (try sources("Swift/Guest")),
            ["swiftc", "-parse-as-library", "-emit-module", "-emit-library", "-static", "-module-name", "XenToolsABI", "-I", build.path,
             "-emit-module-path", build.appendingPathComponent("XenToolsABI.swiftmodule").path,
             "-o", build.appendingPathComponent("libXenToolsABI.a").path] + (try sources("Swift/Tools")),
            ["swiftc", "-parse-as-library", "-I", build.path, "-L", build.path, "-lXenToolsABI", "-lXenABI",
             "-o", build.appendingPathComponent("check").path, tree.appendingPathComponent("check/SwiftLayoutCheck.swift").path],
        ]
        for step in steps {
            let r = try Subprocess.run(step, directory: build)
            guard r.status == 0 else { throw ABIGenError("the generated Swift does not compile (\(step[0]) \(step[6])):\n\(r.output.prefix(4000))") }
        }
        let r = try Subprocess.run([build.appendingPathComponent("check").path])
        report.mismatches += r.output.split(separator: "\n").filter { $0.hasPrefix("MISMATCH ") }.map { "swift: " + $0.dropFirst(9) }
        if let line = r.output.split(separator: "\n").last(where: { $0.hasPrefix("swift layout checks: ") }) {
            report.swiftChecks = Int(line.dropFirst("swift layout checks: ".count).prefix { $0.isNumber })
        } else {
            throw ABIGenError("the Swift layout check did not finish:\n\(r.output.suffix(2000))")
        }
    }

    /// Fields as distinct C entities: each record's named members, in either view's shape.
    static func distinctFields(_ model: ABIModel) -> Int {
        var seen = Set<String>()
        for t in model.types {
            for f in (t.fields ?? []) + (t.toolsShape?.fields ?? []) { seen.insert("\(t.key).\(f.name ?? "@\(f.offset)")") }
        }
        return seen.count
    }
}

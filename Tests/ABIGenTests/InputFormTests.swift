// Every subcommand with every input form the README and --help name for it, on a fixture source
// tree and a small git repository made from it, so that each form runs in CI without a xen.git
// clone. And the provenance line: the same project at another path regenerates the same bytes.
import Foundation
import Testing
@testable import ABIGen

@Suite struct InputFormTests {
    /// A Xen source tree (xen/include/public, xen/Makefile) of the fixture headers, an installed
    /// tree of the same headers, and a git repository holding the tree at two tags.
    struct Sources {
        let fixture: FixtureTree
        let sourceTree: URL
        let repository: URL
        var installed: URL { fixture.root }
        var spec: String { fixture.spec.path }
        var base: URL { fixture.root.deletingLastPathComponent() }

        static func make(_ name: String = #function) throws -> Sources {
            let f = try FixtureTree.make(name)
            let base = f.root.deletingLastPathComponent()
            let tree = base.appendingPathComponent("src")
            try copy(f.root, to: tree.appendingPathComponent("xen/include/public"))
            try "export XEN_VERSION       = 9\nexport XEN_SUBVERSION    = 9\n".write(to: tree.appendingPathComponent("xen/Makefile"), atomically: true, encoding: .utf8)
            let repo = base.appendingPathComponent("xen.git")
            try copy(tree, to: repo)
            try git(repo, "init", "-q")
            try git(repo, "add", "-A")
            try git(repo, "commit", "-q", "-m", "9.9")
            try git(repo, "tag", "RELEASE-9.9.0")
            let demo = repo.appendingPathComponent("xen/include/public/io/demo.h")
            try (try String(contentsOf: demo, encoding: .utf8)).replacingOccurrences(of: "struct demo_nested { uint8_t kind;", with: "struct demo_nested { uint16_t kind;")
                .write(to: demo, atomically: true, encoding: .utf8)
            try "export XEN_VERSION       = 9\nexport XEN_SUBVERSION    = 10\n".write(to: repo.appendingPathComponent("xen/Makefile"), atomically: true, encoding: .utf8)
            try git(repo, "commit", "-q", "-a", "-m", "9.10")
            try git(repo, "tag", "RELEASE-9.10.0")
            return Sources(fixture: f, sourceTree: tree, repository: repo)
        }

        static func copy(_ from: URL, to: URL) throws {
            try FileManager.default.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: from, to: to)
        }

        static func git(_ repo: URL, _ args: String...) throws {
            let r = try runTool(URL(fileURLWithPath: "/usr/bin/git"),
                                ["-C", repo.path, "-c", "user.name=abigen tests", "-c", "user.email=tests@abigen.invalid", "-c", "commit.gpgsign=false"] + args)
            guard r.status == 0 else { throw ABIGenError("git \(args.joined(separator: " ")): \(r.stderr)") }
        }

        /// The three ways `regenerate` and `verify` read headers, all of release 9.9.
        var headerForms: [(String, [String])] {
            [("installed", ["--headers", installed.path, "--xen-version", "9.9"]),
             ("source tree", ["--xen-source", sourceTree.path]),
             ("xen.git ref", ["--xen-git", repository.path, "--ref", "RELEASE-9.9.0"])]
        }
    }

    @Test func regenerateAndVerifyReadEveryHeaderForm() throws {
        let s = try Sources.make()
        var manifests: [String] = []
        for (form, args) in s.headerForms {
            let out = s.base.appendingPathComponent("out-\(form.filter(\.isLetter))")
            let r = try runAbigen(["regenerate"] + args + ["--spec", s.spec, "--output", out.path])
            #expect(r.status == 0, "regenerate from the \(form): \(r.stderr)")
            #expect(r.stdout.hasPrefix("Xen 9.9 "), "regenerate from the \(form) names the release: \(r.stdout.prefix(80))")
            manifests.append((try? String(contentsOf: out.appendingPathComponent("abi.json"), encoding: .utf8)) ?? "")
            let v = try runAbigen(["verify"] + args + ["--spec", s.spec, "--c-only"])
            #expect(v.status == 0 && v.stdout.contains("verified "), "verify from the \(form): \(v.stdout)\(v.stderr)")
        }
        #expect(Set(manifests).count == 1 && !manifests[0].isEmpty, "the same headers give the same manifest in every form")
    }

    @Test func diffReadsEveryFormOnEitherSide() throws {
        let s = try Sources.make()
        let out = s.base.appendingPathComponent("gen")
        #expect(try runAbigen(["regenerate", "--xen-source", s.sourceTree.path, "--spec", s.spec, "--output", out.path]).status == 0)
        let forms: [(String, String)] = [
            ("manifest", out.appendingPathComponent("abi.json").path), ("generated directory", out.path),
            ("source tree", s.sourceTree.path), ("installed headers", s.installed.path),
            ("xen.git ref", "\(s.repository.path)@RELEASE-9.9.0"),
        ]
        // Each form against the manifest, both ways round: the same ABI, so no change.
        for (form, argument) in forms {
            for pair in [[forms[0].1, argument], [argument, forms[0].1]] {
                let r = try runAbigen(["diff"] + pair + ["--spec", s.spec])
                #expect(r.status == 0, "diff with a \(form) (\(pair)): \(r.stderr)\(r.stdout.prefix(400))")
            }
        }
        let changed = try runAbigen(["diff", "\(s.repository.path)@RELEASE-9.9.0", "\(s.repository.path)@RELEASE-9.10.0", "--spec", s.spec])
        #expect(changed.status == 12, "\(changed.stderr)")
        #expect(changed.stdout.hasPrefix("# Xen public ABI: 9.9 → 9.10") && changed.stdout.contains("`struct demo_nested.kind`"))
        let trees = try runAbigen(["diff", s.sourceTree.path, s.sourceTree.path, "--spec", s.spec])
        #expect(trees.status == 0, "\(trees.stderr)")
        let nothing = try runAbigen(["diff", s.base.appendingPathComponent("missing").path, out.path])
        #expect(nothing.status == 1 && nothing.stderr.contains("does not exist: expected a manifest"), "\(nothing.stderr)")
        let badRef = try runAbigen(["diff", "\(s.repository.path)@NO-SUCH-REF", out.path, "--spec", s.spec])
        #expect(badRef.status == 1 && badRef.stderr.contains("cannot read NO-SUCH-REF"), "\(badRef.stderr)")
    }

    @Test func diffWritesItsReportAtomically() throws {
        let s = try Sources.make()
        let report = s.base.appendingPathComponent("report.md")
        try "old report\n".write(to: report, atomically: true, encoding: .utf8)
        let r = try runAbigen(["diff", "\(s.repository.path)@RELEASE-9.9.0", "\(s.repository.path)@RELEASE-9.10.0", "--spec", s.spec, "--output", report.path])
        #expect(r.status == 12 && r.stdout.isEmpty)
        #expect(try String(contentsOf: report, encoding: .utf8).hasPrefix("# Xen public ABI: 9.9 → 9.10"))
        let failed = try runAbigen(["diff", "\(s.repository.path)@NO-SUCH-REF", s.installed.path, "--spec", s.spec, "--output", report.path])
        #expect(failed.status == 1)
        #expect(try String(contentsOf: report, encoding: .utf8).hasPrefix("# Xen public ABI: 9.9 → 9.10"), "a failed diff leaves the old report")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: s.base.path).filter { $0.contains("abigen-new") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func reportReadsEveryFormForTheABIAndTheOtherRelease() throws {
        let s = try Sources.make()
        let out = s.base.appendingPathComponent("gen")
        #expect(try runAbigen(["regenerate", "--xen-source", s.sourceTree.path, "--spec", s.spec, "--output", out.path]).status == 0)
        let kernel = s.base.appendingPathComponent("kernel")
        try FileManager.default.createDirectory(at: kernel, withIntermediateDirectories: true)
        try "let x = demo_nested()\n".write(to: kernel.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)
        for abi in [out.appendingPathComponent("abi.json").path, out.path, s.sourceTree.path, s.installed.path, "\(s.repository.path)@RELEASE-9.9.0"] {
            let r = try runAbigen(["report", "--abi", abi, "--against", "\(s.repository.path)@RELEASE-9.10.0", "--sources", kernel.path, "--spec", s.spec])
            #expect(r.status == 0, "report --abi \(abi): \(r.stderr)")
            #expect(r.stdout.contains("- [ ] **breaking** `struct demo_nested.kind`"), "report --abi \(abi): \(r.stdout)")
        }
        for against in [out.appendingPathComponent("abi.json").path, out.path, s.sourceTree.path, s.installed.path] {
            let r = try runAbigen(["report", "--abi", out.path, "--against", against, "--sources", kernel.path, "--spec", s.spec])
            #expect(r.status == 0 && r.stdout.contains("Nothing the kernel uses changed."), "report --against \(against): \(r.stderr)")
        }
    }

    /// The provenance line records every option that shaped the output, and names the spec
    /// relative to the project: two copies of a project at different paths regenerate the same
    /// bytes, with the spec found, given relative, or given absolute.
    @Test func theSameProjectAtAnotherPathRegeneratesTheSameBytes() throws {
        let s = try Sources.make()
        var trees: [[String: String]] = []
        for (i, spec) in [nil, "Specs/xen.yaml", "ABSOLUTE"].enumerated() {
            let project = s.base.appendingPathComponent("project-\(i)-\(UUID().uuidString.prefix(6))")
            try FileManager.default.createDirectory(at: project.appendingPathComponent("Specs"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: s.fixture.spec, to: project.appendingPathComponent("Specs/xen.yaml"))
            var args = ["regenerate", "--headers", s.installed.path, "--xen-version", "9.9", "--no-interface-ranges"]
            if let spec { args += ["--spec", spec == "ABSOLUTE" ? project.appendingPathComponent("Specs/xen.yaml").path : spec] }
            let r = try runAbigen(args, in: project)
            #expect(r.status == 0, "\(r.stderr)")
            trees.append(try Self.files(project.appendingPathComponent("Generated/xen-9.9")))
        }
        #expect(!trees[0].isEmpty)
        #expect(trees[0] == trees[1] && trees[1] == trees[2], "the generated bytes depend on where the project is or how the spec was named")
        let first = trees[0]["Swift/Guest/_Families.swift"]?.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first == "// Generated by abigen regenerate --headers \(s.installed.path) --xen-version 9.9 --no-interface-ranges --spec Specs/xen.yaml", "\(first)")
    }

    static func files(_ root: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        let base = root.standardizedFileURL.path + "/"
        for case let url as URL in FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)! {
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            out[String(url.standardizedFileURL.path.dropFirst(base.count))] = text
        }
        return out
    }
}

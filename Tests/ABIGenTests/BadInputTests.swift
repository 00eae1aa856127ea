// Bad input: one clear message (file:line where there is one), a non-zero exit, output untouched.
import Foundation
import Testing

@Suite struct BadInputTests {
    /// Runs a failing regenerate against an output directory that already holds a sentinel, and
    /// checks the sentinel is still there, unchanged, and nothing else appeared beside it.
    func expectFailureLeavesOutputUntouched(_ f: FixtureTree, _ extra: [String] = [], message: String) throws {
        try FileManager.default.createDirectory(at: f.output, withIntermediateDirectories: true)
        let sentinel = f.output.appendingPathComponent("sentinel.txt")
        try "previous generation".write(to: sentinel, atomically: true, encoding: .utf8)
        let before = try FileManager.default.contentsOfDirectory(atPath: f.output.deletingLastPathComponent().path).sorted()
        let r = try f.regenerate(extra)
        #expect(r.status != 0, "expected failure, got success: \(r.stdout)")
        #expect(r.stderr.contains(message), "stderr was: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").first?.hasPrefix("abigen: ") == true)
        #expect(try String(contentsOf: sentinel, encoding: .utf8) == "previous generation")
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.output.path) == ["sentinel.txt"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.output.deletingLastPathComponent().path).sorted() == before)
    }

    @Test func missingHeaderDirectory() throws {
        let f = try FixtureTree.make()
        let missing = f.root.appendingPathComponent("no-such-dir").path
        try expectFailureLeavesOutputUntouched(f, ["--headers", missing], message: "header directory \(missing) does not exist")
    }

    @Test func headerWithASyntaxErrorNamesFileAndLine() throws {
        let f = try FixtureTree.make(extra: ["io/broken.h": "#include \"../xen.h\"\nstruct broken {\n    uint32_t a\n    uint32_t b;\n};\n"])
        try expectFailureLeavesOutputUntouched(f, message: "\(f.root.path)/io/broken.h:3: error: expected ';'")
    }

    @Test func unknownSymbolInTheSpecNamesSpecLine() throws {
        let f = try FixtureTree.make()
        try f.writeSpec("families:\n  - swift: FixtureOp\n    prefix: FIXTURE_OP_\n    shape: enum\n  - swift: Missing\n    prefix: NO_SUCH_PREFIX_\n    shape: enum\nhypercalls: []\n")
        try expectFailureLeavesOutputUntouched(f, message: "\(f.spec.path):5: error: family Missing: no integer constant starts with NO_SUCH_PREFIX_")
    }

    @Test func specEntryMarkedMayBeAbsentIsAccepted() throws {
        let f = try FixtureTree.make()
        try f.writeSpec("families:\n  - swift: Missing\n    prefix: NO_SUCH_PREFIX_\n    shape: enum\n    mayBeAbsent: true\nhypercalls:\n  - name: fixture_op\n    number: __HYPERVISOR_fixture_op\n    args:\n      - {name: p, type: \"struct fixture_alpha *\", dir: in}\n")
        let r = try f.regenerate()
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test func misspeltSpecKeyIsRefused() throws {
        let f = try FixtureTree.make()
        try f.writeSpec("families:\n  - swift: FixtureOp\n    prefx: FIXTURE_OP_\n    shape: enum\n")
        try expectFailureLeavesOutputUntouched(f, message: "\(f.spec.path):3: error: family: unknown key 'prefx'")
    }

    @Test func subopDirectionOutsideTheFixedSetIsRefused() throws {
        let f = try FixtureTree.make()
        try f.writeSpec("families:\n  - swift: FixtureOp\n    prefix: FIXTURE_OP_\n    shape: enum\nhypercalls:\n  - name: fixture_op\n    number: __HYPERVISOR_fixture_op\n    args:\n      - {name: cmd, type: subop}\n    subops:\n      family: FixtureOp\n      struct: none\n      direction: both\n")
        try expectFailureLeavesOutputUntouched(f, message: "\(f.spec.path):13: error: subops of fixture_op: direction must be in, out or inout, not 'both'")
    }

    @Test func typedConstantThatDoesNotFitItsTypeIsRefused() throws {
        let f = try FixtureTree.make()
        try f.writeSpec("constantTypes:\n  - {prefix: FIXTURE_OP_, type: domid_t}\n  - {name: DOMID_SELF, type: uint8_t}\n")
        try expectFailureLeavesOutputUntouched(f, message: "\(f.spec.path):3: error: DOMID_SELF (xen.h:7) is 0x7FF0, which does not fit uint8_t, the type the spec gives it")
    }

    @Test func constantTypeOfUnknownTypeOrAbsentNameIsRefused() throws {
        let f = try FixtureTree.make()
        try f.writeSpec("constantTypes:\n  - {prefix: DOMID_, type: no_such_t}\n")
        try expectFailureLeavesOutputUntouched(f, message: "\(f.spec.path):2: error: constant type: unknown C type 'no_such_t'")
        try f.writeSpec("constantTypes:\n  - {name: DOMID_NONE, type: domid_t}\n")
        try expectFailureLeavesOutputUntouched(f, message: "\(f.spec.path):2: error: constant type domid_t: the headers define no integer constant DOMID_NONE")
        try f.writeSpec("constantTypes:\n  - {name: DOMID_NONE, type: domid_t, mayBeAbsent: true}\nfamilies:\n  - swift: FixtureOp\n    prefix: FIXTURE_OP_\n    shape: enum\n    type: int8_t\n  - swift: Domains\n    prefix: DOMID_\n    shape: enum\n    type: domid_t\n")
        let r = try f.regenerate()
        #expect(r.status == 0, "stderr: \(r.stderr)")
    }

    @Test func hypercallArgumentOfUnknownTypeIsRefused() throws {
        let f = try FixtureTree.make()
        try f.writeSpec("hypercalls:\n  - name: fixture_op\n    number: __HYPERVISOR_fixture_op\n    args:\n      - {name: p, type: \"struct no_such *\", dir: in}\n")
        try expectFailureLeavesOutputUntouched(f, message: "\(f.spec.path):5: error: hypercall fixture_op, argument p: unknown C type 'struct no_such *'")
    }

    @Test func constructTheGeneratorCannotExpress() throws {
        let f = try FixtureTree.make(extra: ["io/odd.h": "#include \"../xen.h\"\nstruct odd_wide { __int128 big; };\n"])
        try expectFailureLeavesOutputUntouched(f, message: "cannot express 1 entities:\n  io/odd.h:2: struct odd_wide.big: field type __int128 has no Swift equivalent")
    }

    @Test func unwritableOutputDirectory() throws {
        // As root every mode bit is ignored, so the output sits under a regular file instead.
        let f = try FixtureTree.make()
        let file = f.root.deletingLastPathComponent().appendingPathComponent("a-file")
        try "x".write(to: file, atomically: true, encoding: .utf8)
        let r = try f.regenerate(["--output", file.appendingPathComponent("out").path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("abigen: error: cannot create \(file.path)"), "stderr was: \(r.stderr)")
        #expect(try String(contentsOf: file, encoding: .utf8) == "x")
    }

    @Test func badInterfaceVersionAndMissingXenVersion() throws {
        let f = try FixtureTree.make()
        let r = try f.regenerate(["--interface-version", "0x00050000"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("interface version 0x00050000 is newer than these headers' latest (0x00040e00)"))
        let usage = try runAbigen(["regenerate", "--headers", f.root.path])
        #expect(usage.status != 0)
        #expect(usage.stderr.contains("--xen-version"))
    }
}

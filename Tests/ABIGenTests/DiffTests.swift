// abigen diff on fixture header trees: each kind of change, its severity and the exit status.
import Foundation
import Testing
@testable import ABIGen

@Suite struct DiffTests {
    /// The fixture, and a second tree with `changes` applied to its demo header.
    func models(_ edit: (String) -> String, xen: ((String) -> String)? = nil) throws -> (ABIModel, ABIModel) {
        let old = try FixtureTree.make()
        let new = try FixtureTree.make(extra: ["io/demo.h": edit(FixtureTree.demo), "xen.h": (xen ?? { $0 })(FixtureTree.xen)])
        try new.writeSpec("families:\n  - swift: FixtureOp\n    prefix: FIXTURE_OP_\n    shape: enum\n")
        try old.writeSpec("families:\n  - swift: FixtureOp\n    prefix: FIXTURE_OP_\n    shape: enum\n")
        return (try old.model(), try new.model())
    }

    func change(_ r: ABIDiffReport, _ entity: String) -> ABIChange? { r.changes.first { $0.entity == entity } }

    @Test func identicalTreesHaveNoChange() throws {
        let (a, b) = try models { $0 }
        let r = ABIDiff.compare(a, b)
        #expect(r.changes.isEmpty && r.exitStatus == 0)
    }

    @Test func movedFieldAndGrownStructAreBreaking() throws {
        let (a, b) = try models { $0.replacingOccurrences(of: "struct demo_nested { uint8_t kind;", with: "struct demo_nested { uint16_t kind;") }
        let r = ABIDiff.compare(a, b)
        #expect(change(r, "struct demo_nested.kind")?.severity == .breaking)
        #expect(change(r, "struct demo_nested.kind")?.rule == "a field's offset or size")
        #expect(r.exitStatus == 12)
    }

    @Test func constantValueAndRemovalAreBreakingAdditionsCompatible() throws {
        let (a, b) = try models({ $0 }, xen: {
            $0.replacingOccurrences(of: "#define FIXTURE_NEGATIVE (-22)", with: "#define FIXTURE_NEGATIVE (-23)")
              .replacingOccurrences(of: "#define FIXTURE_NAME \"fixture-abi\"", with: "")
              .replacingOccurrences(of: "#define FIXTURE_OP_beta 1", with: "#define FIXTURE_OP_beta 1\n#define FIXTURE_OP_gamma 2\n#define FIXTURE_BRAND_NEW 9")
        })
        let r = ABIDiff.compare(a, b)
        #expect(change(r, "FIXTURE_NEGATIVE")?.rule == "a constant's value")
        #expect(change(r, "FIXTURE_NEGATIVE")?.old == "-22 (int)" && change(r, "FIXTURE_NEGATIVE")?.new == "-23 (int)")
        #expect(change(r, "FIXTURE_NAME")?.kind == .removed && change(r, "FIXTURE_NAME")?.severity == .breaking)
        #expect(change(r, "FIXTURE_OP_gamma")?.rule == "addition: a new member of a family (sub-op, flag)")
        #expect(change(r, "FIXTURE_BRAND_NEW")?.severity == .compatible)
        #expect(r.changes.first?.severity == .breaking, "breaking changes come first")
    }

    @Test func additionsOnlyAreCompatible() throws {
        let (a, b) = try models { $0 + "struct demo_added { uint32_t x; };\n" }
        let r = ABIDiff.compare(a, b)
        #expect(change(r, "struct demo_added")?.kind == .added)
        #expect(r.breaking == 0 && r.exitStatus == 4)
    }

    @Test func fieldAddedInPaddingIsCompatible() throws {
        let (a, b) = try models { $0.replacingOccurrences(of: "uint8_t type;\n    uint32_t wide:20;", with: "uint8_t type;\n    uint8_t spare;\n    uint32_t wide:20;") }
        let r = ABIDiff.compare(a, b)
        #expect(change(r, "struct demo_bits.spare")?.rule == "addition: a field inside the old size (padding or a union)")
        #expect(r.breaking == 0)
    }

    @Test func sharedPageGrowingInsideItsPageIsCompatible() throws {
        let page = "struct demo_page { uint8_t ring[1024]; uint32_t prod, cons; };\n"
        let old = try FixtureTree.make(extra: ["io/page.h": "#include \"../xen.h\"\n" + page])
        let new = try FixtureTree.make(extra: ["io/page.h": "#include \"../xen.h\"\n" + page.replacingOccurrences(of: "uint32_t prod, cons; }", with: "uint32_t prod, cons; uint32_t features, error; }")])
        let r = ABIDiff.compare(try old.model(), try new.model())
        #expect(change(r, "struct demo_page")?.rule == "shared page: grows inside its page, old fields unmoved")
        #expect(r.breaking == 0)
    }

    @Test func aRingHoldingAnotherNumberOfEntriesPerPageIsBreaking() throws {
        let (a, b) = try models { $0.replacingOccurrences(of: "struct demo_req { uint64_t id; };", with: "struct demo_req { uint64_t id; uint64_t extra[3]; };") }
        let r = ABIDiff.compare(a, b)
        let c = try #require(change(r, "ring demo"))
        #expect(c.severity == .breaking && c.rule == "a ring's entries per page")
        #expect(c.old == "128 entries per page" && c.new == "64 entries per page")
    }

    @Test func renameWithTheSameLayoutIsShownAsARename() throws {
        let (a, b) = try models { $0.replacingOccurrences(of: "struct demo_tail {", with: "struct demo_tail_v2 {") }
        let r = ABIDiff.compare(a, b)
        #expect(change(r, "struct demo_tail")?.kind == .renamed)
        #expect(change(r, "struct demo_tail")?.new == "struct demo_tail_v2")
    }

    @Test func toolsOnlyChangesAreNotGuestBreaking() throws {
        let (a, b) = try models { $0.replacingOccurrences(of: "struct demo_toolsonly { uint64_t secret; };", with: "struct demo_toolsonly { uint32_t secret; };") }
        let r = ABIDiff.compare(a, b)
        #expect(change(r, "struct demo_toolsonly.secret")?.severity == .compatible)
        #expect(change(r, "struct demo_toolsonly.secret")?.rule.hasPrefix("tools-only") == true)
    }

    @Test func commandExitStatusesAndFailOn() throws {
        let (a, b) = try models { $0.replacingOccurrences(of: "struct demo_nested { uint8_t kind;", with: "struct demo_nested { uint16_t kind;") }
        let dir = try temporaryDirectory()
        let old = dir.appendingPathComponent("old.json"), new = dir.appendingPathComponent("new.json")
        try Data(ManifestWriter.encode(a).utf8).write(to: old)
        try Data(ManifestWriter.encode(b).utf8).write(to: new)
        let md = try runAbigen(["diff", old.path, new.path])
        #expect(md.status == 12)
        #expect(md.stdout.contains("## Breaking changes") && md.stdout.contains("`struct demo_nested.kind`"))
        let same = try runAbigen(["diff", old.path, old.path])
        #expect(same.status == 0)
        let json = try runAbigen(["diff", old.path, new.path, "--format", "json"])
        #expect(json.stdout.contains("\"exitStatus\" : 12"))
        let bad = try runAbigen(["diff", old.path, dir.appendingPathComponent("missing.json").path])
        #expect(bad.status == 1 && bad.stderr.contains("abigen: error:"))
        let usage = try runAbigen(["diff", old.path])
        #expect(usage.status == 2, "a usage error exits 2, as abidiff")
    }
}

@Suite struct UsageReportTests {
    @Test func reportListsWhatTheKernelUsesAndWhatChanged() throws {
        let r = try runAbigen(["report", "--against", Paths.generated.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("- `event_channel_op`: ") && r.stdout.contains("`EVTCHNOP_send`"))
        #expect(r.stdout.contains("`struct start_info`") && r.stdout.contains("`DOMID_SELF`"))
        #expect(r.stdout.contains("Nothing the kernel uses changed."), "the same ABI against itself")
    }

    @Test func checklistNamesAChangedTypeTheKernelUses() throws {
        let dir = try temporaryDirectory()
        let src = dir.appendingPathComponent("k")
        try FileManager.default.createDirectory(at: src, withIntermediateDirectories: true)
        try "let x = demo_nested(); try Xen.fixture_op()\n".write(to: src.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)
        let old = try FixtureTree.make(), new = try FixtureTree.make(extra: ["io/demo.h": FixtureTree.demo.replacingOccurrences(of: "struct demo_nested { uint8_t kind;", with: "struct demo_nested { uint16_t kind;")])
        let a = try old.model(), b = try new.model()
        let usage = try ABIUsage.scan([src], model: a)
        #expect(usage.types.contains("struct demo_nested"))
        let text = usage.markdown(model: a, against: ABIDiff.compare(a, b))
        #expect(text.contains("- [ ] **breaking** `struct demo_nested.kind`"))
    }
}

@Suite struct InterfaceRangeTests {
    static let gated = """
        #include "../xen.h"
        struct demo_gated {
            uint32_t head;
        #if __XEN_INTERFACE_VERSION__ >= 0x00040d00
            uint32_t added_in_40d;
        #endif
        };
        #if __XEN_INTERFACE_VERSION__ < 0x00040a00
        #define DEMO_GATED_LIMIT 8
        #else
        #define DEMO_GATED_LIMIT 16
        #endif

        """

    @Test func manifestRecordsWhereEachLayoutAndValueHolds() throws {
        let f = try FixtureTree.make(extra: ["io/gated.h": Self.gated])
        let tree = try HeaderTree(root: f.root)
        defer { tree.removeStaging() }
        let m = try ModelBuilder(tree: tree, options: GenerationOptions(xenVersion: "9.9", interfaceRanges: true)).build()
        #expect(m.interfaceThresholds == ["0x00000000", "0x00040a00", "0x00040d00"])
        #expect(m.type("struct demo_gated")?.interfaceRanges == [InterfaceRange(from: "0x00040d00", to: nil)])
        #expect(m.constants.first { $0.name == "DEMO_GATED_LIMIT" }?.interfaceRanges == [InterfaceRange(from: "0x00040a00", to: nil)])
        #expect(m.type("struct fixture_alpha")?.interfaceRanges == nil, "the same at every version")
    }

    @Test func growthBehindAGateIsCompatibleForAGuestThatKeepsItsVersion() throws {
        let f = try FixtureTree.make(extra: ["io/gated.h": Self.gated])
        let tree = try HeaderTree(root: f.root)
        defer { tree.removeStaging() }
        let old = try ModelBuilder(tree: tree, options: GenerationOptions(xenVersion: "9.8", interfaceVersion: 0x00040900)).build()
        let new = try ModelBuilder(tree: tree, options: GenerationOptions(xenVersion: "9.9", interfaceRanges: true)).build()
        let r = ABIDiff.compare(old, new)
        let grown = try #require(r.changes.first { $0.entity == "struct demo_gated" })
        #expect(grown.severity == .compatible)
        #expect(grown.rule.hasPrefix("growth behind an interface-version gate"))
        #expect(r.changes.first { $0.entity == "DEMO_GATED_LIMIT" }?.severity == .compatible)
        // Without the ranges the same change is breaking.
        let plain = try ModelBuilder(tree: tree, options: GenerationOptions(xenVersion: "9.9", interfaceRanges: false)).build()
        #expect(ABIDiff.compare(old, plain).changes.first { $0.entity == "struct demo_gated" }?.severity == .breaking)
    }
}

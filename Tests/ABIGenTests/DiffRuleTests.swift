// The diff rules of docs/abi-rules.md that DiffTests does not already pin down, each on a pair of
// fixture trees that differ in that one way.
import Foundation
import Testing
@testable import ABIGen

@Suite struct DiffRuleTests {
    static let spec = """
        families:
          - swift: FixtureOp
            prefix: FIXTURE_OP_
            shape: SHAPE
        hypercalls:
          - name: fixture_op
            number: __HYPERVISOR_fixture_op
            args:
              - {name: cmd, type: subop}
              - {name: arg, type: subop-arg}
            subops: {family: FixtureOp, struct: "fixture_{suffix}", direction: DIRECTION}

        """

    /// The report between the fixture and a copy with `xen` applied to its xen.h, `demo` to its
    /// io/demo.h, each side with its own spec.
    func report(xen: (String) -> String = { $0 }, demo: (String) -> String = { $0 }, extraOld: [String: String] = [:],
                oldSpec: String = DiffRuleTests.spec, newSpec: String = DiffRuleTests.spec) throws -> ABIDiffReport {
        let old = try FixtureTree.make(extra: extraOld)
        let new = try FixtureTree.make(extra: ["xen.h": xen(FixtureTree.xen), "io/demo.h": demo(FixtureTree.demo)])
        let fill = { (s: String) in s.replacingOccurrences(of: "SHAPE", with: "enum").replacingOccurrences(of: "DIRECTION", with: "in") }
        try old.writeSpec(fill(oldSpec))
        try new.writeSpec(fill(newSpec))
        return ABIDiff.compare(try old.model(), try new.model())
    }

    func change(_ r: ABIDiffReport, _ entity: String, rule: String? = nil) -> ABIChange? {
        r.changes.first { $0.entity == entity && (rule == nil || $0.rule == rule) }
    }

    @Test func enumeratorsRemovedAddedAndMovedToAMacro() throws {
        let r = try report(xen: {
            $0.replacingOccurrences(of: "enum fixture_state { fixture_state_unknown = 0, fixture_state_ready = 3 };",
                                    with: "enum fixture_state { fixture_state_busy = 4 };\n#define fixture_state_ready 3")
        })
        let removed = try #require(change(r, "enum fixture_state.fixture_state_unknown"))
        #expect(removed.kind == .removed && removed.severity == .breaking && removed.rule == "an enumerator's removal")
        let added = try #require(change(r, "enum fixture_state.fixture_state_busy"))
        #expect(added.kind == .added && added.severity == .compatible && added.rule == "addition: a new enumerator")
        let moved = try #require(change(r, "enum fixture_state.fixture_state_ready"))
        #expect(moved.kind == .moved && moved.severity == .compatible && moved.rule == "moved between an enumerator and a macro, same value")
        #expect(change(r, "fixture_state_ready") == nil, "the macro is not reported as an addition too")
    }

    @Test func anEnumeratorThatBecomesAMacroOfAnotherValueIsARemovalAndAnAddition() throws {
        let r = try report(xen: {
            $0.replacingOccurrences(of: "fixture_state_ready = 3 };", with: "fixture_state_other = 3 };\n#define fixture_state_unknown 9")
              .replacingOccurrences(of: "fixture_state_unknown = 0, ", with: "")
        })
        #expect(change(r, "enum fixture_state.fixture_state_unknown")?.severity == .breaking)
        #expect(change(r, "fixture_state_unknown")?.kind == .added)
    }

    @Test func guestHandlesOfAnotherPointeeAreNotARename() throws {
        let r = try report(xen: { $0.replacingOccurrences(of: "___DEFINE_GUEST_HANDLE(uint8, uint8_t);", with: "___DEFINE_GUEST_HANDLE(uint16, uint16_t);") })
        #expect(change(r, "__guest_handle_uint8")?.kind == .removed, "\(r.changes.map(\.entity))")
        #expect(change(r, "__guest_handle_uint16")?.kind == .added)
    }

    @Test func aTypedefNamingAnotherTypeOfTheSameSizeIsBreaking() throws {
        let r = try report(xen: { $0.replacingOccurrences(of: "typedef uint16_t domid_t;", with: "typedef int16_t domid_t;") })
        let c = try #require(change(r, "domid_t", rule: "a typedef's type"))
        #expect(c.severity == .breaking && c.old == "uint16" && c.new == "int16")
    }

    @Test func aTypeThatBecomesToolsOnlyIsBreakingAndTheReverseCompatible() throws {
        let hide = { (s: String) in s.replacingOccurrences(of: "struct fixture_alpha { uint32_t port; };",
                                                          with: "#if defined(__XEN_TOOLS__)\nstruct fixture_alpha { uint32_t port; };\n#endif") }
        let r = try report(xen: hide)
        #expect(change(r, "struct fixture_alpha", rule: "now tools-only: guests no longer see it")?.severity == .breaking)
        let back = try report(xen: { $0 }, extraOld: ["xen.h": hide(FixtureTree.xen)])
        #expect(change(back, "struct fixture_alpha", rule: "now visible to guests")?.severity == .compatible)
    }

    @Test func aHeaderRemovedIsBreaking() throws {
        let r = try report(extraOld: ["io/gone.h": "#include \"../xen.h\"\nstruct gone_t { uint32_t x; };\n"])
        #expect(change(r, "io/gone.h")?.rule == "removal of a header: a guest that includes it no longer compiles")
        #expect(change(r, "struct gone_t")?.severity == .breaking)
    }

    @Test func aSubOpsDirectionAndAFamilysShapeAreBreaking() throws {
        let r = try report(newSpec: Self.spec.replacingOccurrences(of: "direction: DIRECTION", with: "direction: inout")
            .replacingOccurrences(of: "shape: SHAPE", with: "shape: options"))
        #expect(change(r, "hypercall fixture_op: FIXTURE_OP_alpha", rule: "a sub-op's direction")?.severity == .breaking)
        #expect(change(r, "family FixtureOp", rule: "a family's shape")?.severity == .breaking)
    }

    @Test func aHypercallsNewSubOpIsCompatibleAndALostOneBreaking() throws {
        let r = try report(xen: { $0.replacingOccurrences(of: "#define FIXTURE_OP_beta 1", with: "#define FIXTURE_OP_gamma 2\nstruct fixture_gamma { uint8_t g; };") })
        #expect(change(r, "hypercall fixture_op: FIXTURE_OP_gamma")?.rule == "addition: a new sub-op")
        #expect(change(r, "hypercall fixture_op: FIXTURE_OP_beta")?.severity == .breaking)
        #expect(change(r, "FIXTURE_OP_beta")?.kind == .removed, "and the constant itself")
    }

    @Test func aHypercallsArgumentsAreBreaking() throws {
        let r = try report(newSpec: Self.spec.replacingOccurrences(of: "{name: arg, type: subop-arg}", with: "{name: arg, type: subop-arg}\n      - {name: extra, type: \"unsigned int\"}"))
        #expect(change(r, "hypercall fixture_op", rule: "a hypercall's arguments (registers, types, directions)")?.severity == .breaking)
    }

    @Test func aFieldAlignedAnotherWayIsBreaking() throws {
        let r = try report(demo: { $0.replacingOccurrences(of: "struct demo_aligned_tail { uint32_t count; uint64_t values[]; };",
                                                           with: "struct demo_aligned_tail { uint32_t count; uint64_t values[] __attribute__((aligned(16))); };") })
        #expect(r.changes.contains { $0.entity.hasPrefix("struct demo_aligned_tail") && $0.severity == .breaking }, "\(r.changes.map { "\($0.entity): \($0.rule)" })")
    }
}

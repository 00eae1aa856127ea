// The interface ranges read with one combined unit per version are those of every header read on its own.
import Foundation
import Testing
@testable import ABIGen

@Suite struct InterfaceRangeReaderTests {
    /// Two headers that cannot be included together (both define `struct clash_shared`), one of
    /// them gated; and one that reads differently beside another header: `CLASH_LIMIT` is not
    /// defined in its own unit, and `struct clash_shared` is incomplete there (an opaque pointer).
    static let headers = [
        "io/clash_a.h": """
            #ifndef CLASH_A_H
            #define CLASH_A_H
            #include "../xen.h"
            struct clash_shared { uint32_t a; };
            #define CLASH_LIMIT 4
            #endif

            """,
        "io/clash_b.h": """
            #ifndef CLASH_B_H
            #define CLASH_B_H
            #include "../xen.h"
            struct clash_shared { uint32_t a; };
            struct clash_gated {
                uint32_t head;
            #if __XEN_INTERFACE_VERSION__ >= 0x00040b00
                uint64_t added;
            #endif
            };
            #if __XEN_INTERFACE_VERSION__ >= 0x00040c00
            #define CLASH_B_VALUE 2
            #else
            #define CLASH_B_VALUE 1
            #endif
            #endif

            """,
        "io/uses.h": """
            #ifndef USES_H
            #define USES_H
            #include "../xen.h"
            struct uses_gated { uint16_t x;
            #if __XEN_INTERFACE_VERSION__ < 0x00040b00
                uint16_t old;
            #endif
            };
            struct uses_pointer { struct clash_shared *p; };
            #define USES_DERIVED (CLASH_LIMIT * 2)
            #define USES_PLAIN 3
            #endif

            """,
        "io/gated.h": InterfaceRangeTests.gated,
    ]

    @Test func combinedReadingLeavesOutTheHeadersItWouldMisread() throws {
        let f = try FixtureTree.make(extra: Self.headers)
        let tree = try HeaderTree(root: f.root)
        defer { tree.removeStaging() }
        let selection = HeaderSelection.x86_64(tree)
        let own = selection.selected
        let candidates = Dictionary(uniqueKeysWithValues: own.map { ($0, ModelBuilder.objectLikeMacroNames(tree.contents(of: $0))) })
        let configuration = ParseConfiguration(includeDir: tree.includeDir.path, interfaceVersion: 0x00040e00)
        let base = Dictionary(uniqueKeysWithValues: own.map { h in
            (h, TranslationUnitReader(configuration: configuration, header: h, view: .guest, prerequisites: [],
                                      probeCandidates: candidates[h]!, prelude: nil).read())
        })
        #expect(base.values.allSatisfy { $0.errors.isEmpty }, "every header compiles on its own")
        let together = TranslationUnitReader(configuration: configuration, headers: own, view: .guest, prerequisites: [],
                                             probeCandidates: own.flatMap { candidates[$0]! }, prelude: nil).read()
        #expect(!together.errors.isEmpty, "clash_a.h and clash_b.h do not compile together")

        let reader = InterfaceRangeReader(tree: tree, selection: selection, candidates: candidates, own: own, threads: 2)
        let group = reader.verifiedGroup(own, base: base, baseVersion: 0x00040e00)
        #expect(!group.contains("io/clash_b.h") && !group.contains("io/uses.h"))
        #expect(group.contains("io/clash_a.h") && group.contains("io/gated.h") && group.contains("xen.h"))
    }

    /// The reference: the model read at each threshold without ranges (every header its own
    /// unit), and where each type's shape and each constant's value are the base model's.
    @Test func rangesAreThoseOfEachHeaderReadOnItsOwn() throws {
        let f = try FixtureTree.make(extra: Self.headers)
        let tree = try HeaderTree(root: f.root)
        defer { tree.removeStaging() }
        let fast = try ModelBuilder(tree: tree, options: GenerationOptions(xenVersion: "9.9")).build()
        let thresholds = try #require(fast.interfaceThresholds).map { UInt32($0.dropFirst(2), radix: 16)! }
        #expect(thresholds == [0, 0x00040a00, 0x00040b00, 0x00040c00, 0x00040d00])
        let alone = try thresholds.map {
            try ModelBuilder(tree: tree, options: GenerationOptions(xenVersion: "9.9", interfaceVersion: $0, interfaceRanges: false)).build()
        }
        func ranges(_ holds: [Bool]) -> [InterfaceRange]? {
            guard holds.contains(false) else { return nil }
            var out: [InterfaceRange] = []
            for (i, h) in holds.enumerated() where h && (i == 0 || !holds[i - 1]) {
                let end = holds[i...].firstIndex(of: false)
                out.append(InterfaceRange(from: fast.interfaceThresholds![i], to: end.map { fast.interfaceThresholds![$0] }))
            }
            return out
        }
        for t in fast.types where t.visibility == .guest {
            let expected = ranges(alone.map { m in m.type(t.key).map { $0.visibility == .guest && ModelBuilder.shape($0) == ModelBuilder.shape(t) } ?? false })
            #expect(t.interfaceRanges == expected, "\(t.key)")
        }
        for c in fast.constants where c.visibility == .guest {
            let expected = ranges(alone.map { m in m.constants.first { $0.name == c.name }.map { $0.visibility == .guest && $0.value == c.value } ?? false })
            #expect(c.interfaceRanges == expected, "\(c.name)")
        }
        #expect(fast.type("struct clash_gated")?.interfaceRanges == [InterfaceRange(from: "0x00040b00", to: nil)])
        #expect(fast.type("struct uses_gated")?.interfaceRanges == [InterfaceRange(from: "0x00040b00", to: nil)])
        #expect(fast.constants.first { $0.name == "CLASH_B_VALUE" }?.interfaceRanges == [InterfaceRange(from: "0x00040c00", to: nil)])
        #expect(fast.constants.first { $0.name == "USES_DERIVED" } == nil, "no value in its own unit")
        #expect(fast.type("struct uses_pointer")?.fields?.first?.type == .opaquePointer("clash_shared"))
        #expect(fast.type("struct uses_pointer")?.interfaceRanges == nil)
    }
}

// Nothing the manifest holds may change without the diff report saying so: every field, changed
// on its own, must give a report line. The fields are discovered from the committed manifest, so
// a field added to the model later is covered without listing it here.
import Foundation
import Testing
@testable import ABIGen

@Suite struct DiffCompletenessTests {
    /// Fields that are not reported as changes, each with the reason docs/abi-rules.md gives.
    static let unreported: [String: String] = [
        ".xenVersion": "the report's title",
        ".interfaceVersion": "the report's title",
    ]

    @Test func everyManifestFieldChangedAloneGetsAReportLine() throws {
        let base = try Self.sampleManifest()
        let baseModel = try Self.model(base)
        #expect(ABIDiff.compare(baseModel, baseModel).changes.isEmpty, "a manifest against itself")
        var leaves: [String: [JSONValue.Step]] = [:]
        base.leaves(schema: "", at: []) { schema, at in if leaves[schema] == nil { leaves[schema] = at } }
        #expect(leaves.count > 120, "the sample covers the manifest's fields (found \(leaves.count))")
        var unmutable: [String] = []
        for (schema, at) in leaves.sorted(by: { $0.key < $1.key }) {
            if schema.hasSuffix(".location.line") { continue }   // lines move in every release; each line shows the new one
            guard let changed = try Self.mutated(base, at: at) else { unmutable.append(schema); continue }
            let report = ABIDiff.compare(baseModel, changed)
            if let why = Self.unreported[schema] {
                #expect(DiffReportWriter.markdown(report) != DiffReportWriter.markdown(ABIDiff.compare(baseModel, baseModel)), "\(schema) shows in \(why)")
            } else {
                #expect(!report.changes.isEmpty, "changing \(schema) alone gave no report line")
            }
        }
        #expect(unmutable.isEmpty, "no decodable change found for \(unmutable)")
    }

    /// The committed 4.17 manifest cut down to, for each field, the first entity that has it, with
    /// the optional fields 4.17 never sets added to one entity each.
    static func sampleManifest() throws -> JSONValue {
        let full = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: Paths.generated.appendingPathComponent("abi.json")))
        guard case var .object(top) = full else { throw ABIGenError("the manifest is not an object") }
        for (key, value) in top {
            guard case let .array(items) = value else { continue }
            var seen = Set<String>(), kept: [JSONValue] = []
            for item in items {
                var schemas = Set<String>()
                item.leaves(schema: "", at: []) { s, _ in schemas.insert(s) }
                if !schemas.isSubset(of: seen) { kept.append(item); seen.formUnion(schemas) }
            }
            top[key] = .array(kept)
        }
        func set(_ array: String, where match: (JSONValue) -> Bool, _ key: String, _ value: JSONValue) {
            guard case var .array(items) = top[array]!, let i = items.firstIndex(where: match), case var .object(o) = items[i] else { return }
            o[key] = value
            items[i] = .object(o)
            top[array] = .array(items)
        }
        set("types", where: { $0["kind"] == .string("struct") }, "incomplete", .bool(false))
        set("types", where: { $0["kind"] == .string("typedef") }, "toolsShape",
            .object(["size": .int(4), "alignment": .int(4), "underlying": .object(["kind": .string("integer"), "bits": .int(32), "signed": .bool(false)])]))
        set("types", where: { $0["interfaceRanges"] != nil }, "interfaceRanges", .array([.object(["from": .string("0x00000000"), "to": .string("0x00040600")])]))
        set("constants", where: { $0["value"]?["integer"] != nil }, "toolsValue", .object(["integer": .int(5), "unsigned": .bool(false)]))
        top["unexpressed"] = .array([.object(["entity": .string("struct demo"), "reason": .string("why"),
                                              "location": .object(["header": .string("io/demo.h"), "line": .int(1)])])])
        return .object(top)
    }

    static func model(_ v: JSONValue) throws -> ABIModel {
        try ManifestWriter.decode(try JSONEncoder().encode(v), from: "sample")
    }

    /// The model with the leaf at `at` changed to the first candidate value it still decodes with.
    static func mutated(_ base: JSONValue, at: [JSONValue.Step]) throws -> ABIModel? {
        let leaf = base.value(at: at)!
        var candidates: [JSONValue] = []
        switch leaf {
        case let .bool(b): candidates = [.bool(!b)]
        case let .int(i): candidates = [.int(i + 1), .int(i - 1)]
        case let .string(s):
            candidates = [.string(s + "_x")] + ["tools-only", "guest", "union", "struct", "in", "out", "inout", "bool", "integer",
                                                 "options", "enum", "type", "empty", "0x00040a00"].filter { $0 != s }.map(JSONValue.string)
        default: return nil
        }
        for c in candidates {
            if let m = try? model(base.replacing(at: at, with: c)) { return m }
        }
        return nil
    }
}

/// JSON as it is, so a test can change one leaf and keep everything else exactly.
enum JSONValue: Codable, Equatable {
    case null, bool(Bool), int(Int64), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    enum Step { case key(String), index(Int) }

    init(from decoder: Decoder) throws {
        if var a = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !a.isAtEnd { items.append(try a.decode(JSONValue.self)) }
            self = .array(items); return
        }
        if let o = try? decoder.container(keyedBy: AnyKey.self) {
            var d: [String: JSONValue] = [:]
            for k in o.allKeys { d[k.stringValue] = try o.decode(JSONValue.self, forKey: k) }
            self = .object(d); return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let u = try? c.decode(UInt64.self) { self = .int(Int64(bitPattern: u)) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else { self = .string(try c.decode(String.self)) }
    }

    func encode(to encoder: Encoder) throws {
        switch self {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case let .bool(b): var c = encoder.singleValueContainer(); try c.encode(b)
        case let .int(i): var c = encoder.singleValueContainer(); try c.encode(i)
        case let .double(d): var c = encoder.singleValueContainer(); try c.encode(d)
        case let .string(s): var c = encoder.singleValueContainer(); try c.encode(s)
        case let .array(a): var c = encoder.unkeyedContainer(); for v in a { try c.encode(v) }
        case let .object(o): var c = encoder.container(keyedBy: AnyKey.self); for (k, v) in o { try c.encode(v, forKey: AnyKey(k)) }
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    subscript(key: String) -> JSONValue? { if case let .object(o) = self { return o[key] }; return nil }

    /// Every leaf with its schema path (`.types[].fields[].offset`) and where it is.
    func leaves(schema: String, at: [Step], _ visit: (String, [Step]) -> Void) {
        switch self {
        case let .array(a): for (i, v) in a.enumerated() { v.leaves(schema: schema + "[]", at: at + [.index(i)], visit) }
        case let .object(o): for (k, v) in o.sorted(by: { $0.key < $1.key }) { v.leaves(schema: schema + "." + k, at: at + [.key(k)], visit) }
        default: visit(schema, at)
        }
    }

    func value(at path: [Step]) -> JSONValue? {
        guard let first = path.first else { return self }
        switch (self, first) {
        case let (.array(a), .index(i)): return a[i].value(at: Array(path.dropFirst()))
        case let (.object(o), .key(k)): return o[k]?.value(at: Array(path.dropFirst()))
        default: return nil
        }
    }

    func replacing(at path: [Step], with new: JSONValue) -> JSONValue {
        guard let first = path.first else { return new }
        switch (self, first) {
        case (.array(var a), let .index(i)): a[i] = a[i].replacing(at: Array(path.dropFirst()), with: new); return .array(a)
        case (.object(var o), let .key(k)): o[k] = o[k]!.replacing(at: Array(path.dropFirst()), with: new); return .object(o)
        default: return self
        }
    }
}

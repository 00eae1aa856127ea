// The declarative spec (Specs/xen.yaml), read with Yams, every entry keeping its line for errors.
import Foundation
import Yams

public struct Spec: Sendable {
    public var file: String
    public var families: [FamilySpec] = []
    public var hypercalls: [HypercallSpec] = []
    /// C types for constants that are not a family's members (`DOMID_*` are `domid_t`).
    public var constantTypes: [ConstantTypeSpec] = []
    /// What the boot stub's assembler include carries: constants by prefix, layouts by type.
    public var bootConstantPrefixes: [String] = []
    public var bootLayouts: [String] = []
    public var bootLine = 0

    public struct FamilySpec: Sendable {
        public var swift: String
        public var prefix: String
        public var shape: Family.Shape
        public var exclude: [String] = []
        public var excludePrefixes: [String] = []
        public var mayBeAbsent = false
        public var typeFieldMask: String?
        public var typeFieldSwift: String?
        /// The C type the members stand for (`uint32_t` for `VIRQ_*`): the members' and the
        /// family's raw type.
        public var type: String?
        public var line: Int
    }

    /// `{prefix: DOMID_, type: domid_t}` or `{name: X, type: T}`: the constants that stand for a C type.
    public struct ConstantTypeSpec: Sendable {
        public var name: String?
        public var prefix: String?
        public var type: String
        public var mayBeAbsent = false
        public var line: Int
    }

    public struct HypercallSpec: Sendable {
        public var name: String
        public var number: String
        public var args: [ArgumentSpec] = []
        public var subops: SubopRule?
        public var mayBeAbsent = false
        public var typed = true
        public var line: Int
    }

    public struct ArgumentSpec: Sendable {
        public var name: String
        public var type: String
        public var dir: Hypercall.Direction?
        public var count: String?
        public var line: Int
    }

    public struct SubopRule: Sendable {
        public var family: String
        public var structRule: String
        public var direction: Hypercall.Direction
        public var exceptions: [SubopException] = []
        public var line: Int
    }

    public struct SubopException: Sendable {
        public var subop: String
        public var structName: String?
        public var direction: Hypercall.Direction?
        public var mayBeAbsent = false
        public var line: Int
    }

    /// Reads the spec at `url`; errors name it `name` (as given, or relative to the project).
    public static func load(_ url: URL, name: String? = nil) throws -> Spec {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ABIGenError("cannot read the spec \(name ?? url.path): \(error.localizedDescription)")
        }
        return try parse(text, file: name ?? url.path)
    }

    public static func parse(_ text: String, file: String) throws -> Spec {
        let root: Node
        do {
            guard let r = try Yams.compose(yaml: text) else { throw ABIGenError("the spec is empty", at: "\(file):1") }
            root = r
        } catch let e as YamlError {
            throw ABIGenError("the spec is not valid YAML: \(e)", at: file)
        }
        var reader = SpecReader(file: file)
        return try reader.spec(root)
    }
}

/// Walks the YAML nodes, refusing unknown keys (a misspelt key would otherwise be ignored).
struct SpecReader {
    let file: String

    func at(_ node: Node) -> String { "\(file):\((node.mark?.line ?? 0))" }

    func mapping(_ node: Node, allowed: Set<String>, what: String) throws -> [String: Node] {
        guard let m = node.mapping else { throw ABIGenError("\(what) must be a mapping", at: at(node)) }
        var out: [String: Node] = [:]
        for (k, v) in m {
            guard let key = k.string else { throw ABIGenError("\(what): keys must be strings", at: at(k)) }
            guard allowed.contains(key) else {
                throw ABIGenError("\(what): unknown key '\(key)' (expected one of \(allowed.sorted().joined(separator: ", ")))", at: at(k))
            }
            out[key] = v
        }
        return out
    }

    func string(_ m: [String: Node], _ key: String, in node: Node, what: String) throws -> String {
        guard let v = m[key] else { throw ABIGenError("\(what): missing '\(key)'", at: at(node)) }
        guard let s = v.string else { throw ABIGenError("\(what): '\(key)' must be a string", at: at(v)) }
        return s
    }

    func strings(_ node: Node?) throws -> [String] {
        guard let node else { return [] }
        guard let seq = node.sequence else { throw ABIGenError("expected a list", at: at(node)) }
        return try seq.map { n in
            guard let s = n.string else { throw ABIGenError("expected a name", at: at(n)) }
            return s
        }
    }

    /// A key whose value is one of a fixed set (a family's shape, a direction), or nil if absent.
    func oneOf<T: RawRepresentable>(_ m: [String: Node], _ key: String, what: String) throws -> T? where T.RawValue == String {
        guard let v = m[key] else { return nil }
        guard let s = v.string, let value = T(rawValue: s) else {
            let expected = T.self == Family.Shape.self ? "enum, options or typed-flags" : "in, out or inout"
            throw ABIGenError("\(what): \(key) must be \(expected), not '\(v.string ?? "?")'", at: at(v))
        }
        return value
    }

    func bool(_ node: Node?) throws -> Bool {
        guard let node else { return false }
        guard let b = node.bool else { throw ABIGenError("expected true or false", at: at(node)) }
        return b
    }

    mutating func spec(_ root: Node) throws -> Spec {
        let top = try mapping(root, allowed: ["families", "hypercalls", "constantTypes", "bootConstants"], what: "the spec")
        var spec = Spec(file: file)
        for n in top["families"]?.sequence ?? [] { spec.families.append(try family(n)) }
        for n in top["hypercalls"]?.sequence ?? [] { spec.hypercalls.append(try hypercall(n)) }
        for n in top["constantTypes"]?.sequence ?? [] { spec.constantTypes.append(try constantType(n)) }
        if let b = top["bootConstants"] {
            let m = try mapping(b, allowed: ["prefixes", "layouts"], what: "bootConstants")
            spec.bootConstantPrefixes = try strings(m["prefixes"])
            spec.bootLayouts = try strings(m["layouts"])
            spec.bootLine = b.mark?.line ?? 0
        }
        return spec
    }

    func family(_ n: Node) throws -> Spec.FamilySpec {
        let m = try mapping(n, allowed: ["swift", "prefix", "shape", "type", "exclude", "excludePrefixes", "mayBeAbsent", "typeField"], what: "family")
        let swift = try string(m, "swift", in: n, what: "family")
        _ = try string(m, "shape", in: n, what: "family \(swift)")
        var f = Spec.FamilySpec(swift: swift, prefix: try string(m, "prefix", in: n, what: "family \(swift)"),
                                shape: try oneOf(m, "shape", what: "family \(swift)")!, line: n.mark?.line ?? 0)
        f.exclude = try strings(m["exclude"])
        f.excludePrefixes = try strings(m["excludePrefixes"])
        f.mayBeAbsent = try bool(m["mayBeAbsent"])
        if m["type"] != nil { f.type = try string(m, "type", in: n, what: "family \(swift)") }
        if let tf = m["typeField"] {
            let t = try mapping(tf, allowed: ["mask", "swift"], what: "typeField of \(swift)")
            f.typeFieldMask = try string(t, "mask", in: tf, what: "typeField of \(swift)")
            f.typeFieldSwift = try string(t, "swift", in: tf, what: "typeField of \(swift)")
        }
        if f.shape == .typedFlags && f.typeFieldMask == nil {
            throw ABIGenError("family \(swift): typed-flags needs a typeField", at: at(n))
        }
        return f
    }

    func constantType(_ n: Node) throws -> Spec.ConstantTypeSpec {
        let m = try mapping(n, allowed: ["name", "prefix", "type", "mayBeAbsent"], what: "constant type")
        var c = Spec.ConstantTypeSpec(type: try string(m, "type", in: n, what: "constant type"), line: n.mark?.line ?? 0)
        if m["name"] != nil { c.name = try string(m, "name", in: n, what: "constant type") }
        if m["prefix"] != nil { c.prefix = try string(m, "prefix", in: n, what: "constant type") }
        guard (c.name == nil) != (c.prefix == nil) else {
            throw ABIGenError("constant type \(c.type): give either name or prefix", at: at(n))
        }
        c.mayBeAbsent = try bool(m["mayBeAbsent"])
        return c
    }

    func hypercall(_ n: Node) throws -> Spec.HypercallSpec {
        let m = try mapping(n, allowed: ["name", "number", "args", "subops", "mayBeAbsent", "typed"], what: "hypercall")
        let name = try string(m, "name", in: n, what: "hypercall")
        var h = Spec.HypercallSpec(name: name, number: try string(m, "number", in: n, what: "hypercall \(name)"), line: n.mark?.line ?? 0)
        h.mayBeAbsent = try bool(m["mayBeAbsent"])
        if m["typed"] != nil { h.typed = try bool(m["typed"]) }
        for a in m["args"]?.sequence ?? [] {
            let am = try mapping(a, allowed: ["name", "type", "dir", "count"], what: "argument of \(name)")
            var arg = Spec.ArgumentSpec(name: try string(am, "name", in: a, what: "argument of \(name)"),
                                        type: try string(am, "type", in: a, what: "argument of \(name)"), line: a.mark?.line ?? 0)
            arg.dir = try oneOf(am, "dir", what: "argument \(arg.name) of \(name)")
            arg.count = am["count"]?.string
            h.args.append(arg)
        }
        if let s = m["subops"] {
            let sm = try mapping(s, allowed: ["family", "struct", "direction", "exceptions"], what: "subops of \(name)")
            var rule = Spec.SubopRule(family: try string(sm, "family", in: s, what: "subops of \(name)"),
                                      structRule: try string(sm, "struct", in: s, what: "subops of \(name)"),
                                      direction: try oneOf(sm, "direction", what: "subops of \(name)") ?? .inout, line: s.mark?.line ?? 0)
            for e in sm["exceptions"]?.sequence ?? [] {
                let em = try mapping(e, allowed: ["subop", "struct", "direction", "mayBeAbsent"], what: "sub-op exception of \(name)")
                var ex = Spec.SubopException(subop: try string(em, "subop", in: e, what: "sub-op exception of \(name)"), line: e.mark?.line ?? 0)
                ex.structName = em["struct"]?.string
                ex.direction = try oneOf(em, "direction", what: "sub-op exception \(ex.subop) of \(name)")
                ex.mayBeAbsent = try bool(em["mayBeAbsent"])
                rule.exceptions.append(ex)
            }
            h.subops = rule
        }
        return h
    }
}

// Compares two ABI models and classifies every difference by the rules in docs/abi-rules.md.
// Each kind of entity has its own file beside this one; this one holds the report and the
// judgments they share.
import Foundation

public struct ABIChange: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable { case added, removed, changed, renamed, moved }
    public enum Severity: String, Codable, Sendable { case breaking, compatible }
    public var entity: String
    /// The header it is in, or where there is none, what it belongs to (`(spec)`, `(header set)`).
    public var header: String
    /// 0 where there is no line.
    public var line: Int
    public var kind: Kind
    public var severity: Severity
    /// The rule that decided the severity (docs/abi-rules.md).
    public var rule: String
    public var old: String?
    public var new: String?
}

public struct ABIDiffReport: Codable, Sendable {
    public var oldVersion: String
    public var newVersion: String
    public var oldInterface: String
    public var newInterface: String
    public var changes: [ABIChange]

    public var breaking: Int { changes.filter { $0.severity == .breaking }.count }
    public var compatible: Int { changes.count - breaking }

    /// abidiff's bits: 0 no change, 4 the ABI changed, 4|8 an incompatible change.
    public var exitStatus: Int32 { changes.isEmpty ? 0 : (breaking > 0 ? 12 : 4) }

    /// What makes `abigen diff` fail: any change (abidiff's statuses), or only a breaking one.
    public enum FailOn: String, Sendable, CaseIterable { case compatible, breaking }

    public func exitStatus(failingOn rule: FailOn) -> Int32 {
        rule == .breaking ? (breaking > 0 ? 12 : 0) : exitStatus
    }
}

public enum ABIDiff {
    public static func compare(_ a: ABIModel, _ b: ABIModel) -> ABIDiffReport {
        var log = ChangeLog(old: a, new: b)
        TypeDiff.compare(&log)
        ConstantDiff.compare(&log)
        RingDiff.compare(&log)
        SpecDiff.compare(&log)
        HeaderSetDiff.compare(&log)
        let changes = log.changes.sorted {
            ($0.severity == .breaking ? 0 : 1, $0.header, $0.entity, $0.rule) < ($1.severity == .breaking ? 0 : 1, $1.header, $1.entity, $1.rule)
        }
        return ABIDiffReport(oldVersion: a.xenVersion, newVersion: b.xenVersion, oldInterface: a.interfaceVersion,
                             newInterface: b.interfaceVersion, changes: changes)
    }

    /// A change that would break a guest by `rule`, unless it is tools-only or behind an
    /// interface-version gate: then compatible, and the rule says what it would have been.
    static func judged(_ rule: String, toolsOnly: Bool, gated: Bool) -> (ABIChange.Severity, String) {
        if toolsOnly { return (.compatible, "tools-only: not part of a guest's ABI (would be: \(rule))") }
        if gated { return (.compatible, "growth behind an interface-version gate (would be: \(rule))") }
        return (.breaking, rule)
    }

    /// True when `ranges` (the new side's) leave out `version`: the change only applies to guests
    /// that ask for a newer interface.
    static func gated(_ ranges: [InterfaceRange]?, at version: String) -> Bool {
        guard let ranges, let v = UInt32(version.dropFirst(2), radix: 16) else { return false }
        return !ranges.contains { r in
            let from = UInt32(r.from.dropFirst(2), radix: 16) ?? 0
            let to = r.to.flatMap { UInt32($0.dropFirst(2), radix: 16) } ?? UInt32.max
            return v >= from && v < to
        }
    }

    static func value(_ c: Constant) -> String { "\(text(c.value)) (\(c.cType))" }

    static func text(_ v: Constant.Value) -> String {
        switch v {
        case let .integer(v, unsigned): return unsigned ? String(UInt64(bitPattern: v)) : String(v)
        case let .string(s): return "\"\(s)\""
        }
    }

    static func ranges(_ r: [InterfaceRange]?) -> String {
        guard let r else { return "every interface version" }
        return r.map { "\($0.from)..<\($0.to ?? "latest")" }.joined(separator: ", ")
    }
}

/// The changes found so far, and the two models they are found between.
struct ChangeLog {
    let old: ABIModel
    let new: ABIModel
    var changes: [ABIChange] = []

    init(old: ABIModel, new: ABIModel) { self.old = old; self.new = new }

    mutating func add(_ entity: String, _ at: SourceLocation?, _ kind: ABIChange.Kind, _ severity: ABIChange.Severity,
                      _ rule: String, old: String?, new: String?, header: String = "(header set)") {
        changes.append(ABIChange(entity: entity, header: at?.header ?? header, line: at?.line ?? 0, kind: kind,
                                 severity: severity, rule: rule, old: old, new: new))
    }

    /// One line for each aspect of an entity on both sides that reads differently.
    mutating func aspects<T>(_ entity: String, _ at: SourceLocation?, _ o: T, _ n: T, _ list: [Aspect<T>], header: String = "(header set)") {
        for a in list {
            let was = a.describe(o), now = a.describe(n)
            guard was != now else { continue }
            add(entity, at, .changed, a.severity, a.rule, old: was, new: now, header: header)
        }
    }

    /// Additions and removals of the entities of one kind, matched by `key`; `both` compares the
    /// ones on both sides.
    mutating func matched<T>(_ old: [T], _ new: [T], key: (T) -> String, removed: (inout ChangeLog, T) -> Void,
                             added: (inout ChangeLog, T) -> Void, both: (inout ChangeLog, T, T) -> Void) {
        let oldByKey = Dictionary(old.map { (key($0), $0) }, uniquingKeysWith: { x, _ in x })
        let newByKey = Dictionary(new.map { (key($0), $0) }, uniquingKeysWith: { x, _ in x })
        for o in old where newByKey[key(o)] == nil { removed(&self, o) }
        for n in new {
            if let o = oldByKey[key(n)] { both(&self, o, n) } else { added(&self, n) }
        }
    }
}

/// One thing about an entity that a rule judges: how it reads on each side, and what a
/// difference means.
struct Aspect<T> {
    var rule: String
    var severity: ABIChange.Severity
    var describe: (T) -> String?

    init(_ rule: String, _ severity: ABIChange.Severity, _ describe: @escaping (T) -> String?) {
        self.rule = rule; self.severity = severity; self.describe = describe
    }
}

/// A type reference as the manifest spells it, for a report cell.
func spelled(_ t: TypeRef?) -> String? {
    guard let t else { return nil }
    switch t {
    case let .integer(bits, signed): return "\(signed ? "int" : "uint")\(bits)"
    case .bool: return "bool"
    case let .float(bits): return "float\(bits)"
    case let .pointer(to, const): return "\(const ? "const " : "")\(spelled(to) ?? "void") *"
    case .functionPointer: return "function pointer"
    case let .opaquePointer(name): return "\(name) * (opaque)"
    case let .array(e, count): return "\(spelled(e)!)[\(count)]"
    case let .flexibleArray(e): return "\(spelled(e)!)[]"
    case let .named(name): return name
    }
}

// Compares two ABI models and classifies every difference by the rules in docs/abi-rules.md.

public struct ABIChange: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable { case added, removed, changed, renamed }
    public enum Severity: String, Codable, Sendable { case breaking, compatible }
    public var entity: String
    public var header: String
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
}

public enum ABIDiff {
    public static func compare(_ a: ABIModel, _ b: ABIModel) -> ABIDiffReport {
        var changes: [ABIChange] = []
        let oldTypes = a.typeIndex, newTypes = b.typeIndex
        var removedTypes: [TypeDecl] = [], addedTypes: [TypeDecl] = []

        for t in a.types where newTypes[t.key] == nil { removedTypes.append(t) }
        for t in b.types where oldTypes[t.key] == nil { addedTypes.append(t) }
        // A removal and an addition with the same layout are a rename.
        var renamedTo: [String: String] = [:]
        for r in removedTypes where r.parent == nil {
            if let n = addedTypes.first(where: { $0.parent == nil && $0.kind == r.kind && layoutSignature($0) == layoutSignature(r) && !renamedTo.values.contains($0.key) }) {
                renamedTo[r.key] = n.key
            }
        }
        for r in removedTypes {
            if let n = renamedTo[r.key] {
                changes.append(ABIChange(entity: r.key, header: newTypes[n]!.location.header, line: newTypes[n]!.location.line, kind: .renamed,
                                         severity: .compatible, rule: "rename: same layout under a new name", old: r.key, new: n))
            } else if r.parent == nil {
                changes.append(ABIChange(entity: r.key, header: r.location.header, line: r.location.line, kind: .removed,
                                         severity: r.visibility == .toolsOnly ? .compatible : .breaking,
                                         rule: r.visibility == .toolsOnly ? "tools-only: not part of a guest's ABI" : "removal",
                                         old: describe(r), new: nil))
            }
        }
        for n in addedTypes where n.parent == nil && !renamedTo.values.contains(n.key) {
            changes.append(ABIChange(entity: n.key, header: n.location.header, line: n.location.line, kind: .added,
                                     severity: .compatible, rule: "addition", old: nil, new: describe(n)))
        }
        for t in b.types {
            guard let o = oldTypes[t.key] else { continue }
            var found = compareType(o, t)
            // Recorded unless --no-interface-ranges: if the new layout does not hold at the interface
            // version the old ABI was read at, a guest that keeps that version keeps the old layout.
            if gated(t.interfaceRanges, at: a.interfaceVersion) {
                found = found.map { var c = $0; if c.severity == .breaking { (c.severity, c.rule) = judged(c.rule, toolsOnly: false, gated: true) }; return c }
            }
            changes += found
        }

        let oldConstants = Dictionary(a.constants.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let newConstants = Dictionary(b.constants.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let familyPrefixes = b.families.map(\.prefix)
        for c in a.constants where newConstants[c.name] == nil {
            let renamed = b.constants.first { oldConstants[$0.name] == nil && $0.value == c.value && $0.location.header == c.location.header && $0.cType == c.cType }
            if let renamed {
                changes.append(ABIChange(entity: c.name, header: renamed.location.header, line: renamed.location.line, kind: .renamed,
                                         severity: .compatible, rule: "rename: same value under a new name", old: c.name, new: renamed.name))
            } else {
                changes.append(ABIChange(entity: c.name, header: c.location.header, line: c.location.line, kind: .removed,
                                         severity: c.visibility == .toolsOnly ? .compatible : .breaking,
                                         rule: c.visibility == .toolsOnly ? "tools-only: not part of a guest's ABI" : "removal",
                                         old: value(c), new: nil))
            }
        }
        let renamedConstants = Set(changes.filter { $0.kind == .renamed }.compactMap(\.new))
        for c in b.constants where oldConstants[c.name] == nil && !renamedConstants.contains(c.name) {
            let subop = familyPrefixes.contains { c.name.hasPrefix($0) }
            changes.append(ABIChange(entity: c.name, header: c.location.header, line: c.location.line, kind: .added,
                                     severity: .compatible, rule: subop ? "addition: a new member of a family (sub-op, flag)" : "addition",
                                     old: nil, new: value(c)))
        }
        for c in b.constants {
            guard let o = oldConstants[c.name], o.value != c.value || o.cType != c.cType else { continue }
            let (severity, rule) = judged(o.value != c.value ? "a constant's value" : "a constant's C type",
                                          toolsOnly: c.visibility == .toolsOnly, gated: gated(c.interfaceRanges, at: a.interfaceVersion))
            changes.append(ABIChange(entity: c.name, header: c.location.header, line: c.location.line, kind: .changed,
                                     severity: severity, rule: rule, old: value(o), new: value(c)))
        }
        changes += compareRings(a, b)
        changes.sort { ($0.severity == .breaking ? 0 : 1, $0.header, $0.entity) < ($1.severity == .breaking ? 0 : 1, $1.header, $1.entity) }
        return ABIDiffReport(oldVersion: a.xenVersion, newVersion: b.xenVersion, oldInterface: a.interfaceVersion,
                             newInterface: b.interfaceVersion, changes: changes)
    }

    /// Rings: how many entries a one-page ring holds, and a byte ring's capacity, are what the two
    /// ends agree on without negotiating; each instance appearing or going is reported on its own.
    static func compareRings(_ a: ABIModel, _ b: ABIModel) -> [ABIChange] {
        var out: [ABIChange] = []
        let newTypes = b.typeIndex, oldTypes = a.typeIndex
        let oldRings = Dictionary(a.rings.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let newRings = Dictionary(b.rings.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        func toolsOnly(_ name: String, _ types: [String: TypeDecl]) -> Bool { types["struct \(name)_sring"]?.visibility == .toolsOnly }
        for r in a.rings where newRings[r.name] == nil {
            let tools = toolsOnly(r.name, oldTypes)
            out.append(ABIChange(entity: "ring \(r.name)", header: r.location.header, line: r.location.line, kind: .removed,
                                 severity: tools ? .compatible : .breaking, rule: tools ? "tools-only: not part of a guest's ABI" : "removal of a ring instance",
                                 old: "\(r.pageRingSize) entries per page", new: nil))
        }
        for r in b.rings {
            guard let o = oldRings[r.name] else {
                out.append(ABIChange(entity: "ring \(r.name)", header: r.location.header, line: r.location.line, kind: .added,
                                     severity: .compatible, rule: "addition", old: nil, new: "\(r.pageRingSize) entries per page"))
                continue
            }
            guard o.pageRingSize != r.pageRingSize else { continue }
            let gate = gated(newTypes["struct \(r.name)_sring"]?.interfaceRanges, at: a.interfaceVersion)
                || gated(newTypes["union \(r.name)_sring_entry"]?.interfaceRanges, at: a.interfaceVersion)
            let (severity, rule) = judged("a ring's entries per page", toolsOnly: toolsOnly(r.name, newTypes), gated: gate)
            out.append(ABIChange(entity: "ring \(r.name)", header: r.location.header, line: r.location.line, kind: .changed,
                                 severity: severity, rule: rule,
                                 old: "\(o.pageRingSize) entries per page", new: "\(r.pageRingSize) entries per page"))
        }
        let oldBytes = Dictionary((a.byteRings ?? []).map { ("\($0.interface).\($0.buffer)", $0) }, uniquingKeysWith: { x, _ in x })
        for r in b.byteRings ?? [] {
            guard let o = oldBytes["\(r.interface).\(r.buffer)"], o.capacity != r.capacity else { continue }
            out.append(ABIChange(entity: "byte ring \(r.interface).\(r.buffer)", header: r.location.header, line: r.location.line, kind: .changed,
                                 severity: .breaking, rule: "a byte ring's capacity", old: "\(o.capacity) bytes", new: "\(r.capacity) bytes"))
        }
        return out
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

    /// Field changes and size changes of one type present in both.
    static func compareType(_ o: TypeDecl, _ n: TypeDecl) -> [ABIChange] {
        var out: [ABIChange] = []
        let toolsOnly = n.visibility == .toolsOnly && o.visibility == .toolsOnly
        func add(_ entity: String, _ kind: ABIChange.Kind, _ breakingRule: String, _ old: String?, _ new: String?, compatibleRule: String? = nil) {
            let (severity, rule): (ABIChange.Severity, String) = !toolsOnly && compatibleRule != nil
                ? (.compatible, compatibleRule!) : judged(breakingRule, toolsOnly: toolsOnly, gated: false)
            out.append(ABIChange(entity: entity, header: n.location.header, line: n.location.line, kind: kind, severity: severity, rule: rule, old: old, new: new))
        }
        let oldFields = Dictionary((o.fields ?? []).compactMap { f in f.name.map { ($0, f) } }, uniquingKeysWith: { a, _ in a })
        let newFields = Dictionary((n.fields ?? []).compactMap { f in f.name.map { ($0, f) } }, uniquingKeysWith: { a, _ in a })
        var fieldsKept = true
        for f in o.fields ?? [] {
            guard let name = f.name else { continue }
            guard let g = newFields[name] else {
                add("\(n.key).\(name)", .removed, "a field's removal", "\(f.cType) at \(f.offset), size \(f.size)", nil)
                fieldsKept = false
                continue
            }
            if f.offset != g.offset || f.size != g.size || f.bitOffset != g.bitOffset || f.bitWidth != g.bitWidth {
                add("\(n.key).\(name)", .changed, "a field's offset or size", fieldText(f), fieldText(g))
                fieldsKept = false
            } else if f.type != g.type && normalized(f.cType) != normalized(g.cType) {
                add("\(n.key).\(name)", .changed, "a field's type", f.cType, g.cType)
                fieldsKept = false
            }
        }
        let grown = n.size > o.size
        for g in n.fields ?? [] {
            guard let name = g.name, oldFields[name] == nil else { continue }
            let fits = g.offset + g.size <= o.size
            add("\(n.key).\(name)", .added, "a field added past the old end (the struct grows)", nil, fieldText(g),
                compatibleRule: fits ? "addition: a field inside the old size (padding or a union)" : (sharedPageGrowth(o, n, fieldsKept) ? "shared page: grows inside its page, old fields unmoved" : nil))
        }
        if o.size != n.size || o.alignment != n.alignment {
            let rule = sharedPageGrowth(o, n, fieldsKept) && grown ? "shared page: grows inside its page, old fields unmoved" : nil
            add(n.key, .changed, "a struct's size or alignment", "size \(o.size), alignment \(o.alignment)", "size \(n.size), alignment \(n.alignment)", compatibleRule: rule)
        }
        if o.kind == .typedef, let ou = o.underlying, let nu = n.underlying, ou != nu, o.size != n.size {
            add(n.key, .changed, "a typedef's type", "size \(o.size)", "size \(n.size)")
        }
        for e in o.enumerators ?? [] {
            if let f = n.enumerators?.first(where: { $0.name == e.name }), f.value != e.value {
                add("\(n.key).\(e.name)", .changed, "an enumerator's value", String(e.value), String(f.value))
            }
        }
        return out
    }

    /// A shared page (console ring, xenstore ring, shared_info) may grow inside its page: the
    /// structure's old fields keep their places and it still fits in 4096 bytes.
    static func sharedPageGrowth(_ o: TypeDecl, _ n: TypeDecl, _ fieldsKept: Bool) -> Bool {
        fieldsKept && n.size > o.size && n.size <= 4096 && o.size >= 1024
    }

    static func normalized(_ s: String) -> String { s.replacingOccurrences(of: " ", with: "") }

    static func fieldText(_ f: Field) -> String {
        if let bit = f.bitOffset, let w = f.bitWidth { return "\(f.cType) : \(w) at bit \(bit)" }
        return "\(f.cType) at \(f.offset), size \(f.size)"
    }

    static func describe(_ t: TypeDecl) -> String {
        t.incomplete == true ? "incomplete" : "size \(t.size), alignment \(t.alignment)"
    }

    static func value(_ c: Constant) -> String {
        switch c.value {
        case let .integer(v, unsigned): return "\(unsigned ? String(UInt64(bitPattern: v)) : String(v)) (\(c.cType))"
        case let .string(s): return "\"\(s)\""
        }
    }

    static func layoutSignature(_ t: TypeDecl) -> String {
        let fields = (t.fields ?? []).map { "\($0.name ?? "_"):\($0.offset):\($0.size):\($0.bitWidth ?? -1)" }.joined(separator: ",")
        return "\(t.size)/\(t.alignment)/\(fields)/\(t.enumerators?.map { "\($0.name)=\($0.value)" }.joined(separator: ",") ?? "")"
    }
}

import Foundation

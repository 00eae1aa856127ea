// Types: renames, removals and additions, then each type on both sides field by field, its
// enumerators, what a typedef or guest handle names, its tools shape and its marks.

enum TypeDiff {
    static func compare(_ log: inout ChangeLog) {
        let a = log.old, b = log.new
        let oldTypes = a.typeIndex, newTypes = b.typeIndex
        let removed = a.types.filter { newTypes[$0.key] == nil }
        let added = b.types.filter { oldTypes[$0.key] == nil }
        let renamedTo = renames(removed, added)
        let renamedFrom = Dictionary(renamedTo.map { ($1, $0) }, uniquingKeysWith: { x, _ in x })
        let newConstants = Dictionary(b.constants.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let oldConstants = Dictionary(a.constants.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })

        for r in removed {
            if let n = renamedTo[r.key] {
                log.add(r.key, newTypes[n]!.location, .renamed, .compatible, "rename: same layout under a new name", old: r.key, new: n)
            } else if r.parent == nil {
                let tools = r.visibility == .toolsOnly
                log.add(r.key, r.location, .removed, tools ? .compatible : .breaking,
                        tools ? "tools-only: not part of a guest's ABI" : "removal", old: describe(r), new: nil)
            }
            // An anonymous record goes with its parent, whose field change says so.
        }
        for n in added where n.parent == nil && renamedFrom[n.key] == nil {
            log.add(n.key, n.location, .added, .compatible, "addition", old: nil, new: describe(n))
        }
        for t in b.types {
            guard let o = oldTypes[t.key] else { continue }
            var found = ChangeLog(old: a, new: b)
            compareType(o, t, renamedTo: renamedTo, oldConstants: oldConstants, newConstants: newConstants, into: &found)
            // Recorded with interface ranges: if the new layout does not hold at the interface
            // version the old ABI was read at, a guest that keeps that version keeps the old layout.
            if ABIDiff.gated(t.interfaceRanges, at: a.interfaceVersion) {
                for i in found.changes.indices where found.changes[i].severity == .breaking {
                    (found.changes[i].severity, found.changes[i].rule) = ABIDiff.judged(found.changes[i].rule, toolsOnly: false, gated: true)
                }
            }
            log.changes += found.changes
        }
    }

    /// A removed type and an added one are a rename when they have the same layout and name the
    /// same things: a typedef the same type, a guest handle the same pointee (every handle is one
    /// pointer, so layout alone would pair any two).
    static func renames(_ removed: [TypeDecl], _ added: [TypeDecl]) -> [String: String] {
        var out: [String: String] = [:]
        var taken = Set<String>()
        for r in removed where r.parent == nil {
            let candidate = added.first { n in
                n.parent == nil && !taken.contains(n.key) && n.kind == r.kind && layoutSignature(n) == layoutSignature(r)
                    && same(r.guestHandleOf, n.guestHandleOf, out) && same(r.underlying, n.underlying, out)
            }
            if let n = candidate { out[r.key] = n.key; taken.insert(n.key) }
        }
        return out
    }

    /// Two references name the same thing, allowing for types already found renamed.
    static func same(_ a: TypeRef?, _ b: TypeRef?, _ renamed: [String: String]) -> Bool {
        if case let .named(x)? = a, case let .named(y)? = b { return x == y || renamed[x] == y }
        return a == b
    }

    static func compareType(_ o: TypeDecl, _ n: TypeDecl, renamedTo: [String: String], oldConstants: [String: Constant],
                            newConstants: [String: Constant], into log: inout ChangeLog) {
        let toolsOnly = n.visibility == .toolsOnly && o.visibility == .toolsOnly
        func add(_ entity: String, _ kind: ABIChange.Kind, _ breakingRule: String, _ old: String?, _ new: String?, compatibleRule: String? = nil) {
            // A rule that makes a change compatible does so in either view; a breaking one breaks
            // only guests, so tools-only types get it softened.
            let (severity, rule): (ABIChange.Severity, String) = compatibleRule.map { (.compatible, $0) }
                ?? ABIDiff.judged(breakingRule, toolsOnly: toolsOnly, gated: false)
            log.add(entity, n.location, kind, severity, rule, old: old, new: new)
        }
        let fieldsKept = compareFields(o.fields, n.fields, oldSize: o.size, in: n.key, sharedPage: { sharedPageGrowth(o, n, $0) }, add: add)
        if o.size != n.size || o.alignment != n.alignment {
            let rule = sharedPageGrowth(o, n, fieldsKept) && n.size > o.size ? "shared page: grows inside its page, old fields unmoved" : nil
            add(n.key, .changed, "a struct's size or alignment", "size \(o.size), alignment \(o.alignment)", "size \(n.size), alignment \(n.alignment)", compatibleRule: rule)
        }
        if o.kind != n.kind { add(n.key, .changed, "a type's kind", o.kind.rawValue, n.kind.rawValue) }
        if !TypeDiff.same(o.underlying, n.underlying, renamedTo) {
            add(n.key, .changed, "a typedef's type", spelled(o.underlying), spelled(n.underlying))
        }
        if !TypeDiff.same(o.guestHandleOf, n.guestHandleOf, renamedTo) {
            add(n.key, .changed, "a guest handle's pointee", spelled(o.guestHandleOf), spelled(n.guestHandleOf))
        }
        if o.enumIntegerType != n.enumIntegerType {
            add(n.key, .changed, "an enum's integer type", spelled(o.enumIntegerType), spelled(n.enumIntegerType))
        }
        compareEnumerators(o, n, oldConstants: oldConstants, newConstants: newConstants, add: add)
        if o.incomplete != n.incomplete {
            if n.incomplete == true { add(n.key, .changed, "a type's definition (now declared only)", "defined", "incomplete") }
            else { add(n.key, .changed, "", "incomplete", "defined", compatibleRule: "a definition for a type only declared before") }
        }
        if o.visibility != n.visibility {
            if n.visibility == .toolsOnly { log.add(n.key, n.location, .changed, .breaking, "now tools-only: guests no longer see it", old: o.visibility.rawValue, new: n.visibility.rawValue) }
            else { log.add(n.key, n.location, .changed, .compatible, "now visible to guests", old: o.visibility.rawValue, new: n.visibility.rawValue) }
        }
        compareToolsShape(o, n, renamedTo: renamedTo, into: &log)
        log.aspects(n.key, n.location, o, n, [
            Aspect("moved to another header", .compatible) { $0.location.header },
            Aspect("a type's C spelling", .compatible) { $0.cName },
            Aspect("a generated Swift name: Swift source that names it no longer compiles", .breaking) { $0.swiftName },
            Aspect("a type's enclosing record", .compatible) { $0.parent },
        ])
        if log.old.interfaceThresholds != nil, log.new.interfaceThresholds != nil, o.interfaceRanges != n.interfaceRanges {
            log.add(n.key, n.location, .changed, .compatible, "where a layout holds across interface versions",
                    old: ABIDiff.ranges(o.interfaceRanges), new: ABIDiff.ranges(n.interfaceRanges))
        }
    }

    /// Fields by name; anonymous members by the record they hold. Returns whether every old field
    /// kept its place.
    static func compareFields(_ old: [Field]?, _ new: [Field]?, oldSize: Int, in key: String, sharedPage: (Bool) -> Bool,
                              add: (String, ABIChange.Kind, String, String?, String?, String?) -> Void) -> Bool {
        func name(_ f: Field) -> String { f.name ?? "(anonymous \(spelled(f.type) ?? f.cType))" }
        let newFields = Dictionary((new ?? []).map { (name($0), $0) }, uniquingKeysWith: { a, _ in a })
        let oldFields = Dictionary((old ?? []).map { (name($0), $0) }, uniquingKeysWith: { a, _ in a })
        var kept = true
        for f in old ?? [] {
            guard let g = newFields[name(f)] else {
                add("\(key).\(name(f))", .removed, "a field's removal", "\(f.cType) at \(f.offset), size \(f.size)", nil, nil)
                kept = false
                continue
            }
            if f.offset != g.offset || f.size != g.size || f.bitOffset != g.bitOffset || f.bitWidth != g.bitWidth {
                add("\(key).\(name(f))", .changed, "a field's offset or size", fieldText(f), fieldText(g), nil)
                kept = false
            } else if f.type != g.type && normalized(f.cType) != normalized(g.cType) {
                add("\(key).\(name(f))", .changed, "a field's type", f.cType, g.cType, nil)
                kept = false
            } else if f.alignment != g.alignment {
                add("\(key).\(name(f))", .changed, "a field's alignment", "\(f.alignment)", "\(g.alignment)", nil)
            } else if f.type != g.type || f.cType != g.cType {
                // Same place, size and C spelling under another model key (an anonymous record
                // renamed after its first member), or the same type spelt another way.
                add("\(key).\(name(f))", .changed, "", "\(f.cType) (\(spelled(f.type)!))", "\(g.cType) (\(spelled(g.type)!))",
                    "a field's C spelling: the same type written or keyed another way")
            }
        }
        for g in new ?? [] where oldFields[name(g)] == nil {
            let fits = g.offset + g.size <= oldSize
            add("\(key).\(name(g))", .added, "a field added past the old end (the struct grows)", nil, fieldText(g),
                fits ? "addition: a field inside the old size (padding or a union)" : (sharedPage(kept) ? "shared page: grows inside its page, old fields unmoved" : nil))
        }
        return kept
    }

    /// A named enum's members. One that moves between an enumerator and a macro of the same value
    /// (xs_wire.h's XS_DEBUG in 4.9) is neither gone nor new to a guest: only its spelling moved.
    static func compareEnumerators(_ o: TypeDecl, _ n: TypeDecl, oldConstants: [String: Constant], newConstants: [String: Constant],
                                   add: (String, ABIChange.Kind, String, String?, String?, String?) -> Void) {
        let oldValues = Dictionary((o.enumerators ?? []).map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        let newValues = Dictionary((n.enumerators ?? []).map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        for e in o.enumerators ?? [] {
            if let v = newValues[e.name] {
                if v != e.value { add("\(n.key).\(e.name)", .changed, "an enumerator's value", String(e.value), String(v), nil) }
            } else if let c = newConstants[e.name], case let .integer(v, _) = c.value, v == e.value {
                add("\(n.key).\(e.name)", .moved, "", "enumerator = \(e.value)", "macro \(ABIDiff.value(c)) at \(c.location.description)",
                    "moved between an enumerator and a macro, same value")
            } else {
                add("\(n.key).\(e.name)", .removed, "an enumerator's removal", String(e.value), nil, nil)
            }
        }
        for e in n.enumerators ?? [] where oldValues[e.name] == nil {
            if let c = oldConstants[e.name], case let .integer(v, _) = c.value, v == e.value {
                add("\(n.key).\(e.name)", .moved, "", "macro \(ABIDiff.value(c)) at \(c.location.description)", "enumerator = \(e.value)",
                    "moved between an enumerator and a macro, same value")
            } else {
                add("\(n.key).\(e.name)", .added, "", nil, String(e.value), "addition: a new enumerator")
            }
        }
    }

    /// The shape the tools view (`__XEN_TOOLS__`) gives a type, compared like a tools-only type.
    static func compareToolsShape(_ o: TypeDecl, _ n: TypeDecl, renamedTo: [String: String], into log: inout ChangeLog) {
        func shaped(_ t: TypeDecl) -> TypeDecl {
            var s = t
            s.visibility = .toolsOnly
            if let shape = t.toolsShape { s.size = shape.size; s.alignment = shape.alignment; s.fields = shape.fields; s.underlying = shape.underlying }
            s.toolsShape = nil; s.enumerators = nil; s.guestHandleOf = nil; s.enumIntegerType = nil; s.incomplete = nil; s.interfaceRanges = nil
            return s
        }
        guard o.toolsShape != nil || n.toolsShape != nil else { return }
        let to = shaped(o), tn = shaped(n)
        var found = ChangeLog(old: log.old, new: log.new)
        compareType(to, tn, renamedTo: renamedTo, oldConstants: [:], newConstants: [:], into: &found)
        for var c in found.changes {
            c.entity = "\(c.entity) (tools shape)"
            log.changes.append(c)
        }
        if (o.toolsShape == nil) != (n.toolsShape == nil) {
            log.add("\(n.key) (tools shape)", n.location, .changed, .compatible,
                    "tools-only: the tools view's shape now \(n.toolsShape == nil ? "matches the guest's" : "differs from the guest's")",
                    old: o.toolsShape == nil ? "same as the guest's" : "its own", new: n.toolsShape == nil ? "same as the guest's" : "its own")
        }
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

    static func layoutSignature(_ t: TypeDecl) -> String {
        let fields = (t.fields ?? []).map { "\($0.name ?? "_"):\($0.offset):\($0.size):\($0.bitWidth ?? -1)" }.joined(separator: ",")
        return "\(t.size)/\(t.alignment)/\(fields)/\(t.enumerators?.map { "\($0.name)=\($0.value)" }.joined(separator: ",") ?? "")"
    }
}

import Foundation

// Constants: object-like macros and anonymous enumerators, by name.

enum ConstantDiff {
    static func compare(_ log: inout ChangeLog) {
        let a = log.old, b = log.new
        let oldConstants = Dictionary(a.constants.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let newConstants = Dictionary(b.constants.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        // Named enums' members: a macro that becomes one (or was one) moved; TypeDiff says so.
        let oldEnumerators = enumerators(a), newEnumerators = enumerators(b)
        let familyPrefixes = b.families.map(\.prefix)
        var renamedTo = Set<String>()
        for c in a.constants where newConstants[c.name] == nil {
            if let e = newEnumerators[c.name], integer(c.value) == e { continue }
            let renamed = b.constants.first { oldConstants[$0.name] == nil && !renamedTo.contains($0.name) && $0.value == c.value
                && $0.location.header == c.location.header && $0.cType == c.cType }
            if let renamed {
                renamedTo.insert(renamed.name)
                log.add(c.name, renamed.location, .renamed, .compatible, "rename: same value under a new name", old: c.name, new: renamed.name)
            } else {
                let tools = c.visibility == .toolsOnly
                log.add(c.name, c.location, .removed, tools ? .compatible : .breaking,
                        tools ? "tools-only: not part of a guest's ABI" : "removal", old: ABIDiff.value(c), new: nil)
            }
        }
        for c in b.constants where oldConstants[c.name] == nil && !renamedTo.contains(c.name) {
            if let e = oldEnumerators[c.name], integer(c.value) == e { continue }
            let member = familyPrefixes.contains { c.name.hasPrefix($0) }
            log.add(c.name, c.location, .added, .compatible, member ? "addition: a new member of a family (sub-op, flag)" : "addition",
                    old: nil, new: ABIDiff.value(c))
        }
        for c in b.constants {
            guard let o = oldConstants[c.name] else { continue }
            compareConstant(o, c, into: &log)
        }
    }

    static func compareConstant(_ o: Constant, _ c: Constant, into log: inout ChangeLog) {
        let gated = ABIDiff.gated(c.interfaceRanges, at: log.old.interfaceVersion)
        let toolsOnly = c.visibility == .toolsOnly && o.visibility == .toolsOnly
        if o.value != c.value || o.cType != c.cType || o.type != c.type {
            let (severity, rule) = ABIDiff.judged(o.value != c.value ? "a constant's value" : "a constant's C type", toolsOnly: toolsOnly, gated: gated)
            log.add(c.name, c.location, .changed, severity, rule, old: ABIDiff.value(o), new: ABIDiff.value(c))
        }
        if o.visibility != c.visibility {
            let hidden = c.visibility == .toolsOnly
            log.add(c.name, c.location, .changed, hidden ? .breaking : .compatible,
                    hidden ? "now tools-only: guests no longer see it" : "now visible to guests", old: o.visibility.rawValue, new: c.visibility.rawValue)
        }
        log.aspects(c.name, c.location, o, c, [
            Aspect("moved to another header", .compatible) { $0.location.header },
            Aspect("the C type the spec gives a constant: its Swift type, so call sites change", .breaking) { c in c.specType.map { "\($0.cType) (\(spelled($0.type)!))" } },
            Aspect("tools-only: the value the tools view gives", .compatible) { c in c.toolsValue.map { v in
                if case .integer(_, true) = v { return ABIDiff.text(v) + " unsigned" }
                return ABIDiff.text(v)
            } },
        ])
        if log.old.interfaceThresholds != nil, log.new.interfaceThresholds != nil, o.interfaceRanges != c.interfaceRanges {
            log.add(c.name, c.location, .changed, .compatible, "where a value holds across interface versions",
                    old: ABIDiff.ranges(o.interfaceRanges), new: ABIDiff.ranges(c.interfaceRanges))
        }
    }

    static func enumerators(_ m: ABIModel) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for t in m.types { for e in t.enumerators ?? [] { out[e.name] = e.value } }
        return out
    }

    static func integer(_ v: Constant.Value) -> Int64? { if case let .integer(i, _) = v { return i }; return nil }
}

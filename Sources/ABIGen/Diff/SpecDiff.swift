// What the spec made of the headers: constant families, hypercalls, the boot include. These are
// the Swift API and the calling convention a guest is written against.

enum SpecDiff {
    static let spec = "(spec)"

    static func compare(_ log: inout ChangeLog) {
        let oldConstants = Set(log.old.constants.map(\.name)), newConstants = Set(log.new.constants.map(\.name))

        log.matched(log.old.families, log.new.families, key: \.swiftName, removed: { log, f in
            log.add("family \(f.swiftName)", nil, .removed, .breaking, "removal of a family: Swift source that names it no longer compiles", old: f.prefix, new: nil, header: spec)
        }, added: { log, f in
            log.add("family \(f.swiftName)", nil, .added, .compatible, "addition", old: nil, new: f.prefix, header: spec)
        }, both: { log, o, f in
            log.aspects("family \(f.swiftName)", nil, o, f, [
                Aspect("a family's shape", .breaking) { $0.shape.rawValue },
                Aspect("a family's Swift raw type", .breaking) { spelled($0.rawType) },
                Aspect("a family's prefix", .compatible) { $0.prefix },
                Aspect("a family's type field", .breaking) { f in f.typeFieldMask.map { "\($0) as \(f.typeFieldName ?? "?")" } },
            ], header: spec)
            // A member that comes or goes with its constant is reported on the constant.
            for (list, label) in [({ (x: Family) in x.members }, "member"), ({ (x: Family) in x.typeFieldMembers ?? [] }, "type-field member")] {
                let was = Set(list(o)), now = Set(list(f))
                for m in was.subtracting(now).sorted() where newConstants.contains(m) {
                    log.add("family \(f.swiftName).\(m)", nil, .removed, .breaking, "a family's \(label) left it: Swift source that names it no longer compiles", old: m, new: nil, header: spec)
                }
                for m in now.subtracting(was).sorted() where oldConstants.contains(m) || !newConstants.contains(m) {
                    log.add("family \(f.swiftName).\(m)", nil, .added, .compatible, "addition: an existing constant joins a family", old: nil, new: m, header: spec)
                }
            }
        })

        let oldValueChanged = Set(log.changes.filter { $0.rule.contains("a constant's value") }.map(\.entity))
        log.matched(log.old.hypercalls, log.new.hypercalls, key: \.name, removed: { log, h in
            log.add("hypercall \(h.name)", nil, .removed, .breaking, "removal of a hypercall", old: "\(h.numberConstant) = \(h.number)", new: nil, header: spec)
        }, added: { log, h in
            log.add("hypercall \(h.name)", nil, .added, .compatible, "addition", old: nil, new: "\(h.numberConstant) = \(h.number)", header: spec)
        }, both: { log, o, h in
            log.aspects("hypercall \(h.name)", nil, o, h, [
                Aspect("a hypercall's number", .breaking) { "\($0.numberConstant) = \($0.number)" },
                Aspect("a hypercall's arguments (registers, types, directions)", .breaking) { $0.arguments.map(argument).joined(separator: ", ") },
                Aspect("a hypercall's sub-op family", .breaking) { $0.family },
                Aspect("a hypercall's typed wrappers", .breaking) { $0.typed == false ? "raw entry only" : "typed" },
            ], header: spec)
            log.matched(o.subops, h.subops, key: \.constant, removed: { log, s in
                log.add("hypercall \(h.name): \(s.constant)", nil, .removed, .breaking, "removal of a sub-op", old: subop(s), new: nil, header: spec)
            }, added: { log, s in
                log.add("hypercall \(h.name): \(s.constant)", nil, .added, .compatible, "addition: a new sub-op", old: nil, new: subop(s), header: spec)
            }, both: { log, os, s in
                log.aspects("hypercall \(h.name): \(s.constant)", nil, os, s, [
                    Aspect("a sub-op's argument type", .breaking) { $0.argument ?? "none" },
                    Aspect("a sub-op's direction", .breaking) { $0.direction.rawValue },
                ], header: spec)
                // Its value is the constant's, reported there unless only the sub-op says so.
                if os.value != s.value && !oldValueChanged.contains(s.constant) {
                    log.add("hypercall \(h.name): \(s.constant)", nil, .changed, .breaking, "a constant's value", old: String(os.value), new: String(s.value), header: spec)
                }
            })
        })

        for (old, new, what) in [(log.old.bootConstants, log.new.bootConstants, "constant"), (log.old.bootLayouts, log.new.bootLayouts, "layout")] {
            for name in Set(old).subtracting(new).sorted() {
                log.add("boot \(what) \(name)", nil, .removed, .breaking, "removal from the boot include: a boot stub that uses it no longer assembles", old: name, new: nil, header: spec)
            }
            for name in Set(new).subtracting(old).sorted() {
                log.add("boot \(what) \(name)", nil, .added, .compatible, "addition", old: nil, new: name, header: spec)
            }
        }
    }

    static func argument(_ a: Hypercall.Argument) -> String {
        var s = "\(a.name): \(a.cType)"
        if let t = a.type { s += " (\(spelled(t)!))" }
        if let d = a.direction { s += " \(d.rawValue)" }
        if let c = a.count { s += " [count \(c)]" }
        return s
    }

    static func subop(_ s: Hypercall.SubOp) -> String { "\(s.value): \(s.argument ?? "no argument") \(s.direction.rawValue)" }
}

// The header set itself: which headers there are and how each is read, the interface versions
// they test for, the macros that are not values, and what the generator could not express.

enum HeaderSetDiff {
    static func compare(_ log: inout ChangeLog) {
        let a = log.old, b = log.new
        for h in Set(a.headers).subtracting(b.headers).sorted() {
            log.add(h, nil, .removed, .breaking, "removal of a header: a guest that includes it no longer compiles", old: h, new: nil, header: h)
        }
        for h in Set(b.headers).subtracting(a.headers).sorted() {
            log.add(h, nil, .added, .compatible, "addition", old: nil, new: h, header: h)
        }
        for h in Set(a.includedThrough.keys).union(b.includedThrough.keys).sorted() where a.includedThrough[h] != b.includedThrough[h] {
            log.add(h, nil, .changed, .compatible, "how a header is compiled (on its own, or through another)",
                    old: a.includedThrough[h].map { "through \($0)" } ?? "on its own", new: b.includedThrough[h].map { "through \($0)" } ?? "on its own", header: h)
        }
        log.matched(a.skippedHeaders, b.skippedHeaders, key: \.header, removed: { log, s in
            log.add(s.header, nil, .changed, .compatible, "a file no longer left out of the ABI", old: s.reason, new: nil, header: s.header)
        }, added: { log, s in
            log.add(s.header, nil, .changed, .compatible, "a file left out of the ABI", old: nil, new: s.reason, header: s.header)
        }, both: { log, o, s in
            log.aspects(s.header, nil, o, s, [Aspect("why a file is left out of the ABI", .compatible) { $0.reason }], header: s.header)
        })
        if let was = a.interfaceThresholds, let now = b.interfaceThresholds {
            for v in Set(was).subtracting(now).sorted() {
                log.add("interface version \(v)", nil, .removed, .compatible, "an interface version the headers no longer test for (each layout and value it decided is judged on its own)", old: v, new: nil)
            }
            for v in Set(now).subtracting(was).sorted() {
                log.add("interface version \(v)", nil, .added, .compatible, "addition: an interface version the headers test for", old: nil, new: v)
            }
        }
        log.aspects("the headers", nil, a, b, [
            Aspect("the target", .breaking) { $0.target },
            Aspect("the headers' latest interface version", .compatible) { $0.latestInterfaceVersion },
        ])
        log.matched(a.nonValueMacros, b.nonValueMacros, key: \.name, removed: { log, m in
            // A macro naming a type is C API; a header guard or an empty marker is not.
            let api = m.category == .type || m.category == .attribute
            log.add(m.name, m.location, .removed, api ? .breaking : .compatible, api ? "removal" : "removal of a macro that is not a value (a guard or marker)",
                    old: m.category.rawValue, new: nil)
        }, added: { log, m in
            log.add(m.name, m.location, .added, .compatible, "addition", old: nil, new: m.category.rawValue)
        }, both: { log, o, m in
            log.aspects(m.name, m.location, o, m, [
                Aspect("a macro's category (what its body is instead of a value)", .compatible) { $0.category.rawValue },
                Aspect("moved to another header", .compatible) { $0.location.header },
            ])
        })
        log.matched(a.unexpressed, b.unexpressed, key: \.entity, removed: { log, u in
            log.add(u.entity, u.location, .changed, .compatible, "now expressed in Swift", old: u.reason, new: nil)
        }, added: { log, u in
            log.add(u.entity, u.location, .changed, .breaking, "no longer expressed in Swift", old: nil, new: u.reason)
        }, both: { log, o, u in
            log.aspects(u.entity, u.location, o, u, [
                Aspect("why the generator cannot express it", .compatible) { $0.reason },
                Aspect("moved to another header", .compatible) { $0.location?.header },
            ])
        })
    }
}

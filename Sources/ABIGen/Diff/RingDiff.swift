// Rings: what both ends compute without negotiating (entries per page, a byte ring's capacity,
// where each index lives), and each instance appearing or going.

enum RingDiff {
    static func compare(_ log: inout ChangeLog) {
        let oldTypes = log.old.typeIndex, newTypes = log.new.typeIndex
        func toolsOnly(_ key: String, _ types: [String: TypeDecl]) -> Bool { types[key]?.visibility == .toolsOnly }
        func removal(_ entity: String, _ at: SourceLocation, tools: Bool, _ rule: String, old: String) -> (inout ChangeLog) -> Void {
            { $0.add(entity, at, .removed, tools ? .compatible : .breaking, tools ? "tools-only: not part of a guest's ABI" : rule, old: old, new: nil) }
        }

        log.matched(log.old.rings, log.new.rings, key: \.name, removed: { log, r in
            removal("ring \(r.name)", r.location, tools: toolsOnly("struct \(r.name)_sring", oldTypes), "removal of a ring instance", old: "\(r.pageRingSize) entries per page")(&log)
        }, added: { log, r in
            log.add("ring \(r.name)", r.location, .added, .compatible, "addition", old: nil, new: "\(r.pageRingSize) entries per page")
        }, both: { log, o, r in
            let tools = toolsOnly("struct \(r.name)_sring", newTypes)
            if o.pageRingSize != r.pageRingSize {
                let gate = ABIDiff.gated(newTypes["struct \(r.name)_sring"]?.interfaceRanges, at: log.old.interfaceVersion)
                    || ABIDiff.gated(newTypes["union \(r.name)_sring_entry"]?.interfaceRanges, at: log.old.interfaceVersion)
                let (severity, rule) = ABIDiff.judged("a ring's entries per page", toolsOnly: tools, gated: gate)
                log.add("ring \(r.name)", r.location, .changed, severity, rule, old: "\(o.pageRingSize) entries per page", new: "\(r.pageRingSize) entries per page")
            }
            log.aspects("ring \(r.name)", r.location, o, r, [
                Aspect(tools ? "tools-only: a ring's entry types" : "a ring's entry types", tools ? .compatible : .breaking) { "\($0.request), \($0.response)" },
                Aspect("moved to another header", .compatible) { $0.location.header },
            ])
        })

        log.matched(log.old.byteRings ?? [], log.new.byteRings ?? [], key: { "\($0.interface).\($0.buffer)" }, removed: { log, r in
            removal("byte ring \(r.interface).\(r.buffer)", r.location, tools: toolsOnly(r.interface, oldTypes), "removal of a ring instance", old: "\(r.capacity) bytes")(&log)
        }, added: { log, r in
            log.add("byte ring \(r.interface).\(r.buffer)", r.location, .added, .compatible, "addition", old: nil, new: "\(r.capacity) bytes")
        }, both: { log, o, r in
            let tools = toolsOnly(r.interface, newTypes)
            log.aspects("byte ring \(r.interface).\(r.buffer)", r.location, o, r, [
                Aspect(tools ? "tools-only: a byte ring's capacity" : "a byte ring's capacity", tools ? .compatible : .breaking) { "\($0.capacity) bytes" },
                Aspect(tools ? "tools-only: a ring's index or data offset" : "a ring's index or data offset", tools ? .compatible : .breaking) {
                    "data at \($0.dataOffset), consumer at \($0.consumerOffset), producer at \($0.producerOffset)"
                },
                Aspect("moved to another header", .compatible) { $0.location.header },
            ])
        })

        log.matched(log.old.flexRings ?? [], log.new.flexRings ?? [], key: \.name, removed: { log, r in
            removal("flex ring \(r.name)", r.location, tools: toolsOnly(r.interface, oldTypes), "removal of a ring instance", old: r.interface)(&log)
        }, added: { log, r in
            log.add("flex ring \(r.name)", r.location, .added, .compatible, "addition", old: nil, new: r.interface)
        }, both: { log, o, r in
            let tools = toolsOnly(r.interface, newTypes)
            log.aspects("flex ring \(r.name)", r.location, o, r, [
                Aspect(tools ? "tools-only: a ring's index or data offset" : "a ring's index or data offset", tools ? .compatible : .breaking) {
                    "in \($0.inConsumerOffset)/\($0.inProducerOffset), out \($0.outConsumerOffset)/\($0.outProducerOffset), ring_order \($0.ringOrderOffset), ref \($0.referencesOffset)"
                },
                Aspect("a flex ring's interface type", .breaking) { $0.interface },
                Aspect("moved to another header", .compatible) { $0.location.header },
            ])
        })
    }
}

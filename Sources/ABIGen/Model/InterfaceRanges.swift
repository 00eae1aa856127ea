// Reads the guest view at every interface version the headers test for and records where each
// type's layout and each constant's value hold.
import Foundation

/// What the guest view says at one interface version: every type's shape and every value, as
/// the original per-header reading merges them.
struct InterfaceReading: Equatable {
    var shapes: [String: ModelBuilder.ShapeKey]
    var values: [String: Constant.Value]

    /// The merge the model itself uses: units that compile, types unified (headers that disagree
    /// with themselves at a version have no types there), the first header's value for a name.
    init(_ facts: [TranslationUnitFacts]) {
        let clean = facts.filter { $0.errors.isEmpty }
        // `ModelBuilder.unify` then each declaration's shape, without copying the declarations:
        // the first declaration of a key gives its shape, and a second with another shape leaves
        // no types at all.
        var shapes: [String: ModelBuilder.ShapeKey] = [:]
        var disagree = false
        unify: for f in clean {
            for d in f.types {
                let shape = ModelBuilder.shape(d)
                if let existing = shapes[d.key] {
                    if existing != shape { disagree = true; break unify }
                } else {
                    shapes[d.key] = shape
                }
            }
        }
        self.shapes = disagree ? [:] : shapes
        values = [:]
        for f in clean { for m in f.macros + f.enumConstants { if let value = m.value, values[m.name] == nil { values[m.name] = value } } }
    }
}

/// Reads the guest view at many interface versions with one translation unit per version that
/// includes nearly every header, instead of one unit per header and version (21 versions times
/// 68 headers for 4.17).
///
/// Why that reads what the headers' own units read. Every header is guarded, so in the combined
/// unit each is preprocessed once, after the headers before it; its entities can differ from its
/// own unit's only through what other headers declare or define:
/// - a second definition of a tag or typedef: a compile error in the combined unit;
/// - a macro two files define differently: the combined unit's probe sees the last definition;
/// - a name that resolves only beside another header (a struct pointer complete, a macro body
///   that evaluates): a different shape or value.
/// The group is first checked at the base interface version against the units the model was
/// built from, type by type and value by value; a header with any difference or error leaves the
/// group and is read on its own at every version. At each other version the combined unit is
/// used only if it compiles, no candidate macro has definitions with different bodies in two
/// files, and no value disagrees with a header read on its own (whose order would decide);
/// otherwise that version reads every header on its own, as the original reading did. What is
/// left unchecked is a header that uses, without including it, something another header
/// declares only at some versions other than the base; Xen's headers include what they use
/// (its headers.chk compiles each alone), and every release 4.6 to 4.22 yields the same
/// manifest either way.
struct InterfaceRangeReader {
    let tree: HeaderTree
    let selection: HeaderSelection
    let candidates: [String: [String]]
    let own: [String]
    let threads: Int
    /// See `refusingAtEveryVersion`.
    var refusesAtEveryVersion: Set<String> = []

    /// The guest view at each threshold, `base` (the model's own units, by header) reused at its
    /// own version.
    func readings(at thresholds: [UInt32], base: [String: TranslationUnitFacts], baseVersion: UInt32) -> [InterfaceReading] {
        let pool = WorkPool(threads: threads)
        final class Box: @unchecked Sendable { var readings: [InterfaceReading] = [] }
        let box = Box()
        readings(at: thresholds, base: base, baseVersion: baseVersion, on: pool) { box.readings = $0 }
        pool.wait()
        return box.readings
    }

    /// The same readings as jobs on `pool`; the last job to finish hands them to `done`.
    func readings(at thresholds: [UInt32], base: [String: TranslationUnitFacts], baseVersion: UInt32, on pool: WorkPool,
                  done: @escaping ([InterfaceReading]) -> Void) {
        let baseReading = InterfaceReading(own.map { base[$0]! })
        func read(_ t: UInt32, group: CombinedUnit) -> InterfaceReading {
            t == baseVersion ? baseReading : reading(at: t, group: group, alone: own.filter { !group.headers.contains($0) })
        }
        // The check at the base version runs beside the other versions' readings, which assume
        // it keeps every header that compiles there (it does for every release so far); they are
        // read again with the smaller group when it does not.
        let hopeful = combinedUnit(own.filter { base[$0]!.errors.isEmpty })
        pool.map(thresholds.count + 1, { i -> (group: [String]?, reading: InterfaceReading?) in
            guard i > 0 else { return (verifiedGroup(hopeful, base: base, baseVersion: baseVersion), nil) }
            return (nil, read(thresholds[i - 1], group: hopeful))
        }, then: { results in
            let group = results[0].group!
            if group == hopeful.headers { return done(results.dropFirst().map { $0.reading! }) }
            let smaller = combinedUnit(group)
            pool.map(thresholds.count, { read(thresholds[$0], group: smaller) }, then: done)
        })
    }

    func configuration(_ t: UInt32) -> ParseConfiguration {
        ParseConfiguration(includeDir: tree.includeDir.path, interfaceVersion: t)
    }

    /// The unit that includes `headers` in order: their prerequisites first, every candidate macro
    /// of theirs probed. Its main file is the same at every version, so it is made once.
    struct CombinedUnit {
        var headers: [String]
        var prerequisites: [String]
        var probes: [String]
        var mainFile: TranslationUnitReader.MainFile?
    }

    func combinedUnit(_ headers: [String]) -> CombinedUnit {
        var prerequisites: [String] = []
        for h in headers { for p in selection.prerequisites[h] ?? [] where !prerequisites.contains(p) { prerequisites.append(p) } }
        var seen = Set<String>()
        let probes = headers.flatMap { candidates[$0] ?? [] }.filter { seen.insert($0).inserted }
        var unit = CombinedUnit(headers: headers, prerequisites: prerequisites, probes: probes)
        unit.mainFile = reader(unit, at: 0).mainFile()
        return unit
    }

    func reader(_ unit: CombinedUnit, at t: UInt32) -> TranslationUnitReader {
        var reader = TranslationUnitReader(configuration: configuration(t), headers: unit.headers, view: .guest,
                                           prerequisites: unit.prerequisites, probeCandidates: unit.probes, prelude: nil)
        reader.readsEveryMacroBody = false
        reader.madeMainFile = unit.mainFile
        return reader
    }

    func combined(_ unit: CombinedUnit, at t: UInt32) -> TranslationUnitFacts {
        reader(unit, at: t).read()
    }

    /// A header's own unit, as the model reads it. Most headers read alone refuse the guest view:
    /// that is settled first by a parse without the prelude that stops at the first error, and
    /// the prelude is built only for a header that compiles.
    func alone(_ header: String, at t: UInt32, prelude: () -> Prelude?) -> TranslationUnitFacts {
        func reader(_ prelude: Prelude?) -> TranslationUnitReader {
            TranslationUnitReader(configuration: configuration(t), header: header, view: .guest,
                                  prerequisites: selection.prerequisites[header] ?? [],
                                  probeCandidates: candidates[header] ?? [], prelude: prelude)
        }
        guard !refusesAtEveryVersion.contains(header), reader(nil).compiles() else {
            var refused = TranslationUnitFacts(header: header, view: .guest)
            refused.errors.append(HeaderDiagnostic(file: header, line: 0, message: "does not compile", isErrorDirective: false))
            return refused
        }
        return reader(prelude()).read()
    }

    /// Headers whose own unit, at the base version, stops at an `#error` of their own that comes
    /// before anything the interface version could change: no `#include` and no test of
    /// `__XEN_INTERFACE_VERSION__` above it (domctl.h and sysctl.h refuse the guest view so). The
    /// lines before it read the same at every version, so it refuses at every version, and no
    /// parse is needed to learn that again.
    static func refusingAtEveryVersion(_ headers: [String], base: [String: TranslationUnitFacts], tree: HeaderTree) -> Set<String> {
        var out = Set<String>()
        for h in headers {
            guard let line = base[h]?.errors.first(where: { $0.isErrorDirective && $0.file == h })?.line, line > 0 else { continue }
            let before = tree.contents(of: h).split(separator: "\n", omittingEmptySubsequences: false).prefix(line - 1)
            let versionFree = !before.contains { l in
                l.contains("__XEN_INTERFACE_VERSION__")
                    || l.drop { $0 == " " || $0 == "\t" }.hasPrefix("#") && l.contains("include")
            }
            if versionFree { out.insert(h) }
        }
        return out
    }

    /// The largest group of `candidates` (in order) whose combined unit reads, at the base
    /// version, exactly what their own units do.
    func verifiedGroup(_ candidates: [String], base: [String: TranslationUnitFacts], baseVersion: UInt32) -> [String] {
        verifiedGroup(combinedUnit(candidates), base: base, baseVersion: baseVersion)
    }

    func verifiedGroup(_ candidates: CombinedUnit, base: [String: TranslationUnitFacts], baseVersion: UInt32) -> [String] {
        var unit = candidates
        while !unit.headers.isEmpty {
            let together = combined(unit, at: baseVersion)
            let culprits = Self.culprits(together, own: unit.headers.map { base[$0]! })
            if culprits.isEmpty { return unit.headers }
            unit = combinedUnit(unit.headers.filter { !culprits.contains($0) })
        }
        return []
    }

    /// The headers whose entities the combined unit does not read as their own units do; every
    /// header when the difference cannot be pinned on one.
    static func culprits(_ together: TranslationUnitFacts, own: [TranslationUnitFacts]) -> Set<String> {
        let everyone = Set(own.map(\.header))
        var out = Set<String>()
        // A unit with errors reads nothing (as a header's own unit with errors contributes nothing).
        for e in together.errors {
            guard everyone.contains(e.file) else { return everyone }
            out.insert(e.file)
        }
        if !out.isEmpty { return out }
        func mentioning(_ name: String, where matches: (TranslationUnitFacts) -> Bool, at location: SourceLocation?) -> Set<String> {
            let found = Set(own.filter(matches).map(\.header))
            if !found.isEmpty { return found }
            if let header = location?.header, everyone.contains(header) { return [header] }
            return everyone
        }
        func definingMacro(_ name: String) -> (TranslationUnitFacts) -> Bool {
            { ($0.macros + $0.enumConstants).contains { $0.name == name } }
        }
        for name in ambiguousNames(together) { out.formUnion(mentioning(name, where: definingMacro(name), at: nil)) }
        let mine = InterfaceReading([together]), theirs = InterfaceReading(own)
        for key in Set(mine.shapes.keys).union(theirs.shapes.keys) where mine.shapes[key] != theirs.shapes[key] {
            out.formUnion(mentioning(key, where: { $0.types.contains { $0.key == key } },
                                     at: together.types.first { $0.key == key }?.location))
        }
        for name in Set(mine.values.keys).union(theirs.values.keys) where mine.values[name] != theirs.values[name] {
            out.formUnion(mentioning(name, where: definingMacro(name),
                                     at: (together.macros + together.enumConstants).first { $0.name == name }?.location))
        }
        return out
    }

    /// Macros that two files define with different bodies: a probe in the combined unit sees the
    /// last definition, where a header's own unit may see another. (A file that redefines its own
    /// macro, as xen.h does behind an interface-version test, is read the same either way.)
    static func ambiguousNames(_ facts: TranslationUnitFacts) -> Set<String> {
        // Sets only for the few names defined more than once.
        var first: [String: (file: String, body: String)] = [:]
        var again: [String: (files: Set<String>, bodies: Set<String>)] = [:]
        for m in facts.macros where !m.functionLike {
            guard let f = first[m.name] else { first[m.name] = (m.location.header, m.body); continue }
            again[m.name, default: ([f.file], [f.body])].files.insert(m.location.header)
            again[m.name]!.bodies.insert(m.body)
        }
        return Set(again.filter { $0.value.files.count > 1 && $0.value.bodies.count > 1 }.keys)
    }

    func reading(at t: UInt32, group: CombinedUnit, alone headers: [String]) -> InterfaceReading {
        var built: Prelude??
        func prelude() -> Prelude? {
            if built == nil { built = Prelude.build(configuration: configuration(t), view: .guest, into: tree.includeDir) }
            return built!
        }
        let apart = headers.map { alone($0, at: t, prelude: prelude) }
        if !group.headers.isEmpty {
            let together = combined(group, at: t)
            let separate = InterfaceReading(apart), mine = InterfaceReading([together])
            // Types need no such check: a shape the group and a header disagree on makes
            // the unification fail, as it does between the headers' own units.
            if together.errors.isEmpty && Self.ambiguousNames(together).isEmpty
                && mine.values.allSatisfy({ name, value in separate.values[name].map { $0 == value } ?? true }) {
                // Usually every header read alone refuses the guest view, and the group is all.
                return apart.allSatisfy { !$0.errors.isEmpty } ? mine : InterfaceReading(apart + [together])
            }
        }
        return InterfaceReading(own.map { h in headers.contains(h) ? apart[headers.firstIndex(of: h)!] : alone(h, at: t, prelude: prelude) })
    }
}

extension ModelBuilder {
    /// Every `__XEN_INTERFACE_VERSION__` the headers compare against, as the first version of
    /// each interval they delimit (`> v` starts at v + 1), with 0, ascending, up to `latest`.
    static func interfaceThresholds(_ texts: [String], latest: UInt32) -> [UInt32] {
        var out: Set<UInt32> = [0]
        let regex = try! NSRegularExpression(pattern: #"__XEN_INTERFACE_VERSION__\s*(>=|>|<=|<|==|!=)\s*(0x[0-9a-fA-F]+|[0-9]+)"#)
        // A text without the name cannot match (most headers never test the version).
        for text in texts where DeclarationWalker.holds(text, "__XEN_INTERFACE_VERSION__") {
            let ns = text as NSString
            for m in regex.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                let op = ns.substring(with: m.range(at: 1)), literal = ns.substring(with: m.range(at: 2))
                guard let v = literal.hasPrefix("0x") ? UInt32(literal.dropFirst(2), radix: 16) : UInt32(literal) else { continue }
                let start = op == ">" || op == "<=" ? v &+ 1 : v
                if start <= latest { out.insert(start) }
                if op == "==" || op == "!=", v < latest { out.insert(v + 1) }
            }
        }
        return out.sorted()
    }

    /// Starts reading the guest view at each threshold, on `options.jobs` threads; the result
    /// marks where each type's layout and each constant's value are the ones `model` has now.
    /// `base` holds the guest units the model was read from.
    func startInterfaceRanges(_ model: inout ABIModel, selection: HeaderSelection, candidates: [String: [String]], own: [String],
                              latest: UInt32, base: [String: TranslationUnitFacts], baseVersion: UInt32) -> PendingInterfaceRanges {
        let thresholds = Self.interfaceThresholds(selection.selected.map { tree.contents(of: $0) }, latest: latest)
        model.interfaceThresholds = thresholds.map { String(format: "0x%08x", $0) }
        var reader = InterfaceRangeReader(tree: tree, selection: selection, candidates: candidates, own: own, threads: options.jobs)
        reader.refusesAtEveryVersion = InterfaceRangeReader.refusingAtEveryVersion(own, base: base, tree: tree)
        let pending = PendingInterfaceRanges(model, thresholds: thresholds, pool: WorkPool(threads: options.jobs))
        reader.readings(at: thresholds, base: base, baseVersion: baseVersion, on: pending.pool) { pending.readings = $0 }
        return pending
    }
}

/// Interface-range readings under way, and what they are compared with: each guest type's shape
/// and each guest constant's value as the model had them when the readings started (what the
/// spec and the emitters do meanwhile changes neither).
public final class PendingInterfaceRanges: @unchecked Sendable {
    let thresholds: [UInt32]
    let pool: WorkPool
    let types: [(index: Int, key: String, shape: ModelBuilder.ShapeKey)]
    let constants: [(index: Int, name: String, value: Constant.Value)]
    /// Set by the last reading job, read after `pool.wait()`.
    var readings: [InterfaceReading]?

    init(_ model: ABIModel, thresholds: [UInt32], pool: WorkPool) {
        self.thresholds = thresholds; self.pool = pool
        types = model.types.indices.filter { model.types[$0].visibility == .guest }.map { ($0, model.types[$0].key, ModelBuilder.shape(model.types[$0])) }
        constants = model.constants.indices.filter { model.constants[$0].visibility == .guest }.map { ($0, model.constants[$0].name, model.constants[$0].value) }
    }

    /// Waits for the readings (running them on this thread too) and marks the ranges.
    public func record(into model: inout ABIModel) {
        pool.wait()
        let readings = self.readings!
        let thresholds = self.thresholds
        func ranges(_ holds: [Bool]) -> [InterfaceRange]? {
            guard holds.contains(false) else { return nil }
            var out: [InterfaceRange] = []
            var i = 0
            while i < holds.count {
                guard holds[i] else { i += 1; continue }
                var j = i
                while j + 1 < holds.count && holds[j + 1] { j += 1 }
                out.append(InterfaceRange(from: String(format: "0x%08x", thresholds[i]), to: j + 1 < thresholds.count ? String(format: "0x%08x", thresholds[j + 1]) : nil))
                i = j + 1
            }
            return out
        }
        for t in types {
            precondition(model.types[t.index].key == t.key, "the model's types changed while the interface ranges were read")
            model.types[t.index].interfaceRanges = ranges(readings.map { $0.shapes[t.key] == t.shape })
        }
        for c in constants {
            precondition(model.constants[c.index].name == c.name, "the model's constants changed while the interface ranges were read")
            model.constants[c.index].interfaceRanges = ranges(readings.map { $0.values[c.name] == c.value })
        }
    }

    /// Stops the readings (an error elsewhere ends the run): those not started are dropped, and
    /// the call returns once the running ones are done, so none outlives the headers' staging.
    public func cancel() { pool.cancel() }
}

// Reads every selected header in both views and merges what the translation units say into one model.
import Foundation

public struct GenerationOptions: Sendable {
    public var xenVersion: String
    /// nil: the headers' own `__XEN_LATEST_INTERFACE_VERSION__`.
    public var interfaceVersion: UInt32?
    /// Parallel translation units; defaults to the number of cores.
    public var jobs: Int
    /// Also read the guest view at every interface version the headers test for, and record in
    /// the manifest where each layout and value holds (InterfaceRangeReader: about one more
    /// translation unit per version).
    public var interfaceRanges = true

    public init(xenVersion: String, interfaceVersion: UInt32? = nil, jobs: Int? = nil, interfaceRanges: Bool = true) {
        self.xenVersion = xenVersion; self.interfaceVersion = interfaceVersion; self.interfaceRanges = interfaceRanges
        self.jobs = jobs ?? ProcessInfo.processInfo.activeProcessorCount
    }
}

public struct ModelBuilder {
    public let tree: HeaderTree
    public let options: GenerationOptions

    public init(tree: HeaderTree, options: GenerationOptions) { self.tree = tree; self.options = options }

    public func build() throws -> ABIModel {
        var (model, pending) = try buildDeferringRanges()
        pending?.record(into: &model)
        return model
    }

    /// `build()` but for the interface ranges, whose readings are left running: on
    /// `options.jobs` threads, the caller's included once it waits in `record(into:)`, so what
    /// the caller does before that runs beside them.
    public func buildDeferringRanges() throws -> (ABIModel, PendingInterfaceRanges?) {
        let selection = HeaderSelection.x86_64(tree)
        let latest = try tree.latestInterfaceVersion()
        let interface = options.interfaceVersion ?? latest
        if interface > latest {
            throw ABIGenError(String(format: "interface version 0x%08x is newer than these headers' latest (0x%08x)", interface, latest))
        }
        var model = ABIModel(xenVersion: options.xenVersion, target: "x86_64",
                             interfaceVersion: String(format: "0x%08x", interface),
                             latestInterfaceVersion: String(format: "0x%08x", latest))
        model.skippedHeaders = selection.skipped

        // One job per header and view; headers compiled through another go with their includer.
        let own = selection.selected.filter { selection.includedThrough[$0] == nil }
        var candidates: [String: [String]] = [:]
        for h in selection.selected {
            let target = selection.includedThrough[h] ?? h
            candidates[target, default: []] += Self.objectLikeMacroNames(tree.contents(of: h))
        }
        let configuration = ParseConfiguration(includeDir: tree.includeDir.path, interfaceVersion: interface)
        let preludes = ParallelMap.run([Visibility.guest, .toolsOnly], threads: options.jobs) {
            Prelude.build(configuration: configuration, view: $0, into: tree.includeDir)
        }
        let jobs: [(String, Visibility)] = own.flatMap { [($0, Visibility.guest), ($0, .toolsOnly)] }
        let results = ParallelMap.run(jobs, threads: options.jobs) { job in
            TranslationUnitReader(configuration: configuration, header: job.0, view: job.1,
                                  prerequisites: selection.prerequisites[job.0] ?? [],
                                  probeCandidates: candidates[job.0] ?? [],
                                  prelude: preludes[job.1 == .guest ? 0 : 1]).read()
        }

        var guestFacts: [TranslationUnitFacts] = []
        var toolsFacts: [TranslationUnitFacts] = []
        for header in own {
            let guest = results.first { $0.header == header && $0.view == .guest }!
            let tools = results.first { $0.header == header && $0.view == .toolsOnly }!
            let guestRefuses = guest.errors.contains(where: \.isErrorDirective)
            let toolsRefuses = tools.errors.contains(where: \.isErrorDirective)
            if guestRefuses && toolsRefuses {
                model.skippedHeaders.append(Skipped(header: header, reason: "refuses inclusion in every view: #error \(guest.errors[0].message)"))
                continue
            }
            if let bad = (guestRefuses ? [] : guest.errors).first ?? (toolsRefuses ? nil : tools.errors.first) {
                throw ABIGenError(bad.message, at: "\(tree.root.path)/\(bad.file):\(bad.line)")
            }
            if !guestRefuses { guestFacts.append(guest) }
            toolsFacts.append(tools)
            model.headers.append(header)
        }
        model.headers += selection.selected.filter { selection.includedThrough[$0] != nil }
        model.includedThrough = selection.includedThrough
        model.headers.sort()

        try mergeTypes(guest: guestFacts, tools: toolsFacts, into: &model)
        mergeConstants(guest: guestFacts, tools: toolsFacts, into: &model)
        model.rings = RingFinder.rings(in: model)
        model.byteRings = RingFinder.byteRings(in: model)
        model.flexRings = RingFinder.flexRings(in: model)
        Naming.assignSwiftNames(&model)
        guard options.interfaceRanges else { return (model, nil) }
        let base = Dictionary(uniqueKeysWithValues: results.filter { $0.view == .guest }.map { ($0.header, $0) })
        let pending = startInterfaceRanges(&model, selection: selection, candidates: candidates, own: own, latest: latest,
                                           base: base, baseVersion: interface)
        return (model, pending)
    }

    /// Names `#define`d without a parameter list in a header's text. They are only candidates: the
    /// probe decides, in the real configuration, whether each is defined and what it evaluates to.
    static func objectLikeMacroNames(_ text: String) -> [String] {
        var names: [String] = []
        for raw in text.split(separator: "\n") {
            var line = Substring(raw).drop { $0 == " " || $0 == "\t" }
            guard line.first == "#" else { continue }
            line = line.dropFirst().drop { $0 == " " || $0 == "\t" }
            guard line.hasPrefix("define") else { continue }
            line = line.dropFirst(6)
            guard line.first == " " || line.first == "\t" else { continue }
            line = line.drop { $0 == " " || $0 == "\t" }
            let name = line.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            guard !name.isEmpty, line.dropFirst(name.count).first != "(" else { continue }
            names.append(String(name))
        }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    // MARK: types

    func mergeTypes(guest: [TranslationUnitFacts], tools: [TranslationUnitFacts], into model: inout ABIModel) throws {
        let g = try Self.unify(guest)
        let t = try Self.unify(tools)
        var out: [TypeDecl] = []
        for (key, decl) in g {
            var d = decl
            d.visibility = .guest
            if let other = t[key], Self.shape(other) != Self.shape(decl) {
                d.toolsShape = TypeDecl.Shape(size: other.size, alignment: other.alignment, fields: other.fields, underlying: other.underlying)
                // The tools shape's own anonymous records come along as tools-only entities.
            }
            out.append(d)
        }
        for (key, decl) in t where g[key] == nil {
            var d = decl
            d.visibility = .toolsOnly
            out.append(d)
        }
        // Anonymous records of a tools shape that the guest shape lacks are already tools-only above.
        model.types = out.sorted { ($0.location, $0.key) < ($1.location, $1.key) }
    }

    struct ShapeKey: Hashable { var size: Int; var alignment: Int; var fields: [Field]?; var underlying: TypeRef?; var enumerators: [Enumerator]? }
    static func shape(_ d: TypeDecl) -> ShapeKey {
        ShapeKey(size: d.size, alignment: d.alignment, fields: d.fields, underlying: d.underlying, enumerators: d.enumerators)
    }

    /// One entity per key across translation units; the same key with two shapes is an error.
    static func unify(_ facts: [TranslationUnitFacts]) throws -> [String: TypeDecl] {
        var all: [String: TypeDecl] = [:]
        for f in facts {
            for d in f.types {
                if let existing = all[d.key] {
                    if shape(existing) != shape(d) {
                        throw ABIGenError("\(d.key) has a different layout when \(f.header) is compiled (size \(d.size) against \(existing.size)): the headers disagree with themselves", at: d.location.description)
                    }
                } else {
                    all[d.key] = d
                }
            }
        }
        return all
    }

    // MARK: constants

    func mergeConstants(guest: [TranslationUnitFacts], tools: [TranslationUnitFacts], into model: inout ABIModel) {
        func collect(_ facts: [TranslationUnitFacts]) -> [String: TranslationUnitFacts.MacroFact] {
            var out: [String: TranslationUnitFacts.MacroFact] = [:]
            for f in facts {
                for m in f.macros + f.enumConstants where !m.functionLike {
                    if let existing = out[m.name], existing.value != nil { continue }
                    // A macro's own header decides where it is defined; its value may come from any TU.
                    out[m.name] = m
                }
            }
            return out
        }
        let g = collect(guest), t = collect(tools)
        var constants: [Constant] = []
        var nonValues: [NonValueMacro] = []
        for name in Set(g.keys).union(t.keys) {
            let gm = g[name], tm = t[name]
            if let gm, let value = gm.value, let type = gm.type, let cType = gm.cType {
                var c = Constant(name: name, value: value, cType: cType, type: type, location: gm.location, visibility: .guest)
                if let tv = tm?.value, tv != value { c.toolsValue = tv }
                constants.append(c)
            } else if let tm, let value = tm.value, let type = tm.type, let cType = tm.cType {
                constants.append(Constant(name: name, value: value, cType: cType, type: type, location: tm.location, visibility: .toolsOnly))
            } else if let m = gm ?? tm {
                nonValues.append(NonValueMacro(name: name, location: m.location, category: Self.classify(m.body)))
            }
        }
        model.constants = constants.sorted { ($0.location, $0.name) < ($1.location, $1.name) }
        model.nonValueMacros = nonValues.sorted { ($0.location, $0.name) < ($1.location, $1.name) }
    }

    /// Why an object-like macro has no value: what its body is instead.
    static func classify(_ body: String) -> NonValueCategory {
        let b = body.trimmingCharacters(in: .whitespaces)
        if b.isEmpty { return .empty }
        if b.contains("__attribute__") { return .attribute }
        let typeWords: Set<String> = ["struct", "union", "enum", "unsigned", "signed", "int", "long", "char", "short", "void", "const", "volatile"]
        let words = b.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init)
        if let first = words.first, typeWords.contains(first) || first.hasSuffix("_t") || first.hasPrefix("XEN_GUEST_HANDLE") || first.hasPrefix("__guest_handle") {
            return .type
        }
        if b.hasPrefix("do") || b.contains(";") || b.hasPrefix("{") { return .statement }
        if words.count == 1, let w = words.first, w.first.map({ $0.isLetter || $0 == "_" }) == true { return .aliasOfNonValue }
        return .notConstant
    }
}

/// Runs independent jobs on a fixed number of threads and returns their results in order.
enum ParallelMap {
    final class Results<Out>: @unchecked Sendable {
        var items: [Out?]
        let lock = NSLock()
        var next = 0
        init(_ n: Int) { items = Array(repeating: nil, count: n) }
    }

    static func run<In, Out>(_ inputs: [In], threads: Int, _ body: @escaping (In) -> Out) -> [Out] {
        let results = Results<Out>(inputs.count)
        let workers = max(1, min(threads, inputs.count))
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            let thread = Thread {
                while true {
                    results.lock.lock()
                    let i = results.next
                    results.next += 1
                    results.lock.unlock()
                    guard i < inputs.count else { break }
                    let out = body(inputs[i])
                    results.lock.lock(); results.items[i] = out; results.lock.unlock()
                }
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return results.items.map { $0! }
    }
}

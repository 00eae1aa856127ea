// The pipeline end to end: headers -> clang front -> model -> spec -> expressibility -> emitters.
import Foundation

public struct Generation {
    public var model: ABIModel
    public var files: [GeneratedFile]
    public var summary: String
}

public struct Generator {
    public var tree: HeaderTree
    public var options: GenerationOptions
    public var spec: Spec
    /// The command line that reproduces the output, for the generated files' headers.
    public var provenance: String

    public init(tree: HeaderTree, options: GenerationOptions, spec: Spec, provenance: String) {
        self.tree = tree; self.options = options; self.spec = spec; self.provenance = provenance
    }

    /// Reads the headers, applies the spec and decides what cannot be expressed; no emission.
    public func model() throws -> ABIModel {
        var (model, pending) = try prepared()
        pending?.record(into: &model)
        return model
    }

    /// `model()` with its interface ranges still being read (`pending`): neither the spec nor the
    /// expressibility check looks at them, and they run beside the readings.
    func prepared() throws -> (ABIModel, PendingInterfaceRanges?) {
        var (model, pending) = try ModelBuilder(tree: tree, options: options).buildDeferringRanges()
        do {
            try SpecApplier(spec: spec).apply(to: &model)
            model.unexpressed = Expressibility.unexpressed(in: model)
        } catch {
            pending?.cancel()
            throw error
        }
        return (model, pending)
    }

    /// Every output of a run, in one list: each emitter reads the finished model and returns
    /// its files.
    static func emitters(_ model: ABIModel, provenance: String) -> [any Emitter] {
        let types = SwiftTypes(model: model)
        return [
            SwiftEmitter(model: model, provenance: provenance),                       // Swift/Guest|Tools/<header>.swift, _Support
            FamilyEmitter(model: model, types: types, provenance: provenance),        // Swift/Guest/_Families.swift
            HypercallEmitter(model: model, types: types, provenance: provenance),     // _Hypercalls.swift, TestCases/
            RingEmitter(model: model, types: types, provenance: provenance),          // _Rings.swift (both views), RingTestCases/, check/ring_reference_instances.h
            ManifestEmitter(model: model),                                            // abi.json
            CheckEmitter(model: model, provenance: provenance),                       // check/guest_layout.c, tools_layout.c, SwiftLayoutCheck.swift
            BootConstantsEmitter(model: model, provenance: provenance),               // include/xen_boot_constants.h, check/boot_constants.c
        ]
    }

    /// Every output. Only the manifest records the interface ranges: every other emitter runs
    /// while they are still being read, and `early` gets those files before the wait (the
    /// command writes them meanwhile).
    public func generate(early: ([GeneratedFile]) throws -> Void = { _ in }) throws -> Generation {
        let t0 = Date()
        var (model, pending) = try prepared()
        let t1 = Date()
        var files: [GeneratedFile] = []
        do {
            if !model.unexpressed.isEmpty {
                let list = model.unexpressed.map { "  \($0.location?.description ?? "-"): \($0.entity): \($0.reason)" }.joined(separator: "\n")
                throw ABIGenError("the generator cannot express \(model.unexpressed.count) entities:\n\(list)")
            }
            for emitter in Self.emitters(model, provenance: provenance) where !(emitter is ManifestEmitter) { files += try emitter.emit() }
            try early(files)
        } catch {
            pending?.cancel()
            throw error
        }
        let t2 = Date()
        pending?.record(into: &model)
        let t3 = Date()
        files += try ManifestEmitter(model: model).emit()
        if ProcessInfo.processInfo.environment["ABIGEN_TIMING"] != nil {
            FileHandle.standardError.write(Data(String(format: "model %.3f s, emitters %.3f s, then waited %.3f s for the interface ranges\n",
                                                       t1.timeIntervalSince(t0), Date().timeIntervalSince(t1) - t3.timeIntervalSince(t2),
                                                       t3.timeIntervalSince(t2)).utf8))
        }
        return Generation(model: model, files: files.sorted { $0.path < $1.path }, summary: Self.summary(model))
    }

    public static func summary(_ model: ABIModel) -> String {
        let guestTypes = model.types.filter { $0.visibility == .guest }.count
        var s = "Xen \(model.xenVersion) (\(model.target), interface \(model.interfaceVersion)): \(model.headers.count) headers, "
        s += "\(model.types.count) types (\(guestTypes) guest, \(model.types.count - guestTypes) tools-only, "
        s += "\(model.types.filter { $0.toolsShape != nil }.count) with a tools shape), \(model.constants.count) constants, "
        s += "\(model.families.count) families, \(model.hypercalls.count) hypercalls, \(model.rings.count) rings\n"
        s += "skipped \(model.skippedHeaders.count) files that are not Xen's x86_64 public ABI:\n"
        for k in model.skippedHeaders { s += "  \(k.header): \(k.reason)\n" }
        var byCategory: [String: [String]] = [:]
        for m in model.nonValueMacros { byCategory[m.category.rawValue, default: []].append(m.name) }
        s += "\(model.nonValueMacros.count) object-like macros are not values (see docs/unexpressed.md):\n"
        for (c, names) in byCategory.sorted(by: { $0.key < $1.key }) {
            s += "  \(c) (\(names.count))\(c == "empty" ? "" : ": " + names.joined(separator: ", "))\n"
        }
        s += "cannot express: \(model.unexpressed.isEmpty ? "nothing" : "\(model.unexpressed.count)")\n"
        return s
    }
}

// Decides, between the model and the emitters, what the Swift layer cannot express. The verdict
// goes into the model (`unexpressed`) before any emitter runs; a run with anything in it fails,
// so every emitter may assume what this step admits and none drops an entity while emitting.

enum Expressibility {
    /// Everything in `model` the emitters could not write, in model order (empty for a clean run).
    static func unexpressed(in model: ABIModel) -> [Unexpressed] {
        let types = SwiftTypes(model: model)
        var out: [Unexpressed] = []
        // Records whose tools shape differs are emitted twice (SwiftEmitter), so both shapes count.
        let toolsRoots = Set(model.types.filter { $0.toolsShape != nil }.map { root(of: $0, types) })
        for t in model.types {
            out += problems(t, shape: nil, types)
            if t.visibility == .guest && toolsRoots.contains(root(of: t, types)) {
                out += problems(t, shape: t.toolsShape ?? LayoutFacts.shape(t), types)
            }
        }
        for c in model.constants {
            if case .integer = c.value, types.spelling(types.constantType(c)) == nil {
                out.append(Unexpressed(entity: c.name, location: c.location, reason: "constant of C type \(c.cType) has no Swift equivalent"))
            }
        }
        for f in model.families where types.spelling(f.rawType) == nil {
            out.append(Unexpressed(entity: f.swiftName, location: nil, reason: "family's raw type has no Swift equivalent"))
        }
        out += HypercallPlanner(model: model, types: types).plan().unplanned
        for r in model.rings where RingEmitter.resolve(r, types: types) == nil {
            out.append(Unexpressed(entity: "ring \(r.name)", location: r.location, reason: "its _sring or _sring_entry type lacks the fields of DEFINE_RING_TYPES"))
        }
        for b in model.byteRings ?? [] where types.index[b.interface]?.visibility != .guest {
            out.append(Unexpressed(entity: "byte ring \(b.interface).\(b.buffer)", location: b.location, reason: "the tools layer has no byte-ring layouts"))
        }
        for f in model.flexRings ?? [] where types.index[f.interface]?.visibility != .guest {
            out.append(Unexpressed(entity: "flex ring \(f.name)", location: f.location, reason: "the tools layer has no flex-ring layouts"))
        }
        return out
    }

    static func root(of t: TypeDecl, _ types: SwiftTypes) -> String {
        var k = t.key
        while let p = types.index[k]?.parent { k = p }
        return k
    }

    /// What SwiftEmitter would have to leave out of one declaration.
    static func problems(_ t: TypeDecl, shape: TypeDecl.Shape?, _ types: SwiftTypes) -> [Unexpressed] {
        if t.incomplete == true { return [] }
        switch t.kind {
        case .struct, .union:
            if let pointee = t.guestHandleOf, types.spelling(pointee) != nil, t.fields?.count == 1, case .pointer? = t.fields?.first?.type { return [] }
            var out: [Unexpressed] = []
            for f in shape?.fields ?? t.fields ?? [] {
                if f.isBitfield {
                    if f.bitWidth! > 0, let name = f.name, types.integer(f.type) == nil || types.spelling(f.type) == nil {
                        out.append(Unexpressed(entity: "\(t.key).\(name)", location: t.location, reason: "bitfield of non-integer type \(f.cType)"))
                    }
                } else if case let .flexibleArray(element) = f.type {
                    if types.spelling(element) == nil || f.name == nil {
                        out.append(Unexpressed(entity: "\(t.key).\(f.name ?? "?")", location: t.location, reason: "flexible array of \(f.cType)"))
                    }
                } else if types.spelling(f.type) == nil {
                    out.append(Unexpressed(entity: "\(t.key).\(f.name ?? "(anonymous)")", location: t.location, reason: "field type \(f.cType) has no Swift equivalent"))
                }
            }
            return out
        case .enum:
            if case let .integer(bits, _)? = t.enumIntegerType, [8, 16, 32, 64].contains(bits) { return [] }
            return [Unexpressed(entity: t.key, location: t.location, reason: "enum with no 8-, 16-, 32- or 64-bit integer type")]
        case .typedef:
            if let u = shape?.underlying ?? t.underlying, types.spelling(u) != nil { return [] }
            return [Unexpressed(entity: t.cName, location: t.location, reason: "typedef of a type with no Swift equivalent")]
        }
    }
}

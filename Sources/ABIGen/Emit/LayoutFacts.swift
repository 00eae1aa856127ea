// The facts the checkers assert, derived once from the model so C and Swift check the same things.

/// One field as C code reaches it from a named type: `offsetof(root, designator)`.
struct CheckedField {
    var designator: String
    var swiftPath: String
    var type: TypeRef
    var cType: String
    var offset: Int
    var size: Int
    var bitOffset: Int?
    var bitWidth: Int?
}

/// A record or typedef as C can name it, with its fields flattened through anonymous members.
struct CheckedType {
    var decl: TypeDecl
    /// The named C type it is reached from, and the designator prefix inside it.
    var root: String
    var prefix: String
    var base: Int
    /// C can name its size (named types and named fields' anonymous types).
    var sizeExpression: String?
    var fields: [CheckedField]
}

struct LayoutFacts {
    let model: ABIModel
    let index: [String: TypeDecl]

    init(model: ABIModel) { self.model = model; index = model.typeIndex }

    static func shape(_ t: TypeDecl) -> TypeDecl.Shape {
        TypeDecl.Shape(size: t.size, alignment: t.alignment, fields: t.fields, underlying: t.underlying)
    }

    /// Every model type, placed under the named C type that contains it.
    func checkedTypes(view: Visibility) -> [CheckedType] {
        var out: [CheckedType] = []
        for t in model.types {
            let inView = view == .guest ? t.visibility == .guest : (t.visibility == .toolsOnly || hasToolsShape(rootOf(t)))
            guard inView, t.incomplete != true, !namesIncomplete(t), let placed = place(t, view: view) else { continue }
            out.append(placed)
        }
        return out
    }

    /// A typedef of a type the headers never define has no size to check.
    func namesIncomplete(_ t: TypeDecl) -> Bool {
        var u = t.underlying
        while case let .named(k)? = u, let next = index[k] {
            if next.incomplete == true { return true }
            u = next.underlying
        }
        return false
    }

    func rootOf(_ t: TypeDecl) -> TypeDecl {
        var r = t
        while let p = r.parent, let pt = index[p] { r = pt }
        return r
    }

    func hasToolsShape(_ root: TypeDecl) -> Bool {
        model.types.contains { $0.toolsShape != nil && rootOf($0).key == root.key }
    }

    func fields(_ t: TypeDecl, view: Visibility) -> [Field] {
        if view == .toolsOnly, let s = t.toolsShape { return s.fields ?? [] }
        return t.fields ?? []
    }

    func place(_ t: TypeDecl, view: Visibility) -> CheckedType? {
        guard let parentKey = t.parent else {
            return CheckedType(decl: t, root: t.key, prefix: "", base: 0, sizeExpression: t.key,
                               fields: flatten(t, prefix: "", swiftPrefix: "", base: 0, view: view))
        }
        guard let parent = index[parentKey], let p = place(parent, view: view) else { return nil }
        guard let field = fields(parent, view: view).first(where: { $0.type == .named(t.key) }) else { return nil }
        if let name = field.name {
            let prefix = p.prefix + name + "."
            return CheckedType(decl: t, root: p.root, prefix: prefix, base: p.base + field.offset,
                               sizeExpression: "((\(p.root) *)0)->\(p.prefix)\(name)",
                               fields: flatten(t, prefix: prefix, swiftPrefix: "", base: p.base + field.offset, view: view))
        }
        return CheckedType(decl: t, root: p.root, prefix: p.prefix, base: p.base + field.offset, sizeExpression: nil,
                           fields: flatten(t, prefix: p.prefix, swiftPrefix: "", base: p.base + field.offset, view: view))
    }

    /// Named fields, with anonymous members' fields lifted into their parent as C11 does.
    func flatten(_ t: TypeDecl, prefix: String, swiftPrefix: String, base: Int, view: Visibility) -> [CheckedField] {
        var out: [CheckedField] = []
        for f in fields(t, view: view) {
            if let name = f.name {
                if f.isBitfield && f.bitWidth == 0 { continue }
                out.append(CheckedField(designator: prefix + name, swiftPath: swiftPrefix + name, type: f.type, cType: f.cType,
                                        offset: base + f.offset, size: f.size,
                                        bitOffset: f.bitOffset.map { $0 + base * 8 }, bitWidth: f.bitWidth))
            } else if case let .named(k) = f.type, let inner = index[k] {
                out += flatten(inner, prefix: prefix, swiftPrefix: swiftPrefix, base: base + f.offset, view: view)
            }
        }
        return out
    }
}

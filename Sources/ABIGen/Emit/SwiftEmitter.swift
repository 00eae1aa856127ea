// Emits the Swift layer's declarations: one file per header for the guest view, the tools view
// apart, and the support file they lean on.

struct SwiftEmitter: Emitter {
    let model: ABIModel
    let types: SwiftTypes
    let provenance: String

    init(model: ABIModel, provenance: String) {
        self.model = model; self.provenance = provenance
        types = SwiftTypes(model: model)
    }

    /// `Swift/Guest/*.swift` (the XenABI module) and `Swift/Tools/*.swift` (XenToolsABI).
    func emit() -> [GeneratedFile] {
        var guest: [String: String] = [:]
        var tools: [String: String] = [:]
        let toolsRoots = toolsVariantRoots()

        for t in model.types {
            let code = declaration(t, shape: nil)
            if t.visibility == .guest { guest[t.location.header, default: ""] += code } else { tools[t.location.header, default: ""] += code }
            if toolsRoots.contains(root(of: t)) && t.visibility == .guest {
                tools[t.location.header, default: ""] += declaration(t, shape: t.toolsShape ?? LayoutFacts.shape(t))
            }
        }
        for c in model.constants {
            let code = constant(c)
            if c.visibility == .guest { guest[c.location.header, default: ""] += code } else { tools[c.location.header, default: ""] += code }
        }
        var files: [GeneratedFile] = []
        for (header, body) in guest.sorted(by: { $0.key < $1.key }) {
            files.append(GeneratedFile(path: "Swift/Guest/" + Self.fileName(header), contents: fileHeader("guest view of \(header)", imports: []) + body))
        }
        for (header, body) in tools.sorted(by: { $0.key < $1.key }) {
            files.append(GeneratedFile(path: "Swift/Tools/" + Self.fileName(header), contents: fileHeader("tools view (__XEN_TOOLS__) of \(header)", imports: ["XenABI"]) + body))
        }
        files.append(GeneratedFile(path: "Swift/Guest/_Support.swift", contents: fileHeader("layout support", imports: []) + SwiftSupport.source))
        return files
    }

    static func fileName(_ header: String) -> String {
        header.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: ".h", with: "") + ".swift"
    }

    func fileHeader(_ what: String, imports: [String]) -> String { ABIGen.fileHeader(model, provenance, what, imports: imports) }

    func root(of t: TypeDecl) -> String {
        var k = t.key
        while let p = types.index[k]?.parent { k = p }
        return k
    }

    /// Records whose tools shape differs anywhere inside them are re-declared whole in the tools
    /// module, nested types included, so no extension ever adds a second nested type of one name.
    func toolsVariantRoots() -> Set<String> {
        Set(model.types.filter { $0.toolsShape != nil }.map { root(of: $0) })
    }

    func declaration(_ t: TypeDecl, shape: TypeDecl.Shape?) -> String {
        let where_ = "\(t.location.header):\(t.location.line)"
        var doc = "/// `\(t.kind == .typedef ? "typedef " : "")\(t.kind == .typedef ? t.cName : t.key)` (\(where_)): C size \(shape?.size ?? t.size), alignment \(shape?.alignment ?? t.alignment)."
        if t.visibility == .toolsOnly || shape != nil { doc += " Tools view (`__XEN_TOOLS__`)." }
        doc += "\n"
        var name = t.swiftName
        var opener = ""
        var closer = ""
        if let dot = name.lastIndex(of: ".") {
            opener = "extension \(name[..<dot]) {\n"
            closer = "}\n"
            name = String(name[name.index(after: dot)...])
        }
        if t.incomplete == true {
            return opener + "/// `\(t.key)` (\(where_)): declared but never defined by the headers; only pointers to it exist.\n" +
                "public enum \(name) {}\n" + closer + "\n"
        }
        switch t.kind {
        case .struct, .union:
            if let pointee = t.guestHandleOf, let p = types.spelling(pointee), t.fields?.count == 1, case let .pointer(_, const)? = t.fields?.first?.type {
                return doc + "public typealias \(name) = \(const ? "XenConstGuestHandle" : "XenGuestHandle")<\(p)>\n\n"
            }
            let record = SwiftRecordEmitter(types: types, decl: t, shape: shape)
            let body = record.emit()
            return opener + doc + "@frozen public struct \(name): BitwiseCopyable {\n" + body + "}\n" + closer + "\n"
        case .enum:
            guard case let .integer(bits, signed)? = t.enumIntegerType else { preconditionFailure("the expressibility step admits only enums of an integer type: \(t.key)") }
            let raw = (signed ? "Int" : "UInt") + "\(bits)"
            var s = doc + "@frozen public struct \(name): RawRepresentable, Equatable, BitwiseCopyable {\n"
            s += "    public var rawValue: \(raw)\n"
            s += "    @inline(__always) public init(rawValue: \(raw)) { self.rawValue = rawValue }\n"
            s += "    @inline(__always) public init() { rawValue = 0 }\n"
            for e in t.enumerators ?? [] {
                s += "    /// `\(e.name)` = \(e.value)\n"
                s += "    public static var \(Naming.identifier(e.name)): Self { Self(rawValue: \(e.value)) }\n"
            }
            s += CNameEmitter.property((t.enumerators ?? []).map { (String($0.value), $0.name) }, indent: "    ")
            return opener + s + "}\n" + closer + "\n"
        case .typedef:
            let u = shape?.underlying ?? t.underlying
            guard let u, let spelled = types.spelling(u) else { preconditionFailure("the expressibility step admits only typedefs of a Swift type: \(t.key)") }
            return opener + doc + "public typealias \(name) = \(spelled)\n" + closer + "\n"
        }
    }

    func constant(_ c: Constant) -> String {
        let typed = c.specType.map { ", a `\($0.cType)` by Specs/xen.yaml" } ?? ""
        let doc = "/// `\(c.name)` (\(c.location.header):\(c.location.line)): `\(c.cType)`\(typed).\n"
        switch c.value {
        case let .string(s):
            return doc + "public var \(Naming.identifier(c.name)): StaticString { \(Self.stringLiteral(s)) }\n\n"
        case let .integer(v, unsigned):
            guard let type = types.spelling(types.constantType(c)) else { preconditionFailure("the expressibility step admits only constants of a Swift type: \(c.name)") }
            return doc + "public var \(Naming.identifier(c.name)): \(type) { \(Self.literal(v, unsigned: unsigned)) }\n\n"
        }
    }

    static func literal(_ v: Int64, unsigned: Bool) -> String {
        if unsigned { return "0x" + String(UInt64(bitPattern: v), radix: 16, uppercase: true) }
        return v < 0 ? "-0x" + String(v.magnitude, radix: 16, uppercase: true) : String(v)
    }

    static func stringLiteral(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case _ where u.value < 0x20 || u.value > 0x7e: out += "\\u{\(String(u.value, radix: 16))}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

// Emits the spec's constant families as Swift types whose members are the headers' constants.
import Foundation

struct FamilyEmitter: Emitter {
    let model: ABIModel
    let types: SwiftTypes
    let provenance: String

    func emit() -> [GeneratedFile] {
        [GeneratedFile(path: "Swift/Guest/_Families.swift", contents: fileHeader(model, provenance, "constant families of Specs/xen.yaml") + source())]
    }

    func source() -> String {
        let constants = Dictionary(model.constants.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var out = ""
        for f in model.families {
            guard let raw = types.spelling(f.rawType) else { preconditionFailure("the expressibility step admits only families of a Swift raw type: \(f.swiftName)") }
            let prefix = f.prefix
            func member(_ name: String, _ indent: String) -> String {
                let c = constants[name]!
                let rawRef = types.spelling(types.constantType(c)) == raw ? name : "\(raw)(truncatingIfNeeded: \(name))"
                return "\(indent)/// `\(name)` (\(c.location.header):\(c.location.line))\n" +
                    "\(indent)public static var \(Self.caseName(name, prefix: prefix)): Self { Self(rawValue: \(rawRef)) }\n"
            }
            switch f.shape {
            case .options:
                out += "/// The `\(prefix)*` flags (Specs/xen.yaml).\n"
                out += "@frozen public struct \(f.swiftName): OptionSet, BitwiseCopyable {\n"
                out += "    public var rawValue: \(raw)\n    @inline(__always) public init(rawValue: \(raw)) { self.rawValue = rawValue }\n"
                for m in f.members { out += member(m, "    ") }
                out += "}\n\n"
            case .typedFlags:
                let mask = f.typeFieldMask!
                let fieldName = f.typeFieldName ?? "type"
                let nested = fieldName.prefix(1).uppercased() + fieldName.dropFirst() + "Field"
                out += "/// The `\(prefix)*` word (Specs/xen.yaml): a `\(nested)` field under `\(mask)` and flags.\n"
                out += "@frozen public struct \(f.swiftName): OptionSet, BitwiseCopyable {\n"
                out += "    public var rawValue: \(raw)\n    @inline(__always) public init(rawValue: \(raw)) { self.rawValue = rawValue }\n"
                out += "    @inline(__always) public init(\(fieldName): \(nested), _ flags: \(f.swiftName) = []) { self.rawValue = \(fieldName).rawValue | flags.rawValue }\n\n"
                out += "    /// The values of the field under `\(mask)`.\n"
                out += "    @frozen public struct \(nested): RawRepresentable, Equatable, BitwiseCopyable {\n"
                out += "        public var rawValue: \(raw)\n        @inline(__always) public init(rawValue: \(raw)) { self.rawValue = rawValue }\n"
                for m in f.typeFieldMembers ?? [] { out += member(m, "        ") }
                out += "    }\n\n"
                let maskRef = types.spelling(types.constantType(constants[mask]!)) == raw ? mask : "\(raw)(truncatingIfNeeded: \(mask))"
                out += "    /// The field under `\(mask)`.\n"
                out += "    public var \(fieldName): \(nested) {\n"
                out += "        @inline(__always) get { \(nested)(rawValue: rawValue & \(maskRef)) }\n"
                out += "        @inline(__always) set { rawValue = (rawValue & ~\(maskRef)) | (newValue.rawValue & \(maskRef)) }\n    }\n\n"
                for m in f.members { out += member(m, "    ") }
                out += "}\n\n"
            case .enumeration:
                out += "/// The `\(prefix)*` values (Specs/xen.yaml). A struct, not a Swift `enum`: a value read\n"
                out += "/// from Xen or a peer may be one this release does not list.\n"
                out += "@frozen public struct \(f.swiftName): RawRepresentable, Equatable, BitwiseCopyable {\n"
                out += "    public var rawValue: \(raw)\n    @inline(__always) public init(rawValue: \(raw)) { self.rawValue = rawValue }\n"
                for m in f.members { out += member(m, "    ") }
                out += CNameEmitter.property(f.members.map { ("Self.\(Self.caseName($0, prefix: prefix)).rawValue", $0) }, indent: "    ")
                out += "}\n\n"
            }
        }
        return out
    }

    /// `EVTCHNOP_send` -> `send`: a family member's Swift name (sub-op wrappers use it too).
    static func memberName(_ name: String, prefix: String) -> String {
        var s = String(name.dropFirst(prefix.count))
        if s.isEmpty { s = name }
        if s.first!.isNumber { s = "_" + s }
        return s
    }

    static func caseName(_ name: String, prefix: String) -> String { Naming.identifier(memberName(name, prefix: prefix)) }
}

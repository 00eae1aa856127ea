// How a field, typedef or argument refers to a C type, in the model's own terms.

/// A reference to a C type. Builtins carry their shape; everything declared in Xen's headers is
/// referenced by its model key (see `TypeDecl.key`), so the model stays a flat list of entities.
public indirect enum TypeRef: Hashable, Sendable {
    /// An integer of `bits` width; `char` is 8 bits signed on x86_64.
    case integer(bits: Int, signed: Bool)
    case bool
    case float(bits: Int)
    /// A pointer; `nil` pointee is `void`.
    case pointer(TypeRef?, const: Bool)
    /// A pointer to a function: only its size and alignment are part of the ABI here.
    case functionPointer
    /// A pointer to a type the headers never complete.
    case opaquePointer(String)
    case array(TypeRef, count: Int)
    /// A flexible array member (`T x[]`, or the GNU `T x[0]`): no storage of its own.
    case flexibleArray(TypeRef)
    /// A struct, union, enum or typedef of the model, by key.
    case named(String)

    public var isFlexible: Bool { if case .flexibleArray = self { return true }; return false }
}

extension TypeRef: Codable {
    private enum CodingKeys: String, CodingKey { case kind, bits, signed, to, const, count, element, name }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .integer(bits, signed):
            try c.encode("integer", forKey: .kind); try c.encode(bits, forKey: .bits); try c.encode(signed, forKey: .signed)
        case .bool: try c.encode("bool", forKey: .kind)
        case let .float(bits): try c.encode("float", forKey: .kind); try c.encode(bits, forKey: .bits)
        case let .pointer(to, const):
            try c.encode("pointer", forKey: .kind); try c.encodeIfPresent(to, forKey: .to)
            if const { try c.encode(true, forKey: .const) }
        case .functionPointer: try c.encode("function-pointer", forKey: .kind)
        case let .opaquePointer(name): try c.encode("opaque-pointer", forKey: .kind); try c.encode(name, forKey: .name)
        case let .array(element, count):
            try c.encode("array", forKey: .kind); try c.encode(element, forKey: .element); try c.encode(count, forKey: .count)
        case let .flexibleArray(element): try c.encode("flexible-array", forKey: .kind); try c.encode(element, forKey: .element)
        case let .named(name): try c.encode("named", forKey: .kind); try c.encode(name, forKey: .name)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "integer": self = .integer(bits: try c.decode(Int.self, forKey: .bits), signed: try c.decode(Bool.self, forKey: .signed))
        case "bool": self = .bool
        case "float": self = .float(bits: try c.decode(Int.self, forKey: .bits))
        case "pointer": self = .pointer(try c.decodeIfPresent(TypeRef.self, forKey: .to), const: try c.decodeIfPresent(Bool.self, forKey: .const) ?? false)
        case "function-pointer": self = .functionPointer
        case "opaque-pointer": self = .opaquePointer(try c.decode(String.self, forKey: .name))
        case "array": self = .array(try c.decode(TypeRef.self, forKey: .element), count: try c.decode(Int.self, forKey: .count))
        case "flexible-array": self = .flexibleArray(try c.decode(TypeRef.self, forKey: .element))
        case "named": self = .named(try c.decode(String.self, forKey: .name))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown type kind \(other)")
        }
    }
}

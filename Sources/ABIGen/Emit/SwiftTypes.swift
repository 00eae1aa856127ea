// How model types are spelled in Swift, and the storage plan that gives a Swift struct C's layout.

struct SwiftTypes {
    let model: ABIModel
    let index: [String: TypeDecl]

    init(model: ABIModel) { self.model = model; index = model.typeIndex }

    /// The Swift spelling of a type reference; nil when Swift has no type of that shape.
    func spelling(_ ref: TypeRef) -> String? {
        switch ref {
        case let .integer(bits, signed):
            guard [8, 16, 32, 64].contains(bits) else { return nil }
            return (signed ? "Int" : "UInt") + "\(bits)"
        case .bool: return "Bool"
        case let .float(bits): return bits == 32 ? "Float" : bits == 64 ? "Double" : nil
        case let .pointer(to, const):
            guard let to else { return const ? "UnsafeRawPointer?" : "UnsafeMutableRawPointer?" }
            guard let p = spelling(to) else { return nil }
            return const ? "UnsafePointer<\(p)>?" : "UnsafeMutablePointer<\(p)>?"
        case .functionPointer: return "UnsafeRawPointer?"
        case .opaquePointer: return "OpaquePointer?"
        case let .array(element, count):
            guard let e = spelling(element) else { return nil }
            return "InlineArray<\(count), \(e)>"
        case .flexibleArray: return nil
        case let .named(key): return index[key]?.swiftName
        }
    }

    /// The type a constant has in Swift: the one the spec gives it, else its C value's.
    func constantType(_ c: Constant) -> TypeRef { c.specType?.type ?? c.type }

    /// The zero value of a type, spelled as a Swift expression.
    func zero(_ ref: TypeRef) -> String {
        switch ref {
        case .integer, .float: return "0"
        case .bool: return "false"
        case .pointer, .functionPointer, .opaquePointer: return "nil"
        case let .array(element, _): return ".init(repeating: \(zero(element)))"
        case .flexibleArray: return "()"
        case let .named(key):
            guard let t = index[key] else { return "0" }
            if t.kind == .typedef, let u = t.underlying { return zero(u) }
            // `.init()`: every use has a type context, and a field may share the type's name.
            return ".init()"
        }
    }

    /// Follows typedefs to the type that gives the shape.
    func resolved(_ ref: TypeRef) -> TypeRef {
        if case let .named(key) = ref, let t = index[key], t.kind == .typedef, let u = t.underlying { return resolved(u) }
        return ref
    }

    /// The integer a bitfield's declared type resolves to (through typedefs and enums).
    func integer(_ ref: TypeRef) -> (bits: Int, signed: Bool)? {
        switch resolved(ref) {
        case let .integer(bits, signed): return (bits, signed)
        case .bool: return (8, false)
        case let .named(key):
            if let t = index[key], t.kind == .enum, case let .integer(bits, signed)? = t.enumIntegerType { return (bits, signed) }
            return nil
        default: return nil
        }
    }

    func isEnum(_ ref: TypeRef) -> Bool {
        if case let .named(key) = resolved(ref), index[key]?.kind == .enum { return true }
        return false
    }
}

/// Fixed-size storage covering a byte range, in the widest units its position allows (up to the
/// record's alignment), so a Swift struct reaches the C alignment even where C's comes from a
/// bitfield's declared type.
struct StorageRun {
    var offset: Int
    var unitBits: Int
    var count: Int
    var spelling: String { count == 1 ? "UInt\(unitBits)" : "InlineArray<\(count), UInt\(unitBits)>" }
    var zero: String { count == 1 ? "0" : ".init(repeating: 0)" }
    var bytes: Int { unitBits / 8 * count }

    static func covering(from start: Int, to end: Int, maxAlignment: Int) -> [StorageRun] {
        var runs: [StorageRun] = []
        var pos = start
        while pos < end {
            var unit = 8
            while unit > 1 && (unit > maxAlignment || pos % unit != 0 || pos + unit > end) { unit /= 2 }
            if let last = runs.last, last.unitBits == unit * 8, last.offset + last.bytes == pos {
                runs[runs.count - 1].count += 1
            } else {
                runs.append(StorageRun(offset: pos, unitBits: unit * 8, count: 1))
            }
            pos += unit
        }
        return runs
    }
}

// Turns libclang declarations into model types: records, enums, typedefs and their layouts.
import CClang
import Foundation

struct DeclarationWalker {
    let reader: TranslationUnitReader
    private(set) var types: [TypeDecl] = []
    /// `enum { NAME = value, ... };`: its enumerators are constants of the header.
    private(set) var anonymousEnumConstants: [TranslationUnitFacts.MacroFact] = []
    private var anonymousEnums: [CXCursor] = []
    private var typedefTargets: [CXCursor] = []
    private var seen = Set<String>()

    let files: TranslationUnitReader.FileNames
    private let spellings = SpellingCleaner()
    init(reader: TranslationUnitReader, files: TranslationUnitReader.FileNames = .init()) { self.reader = reader; self.files = files }

    mutating func visitTopLevel(_ cursor: CXCursor) {
        switch cursor.kind {
        case CXCursor_StructDecl, CXCursor_UnionDecl:
            guard clang_isCursorDefinition(cursor) != 0, !Self.isAnonymous(cursor) else { return }
            _ = record(cursor, key: recordKey(cursor), cName: cursor.spelling, parent: nil)
            // Named records declared inside a record are file-scope in C.
            for child in cursor.children where (child.kind == CXCursor_StructDecl || child.kind == CXCursor_UnionDecl) {
                visitTopLevel(child)
            }
        case CXCursor_EnumDecl:
            guard clang_isCursorDefinition(cursor) != 0 else { return }
            if Self.isAnonymous(cursor) { anonymousEnums.append(cursor); return }
            enumDecl(cursor, key: "enum " + cursor.spelling, cName: cursor.spelling)
        case CXCursor_TypedefDecl:
            typedef(cursor)
        default:
            return
        }
    }

    /// Anonymous enums no typedef names hold plain constants (`XEN_X86_FEATURE_*`).
    mutating func finish() {
        for e in anonymousEnums where !typedefTargets.contains(where: { clang_equalCursors($0, e) != 0 }) {
            let integer = clang_getEnumDeclIntegerType(e)
            let unsigned = Self.builtin(integer.canonical).map { if case .integer(_, false) = $0 { return true }; return false } ?? false
            for c in e.children where c.kind == CXCursor_EnumConstantDecl {
                guard let loc = location(c) else { continue }
                let v = unsigned ? Int64(bitPattern: UInt64(clang_getEnumConstantDeclUnsignedValue(c))) : Int64(clang_getEnumConstantDeclValue(c))
                // In C an enumerator is an `int` when its value fits one.
                let fitsInt = v >= Int64(Int32.min) && v <= Int64(Int32.max)
                let type: TypeRef = fitsInt ? .integer(bits: 32, signed: true) : (Self.builtin(integer.canonical) ?? .integer(bits: 64, signed: true))
                var fact = TranslationUnitFacts.MacroFact(name: c.spelling, location: loc, functionLike: false, body: "")
                fact.value = .integer(v, unsigned: !fitsInt && unsigned)
                fact.cType = fitsInt ? "int" : Self.unqualifiedSpelling(integer.canonical)
                fact.type = type
                anonymousEnumConstants.append(fact)
            }
        }
    }

    static func isAnonymous(_ cursor: CXCursor) -> Bool {
        let s = cursor.spelling
        // Byte by byte, as in `cleanSpelling`: a cursor's spelling is an identifier or clang's
        // ASCII `(unnamed struct at PATH)`, and Foundation's search was a tenth of a large unit's
        // reading.
        return clang_Cursor_isAnonymous(cursor) != 0 || s.isEmpty || holds(s, "(unnamed") || holds(s, "(anonymous")
    }

    func recordKey(_ cursor: CXCursor) -> String {
        (cursor.kind == CXCursor_UnionDecl ? "union " : "struct ") + cursor.spelling
    }

    func location(_ cursor: CXCursor) -> SourceLocation? {
        var file: CXFile?
        var line: UInt32 = 0
        clang_getExpansionLocation(clang_getCursorLocation(cursor), &file, &line, nil, nil)
        guard let rel = files.relative(file, reader) else { return nil }
        return SourceLocation(header: rel, line: Int(line))
    }

    // MARK: records

    /// Reads a record definition (and, recursively, its anonymous records) into `types`.
    @discardableResult
    mutating func record(_ cursor: CXCursor, key: String, cName: String, parent: String?) -> Bool {
        guard !seen.contains(key), let loc = location(cursor) else { return seen.contains(key) }
        seen.insert(key)
        let type = cursor.type
        let isUnion = cursor.kind == CXCursor_UnionDecl
        guard type.size >= 0 else {
            // Named but never defined (4.7-4.9's sysctl.h typedefs a struct it never declares).
            var d = TypeDecl(key: key, kind: isUnion ? .union : .struct, cName: cName, swiftName: "", location: loc,
                             size: 0, alignment: 1, visibility: reader.view, parent: parent)
            d.incomplete = true
            types.append(d)
            return true
        }
        var fields: [Field] = []
        for f in type.fields {
            let name = f.spelling
            let anonymousMember = name.isEmpty
            let fieldType = f.type
            var ref: TypeRef
            if anonymousMember {
                let decl = Self.namedType(fieldType).declaration
                let first = decl.type.fields.first.map { Self.firstMemberName($0) } ?? "member"
                let suffix = decl.kind == CXCursor_UnionDecl ? "union" : "struct"
                let k = "\(key)::\(first)_\(suffix)"
                record(decl, key: k, cName: "\(cName)::\(first)_\(suffix)", parent: key)
                ref = .named(k)
            } else {
                ref = typeRef(fieldType, context: (key, cName, name))
            }
            let bits = Int(clang_Cursor_getOffsetOfField(f))
            var field = Field(name: anonymousMember ? nil : name, type: ref, cType: spellings.clean(fieldType.spelling),
                              offset: bits / 8, size: max(fieldType.size, 0), alignment: max(fieldType.alignment, 1))
            if clang_Cursor_isBitField(f) != 0 {
                field.bitOffset = bits
                field.bitWidth = Int(clang_getFieldDeclBitWidth(f))
            }
            if ref.isFlexible { field.size = 0 }
            fields.append(field)
        }
        types.append(TypeDecl(key: key, kind: isUnion ? .union : .struct, cName: cName,
                              swiftName: "", location: loc, size: type.size, alignment: type.alignment,
                              visibility: reader.view, fields: fields, parent: parent))
        return true
    }

    /// For an anonymous member, the name of its first named member (looking through nested
    /// anonymous members), which names the member in Swift: `rax_union`.
    static func firstMemberName(_ field: CXCursor) -> String {
        let n = field.spelling
        if !n.isEmpty { return n }
        return namedType(field.type).declaration.type.fields.first.map(firstMemberName) ?? "member"
    }

    static func namedType(_ t: CXType) -> CXType {
        t.kind == CXType_Elaborated ? clang_Type_getNamedType(t) : t
    }

    // MARK: enums and typedefs

    mutating func enumDecl(_ cursor: CXCursor, key: String, cName: String) {
        guard !seen.contains(key), let loc = location(cursor) else { return }
        seen.insert(key)
        let integer = clang_getEnumDeclIntegerType(cursor)
        let unsigned = Self.builtin(integer.canonical).map { if case .integer(_, false) = $0 { return true }; return false } ?? false
        var enumerators: [Enumerator] = []
        for c in cursor.children where c.kind == CXCursor_EnumConstantDecl {
            let v = unsigned ? Int64(bitPattern: UInt64(clang_getEnumConstantDeclUnsignedValue(c))) : Int64(clang_getEnumConstantDeclValue(c))
            enumerators.append(Enumerator(name: c.spelling, value: v))
        }
        types.append(TypeDecl(key: key, kind: .enum, cName: cName, swiftName: "", location: loc,
                              size: cursor.type.size, alignment: cursor.type.alignment, visibility: reader.view,
                              enumerators: enumerators, enumIntegerType: Self.builtin(integer.canonical)))
    }

    mutating func typedef(_ cursor: CXCursor) {
        let name = cursor.spelling
        guard !seen.contains(name), location(cursor) != nil else { return }
        let underlying = clang_getTypedefDeclUnderlyingType(cursor)
        let target = Self.namedType(underlying).declaration
        if target.kind == CXCursor_EnumDecl { typedefTargets.append(target) }
        // `typedef struct { ... } name;` — the record takes the typedef's name.
        if (target.kind == CXCursor_StructDecl || target.kind == CXCursor_UnionDecl), Self.isAnonymous(target) {
            guard clang_isCursorDefinition(target) != 0 else { return }
            record(target, key: name, cName: name, parent: nil)
            if let i = types.lastIndex(where: { $0.key == name }), let p = Self.guestHandlePointee(name, types[i]) {
                types[i].guestHandleOf = p
            }
            return
        }
        if target.kind == CXCursor_EnumDecl, Self.isAnonymous(target) {
            enumDecl(target, key: name, cName: name)
            return
        }
        guard let loc = location(cursor) else { return }
        seen.insert(name)
        let ref = typeRef(underlying, context: nil)
        // `typedef struct foo foo;` names the same thing twice; Swift needs it once.
        if case let .named(k) = ref, k.hasSuffix(" " + name) { return }
        let size = underlying.size
        types.append(TypeDecl(key: name, kind: .typedef, cName: name, swiftName: "", location: loc,
                              size: size, alignment: max(underlying.alignment, 1), visibility: reader.view,
                              underlying: ref))
    }

    /// `DEFINE_XEN_GUEST_HANDLE(x)` makes `typedef struct { x *p; } __guest_handle_x` (and a const
    /// variant) on x86: a record whose only member is the pointer `p`.
    static func guestHandlePointee(_ name: String, _ decl: TypeDecl) -> TypeRef? {
        guard name.hasPrefix("__guest_handle_"), let fields = decl.fields, fields.count == 1,
              fields[0].name == "p", case let .pointer(to, _) = fields[0].type else { return nil }
        return to
    }

    // MARK: type references

    /// Converts a field's or typedef's type. `context` names the enclosing record and field, so an
    /// anonymous record type used by a named field becomes `P::field`.
    mutating func typeRef(_ t: CXType, context: (key: String, cName: String, field: String)?) -> TypeRef {
        switch t.kind {
        case CXType_Elaborated:
            return typeRef(clang_Type_getNamedType(t), context: context)
        case CXType_Typedef:
            let decl = t.declaration
            if files.relative(decl, reader) != nil {
                typedef(decl)
                let name = decl.spelling
                return .named(name)
            }
            return typeRef(t.canonical, context: context)
        case CXType_Record:
            let decl = t.declaration
            if Self.isAnonymous(decl) {
                guard let context else { return .integer(bits: t.size * 8, signed: false) }
                let key = "\(context.key)::\(context.field)"
                record(decl, key: key, cName: "\(context.cName)::\(context.field)", parent: context.key)
                return .named(key)
            }
            let key = recordKey(decl)
            let def = clang_getCursorDefinition(decl)
            record(def.isNull ? decl : def, key: key, cName: decl.spelling, parent: nil)
            return .named(key)
        case CXType_Enum:
            let decl = t.declaration
            if Self.isAnonymous(decl) { return Self.builtin(clang_getEnumDeclIntegerType(decl).canonical) ?? .integer(bits: 32, signed: false) }
            enumDecl(decl, key: "enum " + decl.spelling, cName: decl.spelling)
            return .named("enum " + decl.spelling)
        case CXType_Pointer:
            let pointee = clang_getPointeeType(t)
            let canon = pointee.canonical
            if canon.kind == CXType_Void { return .pointer(nil, const: pointee.isConst) }
            if canon.kind == CXType_FunctionProto || canon.kind == CXType_FunctionNoProto { return .functionPointer }
            if canon.kind == CXType_Record, canon.size < 0 { return .opaquePointer(canon.declaration.spelling) }
            return .pointer(typeRef(pointee, context: nil), const: pointee.isConst)
        case CXType_ConstantArray:
            let element = typeRef(clang_getArrayElementType(t), context: context)
            let n = Int(clang_getArraySize(t))
            return n == 0 ? .flexibleArray(element) : .array(element, count: n)
        case CXType_IncompleteArray:
            return .flexibleArray(typeRef(clang_getArrayElementType(t), context: context))
        default:
            return Self.builtin(t.canonical) ?? .integer(bits: max(t.size, 1) * 8, signed: false)
        }
    }

    static func builtin(_ t: CXType) -> TypeRef? {
        switch t.kind {
        case CXType_Bool: return .bool
        case CXType_Char_S, CXType_SChar, CXType_Short, CXType_Int, CXType_Long, CXType_LongLong, CXType_Int128:
            return .integer(bits: t.size * 8, signed: true)
        case CXType_Char_U, CXType_UChar, CXType_UShort, CXType_UInt, CXType_ULong, CXType_ULongLong, CXType_UInt128:
            return .integer(bits: t.size * 8, signed: false)
        case CXType_Float, CXType_Double, CXType_LongDouble: return .float(bits: t.size * 8)
        case CXType_Pointer:
            let p = clang_getPointeeType(t).canonical
            if p.kind == CXType_Char_S || p.kind == CXType_Char_U { return .pointer(.integer(bits: 8, signed: true), const: true) }
            return .pointer(nil, const: false)
        default: return nil
        }
    }

    /// clang spells anonymous records with the path they were read from; the model must not
    /// depend on where the headers were staged.
    static func cleanSpelling(_ s: String) -> String { SpellingCleaner().clean(s) }

    /// `cleanSpelling` with its regular expression compiled once per walker (one thread's, one
    /// unit's) instead of once per spelling: `replacingOccurrences(of:with:options: .regularExpression)`
    /// is that expression, made with no options, replacing every match in the whole string.
    final class SpellingCleaner {
        lazy var anonymous = try! NSRegularExpression(pattern: #"\((unnamed|anonymous) (struct|union|enum)?\s*at [^)]*\)"#)

        func clean(_ s: String) -> String {
            // Most spellings name no anonymous record; the regular expression is the walker's
            // dearest step, and Foundation's substring search is slow too.
            guard DeclarationWalker.holds(s, "(unnamed") || DeclarationWalker.holds(s, "(anonymous") else { return s }
            return anonymous.stringByReplacingMatches(in: s, options: [], range: NSRange(location: 0, length: s.utf16.count), withTemplate: "(anonymous)")
        }
    }

    /// Whether `s` contains `part`, byte by byte.
    static func holds(_ s: String, _ part: String) -> Bool {
        var s = s, part = part
        return s.withUTF8 { a in
            part.withUTF8 { b in
                guard a.count >= b.count else { return false }
                guard let first = b.first else { return true }
                var i = 0
                while i <= a.count - b.count {
                    if a[i] == first && memcmp(a.baseAddress! + i, b.baseAddress!, b.count) == 0 { return true }
                    i += 1
                }
                return false
            }
        }
    }

    static func unqualifiedSpelling(_ t: CXType) -> String {
        // Byte by byte (every probe's value comes here, and Foundation's replacing and trimming,
        // or the standard library's, cost more than the probe): drop each "const " and
        // "volatile ", then the blanks at either end.
        let spelled = t.spelling
        // Most spellings are a builtin's, `const` first ("const unsigned int"): that prefix once,
        // nothing else to drop, is the common case, and needs no copying byte by byte.
        if spelled.hasPrefix("const ") {
            let rest = spelled.utf8.dropFirst(6)
            let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            if let f = rest.first, let l = rest.last, !blank(f), !blank(l), !holds(String(rest)!, "const "), !holds(spelled, "volatile ") {
                return String(rest)!
            }
        }
        var bytes = Array(spelled.utf8)
        for q in ["const ", "volatile "].map({ Array($0.utf8) }) {
            var out: [UInt8] = []
            var i = 0
            while i < bytes.count {
                if bytes.count - i >= q.count, bytes[i..<i + q.count].elementsEqual(q) { i += q.count; continue }
                out.append(bytes[i]); i += 1
            }
            bytes = out
        }
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let start = bytes.firstIndex { !blank($0) } ?? bytes.count
        let end = bytes.lastIndex { !blank($0) }.map { $0 + 1 } ?? start
        return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
    }
}

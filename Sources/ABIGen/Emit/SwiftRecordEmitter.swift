import Foundation
// Emits one C struct or union as a Swift struct with the same size, alignment and field offsets.

/// The Swift members of one record: stored properties in C order with explicit padding (so a
/// containing struct can never pack into our tail padding, as Swift would otherwise do), and
/// computed accessors where C has no Swift equivalent (union members, bitfields, misaligned
/// fields, members of anonymous members).
struct SwiftRecordEmitter {
    let types: SwiftTypes
    let decl: TypeDecl
    let fields: [Field]
    let size: Int
    let alignment: Int

    /// Tools view: nested anonymous records are read in their tools shape too.
    let toolsView: Bool

    init(types: SwiftTypes, decl: TypeDecl, shape: TypeDecl.Shape? = nil) {
        self.types = types; self.decl = decl
        toolsView = shape != nil
        fields = shape?.fields ?? decl.fields ?? []
        size = shape?.size ?? decl.size
        alignment = shape?.alignment ?? decl.alignment
    }

    struct Stored { var name: String; var type: String; var zero: String; var doc: String; var isPublic: Bool; var ref: TypeRef?; var alignment = 1 }

    func emit() -> String {
        let plan = self.plan()
        return render(plan.stored, plan.computed)
    }

    /// Names of the fields that are Swift stored properties (the rest are accessors).
    func storedFieldNames() -> Set<String> {
        Set(plan().stored.filter(\.isPublic).map { $0.name.replacingOccurrences(of: "`", with: "") })
    }

    func plan() -> (stored: [Stored], computed: [String], alignment: Int) {
        var plan = build(headEnd: 0)
        if plan.alignment < alignment && decl.kind == .struct {
            // Nothing stored reaches C's alignment (it comes from a flexible array's element, or a
            // bitfield's declared type wider than its bits): store the leading bytes as aligned
            // words and reach the fields in them through accessors.
            plan = build(headEnd: headEnd())
        }
        return plan
    }

    /// The end of the leading bytes that, stored as words of the record's alignment, give the
    /// Swift struct C's alignment without cutting a field in two.
    func headEnd() -> Int {
        var end = alignment
        var changed = true
        while changed {
            changed = false
            for f in fields where !f.type.isFlexible {
                let start = f.isBitfield ? (f.bitOffset ?? 0) / 8 : f.offset
                let stop = f.isBitfield ? ((f.bitOffset ?? 0) + (f.bitWidth ?? 0) + 7) / 8 : f.offset + f.size
                if start < end && stop > end {
                    end = (stop + alignment - 1) / alignment * alignment
                    changed = true
                }
            }
        }
        return min(end, size)
    }

    func build(headEnd: Int) -> (stored: [Stored], computed: [String], alignment: Int) {
        var stored: [Stored] = []
        var computed: [String] = []
        let isUnion = decl.kind == .union
        var pos = 0
        var paddingIndex = 0
        if headEnd > 0 {
            for run in StorageRun.covering(from: 0, to: headEnd, maxAlignment: alignment) {
                stored.append(Stored(name: "_head\(run.offset)", type: run.spelling, zero: run.zero,
                                     doc: "Bytes \(run.offset)..<\(run.offset + run.bytes), stored as aligned words.", isPublic: false, ref: nil, alignment: run.unitBits / 8))
            }
            pos = headEnd
        }
        func pad(to end: Int) {
            guard end > pos else { return }
            for run in StorageRun.covering(from: pos, to: end, maxAlignment: alignment) {
                stored.append(Stored(name: "_padding\(paddingIndex)", type: run.spelling, zero: run.zero,
                                     doc: "Padding: bytes \(run.offset)..<\(run.offset + run.bytes).", isPublic: false, ref: nil, alignment: run.unitBits / 8))
                paddingIndex += 1
            }
            pos = end
        }

        var i = 0
        while i < fields.count {
            let f = fields[i]
            if f.isBitfield {
                // A run of bitfields shares storage; accessors address its bits.
                var j = i
                var endBit = 0
                while j < fields.count, fields[j].isBitfield {
                    endBit = max(endBit, (fields[j].bitOffset ?? 0) + (fields[j].bitWidth ?? 0))
                    j += 1
                }
                if !isUnion && endBit > pos * 8 {
                    let end = min((endBit + 7) / 8, j < fields.count ? fields[j].offset : size)
                    if end > pos {
                        for run in StorageRun.covering(from: pos, to: end, maxAlignment: alignment) {
                            stored.append(Stored(name: "_bitfields\(run.offset)", type: run.spelling, zero: run.zero,
                                                 doc: "Storage of the bitfields in bytes \(run.offset)..<\(run.offset + run.bytes).", isPublic: false, ref: nil, alignment: run.unitBits / 8))
                        }
                        pos = end
                    }
                }
                for k in i..<j where fields[k].bitWidth! > 0 && fields[k].name != nil { computed.append(bitfield(fields[k])) }
                i = j
                continue
            }
            i += 1
            if f.type.isFlexible {
                computed.append(flexible(f))
                continue
            }
            guard let swiftType = types.spelling(f.type) else {
                preconditionFailure("the expressibility step admits only fields of a Swift type: \(decl.key).\(f.name ?? "(anonymous)")")
            }
            let name = f.name ?? memberName(f)
            let doc = "`\(f.cType)\(f.name.map { " " + $0 } ?? "")`: offset \(f.offset), size \(f.size)."
            if isUnion || f.offset < headEnd {
                computed.append(accessor(name: name, type: swiftType, offset: f.offset, doc: doc))
            } else if f.offset % max(f.alignment, 1) != 0 || f.offset < pos {
                // Packed: C puts it where Swift cannot; keep its bytes and read them unaligned.
                pad(to: f.offset)
                stored.append(Stored(name: "_\(name)_bytes", type: "InlineArray<\(f.size), UInt8>", zero: ".init(repeating: 0)",
                                     doc: "Bytes of the misaligned field `\(name)`.", isPublic: false, ref: nil))
                pos = f.offset + f.size
                computed.append(accessor(name: name, type: swiftType, offset: f.offset, doc: doc))
            } else {
                pad(to: f.offset)
                stored.append(Stored(name: Naming.identifier(name), type: swiftType, zero: types.zero(f.type), doc: doc, isPublic: true, ref: f.type, alignment: f.alignment))
                pos = f.offset + f.size
            }
            if f.name == nil, case let .named(key) = f.type {
                // C11 anonymous member: its members are the parent's members.
                for member in flattenedMembers(key) {
                    computed.append("""
                        /// `\(member)`, a member of the anonymous \(key.hasSuffix("_union") ? "union" : "struct") `\(name)`.
                        public var \(Naming.identifier(member)): \(member.isEmpty ? "" : memberType(key, member)) {
                            @inline(__always) get { \(Naming.identifier(name)).\(Naming.identifier(member)) }
                            @inline(__always) set { \(Naming.identifier(name)).\(Naming.identifier(member)) = newValue }
                        }
                    """)
                }
            }
        }
        if isUnion {
            pos = 0
            for run in StorageRun.covering(from: 0, to: size, maxAlignment: alignment) {
                stored.append(Stored(name: "_storage\(run.offset)", type: run.spelling, zero: run.zero,
                                     doc: "The union's bytes \(run.offset)..<\(run.offset + run.bytes).", isPublic: false, ref: nil, alignment: run.unitBits / 8))
            }
            pos = size
        }
        pad(to: size)
        return (stored, computed, stored.map(\.alignment).max() ?? 1)
    }

    func render(_ stored: [Stored], _ computed: [String]) -> String {
        var out = "    // MARK: storage (C layout)\n"
        for s in stored {
            out += "    /// \(s.doc)\n"
            out += "    \(s.isPublic ? "public" : "internal") var \(s.name): \(s.type)\n"
        }
        out += "\n    /// All bytes zero, as `memset(&x, 0, sizeof x)` would leave it.\n"
        out += "    @inline(__always) public init() {\n"
        for s in stored { out += "        \(s.name) = \(s.zero)\n" }
        out += "    }\n"
        let named = stored.filter(\.isPublic)
        if !named.isEmpty {
            let params = named.map { "\($0.name): \($0.type) = \($0.zero)" }.joined(separator: ", ")
            out += "\n    /// Named fields set, everything else zero.\n"
            out += "    @inline(__always) public init(\(params)) {\n        self.init()\n"
            for s in named { out += "        self.\(s.name.hasPrefix("`") ? s.name : s.name) = \(s.name)\n" }
            out += "    }\n"
        }
        for c in computed { out += "\n" + c + "\n" }
        return out
    }

    /// Name of the stored property for an anonymous member (`rax_union`).
    func memberName(_ f: Field) -> String {
        if case let .named(key) = f.type, let sep = key.range(of: "::", options: .backwards) { return String(key[sep.upperBound...]) }
        return "member\(f.offset)"
    }

    /// Every member name reachable through an anonymous record, as C lets the parent use them.
    func fieldsOf(_ key: String) -> [Field]? {
        guard let t = types.index[key] else { return nil }
        return toolsView ? (t.toolsShape?.fields ?? t.fields) : t.fields
    }

    func flattenedMembers(_ key: String) -> [String] {
        guard let fs = fieldsOf(key) else { return [] }
        var out: [String] = []
        for f in fs {
            if let n = f.name { if !(f.isBitfield && f.bitWidth == 0) { out.append(n) } }
            else if case let .named(k) = f.type { out += flattenedMembers(k) }
        }
        return out
    }

    func memberType(_ key: String, _ member: String) -> String {
        guard let fs = fieldsOf(key) else { return "Never" }
        for f in fs {
            if f.name == member {
                if f.isBitfield, let int = types.integer(f.type) { return types.isEnum(f.type) ? (types.spelling(f.type) ?? "Never") : (types.spelling(f.type) ?? ((int.signed ? "Int" : "UInt") + "\(int.bits)")) }
                return types.spelling(f.type) ?? "Never"
            }
            if f.name == nil, case let .named(k) = f.type, flattenedMembers(k).contains(member) { return memberType(k, member) }
        }
        return "Never"
    }

    func accessor(name: String, type: String, offset: Int, doc: String) -> String {
        """
            /// \(doc)
            public var \(Naming.identifier(name)): \(type) {
                @inline(__always) get { _xenLoad(self, offset: \(offset), as: \(type).self) }
                @inline(__always) set { _xenStore(&self, offset: \(offset), newValue) }
            }
        """
    }

    func bitfield(_ f: Field) -> String {
        let name = f.name!
        guard let int = types.integer(f.type), let declared = types.spelling(f.type) else {
            preconditionFailure("the expressibility step admits only integer bitfields: \(decl.key).\(name)")
        }
        let bit = f.bitOffset!, width = f.bitWidth!
        let raw = types.isEnum(f.type) ? "\(declared)(rawValue: .init(truncatingIfNeeded: $0))" : "\(declared)(truncatingIfNeeded: $0)"
        let toBits = types.isEnum(f.type) ? "newValue.rawValue" : "newValue"
        return """
            /// `\(f.cType) \(name) : \(width)`: bits \(bit)..<\(bit + width) of the record.
            public var \(Naming.identifier(name)): \(declared) {
                @inline(__always) get { _xenBitsGet(self, bitOffset: \(bit), width: \(width), signed: \(int.signed)).map { \(raw) }! }
                @inline(__always) set { _xenBitsSet(&self, bitOffset: \(bit), width: \(width), UInt64(truncatingIfNeeded: \(toBits))) }
            }
        """
    }

    func flexible(_ f: Field) -> String {
        guard case let .flexibleArray(element) = f.type, let e = types.spelling(element), let name = f.name else {
            preconditionFailure("the expressibility step admits only named flexible arrays of a Swift type: \(decl.key).\(f.name ?? "?")")
        }
        return """
            /// `\(f.cType) \(name)`: flexible array member at offset \(f.offset); it has no storage in
            /// the struct, its elements follow it in the same buffer.
            public static var \(name)_offset: Int { \(f.offset) }
            /// The elements of the flexible array `\(name)` of the record at `base`.
            @inline(__always) public static func \(name)(in base: UnsafeMutableRawPointer) -> UnsafeMutablePointer<\(e)> {
                (base + \(f.offset)).assumingMemoryBound(to: \(e).self)
            }
        """
    }
}

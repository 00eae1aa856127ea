// The ABI model: plain values, written out as the manifest (abi.json) and read back by diff.

/// One Xen release's public ABI for one target and interface version.
public struct ABIModel: Codable, Sendable {
    public var xenVersion: String
    public var target: String
    /// `__XEN_INTERFACE_VERSION__` the guest view was read at, as `0x000NNNNN`.
    public var interfaceVersion: String
    /// Unless read with `--no-interface-ranges`: every interface version the headers test for, ascending.
    public var interfaceThresholds: [String]?
    public var latestInterfaceVersion: String
    /// Headers parsed, relative to the public header root, each as its own translation unit.
    public var headers: [String]
    /// Headers compiled only through another header, as Xen's own header check does.
    public var includedThrough: [String: String] = [:]
    /// Files under the root that are not Xen's public ABI for this target, with the reason.
    public var skippedHeaders: [Skipped]
    public var types: [TypeDecl]
    public var constants: [Constant]
    public var families: [Family]
    public var hypercalls: [Hypercall]
    public var rings: [RingInstance]
    /// Byte rings (`char buf[N]` with `buf_cons`/`buf_prod`) and flex rings
    /// (`DEFINE_XEN_FLEX_RING`). Optional so that manifests written before them still read.
    public var byteRings: [ByteRingInstance]?
    public var flexRings: [FlexRingInstance]?
    /// The boot stub's include: constant names and type keys from the spec's `bootConstants`.
    public var bootConstants: [String] = []
    public var bootLayouts: [String] = []
    /// Object-like macros that are not values (types, attributes, empty markers), by category.
    public var nonValueMacros: [NonValueMacro]
    /// What the generator could not express, with the reason. Empty for a clean run.
    public var unexpressed: [Unexpressed]

    public init(xenVersion: String, target: String, interfaceVersion: String, latestInterfaceVersion: String) {
        self.xenVersion = xenVersion; self.target = target
        self.interfaceVersion = interfaceVersion; self.latestInterfaceVersion = latestInterfaceVersion
        headers = []; skippedHeaders = []; types = []; constants = []; families = []
        hypercalls = []; rings = []; nonValueMacros = []; unexpressed = []
    }

    public func type(_ key: String) -> TypeDecl? { typeIndex[key] }
    public var typeIndex: [String: TypeDecl] { Dictionary(types.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a }) }
}

public struct Skipped: Codable, Sendable, Hashable {
    public var header: String
    public var reason: String
}

public struct SourceLocation: Codable, Sendable, Hashable, Comparable {
    public var header: String
    public var line: Int
    public static func < (a: Self, b: Self) -> Bool { (a.header, a.line) < (b.header, b.line) }
    public var description: String { "\(header):\(line)" }
}

/// Which view of the headers an entity is visible in.
public enum Visibility: String, Codable, Sendable {
    /// Visible to guests (and so to tools too).
    case guest
    /// Visible only with `__XEN_TOOLS__` defined.
    case toolsOnly = "tools-only"
}

public struct TypeDecl: Codable, Sendable {
    public enum Kind: String, Codable, Sendable { case `struct`, union, `enum`, typedef }
    /// Unique key: `struct NAME`, `union NAME`, `enum NAME`, a typedef's name, or for anonymous
    /// records the parent's key and the path that reaches them (`struct P::u`).
    public var key: String
    public var kind: Kind
    /// The C spelling users know it by (tag or typedef name; for nested anonymous types, the path).
    public var cName: String
    public var swiftName: String
    public var location: SourceLocation
    public var size: Int
    public var alignment: Int
    public var visibility: Visibility
    /// Record members in declaration order.
    public var fields: [Field]?
    /// For typedefs: what they name.
    public var underlying: TypeRef?
    /// For enums.
    public var enumerators: [Enumerator]?
    public var enumIntegerType: TypeRef?
    /// Set on `__guest_handle_*` records: the handle's pointee.
    public var guestHandleOf: TypeRef?
    /// Set on anonymous records: the key of the record that contains them.
    public var parent: String?
    /// Set where the tools view (`__XEN_TOOLS__`) gives this type a different shape.
    public var toolsShape: Shape?
    /// Declared but never defined by the headers (it has no layout; only pointers to it exist).
    public var incomplete: Bool?
    /// Unless read with `--no-interface-ranges`: the `__XEN_INTERFACE_VERSION__` ranges in which this layout
    /// holds, when it does not hold at every version the headers test for.
    public var interfaceRanges: [InterfaceRange]?

    public struct Shape: Codable, Sendable {
        public var size: Int
        public var alignment: Int
        public var fields: [Field]?
        public var underlying: TypeRef?
    }
}

public struct Field: Codable, Sendable, Hashable {
    /// `nil` for an anonymous struct/union member.
    public var name: String?
    public var type: TypeRef
    /// The C spelling of the type, as written in the header.
    public var cType: String
    public var offset: Int
    public var size: Int
    public var alignment: Int
    public var bitOffset: Int?
    public var bitWidth: Int?
    public var isBitfield: Bool { bitWidth != nil }
}

public struct Enumerator: Codable, Sendable, Hashable {
    public var name: String
    public var value: Int64
}

public struct Constant: Codable, Sendable {
    public enum Value: Codable, Sendable, Hashable {
        case integer(Int64, unsigned: Bool)
        case string(String)

        private enum CodingKeys: String, CodingKey { case integer, unsigned, string }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case let .integer(v, unsigned):
                // Unsigned values keep their full 64-bit pattern as an unsigned decimal.
                if unsigned { try c.encode(UInt64(bitPattern: v), forKey: .integer) } else { try c.encode(v, forKey: .integer) }
                try c.encode(unsigned, forKey: .unsigned)
            case let .string(s): try c.encode(s, forKey: .string)
            }
        }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let s = try c.decodeIfPresent(String.self, forKey: .string) { self = .string(s); return }
            let unsigned = try c.decode(Bool.self, forKey: .unsigned)
            if unsigned { self = .integer(Int64(bitPattern: try c.decode(UInt64.self, forKey: .integer)), unsigned: true) }
            else { self = .integer(try c.decode(Int64.self, forKey: .integer), unsigned: false) }
        }
    }
    public var name: String
    public var value: Value
    /// The C type of the macro's value (`unsigned int`, `unsigned long`, `char *` ...).
    public var cType: String
    public var type: TypeRef
    public var location: SourceLocation
    public var visibility: Visibility
    /// Set where the tools view gives a different value.
    public var toolsValue: Value?
    /// Unless read with `--no-interface-ranges`: where this value holds, when not at every interface version.
    public var interfaceRanges: [InterfaceRange]?
    /// Set where the spec gives the constant the C type it stands for (`DOMID_SELF` is a
    /// `domid_t`, `VIRQ_TIMER` fits `evtchn_bind_virq.virq`): the Swift constant has that type,
    /// and its value is checked to fit it (SpecApplier, then gcc).
    public var specType: SpecType?

    public struct SpecType: Codable, Sendable, Hashable {
        /// As the spec spells it: `domid_t`, `uint32_t`.
        public var cType: String
        public var type: TypeRef
    }
}

/// Interface versions `from` up to, not including, `to` (nil: through the release's latest).
public struct InterfaceRange: Codable, Sendable, Hashable {
    public var from: String
    public var to: String?
}

public struct NonValueMacro: Codable, Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var category: NonValueCategory
}

/// Why an object-like macro is not a value: what its body is instead. The raw values are the
/// manifest's spelling.
public enum NonValueCategory: String, Codable, Sendable {
    case empty
    case type
    case attribute
    case statement
    case notConstant = "not-constant"
    /// A bare name that is itself one of the above.
    case aliasOfNonValue = "alias of a non-value"
}

public struct Unexpressed: Codable, Sendable, Hashable {
    public var entity: String
    public var location: SourceLocation?
    public var reason: String
}

/// A spec family: constants grouped into one Swift type.
public struct Family: Codable, Sendable {
    /// The Swift type a family becomes (docs/spec-format.md); the raw values are the spec's and
    /// the manifest's spelling.
    public enum Shape: String, Codable, Sendable {
        /// A `RawRepresentable` struct with one static member per constant.
        case enumeration = "enum"
        /// An `OptionSet`.
        case options
        /// A word holding a small type field under a mask, and flags.
        case typedFlags = "typed-flags"
    }
    public var swiftName: String
    public var prefix: String
    public var shape: Shape
    public var members: [String]
    /// For typed-flags: the mask constant and the Swift name of the type field.
    public var typeFieldMask: String?
    public var typeFieldName: String?
    public var typeFieldMembers: [String]?
    public var rawType: TypeRef
}

public struct Hypercall: Codable, Sendable {
    /// Which way an argument's data goes: Xen reads it, fills it, or both.
    public enum Direction: String, Codable, Sendable {
        case `in`, out, `inout`
    }
    public struct Argument: Codable, Sendable {
        public var name: String
        /// `subop`, `subop-arg`, or a C type spelling.
        public var cType: String
        public var type: TypeRef?
        public var direction: Direction?
        public var count: String?
    }
    public struct SubOp: Codable, Sendable {
        public var constant: String
        public var value: Int64
        /// Key of the argument's type, or nil when the sub-op takes none.
        public var argument: String?
        public var direction: Direction
    }
    public var name: String
    public var numberConstant: String
    public var number: Int64
    public var arguments: [Argument]
    public var family: String?
    public var subops: [SubOp]
    /// false where a typed form would be meaningless (iret, stack_switch: they do not return
    /// normally); such a hypercall has only its raw entry.
    public var typed: Bool?
}

/// A `DEFINE_RING_TYPES(name, request, response)` instantiation found in the headers.
public struct RingInstance: Codable, Sendable {
    public var name: String
    public var request: String
    public var response: String
    public var location: SourceLocation
    /// Entries in a one-page ring (`__CONST_RING_SIZE(name, 4096)`).
    public var pageRingSize: Int
}

/// One direction of a byte ring: `char buffer[capacity]` in `interface`, indexed by the
/// free-running `buffer_cons` and `buffer_prod` beside it (io/console.h, io/xs_wire.h).
public struct ByteRingInstance: Codable, Sendable {
    /// The interface struct's key, `struct xencons_interface`.
    public var interface: String
    public var buffer: String
    public var dataOffset: Int
    public var capacity: Int
    public var consumerOffset: Int
    public var producerOffset: Int
    public var location: SourceLocation
}

/// A flex ring's interface (`DEFINE_XEN_FLEX_RING_AND_INTF(name)`, or `DEFINE_XEN_FLEX_RING(name)`
/// beside a hand-written `struct name_data_intf`): the offsets of both directions' indexes.
public struct FlexRingInstance: Codable, Sendable {
    public var name: String
    public var interface: String
    public var inConsumerOffset: Int
    public var inProducerOffset: Int
    public var outConsumerOffset: Int
    public var outProducerOffset: Int
    public var ringOrderOffset: Int
    public var referencesOffset: Int
    public var location: SourceLocation
}

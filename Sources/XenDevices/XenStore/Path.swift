// Xenstore paths (docs/misc/xenstore.txt): `/`-separated, ASCII alphanumerics and `-/_@` only, no
// doubled or trailing slash (except the root), not empty, at most XENSTORE_ABS_PATH_MAX bytes
// absolute and XENSTORE_REL_PATH_MAX relative (relative to /local/domain/<domid>). A path read
// from a peer's key (a frontend's `backend`) is checked the same way before it is used.
import XenABI

public struct XenStorePath: Equatable {
    /// The path, without a terminating nul.
    public private(set) var bytes: [UInt8]

    /// A literal path; checked like any other (a bad literal is a programming error, reported
    /// by the throwing initialiser for values and by a trap here).
    @inline(never)
    public init(_ literal: StaticString) {
        guard let path = try? XenStorePath(validating: [UInt8](literal)) else { fatalError("invalid xenstore path literal") }
        self = path
    }

    /// A path from bytes that may come from a peer.
    @inline(never)
    public init(validating bytes: [UInt8]) throws(XenStoreError) {
        guard XenStorePath.isValid(bytes) else { throw .invalidPath }
        self.bytes = bytes
    }

    public var isAbsolute: Bool { bytes.first == UInt8(ascii: "/") }

    /// `self/component`, with the component checked (a component holds no `/`).
    public func appending(_ component: [UInt8]) throws(XenStoreError) -> XenStorePath {
        guard !component.isEmpty, !component.contains(UInt8(ascii: "/")) else { throw .invalidPath }
        var joined = bytes
        if joined != [UInt8(ascii: "/")] { joined.append(UInt8(ascii: "/")) }
        joined.append(contentsOf: component)
        return try XenStorePath(validating: joined)
    }

    @inline(never)
    public func appending(_ component: StaticString) -> XenStorePath {
        guard let path = try? appending([UInt8](component)) else { fatalError("invalid xenstore path component") }
        return path
    }

    @inline(never)
    public func appending(decimal value: UInt64) -> XenStorePath {
        var component: [UInt8] = []
        component.appendDecimal(value)
        guard let path = try? appending(component) else { fatalError("unreachable: a number is a valid component") }
        return path
    }

    /// The last component (a device id under `device/vif`, a key under a device's directory).
    public var lastComponent: ArraySlice<UInt8> {
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return bytes[...] }
        return bytes[(slash + 1)...]
    }

    /// Is `self` the path itself or below it (the rule by which a watch matches an event)?
    public func isWithin(_ parent: XenStorePath) -> Bool {
        if bytes == parent.bytes || parent.bytes == [UInt8(ascii: "/")] && isAbsolute { return true }
        return bytes.count > parent.bytes.count && bytes.starts(with: parent.bytes) && bytes[parent.bytes.count] == UInt8(ascii: "/")
    }

    static func isValid(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return false }
        let absolute = bytes[0] == UInt8(ascii: "/")
        guard bytes.count <= Int(absolute ? XENSTORE_ABS_PATH_MAX : XENSTORE_REL_PATH_MAX) else { return false }
        if bytes == [UInt8(ascii: "/")] { return true }
        guard bytes.last != UInt8(ascii: "/") else { return false }
        var previous: UInt8 = 0
        for b in bytes {
            guard isPathCharacter(b) else { return false }
            if b == UInt8(ascii: "/") && previous == UInt8(ascii: "/") { return false }
            previous = b
        }
        return true
    }

    /// A watch path may also name a special event (`@introduceDomain`, `@releaseDomain`).
    static func isValidWatchPath(_ bytes: [UInt8]) -> Bool {
        if bytes.first == UInt8(ascii: "@") {
            return bytes.count > 1 && bytes.count <= Int(XENSTORE_REL_PATH_MAX) && bytes.allSatisfy(isPathCharacter)
        }
        return isValid(bytes)
    }

    /// A child's leaf name, as DIRECTORY and DIRECTORY_PART give it: not empty, path characters
    /// and no `/`, and short enough that the child of the root it would name is a valid path.
    static func isChildName(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty, bytes.count < Int(XENSTORE_ABS_PATH_MAX) else { return false }
        for b in bytes where b == UInt8(ascii: "/") || !isPathCharacter(b) { return false }
        return true
    }

    static func isPathCharacter(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "_"), UInt8(ascii: "@"):
            return true
        default:
            return false
        }
    }
}

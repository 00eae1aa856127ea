// The xenstore wire format (io/xs_wire.h, docs/misc/xenstore.txt): a `struct xsd_sockmsg` header
// and `len` bytes of payload. Requests are encoded here; replies are parsed here, from a copy
// taken off the ring, and checked against the syntax of the request's type before anyone sees
// them. This parser is what Tests/Fuzz/XenStoreReplyFuzz.swift drives.
import XenABI

/// A request: its type, its transaction (0 for none) and its payload.
public struct XenStoreRequest: Equatable {
    public let type: xsd_sockmsg_type
    public let transaction: UInt32
    public let payload: [UInt8]

    @inline(never)
    init(_ type: xsd_sockmsg_type, transaction: UInt32 = 0, payload: [UInt8]) {
        self.type = type; self.transaction = transaction; self.payload = payload
    }

    /// `<path>|`, then `rest`: the shape of most requests.
    @inline(never)
    static func pathPayload(_ path: XenStorePath, _ rest: [UInt8] = []) -> [UInt8] {
        var payload = path.bytes
        payload.append(0)
        payload.append(contentsOf: rest)
        return payload
    }

    /// `READ <path>|`
    public static func read(_ path: XenStorePath, transaction: UInt32 = 0) -> XenStoreRequest {
        XenStoreRequest(.XS_READ, transaction: transaction, payload: pathPayload(path))
    }
    /// `WRITE <path>|<value|>`: the value carries no nul.
    public static func write(_ path: XenStorePath, _ value: [UInt8], transaction: UInt32 = 0) -> XenStoreRequest {
        XenStoreRequest(.XS_WRITE, transaction: transaction, payload: pathPayload(path, value))
    }
    /// `MKDIR <path>|`
    public static func mkdir(_ path: XenStorePath, transaction: UInt32 = 0) -> XenStoreRequest {
        XenStoreRequest(.XS_MKDIR, transaction: transaction, payload: pathPayload(path))
    }
    /// `RM <path>|`
    public static func rm(_ path: XenStorePath, transaction: UInt32 = 0) -> XenStoreRequest {
        XenStoreRequest(.XS_RM, transaction: transaction, payload: pathPayload(path))
    }
    /// `DIRECTORY <path>|`
    public static func directory(_ path: XenStorePath, transaction: UInt32 = 0) -> XenStoreRequest {
        XenStoreRequest(.XS_DIRECTORY, transaction: transaction, payload: pathPayload(path))
    }
    /// `DIRECTORY_PART <path>|<offset>|`: the children from byte `offset` of the whole list (every
    /// name with its nul), for a list longer than XENSTORE_PAYLOAD_MAX (C xenstored since 4.9).
    /// xenstore.txt shows no `|` after the offset, but the 4.17 daemon counts the nuls and answers
    /// anything but two with EINVAL. It reads the offset with atoi: decimal, and below 2^31.
    public static func directoryPart(_ path: XenStorePath, offset: UInt32, transaction: UInt32 = 0) -> XenStoreRequest {
        var rest: [UInt8] = []
        rest.appendDecimal(UInt64(offset))
        rest.append(0)
        return XenStoreRequest(.XS_DIRECTORY_PART, transaction: transaction, payload: pathPayload(path, rest))
    }
    /// `GET_PERMS <path>|`
    public static func getPermissions(_ path: XenStorePath, transaction: UInt32 = 0) -> XenStoreRequest {
        XenStoreRequest(.XS_GET_PERMS, transaction: transaction, payload: pathPayload(path))
    }
    /// `SET_PERMS <path>|<perm-as-string>|+`: the first entry names the owner.
    public static func setPermissions(_ path: XenStorePath, _ permissions: [XenStorePermission], transaction: UInt32 = 0) -> XenStoreRequest {
        var payload = pathPayload(path)
        for p in permissions { p.append(to: &payload); payload.append(0) }
        return XenStoreRequest(.XS_SET_PERMS, transaction: transaction, payload: payload)
    }
    /// `WATCH <wpath>|<token>|`: the tx_id of a watch is ignored by the daemon.
    static func watch(_ path: [UInt8], token: [UInt8]) -> XenStoreRequest {
        XenStoreRequest(.XS_WATCH, payload: path + [0] + token + [0])
    }
    /// `UNWATCH <wpath>|<token>|`
    static func unwatch(_ path: [UInt8], token: [UInt8]) -> XenStoreRequest {
        XenStoreRequest(.XS_UNWATCH, payload: path + [0] + token + [0])
    }
    /// `TRANSACTION_START |`: sent with tx_id 0, as the protocol requires.
    public static func transactionStart() -> XenStoreRequest { XenStoreRequest(.XS_TRANSACTION_START, payload: [0]) }
    /// `TRANSACTION_END T|` commits, `F|` discards.
    public static func transactionEnd(_ transaction: UInt32, commit: Bool) -> XenStoreRequest {
        XenStoreRequest(.XS_TRANSACTION_END, transaction: transaction, payload: [commit ? UInt8(ascii: "T") : UInt8(ascii: "F"), 0])
    }

    /// Header and payload as they go on the ring.
    func encoded(requestID: UInt32) throws(XenStoreError) -> [UInt8] {
        guard payload.count <= Int(XENSTORE_PAYLOAD_MAX) else { throw .requestTooLong }
        let header = xsd_sockmsg(type: type.rawValue, req_id: requestID, tx_id: transaction, len: UInt32(payload.count))
        var bytes = withUnsafeBytes(of: header) { [UInt8]($0) }
        bytes.append(contentsOf: payload)
        return bytes
    }
}

/// `<perm-as-string>`: `w`, `r`, `b` or `n` followed by a domid.
public struct XenStorePermission: Equatable {
    public enum Access: UInt8 {
        case none = 0x6E   // n
        case read = 0x72   // r
        case write = 0x77  // w
        case both = 0x62   // b
    }
    public let access: Access
    public let domain: domid_t
    public init(_ access: Access, _ domain: domid_t) { self.access = access; self.domain = domain }

    func append(to bytes: inout [UInt8]) {
        bytes.append(access.rawValue)
        bytes.appendDecimal(UInt64(domain))
    }

    init?(parsing bytes: [UInt8]) {
        guard let first = bytes.first, let access = Access(rawValue: first),
              let domain = bytes.withUnsafeBytes({ xenParseDecimal(raw: UnsafeRawBufferPointer(rebasing: $0.dropFirst()), maximum: UInt64(UInt16.max)) }) else { return nil }
        self.access = access
        self.domain = domid_t(domain)
    }
}

/// A successful reply, in the shape its request's type gives it.
public enum XenStoreReply: Equatable {
    /// `OK|`: write, mkdir, rm, set permissions, watch, unwatch, transaction end.
    case ok
    /// READ's value (binary: may hold nuls, carries no terminator).
    case value([UInt8])
    /// DIRECTORY's children's leaf names.
    case children([[UInt8]])
    /// A DIRECTORY_PART page: the node's generation count (the same on every page while the node
    /// does not change), the names from the offset asked, and whether the list ends on this page.
    case childrenPart(generation: UInt64, children: [[UInt8]], isLast: Bool)
    /// GET_PERMS's entries, the owner first.
    case permissions([XenStorePermission])
    /// TRANSACTION_START's id.
    case transaction(UInt32)
}

/// A watch event's two strings: `<epath>|<token>|`.
public struct XenStoreWatchEventPayload: Equatable {
    public let path: [UInt8]
    public let token: [UInt8]
}

public enum XenStoreWire {
    /// `sizeof(struct xsd_sockmsg)`.
    public static var headerSize: Int { MemoryLayout<xsd_sockmsg>.size }

    /// Parses the reply to a request of `requestType`, from a private copy of the payload.
    /// `XS_ERROR` becomes the daemon's error; any other type than the request's is refused.
    public static func parseReply(type: UInt32, payload: ArraySlice<UInt8>, to requestType: xsd_sockmsg_type) throws(XenStoreError) -> XenStoreReply {
        try payload.withUnsafeBytes { raw in
            Result { () throws(XenStoreError) in try parseReply(type: type, raw: raw, to: requestType) }
        }.get()
    }

    /// Parses `<epath>|<token>|`: exactly two strings, the path a valid (watch) path.
    public static func parseWatchEvent(_ payload: ArraySlice<UInt8>) throws(XenStoreError) -> XenStoreWatchEventPayload {
        try payload.withUnsafeBytes { raw in
            Result { () throws(XenStoreError) in try parseWatchEvent(raw: raw) }
        }.get()
    }

    /// The parser itself, over the client's private copy of the message.
    @inline(never)
    static func parseReply(type: UInt32, raw payload: UnsafeRawBufferPointer, to requestType: xsd_sockmsg_type) throws(XenStoreError) -> XenStoreReply {
        guard payload.count <= Int(XENSTORE_PAYLOAD_MAX) else { throw .oversizedReply(UInt32(payload.count)) }
        if type == xsd_sockmsg_type.XS_ERROR.rawValue {
            // `E<something>|`: one name, nul-terminated, nothing after it.
            guard let name = singleString(payload), name.first == UInt8(ascii: "E") else { throw .malformedReply }
            guard let errno = xenStoreErrno(raw: name) else { throw .unknownDaemonError }
            throw .daemon(errno)
        }
        guard type == requestType.rawValue else { throw .mismatchedReply }
        switch requestType {
        case .XS_READ:
            return .value([UInt8](payload))
        case .XS_DIRECTORY:
            // `<child-leaf-name>|*`: every name a leaf name, and terminated.
            guard let names = strings(payload), names.allSatisfy(XenStorePath.isChildName) else { throw .malformedReply }
            return .children(names)
        case .XS_DIRECTORY_PART:
            // `<gencnt>|<child-leaf-name>|*`, and on the last page one empty name more: the end
            // marker (4.17's C daemon adds a nul after the last name, or sends `<gencnt>||` for
            // an offset at or past the end). Its gencnt is the node's uint64 generation in
            // decimal. An empty name anywhere but last is refused.
            guard var names = strings(payload), !names.isEmpty,
                  let generation = xenParseDecimal(names[0], maximum: .max) else { throw .malformedReply }
            names.removeFirst()
            let isLast = names.last?.isEmpty == true
            if isLast { names.removeLast() }
            guard names.allSatisfy(XenStorePath.isChildName) else { throw .malformedReply }
            return .childrenPart(generation: generation, children: names, isLast: isLast)
        case .XS_GET_PERMS:
            // `<perm-as-string>|+`: at least one (the owner).
            guard let entries = strings(payload), !entries.isEmpty else { throw .malformedReply }
            var permissions: [XenStorePermission] = []
            for entry in entries {
                guard let p = XenStorePermission(parsing: entry) else { throw .malformedReply }
                permissions.append(p)
            }
            return .permissions(permissions)
        case .XS_TRANSACTION_START:
            // `<transid>|`: unsigned decimal; 0 would mean "no transaction".
            guard let digits = singleString(payload), let id = xenParseDecimal(raw: digits, maximum: UInt64(UInt32.max)), id != 0 else { throw .malformedReply }
            return .transaction(UInt32(id))
        default:
            guard payload.count == 3, payload[0] == UInt8(ascii: "O"), payload[1] == UInt8(ascii: "K"), payload[2] == 0 else { throw .malformedReply }
            return .ok
        }
    }

    @inline(never)
    static func parseWatchEvent(raw payload: UnsafeRawBufferPointer) throws(XenStoreError) -> XenStoreWatchEventPayload {
        guard payload.count <= Int(XENSTORE_PAYLOAD_MAX), let parts = strings(payload), parts.count == 2 else { throw .malformedReply }
        guard XenStorePath.isValidWatchPath(parts[0]) else { throw .invalidPath }
        return XenStoreWatchEventPayload(path: parts[0], token: parts[1])
    }

    /// One string and its nul, nothing more.
    static func singleString(_ payload: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard let nul = payload.firstIndex(of: 0), nul == payload.count - 1 else { return nil }
        return UnsafeRawBufferPointer(rebasing: payload[..<nul])
    }

    /// Zero or more strings each followed by its nul; nil if the last is unterminated.
    @inline(never)
    static func strings(_ payload: UnsafeRawBufferPointer) -> [[UInt8]]? {
        guard payload.isEmpty || payload[payload.count - 1] == 0 else { return nil }
        var result: [[UInt8]] = []
        var start = 0
        for i in 0..<payload.count where payload[i] == 0 {
            result.append([UInt8](UnsafeRawBufferPointer(rebasing: payload[start..<i])))
            start = i + 1
        }
        return result
    }
}

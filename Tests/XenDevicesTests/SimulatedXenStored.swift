// A xenstored over the shared page, playing the server's end of both byte rings: a tree of
// nodes with generation counts, watches that fire once when set and on every change below them,
// transactions, errors by name, and long directories answered as one of the daemons Xen 4.17
// ships would (`flavour`). Everything a hostile daemon can do is scriptable: rewrite or drop a
// reply, hold replies back and answer out of order, inject raw bytes, force EAGAIN on commits,
// lie in DIRECTORY_PART pages, set the page's error and connection fields.
import XenABI
import XenDevices

final class SimulatedXenStored {
    let page: UnsafeMutableRawPointer
    let domainID: domid_t
    var requests: XenByteReader
    var responses: XenByteWriter
    var nodes: [String: [UInt8]] = [:]
    var watches: [(path: String, token: [UInt8])] = []
    var transactions: [UInt32: [String: [UInt8]?]] = [:]
    var nextTransaction: UInt32 = 7
    var input: [UInt8] = []
    var output: [UInt8] = []
    /// Requests seen, in order.
    var received: [(header: xsd_sockmsg, payload: [UInt8])] = []
    /// The longest payload sent.
    var longestPayload = 0

    // Hostility.
    /// Rewrites each reply (header and payload) into the bytes actually sent; `nil` sends none.
    var rewrite: ((xsd_sockmsg, [UInt8]) -> [UInt8]?)?
    /// Replies held back instead of sent (released by `releaseHeld(reversed:)`).
    var holdReplies = false
    var held: [[UInt8]] = []
    /// Commits answered with EAGAIN before one succeeds.
    var conflicts = 0
    /// Requests that get no reply at all.
    var silent = false

    /// How a directory longer than one reply is answered (what xenstore.txt leaves to each daemon).
    enum Flavour {
        /// C xenstored 4.9 and later: DIRECTORY over XENSTORE_PAYLOAD_MAX is E2BIG, and
        /// DIRECTORY_PART pages it.
        case cxenstored
        /// C xenstored before 4.9: E2BIG as well, but DIRECTORY_PART is an unknown type (ENOSYS).
        case cxenstoredBefore49
        /// oxenstored 4.17: DIRECTORY sends the whole list whatever its length, and
        /// DIRECTORY_PART is an unknown type (ENOSYS).
        case oxenstored
    }
    var flavour = Flavour.cxenstored

    /// How DIRECTORY_PART pages are answered: as the C daemon cuts them, or with a lie.
    enum PageMode {
        case honest
        /// Another domain adds a child to the node after each of the next `n` pages.
        case changesBetweenPages(Int)
        /// Pages of fresh names, never the end marker.
        case endless
        /// `name` after the first name of the second page (once).
        case badChild([UInt8])
        /// `count` in place of the generation count.
        case badGeneration([UInt8])
        /// Every page from offset 0, whatever offset was asked.
        case repeatsOffset
        /// A page with no names and no end marker.
        case emptyPage
    }
    var pages = PageMode.honest
    /// The generation count of each node (the C daemon's node->generation): set from one
    /// counter each time the node is written, or a child is added or removed.
    var generations: [String: UInt64] = [:]
    var generation: UInt64 = 40

    init(domainID: domid_t = 5, serverFeatures: UInt32 = 0) {
        self.domainID = domainID
        page = zeroedPage()
        (page + xenstore_domain_interface.FieldOffset.server_features).storeBytes(of: serverFeatures, as: UInt32.self)
        requests = XenByteReader(try! XenByteStream(xenstore_domain_interface_req.self, interface: page))
        responses = XenByteWriter(try! XenByteStream(xenstore_domain_interface_rsp.self, interface: page))
        nodes["/local/domain/\(domainID)"] = []
    }
    deinit { page.deallocate() }

    var home: String { "/local/domain/\(domainID)" }
    func absolute(_ p: String) -> String { p.hasPrefix("/") || p.hasPrefix("@") ? p : "\(home)/\(p)" }

    // MARK: the toolstack's and the backend's side

    /// A write by another domain (the toolstack, a backend): fires the watches.
    func set(_ p: String, _ value: String) { write(absolute(p), bytes(value)); fire(absolute(p)) }
    func remove(_ p: String) { rm(absolute(p)); fire(absolute(p)) }
    func value(_ p: String) -> String? { nodes[absolute(p)]?.text }

    func setField(_ offset: Int, _ value: UInt32) { (page + offset).storeBytes(of: value, as: UInt32.self) }

    /// Raw bytes on the response ring, as if the daemon sent them.
    func inject(_ raw: [UInt8]) { output += raw; flush() }

    static func message(type: xsd_sockmsg_type, id: UInt32, tx: UInt32 = 0, _ payload: [UInt8], len: UInt32? = nil) -> [UInt8] {
        let header = xsd_sockmsg(type: type.rawValue, req_id: id, tx_id: tx, len: len ?? UInt32(payload.count))
        return withUnsafeBytes(of: header) { Array($0) } + payload
    }

    func releaseHeld(reversed: Bool = false) {
        for reply in reversed ? held.reversed() : held { output += reply }
        held = []
        flush()
    }

    /// Takes every whole request off the ring and answers it; writes what output fits.
    func run() {
        var chunk = [UInt8](repeating: 0, count: 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { (try? requests.read(into: $0)) ?? 0 }
            if n == 0 { break }
            input += chunk[0..<n]
        }
        let size = MemoryLayout<xsd_sockmsg>.size
        while input.count >= size {
            let header = input.withUnsafeBytes { $0.loadUnaligned(as: xsd_sockmsg.self) }
            guard input.count >= size + Int(header.len) else { break }
            let payload = Array(input[size..<(size + Int(header.len))])
            input.removeFirst(size + Int(header.len))
            received.append((header, payload))
            if !silent { answer(header, payload) }
        }
        flush()
    }

    func flush() {
        while !output.isEmpty {
            let n = output.withUnsafeBytes { (try? responses.write($0)) ?? 0 }
            if n == 0 { return }
            output.removeFirst(n)
        }
    }

    // MARK: the daemon

    func send(_ header: xsd_sockmsg, _ payload: [UInt8]) {
        var h = header
        h.len = UInt32(payload.count)
        longestPayload = max(longestPayload, payload.count)
        let raw: [UInt8]?
        if let rewrite { raw = rewrite(h, payload) } else { raw = withUnsafeBytes(of: h) { Array($0) } + payload }
        guard let raw else { return }
        if holdReplies && h.type != xsd_sockmsg_type.XS_WATCH_EVENT.rawValue { held.append(raw) } else { output += raw }
    }

    func reply(_ request: xsd_sockmsg, _ payload: [UInt8]) { send(request, payload) }
    func ok(_ request: xsd_sockmsg) { reply(request, bytes("OK") + [0]) }
    func error(_ request: xsd_sockmsg, _ errno: xen_errno) {
        var h = request
        h.type = xsd_sockmsg_type.XS_ERROR.rawValue
        send(h, xenStoreErrorName(errno)! + [0])
    }

    func strings(_ payload: [UInt8]) -> [[UInt8]] { payload.split(separator: 0, omittingEmptySubsequences: false).map(Array.init) }

    func answer(_ h: xsd_sockmsg, _ payload: [UInt8]) {
        let parts = strings(payload)
        let p = absolute(parts.first?.text ?? "")
        let tx = h.tx_id
        if tx != 0 && transactions[tx] == nil && h.type != xsd_sockmsg_type.XS_TRANSACTION_START.rawValue { return error(h, .XEN_ENOENT) }
        switch xsd_sockmsg_type(rawValue: h.type) {
        case .XS_READ:
            guard let v = lookup(p, tx) else { return error(h, .XEN_ENOENT) }
            reply(h, v)
        case .XS_WRITE:
            let nul = payload.firstIndex(of: 0)!
            store(p, Array(payload[(nul + 1)...]), tx)
            ok(h)
        case .XS_MKDIR:
            if lookup(p, tx) == nil { store(p, [], tx) }
            ok(h)
        case .XS_RM:
            guard lookup(p, tx) != nil else { return error(h, .XEN_ENOENT) }
            if tx == 0 { rm(p); fire(p) } else { transactions[tx]![p] = .some(nil) }
            ok(h)
        case .XS_DIRECTORY:
            guard lookup(p, tx) != nil else { return error(h, .XEN_ENOENT) }
            let list = childList(p)
            if list.count > Int(XENSTORE_PAYLOAD_MAX) && flavour != .oxenstored { return error(h, .XEN_E2BIG) }
            reply(h, list)
        case .XS_DIRECTORY_PART:
            guard flavour == .cxenstored else { return error(h, .XEN_ENOSYS) }
            // `<path>|<offset>|`: exactly two strings, or EINVAL.
            guard parts.count == 3, parts[2].isEmpty else { return error(h, .XEN_EINVAL) }
            guard lookup(p, tx) != nil else { return error(h, .XEN_ENOENT) }
            reply(h, directoryPage(p, offset: Int(parts[1].text) ?? 0))
        case .XS_GET_PERMS:
            guard lookup(p, tx) != nil else { return error(h, .XEN_ENOENT) }
            reply(h, bytes("n\(domainID)") + [0] + bytes("r0") + [0])
        case .XS_SET_PERMS:
            guard lookup(p, tx) != nil else { return error(h, .XEN_ENOENT) }
            ok(h)
        case .XS_WATCH:
            watches.append((parts[0].text, parts[1]))
            ok(h)
            event(watchPath: parts[0].text, changed: parts[0].text, token: parts[1])  // fires once at once
        case .XS_UNWATCH:
            guard let i = watches.firstIndex(where: { $0.path == parts[0].text && $0.token == parts[1] }) else { return error(h, .XEN_ENOENT) }
            watches.remove(at: i)
            ok(h)
        case .XS_TRANSACTION_START:
            let id = nextTransaction
            nextTransaction += 1
            transactions[id] = [:]
            reply(h, bytes("\(id)") + [0])
        case .XS_TRANSACTION_END:
            guard let changes = transactions.removeValue(forKey: tx) else { return error(h, .XEN_ENOENT) }
            if parts[0] == bytes("T") {
                if conflicts > 0 { conflicts -= 1; return error(h, .XEN_EAGAIN) }
                for (key, value) in changes.sorted(by: { $0.key < $1.key }) {
                    if let value { write(key, value) } else { rm(key) }
                }
                for key in changes.keys.sorted() { fire(key) }
            }
            ok(h)
        default:
            error(h, .XEN_EINVAL)
        }
    }

    func lookup(_ p: String, _ tx: UInt32) -> [UInt8]? {
        if tx != 0, let change = transactions[tx]?[p] { return change }
        return nodes[p]
    }

    func store(_ p: String, _ value: [UInt8], _ tx: UInt32) {
        if tx == 0 { write(p, value); fire(p) } else { transactions[tx]![p] = .some(value) }
    }

    /// WRITE creates missing parents with empty values. A node written gets a new generation,
    /// and so does the parent a node is added to.
    func write(_ p: String, _ value: [UInt8]) {
        var added = nodes[p] == nil
        nodes[p] = value
        touch(p)
        var parent = p
        while added, let slash = parent.lastIndex(of: "/"), slash != parent.startIndex {
            parent = String(parent[..<slash])
            added = nodes[parent] == nil
            if added { nodes[parent] = [] }
            touch(parent)
        }
    }

    func rm(_ p: String) {
        for key in nodes.keys where key == p || key.hasPrefix(p + "/") { nodes[key] = nil }
        if let slash = p.lastIndex(of: "/"), slash != p.startIndex { touch(String(p[..<slash])) }
    }

    func touch(_ p: String) {
        generation += 1
        generations[p] = generation
    }

    /// The node's children as the C daemon stores them: each leaf name and its nul (sorted here).
    func childList(_ p: String) -> [UInt8] {
        var names = Set<String>()
        for key in nodes.keys where key.hasPrefix(p + "/") {
            names.insert(String(key.dropFirst(p.count + 1).split(separator: "/")[0]))
        }
        return names.sorted().flatMap { bytes($0) + [0] }
    }

    /// A DIRECTORY_PART page as 4.17's C daemon cuts one: the generation count in decimal and its
    /// nul, then whole names from the offset for as long as they leave one byte of the payload
    /// free, and in that byte the end marker if the list ends on this page. An offset at or
    /// past the end gets the count and the marker alone.
    func directoryPage(_ p: String, offset asked: Int) -> [UInt8] {
        var offset = asked
        if case .repeatsOffset = pages { offset = 0 }
        let list = childList(p)
        var page = bytes("\(generations[p, default: 0])") + [0]
        if case .badGeneration(let count) = pages { page = count + [0] }
        if case .emptyPage = pages { return page }
        if case .endless = pages {
            for i in 0..<100 { page += bytes("endless-\(asked)-\(i)") + [0] }
            return page
        }
        let room = Int(XENSTORE_PAYLOAD_MAX) - page.count - 1
        var end = min(offset, list.count)
        while end < list.count {
            let nul = list[end...].firstIndex(of: 0)!
            if nul + 1 - offset > room { break }
            end = nul + 1
        }
        var names = Array(list[min(offset, list.count)..<end])
        if case .badChild(let name) = pages, asked > 0, let first = names.firstIndex(of: 0) {
            names.insert(contentsOf: name + [0], at: first + 1)
            pages = .honest  // once: the next page must not fail for another reason
        }
        page += names
        if end == list.count { page.append(0) }
        if case .changesBetweenPages(let n) = pages, n > 0 {
            pages = .changesBetweenPages(n - 1)
            set(p + "/changed-\(n)", "")
        }
        return page
    }

    /// Each watch on the path or above it gets an event; a relative watch gets a relative path.
    func fire(_ changed: String) {
        for w in watches {
            let wAbs = absolute(w.path)
            if changed == wAbs || changed.hasPrefix(wAbs + "/") || wAbs.hasPrefix(changed + "/") {
                event(watchPath: w.path, changed: wAbs.hasPrefix(changed + "/") ? wAbs : changed, token: w.token)
            }
        }
    }

    func event(watchPath: String, changed: String, token: [UInt8]) {
        var reported = changed
        if !watchPath.hasPrefix("/") && reported.hasPrefix(home + "/") { reported = String(reported.dropFirst(home.count + 1)) }
        send(xsd_sockmsg(type: xsd_sockmsg_type.XS_WATCH_EVENT.rawValue), bytes(reported) + [0] + token + [0])
    }
}

/// Runs the daemon and the client until neither moves (bounded: a test never hangs).
func pump(_ client: inout XenStoreClient<SimulatedPlatform>, _ daemon: SimulatedXenStored, rounds: Int = 50) {
    for _ in 0..<rounds {
        daemon.run()
        _ = client.handleEvent()
    }
}

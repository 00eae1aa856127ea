// The xenstore client over the shared page (XenStoreRing): requests framed onto `req`, replies
// and watch events taken off `rsp` into a private buffer, checked and matched by request id.
// It never waits: `submit` queues and writes what fits, `handleEvent` (called when the store's
// port fires, or at the deadline it returned) moves bytes and completes requests, and the owner
// of each request collects its reply with `takeReply`.
import XenABI

public struct XenStoreRequestID: Equatable {
    public let rawValue: UInt32
}

public enum XenStoreConnection: Equatable {
    case connected
    /// A ring reconnection is in progress (ours or the server's): nothing moves until it ends.
    case reconnecting
    /// The connection cannot be used: the server's error field, a ring index out of range, or a
    /// reply whose framing cannot be trusted. `reconnect()` may bring it back.
    case failed(XenStoreError)
}

/// What the client refused or dropped, for diagnostics: none of these stops it.
public struct XenStoreCounters: Equatable {
    /// Replies whose request id is not in flight (a late reply to a timed-out request, or a lie).
    public var unsolicitedReplies = 0
    /// Watch events refused: malformed, or for a path outside the watch.
    public var refusedWatchEvents = 0
    /// Watch events whose token is no watch's (one that raced an unwatch).
    public var unknownTokenEvents = 0
    /// Watch events merged into one already queued, or collapsed in a storm.
    public var coalescedWatchEvents = 0
    /// Requests that got no reply before their deadline.
    public var timedOutRequests = 0
}

public struct XenStoreClient<Platform: XenPlatform>: ~Copyable {
    var ring: XenStoreRing
    public let port: evtchn_port_t
    public let platform: Platform
    /// How long a request may wait for its reply (nanoseconds).
    public var requestTimeout: UInt64 = 30_000_000_000

    /// Requests in flight at most: below the C daemon's default of 20 per connection.
    public static var maxInFlight: Int { 16 }
    /// Messages handled per `handleEvent`, so a storm cannot keep the caller from its other work
    /// (the same bound on work per round the event loop puts on every port, XSA-391).
    public static var messagesPerEvent: Int { 64 }

    enum Owner: Equatable { case caller, watch(XenStoreWatchID), nobody }
    struct InFlight {
        let id: UInt32
        let type: xsd_sockmsg_type
        let transaction: UInt32
        let deadline: UInt64
        var owner: Owner
    }

    var outgoing: [UInt8] = []
    var incoming: [UInt8] = []
    var inFlight: [InFlight] = []
    var finished: [(id: UInt32, result: Result<XenStoreReply, XenStoreError>)] = []
    var watches = XenStoreWatches()
    var nextRequestID: UInt32 = 1
    public private(set) var connection: XenStoreConnection = .connected
    public private(set) var counters = XenStoreCounters()

    /// Attaches to the store page (`start_info.store_mfn` mapped) and its port
    /// (`start_info.store_evtchn`). A server that is reconnecting is waited for by `handleEvent`.
    public init(interface: UnsafeMutableRawPointer, port: evtchn_port_t, platform: Platform) throws(XenStoreError) {
        do { ring = try XenStoreRing(interface) } catch { throw .ring(error) }
        self.port = port
        self.platform = platform
        if case .reconnecting? = Self.ringState(ring) { connection = .reconnecting }
    }

    /// Does the server advertise this XENSTORE_SERVER_FEATURE_*?
    public func serverSupports(_ feature: Int32) -> Bool { ring.serverSupports(feature) }

    // MARK: requests

    /// Queues a request and writes as much of it as the ring takes.
    public mutating func submit(_ request: XenStoreRequest) throws(XenStoreError) -> XenStoreRequestID {
        try submit(request, owner: .caller)
    }

    @inline(never)
    mutating func submit(_ request: XenStoreRequest, owner: Owner) throws(XenStoreError) -> XenStoreRequestID {
        guard connection == .connected else { throw .disconnected }
        guard inFlight.count < Self.maxInFlight else { throw .tooManyRequests }
        let id = nextRequestID
        nextRequestID = nextRequestID == UInt32.max ? 1 : nextRequestID + 1
        outgoing.append(contentsOf: try request.encoded(requestID: id))
        inFlight.append(InFlight(id: id, type: request.type, transaction: request.transaction,
                                 deadline: platform.now() &+ requestTimeout, owner: owner))
        flush()
        return XenStoreRequestID(rawValue: id)
    }

    /// The reply, once it has come (or the request failed); nil while it is in flight.
    @inline(never)
    public mutating func takeReply(_ id: XenStoreRequestID) -> Result<XenStoreReply, XenStoreError>? {
        guard let i = finished.firstIndex(where: { $0.id == id.rawValue }) else { return nil }
        return finished.remove(at: i).result
    }

    /// Forgets a request: its reply, when it comes, is dropped.
    public mutating func cancel(_ id: XenStoreRequestID) {
        if let i = inFlight.firstIndex(where: { $0.id == id.rawValue }) { inFlight[i].owner = .nobody }
        finished.removeAll { $0.id == id.rawValue }
    }

    public var requestsInFlight: Int { inFlight.count }

    // MARK: watches

    /// Sets a watch on `path` (or a special `@...` path); its events, starting with the one a new
    /// watch fires at once, queue for this watch alone.
    public mutating func watch(_ path: [UInt8]) throws(XenStoreError) -> XenStoreWatchID {
        guard XenStorePath.isValidWatchPath(path) else { throw .invalidPath }
        guard connection == .connected else { throw .disconnected }
        guard inFlight.count < Self.maxInFlight else { throw .tooManyRequests }
        let watch = watches.add(path: path)
        _ = try submit(.watch(path, token: watch.token), owner: .watch(watch.id))
        return watch.id
    }

    public mutating func watch(_ path: XenStorePath) throws(XenStoreError) -> XenStoreWatchID { try watch(path.bytes) }

    /// Removes the watch at once (events still on their way are dropped) and tells the daemon.
    public mutating func unwatch(_ id: XenStoreWatchID) {
        guard let watch = watches.remove(id) else { return }
        if connection == .connected { _ = try? submit(.unwatch(watch.path, token: watch.token), owner: .nobody) }
    }

    public func watchStatus(_ id: XenStoreWatchID) -> XenStoreWatchStatus? { watches.find(id)?.status }

    public mutating func takeWatchEvent(_ id: XenStoreWatchID) -> XenStoreWatchEvent? { watches.takeEvent(id) }

    // MARK: the event

    /// Moves bytes both ways, completes requests and queues watch events. Call it when the
    /// store's port fires and at the deadline it returns.
    public mutating func handleEvent() -> XenWait {
        switch connection {
        case .failed: return .event
        case .reconnecting:
            guard (try? ring.reattachIfConnected()) == true else { return .event }
            reattached()
        case .connected: break
        }
        flush()
        var handled = 0
        var consumed = false
        while connection == .connected, handled < Self.messagesPerEvent {
            guard let message = receive(&consumed) else { break }
            handle(message)
            handled += 1
        }
        if consumed { platform.notify(port) }  // the server may be waiting for room to reply
        expireRequests()
        if connection != .connected { return .event }
        if handled == Self.messagesPerEvent { return .ready }
        if let soonest = inFlight.map({ $0.deadline }).min() { return .deadline(soonest) }
        return .event
    }

    /// Asks the server to reset the ring (XENSTORE_SERVER_FEATURE_RECONNECTION): everything in
    /// flight fails with `.disconnected`; once the server is back, watches are set again.
    public mutating func reconnect() throws(XenStoreError) {
        do { try ring.requestReconnection() } catch { throw .ring(error) }
        drop(.reconnecting)
        platform.notify(port)
    }

    // MARK: inside

    static func ringState(_ ring: borrowing XenStoreRing) -> XenRingError? {
        do { try ring.checkConnection(); return nil } catch { return error }
    }

    /// Writes queued request bytes; a request longer than the free space goes in pieces.
    mutating func flush() {
        guard connection == .connected, !outgoing.isEmpty else { return }
        // Array's closures rethrow untyped: the ring's typed error comes out through a Result.
        let result = outgoing.withUnsafeBytes { bytes in Result { () throws(XenRingError) in try ring.write(bytes) } }
        switch result {
        case .success(let written):
            guard written > 0 else { return }
            outgoing.removeFirst(written)
            platform.notify(port)
        case .failure(let error):
            ringFailed(error)
        }
    }

    struct Message {
        let header: xsd_sockmsg
        let payload: ArraySlice<UInt8>
    }

    /// Reads the rest of the message being assembled; returns it once whole. A header whose
    /// `len` is over XENSTORE_PAYLOAD_MAX is refused before a byte of its payload is read.
    mutating func receive(_ consumed: inout Bool) -> Message? {
        let headerSize = XenStoreWire.headerSize
        while true {
            let need: Int
            if incoming.count < headerSize {
                need = headerSize - incoming.count
            } else {
                let header = incoming.withUnsafeBytes { $0.loadUnaligned(as: xsd_sockmsg.self) }
                guard header.len <= UInt32(XENSTORE_PAYLOAD_MAX) else {
                    fail(.oversizedReply(header.len))
                    return nil
                }
                need = headerSize + Int(header.len) - incoming.count
                if need == 0 {
                    let whole = incoming
                    incoming.removeAll(keepingCapacity: true)
                    return Message(header: header, payload: whole[headerSize...])
                }
            }
            let start = incoming.count
            incoming.append(contentsOf: repeatElement(0, count: need))
            let result = incoming.withUnsafeMutableBytes { buffer in
                Result { () throws(XenRingError) in try ring.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[start...])) }
            }
            guard case .success(let got) = result else {
                incoming.removeLast(need)
                if case .failure(let error) = result { ringFailed(error) }
                return nil
            }
            incoming.removeLast(need - got)
            if got > 0 { consumed = true }
            if got < need { return nil }
        }
    }

    mutating func handle(_ message: Message) {
        let header = message.header
        if header.type == xsd_sockmsg_type.XS_WATCH_EVENT.rawValue {
            guard let event = try? XenStoreWire.parseWatchEvent(message.payload) else {
                counters.refusedWatchEvents += 1
                return
            }
            switch watches.deliver(event) {
            case .queued: break
            case .coalesced, .collapsed: counters.coalescedWatchEvents += 1
            case .unknownToken: counters.unknownTokenEvents += 1
            case .outsideWatch: counters.refusedWatchEvents += 1
            }
            return
        }
        guard let i = inFlight.firstIndex(where: { $0.id == header.req_id }) else {
            counters.unsolicitedReplies += 1
            return
        }
        let request = inFlight.remove(at: i)
        let result: Result<XenStoreReply, XenStoreError>
        // The reply carries the request's tx_id; TRANSACTION_START's request has none to echo.
        if request.type != .XS_TRANSACTION_START && header.tx_id != request.transaction {
            result = .failure(.mismatchedReply)
        } else {
            do throws(XenStoreError) {
                result = .success(try XenStoreWire.parseReply(type: header.type, payload: message.payload, to: request.type))
            } catch {
                result = .failure(error)
            }
        }
        complete(request, result)
    }

    mutating func complete(_ request: InFlight, _ result: Result<XenStoreReply, XenStoreError>) {
        switch request.owner {
        case .caller: finished.append((request.id, result))
        case .watch(let id):
            switch result {
            case .success(.ok): watches.setStatus(id, .active)
            case .success: watches.setStatus(id, .failed(.malformedReply))
            case .failure(let e): watches.setStatus(id, .failed(e))
            }
        case .nobody: break
        }
    }

    mutating func expireRequests() {
        let now = platform.now()
        var i = 0
        while i < inFlight.count {
            if inFlight[i].deadline <= now {
                counters.timedOutRequests += 1
                complete(inFlight.remove(at: i), .failure(.timedOut))
            } else {
                i += 1
            }
        }
    }

    mutating func ringFailed(_ error: XenRingError) {
        if error == .reconnecting { drop(.reconnecting) } else { fail(.ring(error)) }
    }

    mutating func fail(_ error: XenStoreError) { drop(.failed(error)) }

    /// Everything in flight is lost with the connection: requests fail, partial messages go.
    mutating func drop(_ state: XenStoreConnection) {
        connection = state
        outgoing.removeAll()
        incoming.removeAll()
        let lost = inFlight
        inFlight.removeAll()
        for request in lost { complete(request, .failure(.disconnected)) }
    }

    /// The server has reset the ring: it dropped our watches (xenstore-ring.txt), so set them again.
    mutating func reattached() {
        connection = .connected
        for watch in watches.watches {
            watches.setStatus(watch.id, .registering)
            do throws(XenStoreError) {
                _ = try submit(.watch(watch.path, token: watch.token), owner: .watch(watch.id))
            } catch {
                watches.setStatus(watch.id, .failed(error))
            }
        }
    }
}

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
    /// Request and reply slots: every request in flight has one, and keeps it, with its result,
    /// until its owner takes the reply. A reply never collected is dropped, oldest first, when a
    /// new request needs its slot.
    static var slotCount: Int { 32 }
    /// Request bytes queued before the ring takes them: two whole requests at least, so one
    /// of XENSTORE_PAYLOAD_MAX always fits behind a smaller one. A full queue refuses a request
    /// with `.tooManyRequests`, as a full request table does.
    static var outgoingCapacity: Int { 2 * (16 + Int(XENSTORE_PAYLOAD_MAX)) }
    /// The longest reply over XENSTORE_PAYLOAD_MAX that is read and dropped rather than failing
    /// the connection. oxenstored 4.17 answers DIRECTORY with the whole list however long it is
    /// (process.ml's do_directory; it has no DIRECTORY_PART), in one well-framed message: such a
    /// reply fails its own request with `.oversizedReply` and the stream goes on. Only a reply to
    /// a request in flight is dropped, so a daemon cannot make the client read without bound; 256
    /// pages' worth (1 MiB) is far past a listing's own bound of 64 KiB, and a longer `len` is
    /// taken for a lie.
    public static var maxDroppedReply: UInt32 { 256 * UInt32(XENSTORE_PAYLOAD_MAX) }

    enum Owner: Equatable { case caller, watch(XenStoreWatchID), nobody }
    struct Slot {
        /// 0: the slot is free.
        var id: UInt32 = 0
        var type = xsd_sockmsg_type()
        var transaction: UInt32 = 0
        var deadline: UInt64 = 0
        var owner = Owner.nobody
        /// The reply came (or the request failed): `result` holds it for the caller.
        var finished = false
        /// When it finished, to drop the oldest uncollected reply first.
        var finishedOrder: UInt32 = 0
        var result: Result<XenStoreReply, XenStoreError> = .success(.ok)
    }

    var outgoing = XenByteBuffer(capacity: outgoingCapacity)
    /// The message being assembled: a header and at most XENSTORE_PAYLOAD_MAX bytes.
    var incoming = XenByteBuffer(capacity: 16 + Int(XENSTORE_PAYLOAD_MAX))
    /// Bytes still to drop of an oversized reply's payload (see `maxDroppedReply`).
    var dropping: UInt32 = 0
    var slots = InlineArray<32, Slot>(repeating: Slot())
    var inFlightCount = 0
    var finishedCount: UInt32 = 0
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
        guard inFlightCount < Self.maxInFlight else { throw .tooManyRequests }
        guard request.payload.count <= Int(XENSTORE_PAYLOAD_MAX) else { throw .requestTooLong }
        guard outgoing.room >= XenStoreWire.headerSize + request.payload.count else { throw .tooManyRequests }
        let id = nextRequestID
        nextRequestID = nextRequestID == UInt32.max ? 1 : nextRequestID + 1
        var header = xsd_sockmsg(type: request.type.rawValue, req_id: id, tx_id: request.transaction, len: UInt32(request.payload.count))
        _ = withUnsafeBytes(of: &header) { outgoing.append($0) }
        _ = outgoing.append(request.payload)
        let i = freeSlot()
        slots[i] = Slot(id: id, type: request.type, transaction: request.transaction,
                        deadline: platform.now() &+ requestTimeout, owner: owner)
        inFlightCount += 1
        flush()
        return XenStoreRequestID(rawValue: id)
    }

    /// A free slot; failing that, the one whose uncollected reply is oldest (in flight are at
    /// most `maxInFlight` of `slotCount`, so there is always one or the other).
    @inline(never)
    mutating func freeSlot() -> Int {
        var oldest = -1
        for i in 0..<Self.slotCount {
            if slots[i].id == 0 { return i }
            if slots[i].finished && (oldest < 0 || slots[i].finishedOrder &- slots[oldest].finishedOrder > UInt32.max / 2) { oldest = i }
        }
        return oldest
    }

    /// The slot of a request, in flight or finished.
    @inline(never)
    func slot(_ id: UInt32) -> Int? {
        guard id != 0 else { return nil }
        for i in 0..<Self.slotCount where slots[i].id == id { return i }
        return nil
    }

    /// The reply, once it has come (or the request failed); nil while it is in flight.
    @inline(never)
    public mutating func takeReply(_ id: XenStoreRequestID) -> Result<XenStoreReply, XenStoreError>? {
        guard let i = slot(id.rawValue), slots[i].finished, slots[i].owner == .caller else { return nil }
        let result = slots[i].result
        slots[i] = Slot()
        return result
    }

    /// What the drivers want of a reply, in one shape: `.pending` while it is on its way, a READ's
    /// value, `.ok`, or the failure (a reply of another shape is `.malformedReply`).
    enum Outcome { case pending, ok, value([UInt8]), failed(XenStoreError) }

    @inline(never)
    mutating func takeOutcome(_ id: XenStoreRequestID) -> Outcome {
        switch takeReply(id) {
        case nil: return .pending
        case .success(.ok)?: return .ok
        case .success(.value(let v))?: return .value(v)
        case .success?: return .failed(.malformedReply)
        case .failure(let e)?: return .failed(e)
        }
    }

    /// Forgets a request: its reply, when it comes, is dropped.
    @inline(never)
    public mutating func cancel(_ id: XenStoreRequestID) {
        guard let i = slot(id.rawValue) else { return }
        if slots[i].finished { slots[i] = Slot() } else { slots[i].owner = .nobody }
    }

    public var requestsInFlight: Int { inFlightCount }

    // MARK: watches

    /// Sets a watch on `path` (or a special `@...` path); its events, starting with the one a new
    /// watch fires at once, queue for this watch alone.
    @inline(never)
    public mutating func watch(_ path: [UInt8]) throws(XenStoreError) -> XenStoreWatchID {
        guard XenStorePath.isValidWatchPath(path) else { throw .invalidPath }
        guard connection == .connected else { throw .disconnected }
        guard inFlightCount < Self.maxInFlight else { throw .tooManyRequests }
        let watch = watches.add(path: path)
        _ = try submit(.watch(path, token: watch.token), owner: .watch(watch.id))
        return watch.id
    }

    public mutating func watch(_ path: XenStorePath) throws(XenStoreError) -> XenStoreWatchID { try watch(path.bytes) }

    /// Removes the watch at once (events still on their way are dropped) and tells the daemon.
    @inline(never)
    public mutating func unwatch(_ id: XenStoreWatchID) {
        guard let watch = watches.remove(id) else { return }
        if connection == .connected { _ = try? submit(.unwatch(watch.path, token: watch.token), owner: .nobody) }
    }

    public func watchStatus(_ id: XenStoreWatchID) -> XenStoreWatchStatus? { watches.find(id)?.status }

    public mutating func takeWatchEvent(_ id: XenStoreWatchID) -> XenStoreWatchEvent? { watches.takeEvent(id) }

    // MARK: the event

    /// Moves bytes both ways, completes requests and queues watch events. Call it when the
    /// store's port fires and at the deadline it returns.
    @inline(never)
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
            guard receive(&consumed) else { break }
            handleMessage()
            handled += 1
        }
        if consumed { platform.notify(port) }  // the server may be waiting for room to reply
        let now = platform.now()
        expireRequests(now)
        if connection != .connected { return .event }
        if handled == Self.messagesPerEvent { return .ready }
        return soonestDeadline()
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
    @inline(never)
    mutating func flush() {
        guard connection == .connected, !outgoing.isEmpty else { return }
        do throws(XenRingError) {
            let written = try ring.write(outgoing.bytes)
            guard written > 0 else { return }
            outgoing.removeFirst(written)
            platform.notify(port)
        } catch {
            ringFailed(error)
        }
    }

    var incomingHeader: xsd_sockmsg { incoming.bytes.loadUnaligned(as: xsd_sockmsg.self) }

    /// Reads the rest of the message being assembled into `incoming`; true once it is whole. A
    /// header whose `len` is over XENSTORE_PAYLOAD_MAX is refused before a byte of its payload
    /// is read: its request fails and the payload is dropped as it comes (`dropOversized`), or,
    /// when it cannot be a reply, the connection fails.
    @inline(never)
    mutating func receive(_ consumed: inout Bool) -> Bool {
        let headerSize = XenStoreWire.headerSize
        while true {
            let need: Int
            if dropping > 0 {
                need = min(Int(dropping), incoming.capacity)
            } else if incoming.count < headerSize {
                need = headerSize - incoming.count
            } else {
                let len = incomingHeader.len
                guard len <= UInt32(XENSTORE_PAYLOAD_MAX) else {
                    guard dropOversized() else { fail(.oversizedReply(len)); return false }
                    continue
                }
                need = headerSize + Int(len) - incoming.count
                if need == 0 { return true }
            }
            let got: Int
            do throws(XenRingError) {
                got = try ring.read(into: UnsafeMutableRawBufferPointer(rebasing: incoming.free[..<need]))
            } catch {
                ringFailed(error)
                return false
            }
            if got > 0 { consumed = true }
            if dropping > 0 { dropping -= UInt32(got) } else { incoming.commit(got) }
            if got < need { return false }
        }
    }

    /// An oversized header in `incoming`: if it is a reply, of its request's type, to a request
    /// in flight, and no longer than `maxDroppedReply`, that request fails with
    /// `.oversizedReply` and the payload is to be dropped. False for anything else.
    @inline(never)
    mutating func dropOversized() -> Bool {
        let header = incomingHeader
        guard header.len <= Self.maxDroppedReply, let i = slot(header.req_id), !slots[i].finished,
              header.type == slots[i].type.rawValue else { return false }
        incoming.removeAll()
        dropping = header.len
        complete(i, .failure(.oversizedReply(header.len)))
        return true
    }

    /// Handles the whole message in `incoming`, then empties it.
    @inline(never)
    mutating func handleMessage() {
        let header = incomingHeader
        let payload = UnsafeRawBufferPointer(rebasing: incoming.bytes[XenStoreWire.headerSize...])
        defer { incoming.removeAll() }
        if header.type == xsd_sockmsg_type.XS_WATCH_EVENT.rawValue {
            guard let event = try? XenStoreWire.parseWatchEvent(raw: payload) else {
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
        guard let i = slot(header.req_id), !slots[i].finished else {
            counters.unsolicitedReplies += 1
            return
        }
        let result: Result<XenStoreReply, XenStoreError>
        // The reply carries the request's tx_id; TRANSACTION_START's request has none to echo.
        if slots[i].type != .XS_TRANSACTION_START && header.tx_id != slots[i].transaction {
            result = .failure(.mismatchedReply)
        } else {
            do throws(XenStoreError) {
                result = .success(try XenStoreWire.parseReply(type: header.type, raw: payload, to: slots[i].type))
            } catch {
                result = .failure(error)
            }
        }
        complete(i, result)
    }

    /// A request in flight has its result: the caller's waits in its slot, a watch's sets its status.
    @inline(never)
    mutating func complete(_ i: Int, _ result: Result<XenStoreReply, XenStoreError>) {
        inFlightCount -= 1
        switch slots[i].owner {
        case .caller:
            slots[i].finished = true
            slots[i].finishedOrder = finishedCount
            finishedCount &+= 1
            slots[i].result = result
            return
        case .watch(let id):
            switch result {
            case .success(.ok): watches.setStatus(id, .active)
            case .success: watches.setStatus(id, .failed(.malformedReply))
            case .failure(let e): watches.setStatus(id, .failed(e))
            }
        case .nobody: break
        }
        slots[i] = Slot()
    }

    @inline(never)
    mutating func expireRequests(_ now: UInt64) {
        for i in 0..<Self.slotCount where slots[i].id != 0 && !slots[i].finished && slots[i].deadline <= now {
            counters.timedOutRequests += 1
            complete(i, .failure(.timedOut))
        }
    }

    func soonestDeadline() -> XenWait {
        var soonest: UInt64? = nil
        for i in 0..<Self.slotCount where slots[i].id != 0 && !slots[i].finished {
            if soonest == nil || slots[i].deadline < soonest! { soonest = slots[i].deadline }
        }
        if let soonest { return .deadline(soonest) }
        return .event
    }

    mutating func ringFailed(_ error: XenRingError) {
        if error == .reconnecting { drop(.reconnecting) } else { fail(.ring(error)) }
    }

    mutating func fail(_ error: XenStoreError) { drop(.failed(error)) }

    /// Everything in flight is lost with the connection: requests fail, partial messages go.
    @inline(never)
    mutating func drop(_ state: XenStoreConnection) {
        connection = state
        outgoing.removeAll()
        incoming.removeAll()
        dropping = 0
        for i in 0..<Self.slotCount where slots[i].id != 0 && !slots[i].finished {
            complete(i, .failure(.disconnected))
        }
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

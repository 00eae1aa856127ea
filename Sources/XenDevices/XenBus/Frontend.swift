// The frontend's side of xenbus, one state machine for every device kind (XenBusDeviceKind says
// where kinds differ). It reads the frontend directory's `backend` and `backend-id`, watches the
// backend's `state`, and tells the driver what to do through actions: publish its rings when
// the backend is ready, use them once it is connected, stop when it closes or vanishes. The
// driver answers with `publish(_:)` and `released()`. It never waits: `advance` says what for.
import XenABI

public enum XenBusFrontendAction: Equatable {
    /// The backend is ready: set up the rings and event channels, then call `publish(_:)`. The
    /// values of the kind's `keysBeforePublish`, in order, nil where the backend wrote none.
    case publish(backendID: domid_t, backendValues: [[UInt8]?])
    /// Both ends are connected: the values of the kind's `keysAtConnect`, in order. Comes again,
    /// with the values read again, each time the backend writes Connected while connected.
    case connected(backendValues: [[UInt8]?])
    /// Stop using the rings and end the grants (waiting out any the backend still maps,
    /// XSA-396), then call `released()`. The error says why, when it was not an orderly close.
    case closing(XenStoreError?)
    /// The device is closed: the frontend is finished.
    case closed
}

public struct XenBusFrontend: ~Copyable {
    enum Phase: Equatable {
        case readingFrontend
        /// Watching the backend; waiting for it to be ready.
        case initialising
        case readingKeysBeforePublish
        case awaitingDriver
        case publishing
        /// Our rings are out; waiting for the backend to connect.
        case published
        case readingKeysAtConnect
        case connected
        case awaitingRelease
        case closed
    }

    public let kind: XenBusDeviceKind
    /// The frontend directory (`device/vif/0`, relative to /local/domain/<our domid>).
    public let path: XenStorePath
    /// Our state as last written.
    public private(set) var state: xenbus_state = .XenbusStateInitialising
    /// The backend's state as last read; `nil` before the first read.
    public private(set) var backendState: xenbus_state?
    public private(set) var backendID: domid_t?
    public private(set) var backendPath: XenStorePath?
    /// The frontend directory's `trusted` key: true for 1, false for 0, nil when absent or
    /// anything else. For the log: a driver treats every backend as untrusted.
    public private(set) var trusted: Bool?

    var phase: Phase = .readingFrontend
    /// The reads of one step (the frontend's keys, or the backend's): their requests, which have
    /// come, their values, and the first failure in their order.
    var reads: [UInt32] = []
    var readsSubmitted = false
    var readsArrived: UInt32 = 0
    var readValues: [[UInt8]?] = []
    var readFailure: XenStoreError?
    var readFailureIndex = 0
    var backendWatch: XenStoreWatchID?
    var stateRead: XenStoreRequestID?
    var stateReadWanted = false
    var backendGone = false
    var stateWrites: [UInt32] = []
    /// The publishing transaction while `phase` is `.publishing` (not an optional: a large
    /// non-copyable optional costs the kernel a copy of its destroy code at every use).
    var transaction = XenStoreTransaction([])
    var actions: [XenBusFrontendAction] = []

    /// `path` is the frontend directory discovery found (`device/<kind>/<id>`).
    @inline(never)
    public init(kind: XenBusDeviceKind, path: XenStorePath) {
        self.kind = kind
        self.path = path
    }

    /// The next thing the driver must do, if any.
    @inline(never)
    public mutating func takeAction() -> XenBusFrontendAction? {
        actions.isEmpty ? nil : actions.removeFirst()
    }

    /// Adds a key to publish (relative to the frontend directory), its value in decimal.
    @inline(never)
    public static func add(_ keys: inout [(key: [UInt8], value: [UInt8])], _ name: StaticString, _ value: UInt64) {
        var digits: [UInt8] = []
        digits.appendDecimal(value)
        keys.append(([UInt8](name), digits))
    }

    /// The driver's rings are set up: writes its keys (relative to the frontend directory:
    /// `tx-ring-ref`, `queue-0/event-channel`) and the kind's published state in one transaction.
    public mutating func publish(_ keys: [(key: [UInt8], value: [UInt8])]) throws(XenStoreError) {
        guard phase == .awaitingDriver else { return }
        var operations: [XenStoreTransaction.Operation] = []
        for (key, value) in keys {
            operations.append(.write(try XenStorePath(validating: path.bytes + [UInt8(ascii: "/")] + key), value))
        }
        operations.append(.write(path.appending("state"), kind.publishedState.value))
        transaction = XenStoreTransaction(operations)
        phase = .publishing
    }

    /// Closes from our side (the driver is going away, or discovery saw the device removed).
    public mutating func close() { beginClosing(nil) }

    /// The driver has stopped and every grant has ended: the frontend says Closed.
    public mutating func released() {
        guard phase == .awaitingRelease else { return }
        phase = .closed
    }

    /// Moves on with whatever the store has brought. Call after the store's `handleEvent`.
    @inline(never)
    public mutating func advance<P: XenPlatform>(store: inout XenStoreClient<P>) -> XenWait {
        if case .failed = store.connection, phase != .closed, phase != .awaitingRelease {
            beginClosing(.disconnected)
        }
        collectStateWrites(store: &store)
        if phase != .closed && phase != .awaitingRelease { followBackend(store: &store) }
        var wait = XenWait.event
        switch phase {
        case .readingFrontend:
            wait = readFrontend(store: &store)
        case .readingKeysBeforePublish, .readingKeysAtConnect:
            wait = readBackendKeys(store: &store)
        case .publishing:
            wait = runPublish(store: &store)
        case .awaitingRelease, .closed:
            writeClosingStates(store: &store)
        default:
            break
        }
        if !actions.isEmpty { return .ready }
        return wait
    }

    // MARK: the steps

    /// `trusted` (Xen 4.17, XSA-403: whether the toolstack trusts the backend) comes along, for
    /// the driver's log only.
    static var frontendKeys: [StaticString] { ["backend", "backend-id", "trusted"] }

    mutating func readFrontend<P: XenPlatform>(store: inout XenStoreClient<P>) -> XenWait {
        guard let values = readKeys(of: path, Self.frontendKeys, store: &store) else { return .event }
        // Hostile values in keys: the backend id must be a real domain, and the backend's
        // directory where the toolstack puts it for that domain (/local/domain/B/backend/...).
        guard let backendValue = values[0], let idValue = values[1],
              let id = xenParseDecimal(idValue, maximum: UInt64(DOMID_FIRST_RESERVED) - 1),
              let backend = try? XenStorePath(validating: backendValue),
              backend.bytes.starts(with: Self.backendPrefix(domain: domid_t(id))) else {
            beginClosing(.invalidValue)
            return .ready
        }
        backendID = domid_t(id)
        backendPath = backend
        trusted = values[2].flatMap { xenParseDecimal($0, maximum: 1) }.map { $0 == 1 }
        do throws(XenStoreError) {
            backendWatch = try store.watch(backend.appending("state"))
        } catch {
            beginClosing(error)
            return .ready
        }
        phase = .initialising
        return .event
    }

    /// Reads the backend's `state` after each event on its watch (the first fires at once), one
    /// read at a time, and reacts to what it says.
    @inline(never)
    mutating func followBackend<P: XenPlatform>(store: inout XenStoreClient<P>) {
        guard let watch = backendWatch, let backend = backendPath else { return }
        while store.takeWatchEvent(watch) != nil { stateReadWanted = true }
        if let id = stateRead {
            let outcome = store.takeOutcome(id)
            switch outcome {
            case .pending: break
            case .value(let value):
                stateRead = nil
                guard let s = xenbus_state(parsing: value) else { beginClosing(.invalidValue); return }
                backendState = s
                react(to: s)
            case .failed(.daemon(.XEN_ENOENT)):
                stateRead = nil
                // The backend's directory is gone: before we ever saw it, the toolstack is not done
                // yet; after, the backend vanished.
                if backendState != nil { backendGone = true; beginClosing(nil) }
            case .ok:
                stateRead = nil
                beginClosing(.malformedReply)
            case .failed(let error):
                stateRead = nil
                beginClosing(error)
            }
        }
        if stateRead == nil && stateReadWanted && phase != .closed && phase != .awaitingRelease {
            if let id = submit(.read(backend.appending("state")), store: &store) {
                stateRead = id
                stateReadWanted = false
            }
        }
    }

    /// What a backend state means for us. Skipped states are tolerated (a backend may go from
    /// Initialising to Connected); a backend going back (Connected to InitWait) is ignored, as
    /// Linux's netfront does; Reconfiguring is not supported and ignored.
    mutating func react(to backend: xenbus_state) {
        switch backend {
        case .XenbusStateClosing, .XenbusStateClosed:
            beginClosing(nil)
        case .XenbusStateUnknown where phase != .initialising:
            // Unknown once we have published: the backend has been torn down under us.
            beginClosing(nil)
        default:
            if phase == .initialising && kind.backendReady(backend) {
                phase = .readingKeysBeforePublish
            } else if (phase == .published || phase == .connected) && backend == .XenbusStateConnected {
                // Connected again while connected: the backend rewrote its state to announce
                // new values (blkback's resize writes `sectors`, then `state` again): the keys
                // are read again and handed over with another `.connected`.
                phase = .readingKeysAtConnect
            }
        }
    }

    mutating func readBackendKeys<P: XenPlatform>(store: inout XenStoreClient<P>) -> XenWait {
        guard let backend = backendPath else { return .event }
        let keys = phase == .readingKeysBeforePublish ? kind.keysBeforePublish : kind.keysAtConnect
        guard let values = readKeys(of: backend, keys, store: &store) else { return .event }
        if phase == .readingKeysBeforePublish {
            phase = .awaitingDriver
            actions.append(.publish(backendID: backendID ?? 0, backendValues: values))
        } else {
            phase = .connected
            if state != .XenbusStateConnected { writeState(.XenbusStateConnected, store: &store) }
            actions.append(.connected(backendValues: values))
        }
        return .ready
    }

    mutating func runPublish<P: XenPlatform>(store: inout XenStoreClient<P>) -> XenWait {
        switch transaction.advance(store: &store) {
        case .waiting(let wait):
            return wait
        case .committed:
            transaction = XenStoreTransaction([])
            state = kind.publishedState
            phase = .published
            // The backend may have connected while we published (a backend that skipped states).
            if let b = backendState { react(to: b) }
            return .ready
        case .failed(let error):
            transaction = XenStoreTransaction([])
            beginClosing(error)
            return .ready
        }
    }

    /// Reads `directory/key` for every key, all at once (or none, while the request table has
    /// no room for all), and returns their values once every one has come: nil where the key does
    /// not exist (ENOENT). Any other failure closes the device (the first in the keys' order).
    @inline(never)
    mutating func readKeys<P: XenPlatform>(of directory: XenStorePath, _ keys: [StaticString], store: inout XenStoreClient<P>) -> [[UInt8]?]? {
        if !readsSubmitted {
            guard store.requestsInFlight + keys.count <= XenStoreClient<P>.maxInFlight else { return nil }
            reads = []
            for key in keys {
                guard let id = submit(.read(directory.appending(key)), store: &store) else {
                    for id in reads { store.cancel(XenStoreRequestID(rawValue: id)) }
                    reads = []
                    return nil
                }
                reads.append(id.rawValue)
            }
            readsSubmitted = true
            readsArrived = 0
            readValues = Array(repeating: nil, count: keys.count)
            readFailure = nil
        }
        for i in 0..<reads.count where readsArrived & (1 << UInt32(i)) == 0 {
            let outcome = store.takeOutcome(XenStoreRequestID(rawValue: reads[i]))
            switch outcome {
            case .pending: continue
            case .value(let v): readValues[i] = v
            case .failed(.daemon(.XEN_ENOENT)): break
            case .ok: readFailed(i, .malformedReply)
            case .failed(let error): readFailed(i, error)
            }
            readsArrived |= 1 << UInt32(i)
        }
        guard readsArrived == (reads.count == 32 ? UInt32.max : (1 << UInt32(reads.count)) - 1) else { return nil }
        readsSubmitted = false
        reads = []
        if let failure = readFailure { beginClosing(failure); return nil }
        return readValues
    }

    mutating func readFailed(_ i: Int, _ error: XenStoreError) {
        if readFailure == nil || i < readFailureIndex { readFailure = error; readFailureIndex = i }
    }

    @inline(never)
    mutating func beginClosing(_ reason: XenStoreError?) {
        guard phase != .closed && phase != .awaitingRelease else { return }
        phase = .awaitingRelease
        transaction = XenStoreTransaction([])
        reads = []
        readsSubmitted = false
        actions.append(.closing(reason))
    }

    /// Says Closing, then (once released) Closed, one write each; unless the backend is gone:
    /// writing then would recreate nodes the toolstack is removing. Drops the backend watch.
    mutating func writeClosingStates<P: XenPlatform>(store: inout XenStoreClient<P>) {
        if let watch = backendWatch { store.unwatch(watch); backendWatch = nil }
        if let id = stateRead { store.cancel(id); stateRead = nil }
        let wanted: xenbus_state = phase == .closed ? .XenbusStateClosed : .XenbusStateClosing
        guard state != wanted else { return }
        if backendGone || store.connection != .connected {
            state = wanted
        } else {
            writeState(wanted, store: &store)
        }
        if state == .XenbusStateClosed { actions.append(.closed) }
    }

    @inline(never)
    mutating func writeState<P: XenPlatform>(_ new: xenbus_state, store: inout XenStoreClient<P>) {
        guard let id = submit(.write(path.appending("state"), new.value), store: &store) else { return }
        state = new
        stateWrites.append(id.rawValue)
    }

    mutating func collectStateWrites<P: XenPlatform>(store: inout XenStoreClient<P>) {
        var i = 0
        while i < stateWrites.count {
            let outcome = store.takeOutcome(XenStoreRequestID(rawValue: stateWrites[i]))
            if case .pending = outcome { i += 1; continue }
            stateWrites.remove(at: i)
            if case .failed(let error) = outcome { beginClosing(error) }
        }
    }

    func submit<P: XenPlatform>(_ request: XenStoreRequest, store: inout XenStoreClient<P>) -> XenStoreRequestID? {
        try? store.submit(request)
    }

    static func backendPrefix(domain: domid_t) -> [UInt8] {
        var prefix: [UInt8] = [UInt8]("/local/domain/")
        prefix.appendDecimal(UInt64(domain))
        prefix.append("/backend/")
        return prefix
    }
}

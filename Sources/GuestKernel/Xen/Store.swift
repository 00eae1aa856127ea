// The domain's xenstore connection: XenDevices' client over the store page of start_info, owned
// by the event loop. Whoever waits on the store (a transaction, a watcher) subscribes and runs
// after each of the client's rounds; the boot path and the tests, which may wait, use `call`.
import XenABI
import XenDevices

enum Store {
    nonisolated(unsafe) static var client: XenStoreClient<GuestPlatform>? = nil
    nonisolated(unsafe) static var owner = -1
    /// Event-loop owners to run after each round of the client (they look for their replies).
    nonisolated(unsafe) static var subscribers: [Int] = []

    static var port: evtchn_port_t { Boot.startInfo.pointee.store_evtchn }

    /// The connected client, for reading its state (see PVConsole.with).
    static func with<R>(_ body: (inout XenStoreClient<GuestPlatform>) -> R) -> R { body(&client!) }

    /// Maps the store page (a frame of our own memory, as the console's) and binds its port.
    static func start() throws(StoreStartError) {
        let mfn = UInt64(Boot.startInfo.pointee.store_mfn)
        let pfn = Memory.pfn(ofMFN: mfn)
        guard mfn != 0, pfn < Int(Boot.startInfo.pointee.nr_pages) else { throw .noStorePage }
        do {
            client = try XenStoreClient(interface: UnsafeMutableRawPointer(bitPattern: Boot.address(ofPFN: pfn))!, port: port, platform: GuestPlatform())
        } catch { throw .store(error) }
        owner = EventLoop.register { _ in round() }
        do { try EventLoop.bind(port, to: owner) } catch { throw .kernel(error) }
        EventLoop.schedule(owner)
    }

    static func round() -> Progress {
        let wait = client!.handleEvent()
        for s in subscribers { EventLoop.schedule(s) }
        return EventLoop.progress(owner, after: wait)
    }

    static func subscribe(_ subscriber: Int) { subscribers.append(subscriber) }
    static func unsubscribe(_ subscriber: Int) { subscribers.removeAll { $0 == subscriber } }

    /// A device's (or its discovery's) owner: registered, run after each round of the store,
    /// and started in the next round.
    @inline(never) static func startOwner(_ handler: @escaping EventLoop.Handler) -> Int {
        let owner = EventLoop.register(handler)
        subscribe(owner)
        EventLoop.schedule(owner)
        return owner
    }

    /// The device is gone: its owner released and no longer run after the store's rounds.
    @inline(never) static func endOwner(_ owner: Int) {
        EventLoop.release(owner)
        unsubscribe(owner)
    }

    /// Sends a request and runs the event loop until its reply (the client's own request timeout
    /// bounds the wait).
    @inline(never) static func call(_ request: XenStoreRequest) -> Result<XenStoreReply, XenStoreError> {
        let id: XenStoreRequestID
        do { id = try client!.submit(request) } catch { return .failure(error) }
        var result: Result<XenStoreReply, XenStoreError>? = nil
        _ = EventLoop.run(until: {
            result = client!.takeReply(id)
            return result != nil
        })
        return result!
    }

    /// READ's value.
    @inline(never) static func read(_ path: XenStorePath, transaction: UInt32 = 0) -> Result<[UInt8], XenStoreError> {
        switch call(.read(path, transaction: transaction)) {
        case .success(.value(let v)): return .success(v)
        case .success: return .failure(.malformedReply)
        case .failure(let e): return .failure(e)
        }
    }

    @inline(never) static func write(_ path: XenStorePath, _ value: [UInt8], transaction: UInt32 = 0) -> XenStoreError? {
        switch call(.write(path, value, transaction: transaction)) {
        case .success(.ok): return nil
        case .success: return .malformedReply
        case .failure(let e): return e
        }
    }

    /// The children, however many: XenStoreDirectoryListing pages through DIRECTORY_PART where
    /// the daemon has it and the list needs it.
    @inline(never) static func directory(_ path: XenStorePath) -> Result<[[UInt8]], XenStoreError> {
        var listing = XenStoreDirectoryListing(path)
        while true {
            switch listing.advance(store: &client!) {
            case .listed(let children): return .success(children)
            case .failed(let e): return .failure(e)
            case .waiting(let w): EventLoop.wait(for: w)
            }
        }
    }

    /// Runs the loop until the watch has an event (taken and returned) or `timeout` (system time).
    @inline(never) static func nextEvent(_ watch: XenStoreWatchID, timeout: UInt64) -> XenStoreWatchEvent? {
        var event: XenStoreWatchEvent? = nil
        _ = EventLoop.run(until: {
            event = client!.takeWatchEvent(watch)
            return event != nil
        }, timeout: timeout)
        return event
    }
}

enum StoreStartError: Error {
    /// start_info names no store page, or one outside our memory.
    case noStorePage
    case store(XenStoreError)
    case kernel(KernelError)
}

extension Console {
    /// A xenstore error: its kind, and the daemon's errno name where it gave one.
    @inline(never) static func write(storeError e: XenStoreError) {
        switch e {
        case .daemon(let errno): write("daemon error"); if let n = errno.cName { write(" "); write(n) }
        case .unknownDaemonError: write("daemon error of an unknown name")
        case .invalidPath: write("invalid path")
        case .invalidValue: write("invalid value")
        case .requestTooLong: write("request too long")
        case .malformedReply: write("malformed reply")
        case .mismatchedReply: write("mismatched reply")
        case .oversizedReply(let n): write("oversized reply of "); write(n); write(" bytes")
        case .tooManyRequests: write("too many requests in flight")
        case .timedOut: write("no reply in time")
        case .ring: write("ring refused")
        case .disconnected: write("disconnected")
        case .transactionConflict: write("transaction conflicted on every attempt")
        case .directoryTooLong: write("directory listing over its bound")
        case .directoryUnstable: write("directory changed on every pass of its listing")
        }
    }

    @inline(never) static func write(bytes: [UInt8]) { bytes.withUnsafeBufferPointer { write(bytes: $0) } }
}

extension Store {
    /// Runs a transaction to its end, waiting on the loop for its replies and back-offs.
    static func drive(_ tx: inout XenStoreTransaction) -> XenStoreTransaction.Progress {
        while true {
            let p = tx.advance(store: &client!)
            switch p {
            case .committed, .failed: return p
            case .waiting(let w): EventLoop.wait(for: w)
            }
        }
    }
}

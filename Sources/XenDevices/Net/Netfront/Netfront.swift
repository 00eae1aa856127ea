// One vif's frontend (io/netif.h): the xenbus handshake through XenBusFrontend, one TX and one RX
// ring with a buffer page per slot, one event channel for both. It never blocks and bounds its
// work per call, so a backend that floods it (XSA-391) delays nothing else: the kernel's loop
// calls, each round, `advance(store:)` after the store's `handleEvent`, then `handleEvent()`, then
// `receive` until it returns false (answering frames straight from their RX page into a TX page),
// then `push()` once for the whole batch, and blocks on the sooner of the two waits. Anything the
// backend does against the protocol stops the device with one reason (`failure`): its grants
// are ended, pages the backend still maps are kept out of use, and the frontend closes; nothing
// of it touches another device. Drop the value only once `state` is `.closed`.
import XenABI

public enum NetfrontState: Equatable {
    /// The handshake is under way (or the rings are published and the backend not yet connected).
    case starting
    /// Frames go both ways.
    case connected
    /// Ending grants and closing the frontend: the backend closed, or `failure` says why.
    case closing
    /// Every grant ended (or its page abandoned), the frontend Closed: drop the value.
    case closed
}

/// What `transmit` refuses: the caller's mistakes, not the backend's.
public enum NetfrontTransmitError: Error, Equatable {
    /// Not (or no longer) connected.
    case notConnected
    /// Shorter than an Ethernet header or longer than a page (one slot, offset 0: netback
    /// refuses a slot that crosses its page).
    case badLength
}

public struct XenNetfront<Platform: XenPlatform>: ~Copyable {
    public let platform: Platform
    public private(set) var state = NetfrontState.starting
    /// The first reason the device stopped other than an orderly close; printable by `reason`.
    public private(set) var failure: NetfrontError?
    /// From `device/vif/N/mac`, once read and valid.
    public private(set) var mac: NetfrontMAC?
    /// `device/vif/N/trusted` (Xen 4.17, XSA-403: whether the toolstack trusts the backend): for
    /// the log only, nil when absent or not 0/1. The driver treats every backend as untrusted.
    public private(set) var trusted: Bool?
    /// The backend directory's `ip` key (xl's `vif = ['ip=...']`), as the toolstack wrote it and
    /// unparsed (at most 255 bytes): for the kernel to configure its stack; nil when absent.
    public private(set) var backendIP: [UInt8]?
    /// The event channel shared by both rings: the kernel hands its events to `handleEvent`.
    public private(set) var port: evtchn_port_t?
    public private(set) var backendID: domid_t?
    public private(set) var counters = NetfrontCounters()

    /// Ring slots taken per round and per ring: `handleEvent` reaps at most this many TX
    /// responses, and `receive` consumes at most this many RX slots until the next `handleEvent`.
    public static var slotsPerRound: Int { 64 }
    public static var minFrameLength: Int { 14 }
    public static var maxFrameLength: Int { NetfrontBuffers.pageSize }
    /// How often a grant the backend still maps is tried again (nanoseconds).
    public static var quarantineRetry: UInt64 { 10_000_000 }
    /// How long closing waits for the backend to let go of the pages before abandoning them.
    public static var releaseTimeout: UInt64 { 5_000_000_000 }

    var bus: XenBusFrontend
    var tx: NetfrontTxQueue
    var rx: NetfrontRxQueue
    /// The read of `mac` (step 0), then of `trusted` (step 1); step 2: both read.
    var ownKeyRead: XenStoreRequestID?
    var ownKeyStep = 0
    /// The backend's values the xenbus frontend handed over, kept until `mac` has been read.
    var publishValues: [[UInt8]?]?
    var publishBackend: domid_t = 0
    var rxBudget = 0
    var releaseDeadline: UInt64 = 0
    /// A failure the caller has not yet run `advance` after: `handleEvent` asks for a round.
    var needsAdvance = false

    /// The device discovery found at `path` (`device/vif/N`), with its pages: `receiveBuffers`
    /// and `transmitBuffers` (1...256 each, one page and, when in use, one grant entry each).
    @inline(never)
    public init(path: XenStorePath, platform: Platform, receiveBuffers: Int = 64, transmitBuffers: Int = 64) throws(NetfrontError) {
        var t = try NetfrontTxQueue(buffers: transmitBuffers, platform: platform)
        let r: NetfrontRxQueue
        do { r = try NetfrontRxQueue(buffers: receiveBuffers, platform: platform) } catch {
            _ = t.buffers.freePages(platform)
            throw error
        }
        self.platform = platform
        tx = t
        rx = r
        bus = XenBusFrontend(kind: .vif, path: path)
    }

    /// The frontend directory.
    public var path: XenStorePath { bus.path }

    // MARK: xenbus

    /// Moves the handshake (or the close) on with whatever the store has brought.
    @inline(never)
    public mutating func advance(store: inout XenStoreClient<Platform>) -> XenWait {
        needsAdvance = false
        if state == .closed { return .event }
        if state == .starting { readOwnKeys(&store) }
        var wait = bus.advance(store: &store)
        while let action = bus.takeAction() {
            switch action {
            case .publish(let backend, let values):
                publishBackend = backend
                publishValues = values
            case .connected:
                guard state == .starting, let port else { break }
                state = .connected
                rxBudget = Self.slotsPerRound
                platform.notify(port)  // the backend looks at both rings now
            case .closing(let error):
                if let error { note(.xenstore(error)) }
                beginClosing(&store)
            case .closed:
                state = .closed
            }
        }
        if state == .starting, ownKeyStep == 2, let values = publishValues {
            publishValues = nil
            publish(backend: publishBackend, values)
            wait = .ready
        }
        if state == .closing { wait = wait.sooner(release()) }
        return wait
    }

    /// Reads `mac`, then `trusted`, once. A MAC that cannot be read or is none stops the vif.
    @inline(never)
    mutating func readOwnKeys(_ store: inout XenStoreClient<Platform>) {
        while ownKeyStep < 2 {
            if ownKeyRead == nil { ownKeyRead = submitRead(ownKeyStep == 0 ? NetfrontKeys.mac : NetfrontKeys.trusted, &store) }
            guard let id = ownKeyRead else { return }
            var value: [UInt8]?
            switch store.takeOutcome(id) {
            case .pending: return
            case .value(let v): value = v
            case .failed(.daemon(.XEN_ENOENT)), .ok: break
            case .failed(let error):
                if ownKeyStep == 0 { fail(.xenstore(error)); return }
            }
            ownKeyRead = nil
            if ownKeyStep == 0 {
                mac = NetfrontMAC(parsing: value ?? [])
                guard mac != nil else { fail(.badMAC); return }
            } else {
                trusted = xenParseDecimal(value ?? [], maximum: 1).map { $0 == 1 }
            }
            ownKeyStep += 1
        }
    }

    @inline(never)
    func submitRead(_ key: StaticString, _ store: inout XenStoreClient<Platform>) -> XenStoreRequestID? {
        try? store.submit(.read(path.appending(key)))
    }

    /// Publishes the rings once they are set up.
    mutating func publish(backend: domid_t, _ values: [[UInt8]?]) {
        guard NetfrontKeys.offersRxCopy(values) else { fail(.backendWithoutRxCopy); return }
        backendIP = NetfrontKeys.backendIP(values)
        guard let (txRef, rxRef, channel) = setUp(backend: backend) else { return }
        do throws(XenStoreError) {
            try bus.publish(NetfrontKeys.published(txRing: txRef, rxRing: rxRef, port: channel))
        } catch {
            fail(.xenstore(error))
        }
    }

    /// What the backend needs: the event channel, the two rings granted, every RX buffer posted.
    mutating func setUp(backend: domid_t) -> (grant_ref_t, grant_ref_t, evtchn_port_t)? {
        backendID = backend
        do throws(XenPlatformError) {
            let channel = try platform.allocateUnboundPort(for: backend)
            port = channel
            let txRef = try tx.buffers.grant(NetfrontBuffers.ring, to: backend, readOnly: false, platform)
            let rxRef = try rx.buffers.grant(NetfrontBuffers.ring, to: backend, readOnly: false, platform)
            _ = rx.refill(to: backend, platform)  // the backend has not mapped the ring yet: no event
            return (txRef, rxRef, channel)
        } catch {
            fail(.platform(error))
            return nil
        }
    }

    // MARK: closing

    /// Keeps the first reason.
    mutating func note(_ error: NetfrontError) {
        if failure == nil { failure = error }
    }

    /// A violation (or a failed setup): stop using the rings at once, end what can be ended, and
    /// close the frontend (its Closing goes out on the next `advance`).
    mutating func fail(_ error: NetfrontError) {
        note(error)
        close()
    }

    /// Closes from this side (the kernel shuts down, or discovery saw the device go): the rings
    /// are no longer used, and the next `advance` calls go through Closing to Closed.
    @inline(never)
    public mutating func close() {
        needsAdvance = true
        guard state == .starting || state == .connected else { return }
        state = .closing
        releaseDeadline = platform.now() &+ Self.releaseTimeout
        _ = tx.buffers.endAll(platform)
        _ = rx.buffers.endAll(platform)
        bus.close()
    }

    mutating func beginClosing(_ store: inout XenStoreClient<Platform>) {
        if let id = ownKeyRead { store.cancel(id); ownKeyRead = nil }
        guard state == .starting || state == .connected else { return }
        state = .closing
        releaseDeadline = platform.now() &+ Self.releaseTimeout
    }

    /// Once the frontend has said Closing (so that netback unmaps the rings): ends every grant,
    /// frees the pages, closes the port and lets the frontend say Closed. Pages the backend
    /// still maps are waited for until `releaseDeadline`, then abandoned: never freed.
    mutating func release() -> XenWait {
        guard bus.state == .XenbusStateClosing else { return .event }
        let mapped = tx.buffers.endAll(platform) + rx.buffers.endAll(platform)
        let now = platform.now()
        if mapped > 0 && now < releaseDeadline { return .deadline(min(now &+ Self.quarantineRetry, releaseDeadline)) }
        counters.pagesAbandoned &+= UInt64(tx.buffers.freePages(platform) + rx.buffers.freePages(platform))
        if let port { platform.closePort(port); self.port = nil }
        bus.released()
        return .ready
    }

    // MARK: the rings

    /// The port fired (or the wait it returned is due): pushes what is still queued, reaps TX
    /// responses, retries quarantined grants, posts idle RX buffers, and renews the budget for
    /// `receive`. `.ready`: frames or responses wait, call `receive` until false and this again
    /// before blocking.
    @inline(never)
    public mutating func handleEvent() -> XenWait {
        if needsAdvance { return .ready }
        guard state == .connected else { return .event }
        rxBudget = Self.slotsPerRound
        do throws(NetfrontError) {
            var more = try tx.reap(budget: Self.slotsPerRound, platform, &counters)
            let quarantined = tx.buffers.retryQuarantined(platform) + rx.buffers.retryQuarantined(platform)
            push()
            more = try tx.responsesWaiting() || more
            more = try rx.responsesWaiting() || more
            if more { return .ready }
            return quarantined > 0 ? .deadline(platform.now() &+ Self.quarantineRetry) : .event
        } catch {
            fail(error)
            return .ready
        }
    }

    /// Publishes the TX requests `transmit` and `receive` queued and posts every idle RX buffer
    /// again, with one notification at most (and only if the backend asked for it): call it
    /// once after a batch of frames. `handleEvent` calls it too, so nothing waits past the next.
    @inline(never)
    public mutating func push() {
        guard state == .connected, let backend = backendID, let port else { return }
        let txNotify = tx.ring.pushRequests()
        if rx.refill(to: backend, platform) || txNotify { platform.notify(port) }
    }

    /// TX buffers free now: a caller that answers what it receives (an echo service) takes no
    /// more frames while this is 0, so that a burst waits in the backend's queue instead of its
    /// replies being dropped here.
    public var transmitBuffersFree: Int { state == .connected ? tx.buffers.freeCount : 0 }

    /// Whether received frames wait on the RX ring: a caller that holds frames while every TX
    /// buffer is in flight holds, and counts a hold, only when there are some. A response
    /// producer out of range fails the device here, as `receive` would.
    public mutating func framesWaiting() -> Bool {
        guard state == .connected else { return false }
        do throws(NetfrontError) { return try rx.responsesWaiting() } catch {
            fail(error)
            return false
        }
    }

    /// Sends one frame (14...4096 bytes: an Ethernet frame without its FCS) that `build` writes
    /// into a free TX page, not yet granted, and whose length it returns; `checksumBlank`: a UDP
    /// frame whose checksum field holds the pseudo-header's sum. False when every TX buffer is in
    /// flight (or no grant entry is free; `build` is then not called): try again after
    /// `handleEvent`. The frame goes out with the next `push`.
    @inline(never)
    public mutating func transmit(checksumBlank: Bool = false, building build: (UnsafeMutableRawBufferPointer) -> Int) throws(NetfrontTransmitError) -> Bool {
        guard state == .connected, let backend = backendID else { throw .notConnected }
        guard let id = tx.takeBuffer() else {
            counters.txFull &+= 1
            return false
        }
        let length = build(tx.page(id))
        guard length >= Self.minFrameLength, length <= Self.maxFrameLength else {
            tx.buffers.release(id)
            throw .badLength
        }
        return send(id, length, checksumBlank, backend)
    }

    mutating func send(_ id: Int, _ length: Int, _ checksumBlank: Bool, _ backend: domid_t) -> Bool {
        guard tx.send(id, length: length, checksumBlank: checksumBlank, to: backend, platform) else {
            counters.txFull &+= 1
            return false
        }
        return true
    }

    /// Takes the next frame (at most `limit` bytes) and hands it to `body` where it lies, in its
    /// RX page: the page's grant has ended, so the backend can no longer change it, and it stays
    /// out of use until `body` returns (a page still mapped is never handed over: its frame is
    /// dropped and counted). `body` writes its answer, if any, at the start of the reply buffer
    /// and returns its length (0: none): a free TX page, not yet granted, that goes out with the
    /// next `push`; with every TX buffer in flight it is `spare` (an answer there is counted in
    /// `txFull`, not sent), or nothing. False when no frame waits or this round's budget is spent
    /// (`handleEvent` then says `.ready`). Slots dropped on the way are counted in `counters`.
    @inline(never)
    public mutating func receive(limit: Int = Self.maxFrameLength, spare: UnsafeMutableRawBufferPointer? = nil,
                                 _ body: (_ frame: UnsafeRawBufferPointer, _ info: NetfrontFrame, _ reply: UnsafeMutableRawBufferPointer) -> NetReply) -> Bool {
        guard state == .connected, let backend = backendID else { return false }
        while rxBudget > 0 {
            rxBudget -= 1
            let slot: NetfrontRxQueue.Slot
            do throws(NetfrontError) { slot = try rx.take(limit: limit, platform, &counters) } catch {
                fail(error)
                return false
            }
            guard case .frame(let id, let offset, let info) = slot else {
                if slot == .none { return false }
                continue
            }
            let txID = tx.takeBuffer()
            let reply = txID.map { tx.page($0) } ?? spare ?? UnsafeMutableRawBufferPointer(start: nil, count: 0)
            let answer = body(UnsafeRawBufferPointer(start: rx.buffers.address(id) + offset, count: info.length), info, reply)
            rx.buffers.release(id)
            let n = answer.length
            if let txID {
                if n >= Self.minFrameLength && n <= Self.maxFrameLength {
                    _ = send(txID, n, answer.checksumBlank, backend)
                } else {
                    tx.buffers.release(txID)  // no answer (or none a vif can send)
                }
            } else if n > 0 {
                counters.txFull &+= 1
            }
            return true
        }
        return false
    }

    // MARK: for the fuzz target

    /// Sets the rings up for `backend` as `advance` would, without a handshake, and connects.
    @_spi(Testing) public mutating func connectWithoutXenBus(backend: domid_t) {
        ownKeyStep = 2
        guard setUp(backend: backend) != nil else { return }
        state = .connected
        rxBudget = Self.slotsPerRound
    }

    /// The shared ring pages the backend maps: where a fuzz input plays the backend.
    @_spi(Testing) public var sharedRings: (tx: UnsafeMutableRawPointer, rx: UnsafeMutableRawPointer) {
        (tx.buffers.address(NetfrontBuffers.ring), rx.buffers.address(NetfrontBuffers.ring))
    }

    /// Ends every grant and frees every page it can without a handshake; returns how many pages
    /// were abandoned (still mapped).
    @_spi(Testing) public mutating func disconnectWithoutXenBus() -> Int {
        state = .closed
        _ = tx.buffers.endAll(platform)
        _ = rx.buffers.endAll(platform)
        let abandoned = tx.buffers.freePages(platform) + rx.buffers.freePages(platform)
        if let port { platform.closePort(port); self.port = nil }
        return abandoned
    }
}

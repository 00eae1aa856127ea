// One vbd's frontend (io/blkif.h), against Linux 6.1's blkback: the xenbus handshake through
// XenBusFrontend, one ring of one to four pages, one event channel, indirect requests and
// persistent grants when the backend offers them, a pool of buffer pages the caller's bytes are
// copied through. One queue: blkback's multi-queue gives a queue per vCPU, and this kernel runs
// one. It never blocks and bounds its work per call, so a backend that floods it (XSA-391)
// delays nothing else: the kernel's loop calls, each round, `advance(store:)` after the store's
// `handleEvent`, then `handleEvent()`, then `takeCompletion()` until it returns nil, and
// blocks on the sooner of the two waits. Anything the backend does against the protocol stops
// the device with one reason (`failure`): requests not yet completed fail, its grants are
// ended, pages the backend still maps are kept out of use, and the frontend closes; nothing of
// it touches another device. Drop the value only once `state` is `.closed`.
import XenABI

public enum BlkfrontState: Equatable {
    /// The handshake is under way (or the ring is published and the backend not yet connected).
    case starting
    /// Requests go to the disk.
    case connected
    /// Requests failed, grants ending, the frontend closing: the backend closed, or `failure` says why.
    case closing
    /// Every grant ended (or its page abandoned), the frontend Closed: drop the value.
    case closed
}

public struct XenBlkfront<Platform: XenPlatform>: ~Copyable {
    public let platform: Platform
    public private(set) var state = BlkfrontState.starting
    /// The first reason the device stopped other than an orderly close; printable by `reason`.
    public private(set) var failure: BlkfrontError?
    /// The disk as the backend described it; valid once `state` is `.connected` (`sectors`
    /// follows a resize).
    public private(set) var disk = BlkfrontDisk()
    /// `device/vbd/N/trusted` (Xen 4.17, XSA-403: whether the toolstack trusts the backend): for
    /// the log only, nil when absent or not 0/1. The driver treats every backend as untrusted.
    public var trusted: Bool? { bus.trusted }
    /// The ring's event channel: the kernel hands its events to `handleEvent`.
    public private(set) var port: evtchn_port_t?
    public private(set) var backendID: domid_t?
    public private(set) var counters = BlkfrontCounters()

    /// Responses `handleEvent` takes per call at most.
    public static var responsesPerRound: Int { 32 }
    /// The caller's requests not yet taken as completions, at most.
    public static var queueDepth: Int { 32 }
    /// How often a grant the backend still maps is tried again (nanoseconds).
    public static var quarantineRetry: UInt64 { 10_000_000 }
    /// How long closing waits for the backend to let go of the pages before abandoning them.
    public static var releaseTimeout: UInt64 { 5_000_000_000 }

    var bus: XenBusFrontend
    var ring: blkif_ring.Front
    var pages: BlkfrontPages
    var slots: UnsafeMutablePointer<BlkfrontSlot> { pages.tables.slots }
    var freeIDs: UnsafeMutablePointer<UInt8> { pages.tables.freeIDs }
    var freeIDCount = 0
    var inFlight = 0
    /// A flush (or barrier) is in flight: nothing after it is sent until it is answered.
    var barrierInFlight = false
    /// The caller's requests: completions are taken at `head`, ring requests made at `issuing`,
    /// new requests put at `tail` (counters; the index is the counter modulo `queueDepth`).
    var queue: UnsafeMutablePointer<BlkfrontEntry> { pages.tables.queue }
    var head: UInt32 = 0
    var issuing: UInt32 = 0
    var tail: UInt32 = 0
    var nextID: UInt64 = 0
    /// The device number (the directory's name), for each request's `handle`.
    let handle: UInt16
    var releaseDeadline: UInt64 = 0
    var busClosed = false
    /// A failure the caller has not yet run `advance` after: `handleEvent` asks for a round.
    var needsAdvance = false

    /// The buffer pages a vbd has unless told otherwise: 1 MiB of data in flight and its
    /// segment pages. With 64 (and 32 segments a request), 248 KiB went at once and a 1 MiB
    /// read or write took four round trips to the backend instead of one.
    public static var defaultBufferPages: Int { BlkfrontPages.maxPool }

    /// The device discovery found at `path` (`device/vbd/N`), with `bufferPages` pages (1...264)
    /// to copy data through: each request in flight takes one per 4 KiB (and an indirect one a
    /// page for its segments), so they bound the I/O in flight.
    @inline(never)
    public init(path: XenStorePath, platform: Platform, bufferPages: Int = defaultBufferPages) throws(BlkfrontError) {
        var p: BlkfrontPages
        do { p = try BlkfrontPages(count: bufferPages, platform: platform) } catch { throw .platform(error) }
        ring = Self.makeRing(p.address(BlkfrontPages.ring), order: 0)
        pages = p
        self.platform = platform
        bus = XenBusFrontend(kind: .vbd, path: path)
        var number: UInt16 = 0
        for b in path.bytes { number = b == UInt8(ascii: "/") ? 0 : number &* 10 &+ UInt16(b &- UInt8(ascii: "0")) }
        handle = number  // discovery gave a decimal last component; blkback does not check it anyway
    }

    /// The frontend directory.
    public var path: XenStorePath { bus.path }

    /// A fresh ring over `1 << order` pages (SHARED_RING_INIT). A page or more always holds the
    /// header and an entry, so it cannot fail.
    @inline(never)
    static func makeRing(_ base: UnsafeMutableRawPointer, order: Int) -> blkif_ring.Front {
        do { return try blkif_ring.Front(initializing: base, bytes: BlkfrontPages.pageSize << order) } catch { fatalError("a ring page too small") }
    }

    // MARK: xenbus

    /// Moves the handshake (or the close) on with whatever the store has brought.
    @inline(never)
    public mutating func advance(store: inout XenStoreClient<Platform>) -> XenWait {
        needsAdvance = false
        if state == .closed { return .event }
        var wait = bus.advance(store: &store)
        while let action = bus.takeAction() {
            switch action {
            case .publish(let backend, let values):
                publish(backend: backend, values)
            case .connected(let values):
                connected(values)
            case .closing(let error):
                if let error { note(.xenstore(error)) }
                stop()
            case .closed:
                busClosed = true
            }
        }
        if state == .closing { wait = wait.sooner(release()) }
        return wait
    }

    /// Sets up the ring for the backend and publishes it. `max-ring-page-order` is capped at
    /// what this driver set up (four pages when the platform had them at consecutive
    /// addresses, else one); absent or garbage is 0.
    mutating func publish(backend: domid_t, _ values: [[UInt8]?]) {
        backendID = backend
        let offered = BlkfrontKeys.number(values, 0, UInt64(UInt32.max)) ?? 0
        let order = Int(min(offered, UInt64(pages.ringPages.trailingZeroBitCount)))
        ring = Self.makeRing(pages.address(BlkfrontPages.ring), order: order)
        freeIDCount = 0
        for i in 0..<Int(ring.size) { freeIDs[i] = UInt8(i); freeIDCount += 1 }
        disk.ringPages = 1 << order
        var refs = InlineArray<4, grant_ref_t>(repeating: 0)
        do throws(XenPlatformError) {
            port = try platform.allocateUnboundPort(for: backend)
            for i in 0..<(1 << order) {
                refs[i] = try pages.grant(BlkfrontPages.ring + i, to: backend, writable: true, persistent: false, platform)
            }
        } catch {
            fail(.platform(error))
            return
        }
        do throws(XenStoreError) {
            try bus.publish(BlkfrontKeys.published(ring: refs, order: order, port: port.unsafelyUnwrapped))
        } catch {
            fail(.xenstore(error))
        }
    }

    /// The backend is connected: the disk's keys, checked. Again while connected: the backend
    /// announced a new size (blkback's resize rewrites `sectors`, then `state`); only
    /// `sectors` is taken from it.
    mutating func connected(_ values: [[UInt8]?]) {
        if state == .connected {
            guard let sectors = BlkfrontKeys.number(values, BlkfrontKeys.sectors, UInt64.max >> 9) else { fail(.badSectors); return }
            disk.sectors = sectors
            return
        }
        guard state == .starting, port != nil else { return }
        do { disk = try BlkfrontKeys.disk(values, ringPages: disk.ringPages) } catch { fail(error); return }
        state = .connected
    }

    // MARK: closing

    /// Keeps the first reason.
    mutating func note(_ error: BlkfrontError) {
        if failure == nil { failure = error }
    }

    /// A violation (or a failed setup): stop using the ring at once and close the frontend.
    mutating func fail(_ error: BlkfrontError) {
        note(error)
        close()
    }

    /// Closes from this side (the kernel shuts down, or discovery saw the device go): requests
    /// not completed fail, the ring is no longer used, the next `advance` calls close the frontend.
    @inline(never)
    public mutating func close() {
        needsAdvance = true
        stop()
        bus.close()
    }

    /// Fails every request not completed (its buffer is not touched again) and ends every
    /// grant it can: pages the backend still maps are quarantined.
    mutating func stop() {
        guard state == .starting || state == .connected else { return }
        state = .closing
        releaseDeadline = platform.now() &+ Self.releaseTimeout
        var q = head
        while q != tail {
            let i = Int(q % UInt32(Self.queueDepth))
            if !queue[i].done { queue[i].status = .disconnected }
            queue[i].remaining = 0
            queue[i].outstanding = 0
            q &+= 1
        }
        issuing = tail
        for i in 0..<128 { slots[i].inFlight = false }
        inFlight = 0
        barrierInFlight = false
        _ = pages.endAll(platform)
    }

    /// Once the frontend has said Closing, it says Closed at once: blkback unmaps the ring and
    /// its persistent grants only when the frontend is Closed (xen_blkif_disconnect), so
    /// waiting for them first would wait for ever. Grants it still maps are retried until
    /// they end or `releaseDeadline` passes; then the pages left are abandoned, never freed.
    mutating func release() -> XenWait {
        guard bus.state == .XenbusStateClosing || busClosed else { return .event }
        let mapped = pages.endAll(platform)
        if !busClosed { bus.released(); return .ready }
        let now = platform.now()
        if mapped > 0 && now < releaseDeadline { return .deadline(min(now &+ Self.quarantineRetry, releaseDeadline)) }
        counters.pagesAbandoned &+= UInt64(pages.freePages(platform))
        if let port { platform.closePort(port); self.port = nil }
        state = .closed
        return .ready
    }

    // MARK: requests

    /// Queues a request and sends what the ring and the buffer pages take of it now; returns its
    /// id (as its completion carries it). Refused before anything reaches the ring: a range not
    /// in whole logical sectors, past the end of the disk, a write or discard on a read-only
    /// disk, a discard not offered, a full queue.
    @inline(never)
    public mutating func submit(_ request: BlkfrontRequest, tag: UInt64) throws(BlkfrontSubmitError) -> UInt64 {
        guard state == .connected else { throw .notConnected }
        guard tail &- head < UInt32(Self.queueDepth) else { throw .busy }
        var e = BlkfrontEntry()
        switch request {
        case .read(let offset, let buffer):
            try check(offset, UInt64(buffer.count), write: false)
            e.operation = UInt8(BLKIF_OP_READ); e.buffer = buffer.baseAddress; e.offset = offset; e.length = UInt64(buffer.count)
        case .write(let offset, let bytes):
            try check(offset, UInt64(bytes.count), write: true)
            e.operation = UInt8(BLKIF_OP_WRITE); e.buffer = UnsafeMutableRawPointer(mutating: bytes.baseAddress); e.offset = offset; e.length = UInt64(bytes.count)
        case .flush:
            e.operation = UInt8(BLKIF_OP_FLUSH_DISKCACHE); e.length = 1
        case .discard(let offset, let length, let secure):
            guard disk.discard, !secure || disk.discardSecure else { throw .notSupported }
            try check(offset, length, write: true)
            e.operation = UInt8(BLKIF_OP_DISCARD); e.secure = secure; e.offset = offset; e.length = length
        }
        e.remaining = e.length
        e.tag = tag
        e.id = nextID
        nextID &+= 1
        queue[Int(tail % UInt32(Self.queueDepth))] = e
        tail &+= 1
        issue()
        return e.id
    }

    /// A range the disk takes: whole logical sectors (blkback refuses a request whose sector
    /// or segment is not), inside the disk, writable if it writes.
    @inline(never)
    func check(_ offset: UInt64, _ length: UInt64, write: Bool) throws(BlkfrontSubmitError) {
        if write && disk.readOnly { throw .readOnly }
        guard length > 0, (offset | length) & UInt64(disk.sectorSize - 1) == 0 else { throw .misaligned }
        guard length <= disk.capacity, offset <= disk.capacity - length else { throw .beyondEnd }
    }

    /// Requests submitted and not yet taken as completions.
    public var pendingRequests: Int { Int(tail &- head) }

    /// The oldest request, once it has completed (completions come in submission order), or nil.
    @inline(never)
    public mutating func takeCompletion() -> BlkfrontCompletion? {
        guard head != tail else { return nil }
        let e = queue[Int(head % UInt32(Self.queueDepth))]
        guard e.done else { return nil }
        head &+= 1
        return BlkfrontCompletion(tag: e.tag, id: e.id, status: e.status)
    }

    /// The port fired (or the wait it returned is due): takes up to `responsesPerRound`
    /// responses, retries quarantined grants, sends what waits. `.ready`: more responses wait,
    /// call again before blocking (and take the completions).
    @inline(never)
    public mutating func handleEvent() -> XenWait {
        if needsAdvance { return .ready }
        guard state == .connected else { return .event }
        do throws(BlkfrontError) {
            var more = try reap()
            let quarantined = pages.retryQuarantined(platform)
            issue()
            more = try responsesWaiting() || more
            if more { return .ready }
            // Waiting on a quarantined page, or on grant entries with nothing in flight to wake us.
            return quarantined > 0 || (issuing != tail && inFlight == 0) ? .deadline(platform.now() &+ Self.quarantineRetry) : .event
        } catch {
            fail(error)
            return .ready
        }
    }

    mutating func responsesWaiting() throws(BlkfrontError) -> Bool {
        do { return try ring.finalCheckForResponses() } catch { throw .ring(error) }
    }

    // MARK: the ring

    /// Takes up to `responsesPerRound` responses, each copied out of the ring by the ring engine
    /// (XSA-155) and checked before it is used; returns whether the budget ran out.
    @inline(never)
    mutating func reap() throws(BlkfrontError) -> Bool {
        for _ in 0..<Self.responsesPerRound {
            let taken: blkif_response?
            do { taken = try ring.takeResponse() } catch { throw .ring(error) }
            guard let r = taken else { return false }
            guard r.id < 128, slots[Int(r.id)].inFlight else { throw .unknownID(r.id) }
            let id = Int(r.id)
            let sent = slots[id].operation
            guard r.operation == sent || (sent == UInt8(BLKIF_OP_INDIRECT) && r.operation == slots[id].dataOperation) else {
                throw .wrongOperation(r.operation)
            }
            let status: BlkfrontStatus
            switch r.status {
            case BLKIF_RSP_OKAY: status = .okay
            case BLKIF_RSP_ERROR: status = .ioError
            case BLKIF_RSP_EOPNOTSUPP: status = .notSupported
            default: throw .badStatus(r.status)
            }
            complete(id, status)
        }
        return true
    }

    /// A ring request answered: its pages back (a read's bytes copied to the caller once the
    /// grant has ended: what is copied is what the backend left there), its id free, its
    /// caller's request one step nearer completion.
    mutating func complete(_ id: Int, _ status: BlkfrontStatus) {
        let slot = slots[id]
        slots[id].inFlight = false
        freeIDs[freeIDCount] = UInt8(id)
        freeIDCount += 1
        inFlight -= 1
        let q = Int(slot.entry)
        var page = Int(slot.firstPage)
        var offset = slot.bufferOffset
        while page != Int(BlkfrontPages.end) {
            let next = pages.next(page)
            if !pages.release(page, persistent: disk.persistent, platform) { counters.grantsStillMapped &+= 1 }
            if status == .okay && slot.dataOperation == UInt8(BLKIF_OP_READ) {
                let n = min(BlkfrontPages.pageSize, slot.bufferOffset + slot.length - offset)
                (queue[q].buffer.unsafelyUnwrapped + offset).copyMemory(from: pages.address(page), byteCount: n)
            }
            offset += BlkfrontPages.pageSize
            page = next
        }
        if slot.indirectPage != BlkfrontPages.end, !pages.release(Int(slot.indirectPage), persistent: disk.persistent, platform) {
            counters.grantsStillMapped &+= 1
        }
        queue[q].outstanding -= 1
        if status != .okay {
            counters.failedRequests &+= 1
            if queue[q].status == .okay { queue[q].status = status }
        }
        if slot.operation == UInt8(BLKIF_OP_FLUSH_DISKCACHE) || slot.operation == UInt8(BLKIF_OP_WRITE_BARRIER) {
            barrierInFlight = false
            // blkback answers EOPNOTSUPP (and writes the feature 0) when the disk cannot flush.
            if status == .notSupported { disk.flush = .none }
        }
    }

    /// Sends, in submission order, what the ring, the ids and the buffer pages take now. A flush
    /// waits until nothing is in flight (so every write before it has completed), and nothing
    /// after it goes until it is answered; without a flush on the ring (or on a read-only
    /// disk, which has nothing to flush) it completes as soon as the earlier requests have.
    @inline(never)
    mutating func issue() {
        guard state == .connected, let backend = backendID else { return }
        while issuing != tail && !barrierInFlight && freeIDCount > 0 && !ring.isFull {
            let q = Int(issuing % UInt32(Self.queueDepth))
            let op = queue[q].operation
            if op == UInt8(BLKIF_OP_FLUSH_DISKCACHE) {
                guard inFlight == 0 else { break }
                if disk.flush != .none && !disk.readOnly {
                    var r = blkif_request()
                    r.operation = disk.flush == .diskCache ? op : UInt8(BLKIF_OP_WRITE_BARRIER)
                    send(r, entry: q, operation: r.operation, data: r.operation, pages: BlkfrontPages.end, indirect: BlkfrontPages.end, offset: 0, length: 0)
                    barrierInFlight = true
                }
                queue[q].remaining = 0
            } else if op == UInt8(BLKIF_OP_DISCARD) {
                var d = blkif_request_discard()
                d.operation = op
                d.flag = queue[q].secure ? UInt8(BLKIF_DISCARD_SECURE) : 0
                d.sector_number = queue[q].offset >> 9
                d.nr_sectors = queue[q].length >> 9
                var r = blkif_request()
                withUnsafeMutableBytes(of: &r) { $0.storeBytes(of: d, as: blkif_request_discard.self) }
                send(r, entry: q, operation: op, data: op, pages: BlkfrontPages.end, indirect: BlkfrontPages.end, offset: 0, length: 0)
                queue[q].remaining = 0
            } else {
                guard sendChunk(q, to: backend) else { break }
            }
            if queue[q].remaining == 0 { issuing &+= 1 }
        }
        if ring.pushRequests(), let port { platform.notify(port) }
    }

    /// The next piece of a read or write: as many whole pages as it needs, up to the segments
    /// per request (11, or the indirect count with one more page for the segment list) and the
    /// free pages. Each segment is a page from its start, `last_sect` in 512-byte units (what
    /// blkback takes whatever the logical sector size; every piece is whole logical sectors, as
    /// the request is and each page holds a whole number of them). False when nothing could go.
    mutating func sendChunk(_ q: Int, to backend: domid_t) -> Bool {
        let e = queue[q]
        let done = Int(e.length - e.remaining)
        let needed = Int(min((e.remaining + 4095) >> 12, UInt64(disk.maxSegments)))
        let direct = Int(BLKIF_MAX_SEGMENTS_PER_REQUEST)
        let indirect = needed > direct && pages.freeCount > direct + 1
        let count = indirect ? min(needed, pages.freeCount - 1) : min(needed, direct, pages.freeCount)
        guard count > 0 else { return false }
        let length = min(Int(e.remaining), count << 12)
        let write = e.operation == UInt8(BLKIF_OP_WRITE)
        let list = indirect ? pages.take() : Int(BlkfrontPages.end)
        // The segments go straight into the indirect page, or into the tables' scratch area.
        let segments = indirect ? pages.address(list).assumingMemoryBound(to: blkif_request_segment.self) : pages.tables.segments
        var request = blkif_request()
        var first = Int(BlkfrontPages.end), last = first
        do throws(XenPlatformError) {
            for s in 0..<count {
                let page = pages.take()
                if s == 0 { first = page } else { pages.entries[last].next = UInt16(page) }
                last = page
                let ref = try pages.grant(page, to: backend, writable: !write, persistent: disk.persistent, platform)
                let bytes = min(BlkfrontPages.pageSize, length - s << 12)
                if write { pages.address(page).copyMemory(from: e.buffer.unsafelyUnwrapped + done + s << 12, byteCount: bytes) }
                segments[s] = blkif_request_segment(gref: ref, first_sect: 0, last_sect: UInt8(bytes >> 9) - 1)
            }
            if indirect {
                var r = blkif_request_indirect()
                r.operation = UInt8(BLKIF_OP_INDIRECT)
                r.indirect_op = e.operation
                r.nr_segments = UInt16(count)
                r.sector_number = (e.offset + UInt64(done)) >> 9
                r.handle = handle
                r.indirect_grefs[0] = try pages.grant(list, to: backend, writable: false, persistent: disk.persistent, platform)
                withUnsafeMutableBytes(of: &request) { $0.storeBytes(of: r, as: blkif_request_indirect.self) }
            } else {
                withUnsafeMutableBytes(of: &request.seg) { $0.baseAddress.unsafelyUnwrapped.copyMemory(from: segments, byteCount: count * 8) }
                request.operation = e.operation
                request.nr_segments = UInt8(count)
                request.handle = handle
                request.sector_number = (e.offset + UInt64(done)) >> 9
            }
        } catch {
            // No grant entry: the pages go back (a grant made is ended), the piece waits.
            var page = first
            while page != Int(BlkfrontPages.end) { let next = pages.next(page); _ = pages.release(page, persistent: disk.persistent, platform); page = next }
            if list != Int(BlkfrontPages.end) { _ = pages.release(list, persistent: disk.persistent, platform) }
            return false
        }
        send(request, entry: q, operation: indirect ? UInt8(BLKIF_OP_INDIRECT) : e.operation, data: e.operation,
             pages: UInt16(first), indirect: UInt16(truncatingIfNeeded: list), offset: done, length: length)
        queue[q].remaining -= UInt64(length)
        return true
    }

    /// Puts a request on the ring under a free id (the caller checked there is one and a slot).
    @inline(never)
    mutating func send(_ request: blkif_request, entry q: Int, operation: UInt8, data: UInt8, pages first: UInt16, indirect: UInt16, offset: Int, length: Int) {
        freeIDCount -= 1
        let id = Int(freeIDs[freeIDCount])
        slots[id] = BlkfrontSlot(operation: operation, dataOperation: data, inFlight: true, entry: UInt8(q),
                                 firstPage: first, indirectPage: indirect, bufferOffset: offset, length: length)
        var r = request
        r.id = UInt64(id)  // at the same offset in the discard and indirect forms
        try? ring.enqueue(r)
        inFlight += 1
        queue[q].outstanding += 1
        counters.requests &+= 1
    }

    // MARK: for the fuzz target

    /// Sets the ring up for `backend` as `advance` would, without a handshake, and connects
    /// with the disk the keys `values` describe (in `XenBusDeviceKind.vbd.keysAtConnect` order).
    @_spi(Testing) public mutating func connectWithoutXenBus(backend: domid_t, ringOrder: Int, _ values: [[UInt8]?]) {
        var order: [UInt8] = []
        order.appendDecimal(UInt64(ringOrder))
        publish(backend: backend, [order])
        guard state == .starting else { return }
        connected(values)
    }

    /// The shared ring the backend maps: where a fuzz input plays the backend.
    @_spi(Testing) public var sharedRing: UnsafeMutableRawPointer { pages.address(BlkfrontPages.ring) }

    /// Ends every grant and frees every page it can without a handshake; returns how many pages
    /// were abandoned (still mapped).
    @_spi(Testing) public mutating func disconnectWithoutXenBus() -> Int {
        stop()
        state = .closed
        _ = pages.endAll(platform)
        let abandoned = pages.freePages(platform)
        if let port { platform.closePort(port); self.port = nil }
        return abandoned
    }
}

// A directory's children however many there are: DIRECTORY, and when the daemon answers E2BIG
// (4.17's C xenstored does for a list over XENSTORE_PAYLOAD_MAX) DIRECTORY_PART pages from byte
// offset 0 until the empty name that ends the list. Each page carries the node's generation
// count; one that differs from the pass's first page means the node changed in between, and
// the listing starts again from offset 0, a bounded number of times. What the daemon sends is
// checked before it is kept: names by the path rules (in the parser), every page moving the
// offset on, no name twice, and a bound on children and bytes so that an endless list ends.
// A daemon without DIRECTORY_PART answers it ENOSYS (C xenstored before 4.9, oxenstored): the
// listing then fails with E2BIG, the C daemon's answer for the whole list (oxenstored sends
// that whole, over XENSTORE_PAYLOAD_MAX, and the client drops it). It never waits itself:
// `advance` returns what it waits for.
import XenABI

public struct XenStoreDirectoryListing: ~Copyable {
    public enum Progress: Equatable {
        case waiting(XenWait)
        case listed([[UInt8]])
        case failed(XenStoreError)
    }

    /// Where the listing stands: `listing` and `paging` wait for a reply, `idle` and `nextPage`
    /// for a request slot.
    enum Step { case idle, listing, nextPage, paging, done }

    public let path: XenStorePath
    public let transaction: UInt32
    /// Children kept at most, and bytes of the list (each name and its nul, as the daemon
    /// counts offsets); past either the listing fails with `.directoryTooLong`.
    public let maxChildren: Int
    public let maxBytes: Int
    /// Passes through the pages at most: the first, and one more for each change of the node.
    public let maxPasses: Int
    public private(set) var passes = 0
    var step = Step.idle
    var request = XenStoreRequestID(rawValue: 0)
    /// The generation count of this pass's first page.
    var generation: UInt64 = 0
    /// The names kept, in the daemon's order.
    var names: [[UInt8]] = []
    /// Bytes of the list kept: the offset of the next page.
    var offset = 0
    var outcome = Progress.listed([])

    /// The bounds default to 4096 children and 64 KiB: sixteen pages' worth, and far more than a
    /// guest's own directories hold (4.17's C daemon refuses a guest a write that makes a node's
    /// record, its children's names included, 2048 bytes or more).
    @inline(never)
    public init(_ path: XenStorePath, transaction: UInt32 = 0, maxChildren: Int = 4096, maxBytes: Int = 65536, maxPasses: Int = 8) {
        self.path = path
        self.transaction = transaction
        self.maxChildren = maxChildren
        // The daemon reads the offset with atoi: it must stay an int.
        self.maxBytes = min(maxBytes, Int(Int32.max))
        self.maxPasses = maxPasses
    }

    /// Moves the listing on with whatever replies have come. Call after the store's
    /// `handleEvent`.
    @inline(never)
    public mutating func advance<P: XenPlatform>(store: inout XenStoreClient<P>) -> Progress {
        while step != .done {
            if step == .idle || step == .nextPage {
                let next = step == .idle ? XenStoreRequest.directory(path, transaction: transaction)
                                         : XenStoreRequest.directoryPart(path, offset: UInt32(offset), transaction: transaction)
                do throws(XenStoreError) {
                    request = try store.submit(next)
                    step = step == .idle ? .listing : .paging
                } catch {
                    // A full request table is waited out; anything else ends the listing.
                    if error == .tooManyRequests { return .waiting(.event) }
                    finish(.failed(error))
                }
            } else {
                guard let reply = store.takeReply(request) else { return .waiting(.event) }
                handle(reply)
            }
        }
        return outcome
    }

    // Out of line and not generic, so the platform's specialisation of `advance` stays small.
    /// DIRECTORY's reply, or a page's.
    @inline(never)
    mutating func handle(_ reply: Result<XenStoreReply, XenStoreError>) {
        switch reply {
        case .success(.children(let children)) where step == .listing:
            if let error = keep(children) { finish(.failed(error)) } else { finish(.listed(names)) }
        case .failure(.daemon(.XEN_E2BIG)) where step == .listing, .failure(.oversizedReply) where step == .listing:
            // Too long for one reply: the C daemon says E2BIG, oxenstored sends it whole anyway.
            startPass()
        case .success(.childrenPart(let generation, let children, let isLast)) where step == .paging:
            page(generation, children, isLast: isLast)
        case .failure(.daemon(.XEN_ENOSYS)) where step == .paging:
            // No DIRECTORY_PART in this daemon: the list is too long for it, as it said.
            finish(.failed(.daemon(.XEN_E2BIG)))
        case .success:
            finish(.failed(.malformedReply))
        case .failure(let error):
            finish(.failed(error))
        }
    }

    /// A page of the pass: kept if it is of the same node as the first, else the pass starts over.
    @inline(never)
    mutating func page(_ generation: UInt64, _ children: [[UInt8]], isLast: Bool) {
        if offset == 0 {
            self.generation = generation
        } else if generation != self.generation {
            // The node changed since the pass's first page: what is kept may mix two lists.
            guard passes < maxPasses else { finish(.failed(.directoryUnstable)); return }
            startPass()
            return
        }
        // A page that is not the last and holds no name would be asked for again, forever.
        guard isLast || !children.isEmpty else { finish(.failed(.malformedReply)); return }
        if let error = keep(children) { finish(.failed(error)); return }
        if isLast { finish(.listed(names)) } else { step = .nextPage }
    }

    /// Adds names to the list, or says why not: past a bound, or a name already kept (a daemon
    /// that sends a page again, or answers an offset it was not asked).
    @inline(never)
    mutating func keep(_ children: [[UInt8]]) -> XenStoreError? {
        var bytes = 0
        for name in children { bytes += name.count + 1 }
        guard names.count + children.count <= maxChildren, offset + bytes <= maxBytes else { return .directoryTooLong }
        // Each name against every one before it: quadratic, but 4096 names (the default bound)
        // take some 45 ms on the host, and a sort would cost the kernel 2 KB of code.
        for name in children {
            if names.contains(name) { return .malformedReply }
            names.append(name)
        }
        offset += bytes
        return nil
    }

    /// A pass through the pages from offset 0, with nothing kept.
    mutating func startPass() {
        passes += 1
        names = []
        offset = 0
        step = .nextPage
    }

    mutating func finish(_ progress: Progress) {
        outcome = progress
        step = .done
    }
}

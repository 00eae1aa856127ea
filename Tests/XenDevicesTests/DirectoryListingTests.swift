// Directory listings longer than one reply: DIRECTORY, then DIRECTORY_PART pages when the C
// daemon answers E2BIG, a new pass when the node changes between pages; the daemons without
// DIRECTORY_PART; a daemon that lies in its pages. Every failure is clean: the listing ends with
// its error and the client serves the next request.
import Testing
import XenABI
@testable import XenDevices

@Suite("xenstore directory listings")
struct DirectoryListingTests {
    typealias Listing = XenStoreDirectoryListing
    typealias M = SimulatedXenStored

    /// Drives the listing until it ends (bounded: a listing that never ends fails the test).
    func run(_ listing: inout Listing, _ s: inout Connected) -> Listing.Progress {
        for _ in 0..<1000 {
            switch listing.advance(store: &s.client) {
            case .waiting: s.pump(rounds: 2)
            case let done: return done
            }
        }
        Issue.record("the listing did not end")
        return .waiting(.event)
    }

    struct Outcome: Equatable {
        let progress: Listing.Progress
        let passes: Int
        init(_ progress: Listing.Progress, passes: Int) { self.progress = progress; self.passes = passes }
    }

    /// A listing of `dir` driven to its end: how it ended, and after how many passes of pages.
    func list(_ dir: String, _ s: inout Connected, maxChildren: Int = 4096, maxBytes: Int = 65536) -> Outcome {
        var listing = Listing(path(dir), maxChildren: maxChildren, maxBytes: maxBytes)
        let progress = run(&listing, &s)
        return Outcome(progress, passes: listing.passes)
    }

    /// `count` children of `dir`, `<prefix>NNN` (zero-padded to `digits`), written by the toolstack.
    @discardableResult
    func populate(_ daemon: M, _ dir: String, _ count: Int, prefix: String = "device-entry-", digits: Int = 3) -> [[UInt8]] {
        (0..<count).map { i in
            let n = String(i)
            let name = prefix + String(repeating: "0", count: max(0, digits - n.count)) + n
            daemon.write(daemon.absolute("\(dir)/\(name)"), [])
            return bytes(name)
        }
    }

    /// The payloads of the requests of one type the daemon received.
    func requests(_ daemon: M, _ type: xsd_sockmsg_type) -> [[UInt8]] {
        daemon.received.filter { $0.header.type == type.rawValue }.map(\.payload)
    }

    /// The offsets the DIRECTORY_PART requests asked for.
    func offsets(_ daemon: M) -> [Int] {
        requests(daemon, .XS_DIRECTORY_PART).map { Int(daemon.strings($0)[1].text) ?? -1 }
    }

    /// After a failed listing the client is still connected, answers a read, and lists again.
    func stillUsable(_ s: inout Connected, _ dir: String, _ expected: [[UInt8]]) {
        s.daemon.pages = .honest
        #expect(s.client.connection == .connected)
        #expect(s.client.requestsInFlight == 0, "nothing left in flight")
        s.daemon.set("after", "1")
        #expect(s.call(.read(path("after"))) == .success(.value(bytes("1"))))
        #expect(list(dir, &s).progress == .listed(expected), "and a listing of the same directory succeeds")
    }

    @Test("a small directory is one DIRECTORY, no DIRECTORY_PART")
    func smallDirectory() {
        var s = Connected()
        let names = populate(s.daemon, "dir", 5)
        #expect(list("dir", &s) == Outcome(.listed(names), passes: 0))
        #expect(requests(s.daemon, .XS_DIRECTORY).count == 1)
        #expect(requests(s.daemon, .XS_DIRECTORY_PART).isEmpty)
        #expect(list("nothing-here", &s).progress == .failed(.daemon(.XEN_ENOENT)), "the daemon's own error comes back")
    }

    @Test("a single DIRECTORY reply is held to the same rules: the bounds, and no name twice")
    func singleReplyChecked() {
        var s = Connected()
        let names = populate(s.daemon, "dir", 5)
        #expect(list("dir", &s, maxChildren: 4).progress == .failed(.directoryTooLong))
        #expect(list("dir", &s, maxBytes: 5 * 17 - 1).progress == .failed(.directoryTooLong))
        #expect(list("dir", &s, maxChildren: 5, maxBytes: 5 * 17) == Outcome(.listed(names), passes: 0))
        s.daemon.rewrite = { h, p in M.message(type: xsd_sockmsg_type(rawValue: h.type), id: h.req_id, p + bytes("device-entry-002") + [0]) }
        #expect(list("dir", &s).progress == .failed(.malformedReply))
        s.daemon.rewrite = nil
        stillUsable(&s, "dir", names)
    }

    @Test("a list of exactly XENSTORE_PAYLOAD_MAX bytes is one DIRECTORY; one byte more and it is paged")
    func payloadMaxBoundary() {
        var s = Connected()
        // 256 names of 15 bytes, each with its nul: 4096 bytes.
        var names = populate(s.daemon, "dir", 256, prefix: "entry-", digits: 9)
        #expect(s.daemon.childList(s.daemon.absolute("dir")).count == 4096)
        #expect(list("dir", &s) == Outcome(.listed(names), passes: 0))
        #expect(requests(s.daemon, .XS_DIRECTORY_PART).isEmpty)
        s.daemon.set("dir/x", "")
        names.append(bytes("x"))
        #expect(list("dir", &s) == Outcome(.listed(names), passes: 1))
        #expect(offsets(s.daemon).first == 0, "paged from offset 0")
    }

    @Test("600 children (over 10 KB) come through DIRECTORY_PART pages, every name in order, no page over the maximum")
    func longDirectoryPaged() {
        var s = Connected()
        let names = populate(s.daemon, "dir", 600)
        #expect(names.count * 17 > Int(XENSTORE_PAYLOAD_MAX))
        #expect(list("dir", &s) == Outcome(.listed(names), passes: 1))
        #expect(requests(s.daemon, .XS_DIRECTORY).count == 1, "DIRECTORY first, answered E2BIG")
        // Pages are whole names: every offset lands on a name's first byte (17 bytes a name).
        let asked = offsets(s.daemon)
        #expect(asked.count == 3, "three pages of at most 4096 bytes, got \(asked)")
        #expect(asked.first == 0 && zip(asked, asked.dropFirst()).allSatisfy { $0 < $1 }, "offsets move on: \(asked)")
        #expect(asked.allSatisfy { $0 % 17 == 0 }, "each offset is a name boundary: \(asked)")
        #expect(requests(s.daemon, .XS_DIRECTORY_PART) == asked.map { bytes("dir") + [0] + bytes(String($0)) + [0] }, "`<path>|<offset>|`")
        #expect(s.daemon.longestPayload <= Int(XENSTORE_PAYLOAD_MAX))
        #expect(s.client.connection == .connected)
    }

    @Test("every request of a listing in a transaction carries the transaction's id")
    func listingInTransaction() {
        var s = Connected()
        let names = populate(s.daemon, "dir", 600)
        guard case .success(.transaction(let tx))? = s.call(.transactionStart()) else { Issue.record("no transaction"); return }
        var listing = Listing(path("dir"), transaction: tx)
        #expect(run(&listing, &s) == .listed(names))
        let sent = s.daemon.received.filter { $0.header.type == xsd_sockmsg_type.XS_DIRECTORY.rawValue || $0.header.type == xsd_sockmsg_type.XS_DIRECTORY_PART.rawValue }
        #expect(sent.count == 4 && sent.allSatisfy { $0.header.tx_id == tx })
    }

    @Test("a node that changes between pages (a new generation count) is listed again from offset 0")
    func generationChangeRestarts() {
        var s = Connected()
        populate(s.daemon, "dir", 600)
        s.daemon.pages = .changesBetweenPages(1)
        let outcome = list("dir", &s)
        let now = Array(s.daemon.strings(s.daemon.childList(s.daemon.absolute("dir"))).dropLast())
        #expect(now.count == 601 && now.contains(bytes("changed-1")))
        #expect(outcome == Outcome(.listed(now), passes: 2), "the list as it is after the change, not a mix")
        let asked = offsets(s.daemon)
        #expect(asked.count == 5 && asked[0] == 0 && asked[1] > 0 && asked[2] == 0, "the second page saw the change, the second pass starts at 0: \(asked)")
    }

    @Test("a node that changes on every pass ends the listing after maxPasses, never a loop")
    func generationAlwaysChanging() {
        var s = Connected()
        let names = populate(s.daemon, "dir", 600)
        s.daemon.pages = .changesBetweenPages(.max)
        #expect(list("dir", &s) == Outcome(.failed(.directoryUnstable), passes: 8))
        #expect(requests(s.daemon, .XS_DIRECTORY_PART).count == 16, "two pages a pass")
        let changed = s.daemon.strings(s.daemon.childList(s.daemon.absolute("dir"))).dropLast()
        #expect(changed.count == names.count + 16)
        stillUsable(&s, "dir", Array(changed))
    }

    @Test("C xenstored before 4.9 (E2BIG, then ENOSYS for DIRECTORY_PART): the listing fails with E2BIG")
    func daemonWithoutDirectoryPart() {
        var s = Connected()
        let names = populate(s.daemon, "dir", 600)
        s.daemon.flavour = .cxenstoredBefore49
        #expect(list("dir", &s) == Outcome(.failed(.daemon(.XEN_E2BIG)), passes: 1))
        #expect(requests(s.daemon, .XS_DIRECTORY_PART).count == 1, "asked once")
        s.daemon.flavour = .cxenstored
        stillUsable(&s, "dir", names)
    }

    @Test("oxenstored 4.17: a small directory is one DIRECTORY; a long one comes whole, over the maximum, is dropped, and DIRECTORY_PART's ENOSYS gives E2BIG")
    func oxenstored() {
        var s = Connected()
        s.daemon.flavour = .oxenstored
        let small = populate(s.daemon, "small", 5)
        #expect(list("small", &s) == Outcome(.listed(small), passes: 0))
        populate(s.daemon, "dir", 600)
        #expect(list("dir", &s) == Outcome(.failed(.daemon(.XEN_E2BIG)), passes: 1))
        #expect(s.daemon.longestPayload == 600 * 17, "the list was sent whole")
        #expect(requests(s.daemon, .XS_DIRECTORY_PART).count == 1)
        stillUsable(&s, "small", small)
    }

    @Test("an endless list (no end marker, fresh names) ends at the bound on bytes, or on children")
    func endlessList() {
        var s = Connected()
        let names = populate(s.daemon, "dir", 600)
        s.daemon.pages = .endless
        #expect(list("dir", &s).progress == .failed(.directoryTooLong))
        // 100 names a page of 12 to 17 bytes: 64 KiB of them come before 4096 names do.
        let pages = requests(s.daemon, .XS_DIRECTORY_PART).count
        #expect(pages > 30 && pages < 41, "ended by the bound on bytes: \(pages) pages")
        #expect(list("dir", &s, maxBytes: 1 << 20).progress == .failed(.directoryTooLong))
        #expect(requests(s.daemon, .XS_DIRECTORY_PART).count - pages == 41, "ended by the bound on children: 4000 kept, not 4100")
        stillUsable(&s, "dir", names)
        #expect(list("dir", &s, maxChildren: 599).progress == .failed(.directoryTooLong), "the caller's bound, on an honest list")
        #expect(list("dir", &s, maxChildren: 600).progress == .listed(names))
    }

    @Test("a page with a name holding '/', or an empty name before its end, is refused")
    func badChildNames() {
        for bad in [bytes("a/b"), [], bytes("a b"), bytes("..") + [0xFF]] {
            var s = Connected()
            let names = populate(s.daemon, "dir", 600)
            s.daemon.pages = .badChild(bad)
            #expect(list("dir", &s).progress == .failed(.malformedReply), "\(bad)")
            #expect(offsets(s.daemon).count == 2, "refused at the page that holds it")
            stillUsable(&s, "dir", names)
        }
    }

    @Test("a generation count that is no decimal uint64 is refused")
    func badGenerationCount() {
        for bad in ["", "12x", "-1", " 7", "18446744073709551616"] {
            var s = Connected()
            let names = populate(s.daemon, "dir", 600)
            s.daemon.pages = .badGeneration(bytes(bad))
            #expect(list("dir", &s).progress == .failed(.malformedReply), "\(bad)")
            #expect(requests(s.daemon, .XS_DIRECTORY_PART).count == 1, "refused at the first page")
            stillUsable(&s, "dir", names)
        }
    }

    @Test("a daemon that answers offset 0 whatever is asked is refused at its second page (a name twice)")
    func repeatedOffset() {
        var s = Connected()
        let names = populate(s.daemon, "dir", 600)
        s.daemon.pages = .repeatsOffset
        #expect(list("dir", &s).progress == .failed(.malformedReply))
        #expect(offsets(s.daemon).count == 2)
        stillUsable(&s, "dir", names)
    }

    @Test("a page with no names and no end marker (no progress) is refused, not asked for again")
    func emptyPage() {
        var s = Connected()
        let names = populate(s.daemon, "dir", 600)
        s.daemon.pages = .emptyPage
        #expect(list("dir", &s).progress == .failed(.malformedReply))
        #expect(offsets(s.daemon) == [0])
        stillUsable(&s, "dir", names)
    }

    @Test("a DIRECTORY_PART answered with another reply's shape is refused")
    func mismatchedPage() {
        var s = Connected()
        let names = populate(s.daemon, "dir", 600)
        s.daemon.rewrite = { h, p in
            h.type == xsd_sockmsg_type.XS_DIRECTORY_PART.rawValue
                ? M.message(type: .XS_DIRECTORY, id: h.req_id, Array(p.drop { $0 != 0 }.dropFirst()))
                : M.message(type: xsd_sockmsg_type(rawValue: h.type), id: h.req_id, p)
        }
        #expect(list("dir", &s).progress == .failed(.mismatchedReply))
        s.daemon.rewrite = nil
        stillUsable(&s, "dir", names)
    }
}

/// A failed expectation names a list's count and ends, not 600 arrays of bytes.
extension XenStoreDirectoryListing.Progress: CustomStringConvertible {
    public var description: String {
        switch self {
        case .listed(let names): return "listed \(names.count) names (\(names.first?.text ?? "")...\(names.last?.text ?? ""))"
        case .waiting(let wait): return "waiting(\(wait))"
        case .failed(let error): return "failed(\(error))"
        }
    }
}

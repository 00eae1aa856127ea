// Watches and their events. Each watch has its own token and its own queue, so an event reaches
// the watcher it is for and no other. A queue is bounded: in a storm (a peer rewriting a key in
// a loop) repeated paths are queued once, and past the bound the queue collapses into one event
// for the watch's own path, which tells the watcher to look again at everything under it
// (xenstore.txt: "watches may be triggered spuriously", so every watcher re-reads anyway).

public struct XenStoreWatchID: Equatable {
    public let rawValue: UInt32
}

public enum XenStoreWatchStatus: Equatable {
    /// XS_WATCH sent, no reply yet (events may already arrive).
    case registering
    /// The daemon accepted it.
    case active
    /// The daemon refused it, or the connection dropped it and it could not be set again.
    case failed(XenStoreError)
}

/// One event, for one watch: the path that changed (relative if the watch's path was).
public struct XenStoreWatchEvent: Equatable {
    public let path: [UInt8]
}

struct XenStoreWatches {
    struct Watch {
        let id: XenStoreWatchID
        let path: [UInt8]
        let token: [UInt8]
        var status: XenStoreWatchStatus
        var events: [[UInt8]]
    }

    /// Events held per watch before the queue collapses.
    static var queueLimit: Int { 16 }

    private(set) var watches: [Watch] = []
    private var nextID: UInt32 = 1

    /// Registers a watch and gives it a token of its own ("xw" and its id).
    mutating func add(path: [UInt8]) -> Watch {
        let id = XenStoreWatchID(rawValue: nextID)
        nextID &+= 1
        var token: [UInt8] = [UInt8(ascii: "x"), UInt8(ascii: "w")]
        token.appendDecimal(UInt64(id.rawValue))
        let watch = Watch(id: id, path: path, token: token, status: .registering, events: [])
        watches.append(watch)
        return watch
    }

    mutating func remove(_ id: XenStoreWatchID) -> Watch? {
        guard let i = watches.firstIndex(where: { $0.id == id }) else { return nil }
        return watches.remove(at: i)
    }

    func find(_ id: XenStoreWatchID) -> Watch? { watches.first { $0.id == id } }

    mutating func setStatus(_ id: XenStoreWatchID, _ status: XenStoreWatchStatus) {
        guard let i = watches.firstIndex(where: { $0.id == id }) else { return }
        watches[i].status = status
    }

    enum Delivery { case queued, coalesced, collapsed, unknownToken, outsideWatch }

    /// Hands an event to the watch whose token it carries. An event for a path outside the
    /// watch's own (a daemon that lies) is refused.
    mutating func deliver(_ event: XenStoreWatchEventPayload) -> Delivery {
        guard let i = watches.firstIndex(where: { $0.token == event.token }) else { return .unknownToken }
        guard XenStoreWatches.matches(watch: watches[i].path, event: event.path) else { return .outsideWatch }
        // An event for the watch's own path already queued covers every path under it.
        if watches[i].events.contains(event.path) || watches[i].events.contains(watches[i].path) { return .coalesced }
        if watches[i].events.count >= XenStoreWatches.queueLimit {
            watches[i].events = [watches[i].path]
            return .collapsed
        }
        watches[i].events.append(event.path)
        return .queued
    }

    mutating func takeEvent(_ id: XenStoreWatchID) -> XenStoreWatchEvent? {
        guard let i = watches.firstIndex(where: { $0.id == id }), !watches[i].events.isEmpty else { return nil }
        return XenStoreWatchEvent(path: watches[i].events.removeFirst())
    }

    /// The event's path is the watch's path or below it (xenstore.txt: "<epath> is a child of <wpath>").
    static func matches(watch: [UInt8], event: [UInt8]) -> Bool {
        if event == watch { return true }
        if watch == [UInt8(ascii: "/")] { return event.first == UInt8(ascii: "/") }
        return event.count > watch.count && event.starts(with: watch) && event[watch.count] == UInt8(ascii: "/")
    }
}

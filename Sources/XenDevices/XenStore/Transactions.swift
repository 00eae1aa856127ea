// A transaction of writes (the way a frontend publishes its ring references, event channels and
// state at once): start, send every operation with the transaction's id, end with commit. The
// daemon answers the commit with EAGAIN when another write got in between (xenstore.txt,
// TRANSACTION_END); then the transaction backs off, doubling the delay each time, and starts
// again. It never waits itself: `advance` returns what it waits for.
import XenABI

public struct XenStoreTransaction: ~Copyable {
    public enum Operation: Equatable {
        case write(XenStorePath, [UInt8])
        case mkdir(XenStorePath)
        case rm(XenStorePath)
    }

    public enum Progress: Equatable {
        case waiting(XenWait)
        case committed
        case failed(XenStoreError)
    }

    /// Where the transaction stands. Flat fields rather than an enum with payloads: every
    /// phase's switch would otherwise copy and destroy the payloads (an array among them).
    enum Step { case idle, starting, running, ending, backingOff, done }

    public let operations: [Operation]
    public let maxAttempts: Int
    /// The first back-off (nanoseconds); doubled on each conflict up to `maximumBackoff`.
    public let initialBackoff: UInt64
    public let maximumBackoff: UInt64
    public private(set) var attempts = 0
    var step = Step.idle
    /// TRANSACTION_START's or TRANSACTION_END's request.
    var request = XenStoreRequestID(rawValue: 0)
    var transaction: UInt32 = 0
    /// Operations sent and not yet answered, and the next to send.
    var pending: [UInt32] = []
    var next = 0
    /// Ending by discarding after this error (reported once discarded).
    var endError: XenStoreError?
    var deadline: UInt64 = 0
    var outcome = Progress.committed

    @inline(never)
    public init(_ operations: [Operation], maxAttempts: Int = 10, initialBackoff: UInt64 = 1_000_000, maximumBackoff: UInt64 = 256_000_000) {
        self.operations = operations
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
    }

    /// Moves the transaction on with whatever replies have come. Call after the store's
    /// `handleEvent`, and when the deadline it returned passes.
    @inline(never)
    public mutating func advance<P: XenPlatform>(store: inout XenStoreClient<P>) -> Progress {
        while true {
            switch step {
            case .done:
                return outcome
            case .idle:
                guard attempts < maxAttempts else { finish(.failed(.transactionConflict)); continue }
                do throws(XenStoreError) {
                    request = try store.submit(.transactionStart())
                    step = .starting
                    attempts += 1
                } catch {
                    return waitOrFail(error)
                }
            case .starting:
                guard let reply = store.takeReply(request) else { return .waiting(.event) }
                switch reply {
                case .success(.transaction(let tx)):
                    transaction = tx
                    pending = []
                    next = 0
                    step = .running
                case .success:
                    finish(.failed(.malformedReply))
                case .failure(let error):
                    failed(error, now: store.platform.now())
                }
            case .running:
                if !run(store: &store) { return .waiting(.event) }
            case .ending:
                switch store.takeOutcome(request) {
                case .pending: return .waiting(.event)
                case .ok where endError == nil: finish(.committed)
                case .failed(let e) where endError == nil: failed(e, now: store.platform.now())
                case _ where endError == nil: finish(.failed(.malformedReply))
                default:
                    // Discarded after a failed operation: a conflict inside is retried like one at the end.
                    failed(endError!, now: store.platform.now())
                }
            case .backingOff:
                guard store.platform.now() >= deadline else { return .waiting(.deadline(deadline)) }
                step = .idle
            }
        }
    }

    // Out of line, so -Osize does not copy them into every phase of `advance`.
    /// Sends the operations as request slots allow (a transaction may hold more writes than the
    /// client lets be in flight: a multi-queue vif's keys) and collects their replies; ends the
    /// transaction once all are answered or one failed. False while replies are awaited.
    @inline(never)
    mutating func run<P: XenPlatform>(store: inout XenStoreClient<P>) -> Bool {
        var failure: XenStoreError?
        while next < operations.count {
            do throws(XenStoreError) {
                pending.append(try store.submit(Self.request(operations[next], transaction: transaction)).rawValue)
                next += 1
            } catch {
                if error != .tooManyRequests { failure = error }
                break
            }
        }
        var i = 0
        while i < pending.count {
            switch store.takeOutcome(XenStoreRequestID(rawValue: pending[i])) {
            case .pending: i += 1; continue
            case .ok: break
            case .value: failure = failure ?? .malformedReply
            case .failed(let error): failure = failure ?? error
            }
            pending.remove(at: i)
        }
        if let failure {
            for id in pending { store.cancel(XenStoreRequestID(rawValue: id)) }
            end(store: &store, error: failure)
        } else if pending.isEmpty && next == operations.count {
            end(store: &store, error: nil)
        } else {
            return false
        }
        return true
    }

    /// Sends TRANSACTION_END: commit when nothing failed, discard otherwise. If even that cannot
    /// be sent, the daemon drops the transaction with the connection, and so do we.
    @inline(never)
    mutating func end<P: XenPlatform>(store: inout XenStoreClient<P>, error: XenStoreError?) {
        do throws(XenStoreError) {
            request = try store.submit(.transactionEnd(transaction, commit: error == nil))
            endError = error
            step = .ending
        } catch let sendError {
            finish(.failed(error ?? sendError))
        }
    }

    /// A conflict backs off and starts again; anything else ends the transaction.
    @inline(never)
    mutating func failed(_ error: XenStoreError, now: UInt64) {
        guard error == .daemon(.XEN_EAGAIN) else { finish(.failed(error)); return }
        let shift = UInt64(min(attempts - 1, 30))
        deadline = now &+ min(initialBackoff << shift, maximumBackoff)
        step = .backingOff
    }

    mutating func finish(_ progress: Progress) {
        outcome = progress
        step = .done
    }

    /// A full request table is waited out; anything else ends the transaction.
    func waitOrFail(_ error: XenStoreError) -> Progress {
        error == .tooManyRequests ? .waiting(.event) : .failed(error)
    }

    @inline(never)
    static func request(_ operation: Operation, transaction: UInt32) -> XenStoreRequest {
        switch operation {
        case .write(let path, let value): return .write(path, value, transaction: transaction)
        case .mkdir(let path): return .mkdir(path, transaction: transaction)
        case .rm(let path): return .rm(path, transaction: transaction)
        }
    }
}

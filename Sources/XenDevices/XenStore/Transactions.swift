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

    enum Phase {
        case idle
        case starting(XenStoreRequestID)
        case running(transaction: UInt32, pending: [XenStoreRequestID], next: Int)
        /// Ending with commit, or discarding after `error` (the error is reported once discarded).
        case ending(XenStoreRequestID, error: XenStoreError?)
        case backingOff(until: UInt64)
        case done(Progress)
    }

    public let operations: [Operation]
    public let maxAttempts: Int
    /// The first back-off (nanoseconds); doubled on each conflict up to `maximumBackoff`.
    public let initialBackoff: UInt64
    public let maximumBackoff: UInt64
    public private(set) var attempts = 0
    var phase: Phase = .idle

    public init(_ operations: [Operation], maxAttempts: Int = 10, initialBackoff: UInt64 = 1_000_000, maximumBackoff: UInt64 = 256_000_000) {
        self.operations = operations
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
    }

    /// Moves the transaction on with whatever replies have come. Call after the store's
    /// `handleEvent`, and when the deadline it returned passes.
    public mutating func advance<P: XenPlatform>(store: inout XenStoreClient<P>) -> Progress {
        while true {
            switch phase {
            case .done(let progress):
                return progress
            case .idle:
                guard attempts < maxAttempts else { phase = .done(.failed(.transactionConflict)); continue }
                do throws(XenStoreError) {
                    phase = .starting(try store.submit(.transactionStart()))
                    attempts += 1
                } catch {
                    return waitOrFail(error)
                }
            case .starting(let id):
                guard let reply = store.takeReply(id) else { return .waiting(.event) }
                switch reply {
                case .success(.transaction(let tx)):
                    phase = .running(transaction: tx, pending: [], next: 0)
                case .success:
                    phase = .done(.failed(.malformedReply))
                case .failure(let error):
                    phase = retryable(error) ? .backingOff(until: backoffDeadline(store.platform.now())) : .done(.failed(error))
                }
            case .running(let tx, var pending, var next):
                // Operations go out as request slots allow: a transaction may hold more writes
                // than the client lets be in flight (a multi-queue vif's keys).
                var failure: XenStoreError?
                while next < operations.count {
                    do throws(XenStoreError) {
                        pending.append(try store.submit(Self.request(operations[next], transaction: tx)))
                        next += 1
                    } catch {
                        if error != .tooManyRequests { failure = error }
                        break
                    }
                }
                var i = 0
                while i < pending.count {
                    guard let reply = store.takeReply(pending[i]) else { i += 1; continue }
                    pending.remove(at: i)
                    switch reply {
                    case .success(.ok): break
                    case .success: failure = failure ?? .malformedReply
                    case .failure(let error): failure = failure ?? error
                    }
                }
                if let failure {
                    for id in pending { store.cancel(id) }
                    end(tx, store: &store, error: failure)
                } else if pending.isEmpty && next == operations.count {
                    end(tx, store: &store, error: nil)
                } else {
                    phase = .running(transaction: tx, pending: pending, next: next)
                    return .waiting(.event)
                }
            case .ending(let id, let error):
                guard let reply = store.takeReply(id) else { return .waiting(.event) }
                if let error {
                    // Discarded after a failed operation: a conflict inside is retried like one at the end.
                    phase = retryable(error) ? .backingOff(until: backoffDeadline(store.platform.now())) : .done(.failed(error))
                    continue
                }
                switch reply {
                case .success(.ok): phase = .done(.committed)
                case .success: phase = .done(.failed(.malformedReply))
                case .failure(let e) where retryable(e): phase = .backingOff(until: backoffDeadline(store.platform.now()))
                case .failure(let e): phase = .done(.failed(e))
                }
            case .backingOff(let deadline):
                guard store.platform.now() >= deadline else { return .waiting(.deadline(deadline)) }
                phase = .idle
            }
        }
    }

    // Out of line: -Osize would otherwise copy the request building and the Result handling into
    // every phase of `advance` (6 KB of it in the kernel).
    /// Sends TRANSACTION_END: commit when nothing failed, discard otherwise. If even that cannot
    /// be sent, the daemon drops the transaction with the connection, and so do we.
    @inline(never)
    mutating func end<P: XenPlatform>(_ tx: UInt32, store: inout XenStoreClient<P>, error: XenStoreError?) {
        do throws(XenStoreError) {
            phase = .ending(try store.submit(.transactionEnd(tx, commit: error == nil)), error: error)
        } catch let sendError {
            phase = .done(.failed(error ?? sendError))
        }
    }

    /// A full request table is waited out; anything else ends the transaction.
    func waitOrFail(_ error: XenStoreError) -> Progress {
        error == .tooManyRequests ? .waiting(.event) : .failed(error)
    }

    func retryable(_ error: XenStoreError) -> Bool { error == .daemon(.XEN_EAGAIN) }

    func backoffDeadline(_ now: UInt64) -> UInt64 {
        let shift = UInt64(min(attempts - 1, 30))
        return now &+ min(initialBackoff << shift, maximumBackoff)
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

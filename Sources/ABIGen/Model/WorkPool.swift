// A bounded number of threads for work handed over while the caller goes on with something else.
import Foundation

/// Runs jobs on at most `threads` threads at once, the caller's among them: `threads - 1` workers
/// start with the first job, and a caller that waits runs jobs itself until none is left. Work
/// handed over before the caller turns to something else (the emitters) runs beside it, and no
/// more threads are busy than `threads` (with one, every job runs in `wait()`, in order).
/// Single use: `wait()` lets the workers go.
final class WorkPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [() -> Void] = []
    private var next = 0
    /// Jobs handed over and not finished: a job that hands over more does so before it finishes,
    /// so this reaches zero only when no job can come.
    private var unfinished = 0
    private var closed = false
    private var cancelled = false
    private var workersStarted = false
    let threads: Int

    init(threads: Int) { self.threads = max(1, threads) }

    func submit(_ job: @escaping () -> Void) {
        condition.lock()
        defer { condition.unlock() }
        guard !cancelled else { return }
        precondition(!closed, "WorkPool: a job handed over after wait()")
        queue.append(job)
        unfinished += 1
        condition.signal()
        guard !workersStarted else { return }
        workersStarted = true
        for _ in 1..<threads {
            let thread = Thread { self.work(untilIdle: false) }
            // As ParallelMap's: libclang and the declaration walk recurse.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// `count` jobs, `body(0)` ... `body(count - 1)`; the last to finish calls `then` with their
    /// results in order (before it counts as finished, so `then` may hand over more).
    func map<T>(_ count: Int, _ body: @escaping (Int) -> T, then: @escaping ([T]) -> Void) {
        guard count > 0 else { submit { then([]) }; return }
        let results = MapResults<T>(count)
        for i in 0..<count {
            submit {
                let out = body(i)
                results.lock.lock()
                results.items[i] = out
                results.left -= 1
                let last = results.left == 0
                results.lock.unlock()
                if last { then(results.items.map { $0! }) }
            }
        }
    }

    /// Runs jobs on the calling thread too until every job handed over, and every job those hand
    /// over, has finished; then lets the workers go.
    func wait() {
        work(untilIdle: true)
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Drops the jobs not yet started (and any handed over from now on), then waits for those
    /// running.
    func cancel() {
        condition.lock()
        cancelled = true
        unfinished -= queue.count - next
        queue.removeAll()
        next = 0
        condition.broadcast()
        condition.unlock()
        wait()
    }

    private final class MapResults<T>: @unchecked Sendable {
        let lock = NSLock()
        var items: [T?]
        var left: Int
        init(_ n: Int) { items = Array(repeating: nil, count: n); left = n }
    }

    private func work(untilIdle: Bool) {
        condition.lock()
        while true {
            if next < queue.count {
                let job = queue[next]
                queue[next] = {}
                next += 1
                condition.unlock()
                job()
                condition.lock()
                unfinished -= 1
                condition.broadcast()
                continue
            }
            if untilIdle ? unfinished == 0 : closed { break }
            condition.wait()
        }
        condition.unlock()
    }
}

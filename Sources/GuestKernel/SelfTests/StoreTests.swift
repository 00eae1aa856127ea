// Xenstore against the real daemon (oxenstored or the C xenstored, whichever dom0 runs): the
// domU's own keys, a write dom0 reads back, two transactions that conflict, a window of requests
// kept full, and a ring reconnection where the daemon offers one. A dom0 has no store: skipped.
import XenABI
import XenDevices

enum StoreTests {
    static func run() {
        guard Store.client != nil else { Report.skip("xenstore", "no xenstore connection (a dom0 runs the daemon itself)"); return }
        ownKeys()
        writeForDom0()
        transactionsConflict()
        requestWindow()
        reconnection()
    }

    static func ownKeys() {
        let name: StaticString = "xenstore: the domU reads its own name and domid"
        switch Store.read(XenStorePath("name")) {
        case .success(let n):
            Console.write("guest: domU name \""); Console.write(bytes: n); Console.write("\" domid "); Console.write(UInt64(Domain.id)); Console.newline()
            Report.check(name, !n.isEmpty && Domain.id != 0, "a name, and a domid that is not dom0's")
        case .failure(let e): storeError(name, "READ name", e)
        }
    }

    /// The harness's dom0 side reads the key back with xenstore-read after this line.
    static func writeForDom0() {
        let name: StaticString = "xenstore: a key written for dom0 to read back"
        var value = [UInt8]("written by domU ")
        value.appendDecimal(UInt64(Domain.id))
        if let e = Store.write(XenStorePath("data/xen-guest"), value) { storeError(name, "WRITE data/xen-guest", e); return }
        Console.write("guest: wrote data/xen-guest \""); Console.write(bytes: value); Console.write("\"\n")
        Report.pass(name)
    }

    /// T1 reads the key, T2 writes it and commits, T1 writes it: T1's commit must fail with
    /// EAGAIN. The read matters: the C daemon fails any transaction whose nodes changed under
    /// it, but oxenstored replays a conflicting transaction itself and commits it when the replay
    /// answers as the original did, so a transaction of writes alone never sees EAGAIN there;
    /// a read whose value changed makes the replay differ. Then the same write as a
    /// XenStoreTransaction, which retries on conflict, commits, and the key holds its value.
    static func transactionsConflict() {
        let name: StaticString = "xenstore: two transactions on one key conflict; the loser gets EAGAIN and its retry commits"
        let key = XenStorePath("data/transaction-probe")
        if let e = Store.write(key, [UInt8]("start")) { storeError(name, "WRITE", e); return }
        guard case .success(.transaction(let t1)) = Store.call(.transactionStart()),
              case .success(.transaction(let t2)) = Store.call(.transactionStart()) else {
            Report.fail(name, "TRANSACTION_START refused"); return
        }
        let r1 = Store.read(key, transaction: t1)
        let w2 = Store.write(key, [UInt8]("two"), transaction: t2)
        let end2 = Store.call(.transactionEnd(t2, commit: true))
        let w1 = Store.write(key, [UInt8]("one"), transaction: t1)
        let end1 = Store.call(.transactionEnd(t1, commit: true))
        guard r1 == .success([UInt8]("start")), w1 == nil, w2 == nil, end2 == .success(.ok) else {
            Report.fail(name, "the reads, writes and the first commit must succeed"); return
        }
        guard end1 == .failure(.daemon(.XEN_EAGAIN)) else {
            Console.write("guest: the second commit answered "); if case .failure(let e) = end1 { Console.write(storeError: e) } else { Console.write("OK") }
            Console.newline()
            Report.fail(name, "the second commit must get EAGAIN"); return
        }
        var retry = XenStoreTransaction([.write(key, [UInt8]("one"))])
        let outcome = Store.drive(&retry)
        let final = Store.read(key)
        Console.write("guest: transaction retried, committed after "); Console.write(retry.attempts); Console.write(" attempt(s)\n")
        Report.check(name, outcome == .committed && final == .success([UInt8]("one")), "the retried transaction commits its value")
    }

    /// More requests than the client keeps in flight (16, under the C daemon's 20 per
    /// connection, past which it stops reading the ring): each answered, none timed out.
    static func requestWindow() {
        let name: StaticString = "xenstore: 48 reads through the client's 16-deep window, every one answered"
        let total = 48
        var sent = 0, answered = 0, wrong = 0
        var inFlight: [XenStoreRequestID] = []
        let deadline = SelfTests.deadline(ms: 20_000)
        while answered < total && Time.now() < deadline {
            while sent < total, let id = try? Store.client!.submit(.read(XenStorePath("domid"))) { inFlight.append(id); sent += 1 }
            var i = 0
            while i < inFlight.count {
                if let reply = Store.client!.takeReply(inFlight[i]) {
                    if case .success(.value(let v)) = reply, xenParseDecimal(v, maximum: 0x7FEF) == UInt64(Domain.id) { answered += 1 } else { wrong += 1; answered += 1 }
                    inFlight.remove(at: i)
                } else { i += 1 }
            }
            if answered < total { EventLoop.waitOnce(until: deadline) }
        }
        Report.check(name, answered == total && wrong == 0 && Store.with { $0.counters.timedOutRequests } == 0, "48 correct replies, none timed out")
    }

    /// XENSTORE_SERVER_FEATURE_RECONNECTION (oxenstored offers it, the C daemon does not): the
    /// ring is reset, and afterwards requests work and watches are set again.
    static func reconnection() {
        let name: StaticString = "xenstore: ring reconnection; requests and watches work after it"
        guard Store.client!.serverSupports(XENSTORE_SERVER_FEATURE_RECONNECTION) else {
            Report.skip(name, "the daemon does not offer ring reconnection"); return
        }
        let watch: XenStoreWatchID
        do { watch = try Store.client!.watch(XenStorePath("data/reconnect-probe")) } catch { storeError(name, "WATCH", error); return }
        defer { Store.client!.unwatch(watch) }
        do { try Store.client!.reconnect() } catch { storeError(name, "reconnect", error); return }
        let deadline = SelfTests.deadline(ms: 5_000)
        _ = EventLoop.run(until: { Store.with { $0.connection == .connected && $0.watchStatus(watch) == .active } }, timeout: deadline)
        let back = Store.with { $0.connection == .connected }
        let read = Store.read(XenStorePath("domid"))
        let value = (try? read.get()).flatMap { xenParseDecimal($0, maximum: 0x7FEF) }
        Report.check(name, back && value == UInt64(Domain.id) && Store.client!.watchStatus(watch) == .active,
                     "connected again, a read answered, the watch active again")
    }

    static func storeError(_ name: StaticString, _ operation: StaticString, _ e: XenStoreError) {
        Report.failed += 1
        Console.write("guest: ERROR "); Console.write(name); Console.write(": "); Console.write(operation); Console.write(" ")
        Console.write(storeError: e); Console.newline()
    }
}

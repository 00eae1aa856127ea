// Transactions: every write goes with the transaction's id; a commit answered with EAGAIN is
// retried after a back-off that doubles; a failed operation discards the transaction.
import Testing
import XenABI
@testable import XenDevices

@Suite("xenstore transactions")
struct TransactionTests {
    /// Drives the transaction until it ends; advances the clock to each back-off deadline.
    func run(_ t: inout XenStoreTransaction, _ s: inout Connected, deadlines: inout [UInt64]) -> XenStoreTransaction.Progress {
        for _ in 0..<200 {
            s.pump(rounds: 3)
            switch t.advance(store: &s.client) {
            case .waiting(.deadline(let d)):
                deadlines.append(d - s.platform.clock)
                s.platform.clock = d
            case .waiting: continue
            case let done: return done
            }
        }
        return .waiting(.event)
    }

    let ops: [XenStoreTransaction.Operation] = [
        .write(path("device/vif/0/tx-ring-ref"), bytes("8")),
        .write(path("device/vif/0/rx-ring-ref"), bytes("9")),
        .write(path("device/vif/0/state"), bytes("4")),
    ]

    @Test("a transaction's writes land together on commit, all sent with its tx_id")
    func commits() {
        var s = Connected()
        var t = XenStoreTransaction(ops)
        var deadlines: [UInt64] = []
        #expect(run(&t, &s, deadlines: &deadlines) == .committed)
        #expect(s.daemon.value("device/vif/0/tx-ring-ref") == "8" && s.daemon.value("device/vif/0/state") == "4")
        let writes = s.daemon.received.filter { $0.header.type == xsd_sockmsg_type.XS_WRITE.rawValue }
        #expect(writes.count == 3 && writes.allSatisfy { $0.header.tx_id == 7 }, "every write in transaction 7")
        #expect(s.daemon.received.first?.header.tx_id == 0, "TRANSACTION_START is sent with tx_id 0")
        #expect(deadlines.isEmpty)
    }

    @Test("EAGAIN on commit is retried with a doubling back-off, then commits")
    func retriesOnEAGAIN() {
        var s = Connected()
        s.daemon.conflicts = 3
        var t = XenStoreTransaction(ops, initialBackoff: 1_000_000)
        var deadlines: [UInt64] = []
        #expect(run(&t, &s, deadlines: &deadlines) == .committed)
        #expect(t.attempts == 4)
        #expect(deadlines == [1_000_000, 2_000_000, 4_000_000], "back-offs \(deadlines)")
        #expect(s.daemon.value("device/vif/0/rx-ring-ref") == "9")
    }

    @Test("a daemon that always conflicts ends the transaction after maxAttempts, never a loop")
    func givesUp() {
        var s = Connected()
        s.daemon.conflicts = .max
        var t = XenStoreTransaction(ops, maxAttempts: 5, maximumBackoff: 4_000_000)
        var deadlines: [UInt64] = []
        #expect(run(&t, &s, deadlines: &deadlines) == .failed(.transactionConflict))
        #expect(t.attempts == 5)
        #expect(deadlines.max() == 4_000_000, "back-off capped")
        #expect(s.daemon.value("device/vif/0/state") == nil, "nothing committed")
    }

    @Test("a failed write discards the transaction with TRANSACTION_END F and reports the write's error")
    func failedOperationDiscards() {
        var s = Connected()
        s.daemon.rewrite = { h, p in
            h.type == xsd_sockmsg_type.XS_WRITE.rawValue
                ? SimulatedXenStored.message(type: .XS_ERROR, id: h.req_id, tx: h.tx_id, bytes("EACCES") + [0])
                : SimulatedXenStored.message(type: xsd_sockmsg_type(rawValue: h.type), id: h.req_id, tx: h.tx_id, p)
        }
        var t = XenStoreTransaction(ops)
        var deadlines: [UInt64] = []
        #expect(run(&t, &s, deadlines: &deadlines) == .failed(.daemon(.XEN_EACCES)))
        let end = s.daemon.received.last { $0.header.type == xsd_sockmsg_type.XS_TRANSACTION_END.rawValue }
        #expect(end?.payload == bytes("F") + [0])
    }

    @Test("a transaction of more writes than may be in flight goes out as replies free slots")
    func moreWritesThanSlots() {
        var s = Connected()
        let many = (0..<40).map { XenStoreTransaction.Operation.write(path("device/vif/0/queue-\($0)/event-channel"), bytes("\($0)")) }
        var t = XenStoreTransaction(many)
        var deadlines: [UInt64] = []
        #expect(run(&t, &s, deadlines: &deadlines) == .committed)
        #expect(s.daemon.value("device/vif/0/queue-39/event-channel") == "39")
        #expect(t.attempts == 1)
    }

    @Test("a malformed transaction id is refused")
    func badTransactionID() {
        var s = Connected()
        s.daemon.rewrite = { h, p in
            SimulatedXenStored.message(type: xsd_sockmsg_type(rawValue: h.type), id: h.req_id, tx: h.tx_id,
                                       h.type == xsd_sockmsg_type.XS_TRANSACTION_START.rawValue ? bytes("0") + [0] : p)
        }
        var t = XenStoreTransaction(ops)
        var deadlines: [UInt64] = []
        #expect(run(&t, &s, deadlines: &deadlines) == .failed(.malformedReply))
    }
}

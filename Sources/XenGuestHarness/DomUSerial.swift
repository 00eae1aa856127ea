// Reads the serial line of a domU run (Xen's lines, dom0's, and what Dom0Script prints) into a
// structured result: each guest's console, its steps, its end, and when each came.
import Foundation

/// One dom0-side step's result.
public struct StepResult: Sendable, Equatable {
    public enum Outcome: String, Sendable { case ok, failed, skipped }
    /// 1-based, in the guest's spec order.
    public var index: Int
    public var outcome: Outcome
    /// "saw: LINE" for a console wait, "exit 0" for a command; why, for a failure.
    public var detail: String
    /// A dom0 command's output.
    public var output: [String] = []
}

/// One guest's life as the serial line told it. Times are seconds since QEMU started, by the
/// host's clock at each line's arrival.
public struct GuestResult: Sendable, Equatable {
    public var name: String
    public var expectedEnding: GuestEnding
    public var expectedSteps: Int
    public var domid: Int?
    /// Times xl restarted it after a reboot (each with a new domid, the last in `domid`).
    public var restarts = 0
    /// Why `xl create` failed, if it did.
    public var createFailure: String?
    public var console: [String] = []
    public var steps: [StepResult] = []
    public var ending: GuestEnding?
    /// The ending as dom0 said it (an `unknown-N` has no GuestEnding).
    public var endingWord: String?
    /// dom0 starts copying the kernel into its RAM; then `xl create`.
    public var stagingAt: Double?
    public var createdAt: Double?
    public var domidAt: Double?
    public var firstConsoleAt: Double?
    public var endedAt: Double?

    public init(name: String, expectedEnding: GuestEnding, expectedSteps: Int) {
        self.name = name; self.expectedEnding = expectedEnding; self.expectedSteps = expectedSteps
    }

    public var success: Bool { failures.isEmpty }

    /// What went wrong, each as a sentence; empty when the guest passed.
    public var failures: [String] {
        var out: [String] = []
        if createdAt == nil { out.append("dom0 never created it") }
        if let createFailure { out.append("xl create failed: \(createFailure)") }
        for step in steps where step.outcome == .failed { out.append("step \(step.index) failed: \(step.detail)") }
        if createFailure == nil, createdAt != nil, steps.count < expectedSteps {
            out.append("\(expectedSteps - steps.count) of \(expectedSteps) steps never reported")
        }
        if let word = endingWord {
            if ending != expectedEnding { out.append("ended \(word), expected \(expectedEnding.rawValue)") }
        } else if createdAt != nil {
            out.append("its end was never reported")
        }
        return out
    }
}

/// A whole run.
public struct DomURunResult: Sendable {
    public var plan: String
    public var xenstored: XenstoreDaemon
    public var guests: [GuestResult]
    /// Host seconds since QEMU started: dom0's initramfs running, its script starting, the
    /// toolstack ready (xenstored, xen-init-dom0, xenconsoled), the run's end.
    public var initramfsUpAt: Double?
    public var dom0InitAt: Double?
    public var dom0ReadyAt: Double?
    public var runDoneAt: Double?
    public var logsSaved = false
    /// dom0's own uptime (its clock) when the toolstack was ready.
    public var dom0ReadyUptime: Double?
    public var dom0Failure: String?
    public var xenPanic: String?
    public var timedOut = false
    public var duration: Double = 0
    public var runDirectory: URL?

    public init(_ spec: DomURunSpec) {
        plan = spec.plan
        xenstored = spec.xenstored
        guests = spec.guests.map { GuestResult(name: $0.name, expectedEnding: $0.expectedEnding, expectedSteps: $0.reportedSteps) }
    }

    public var success: Bool { failures.isEmpty }

    public var failures: [String] {
        var out: [String] = []
        if let xenPanic { out.append("Xen panicked: \(xenPanic)") }
        if let dom0Failure { out.append("dom0 failed: \(dom0Failure)") }
        if timedOut { out.append("the run timed out") }
        if runDoneAt == nil { out.append("dom0's script never reached the end of the run") }
        for guest in guests { out += guest.failures.map { "guest \(guest.name): \($0)" } }
        return out
    }
}

/// What kind of line the serial console carried.
public enum DomUSerialLine: Sendable, Equatable {
    case xen
    case dom0
    case marker
    case guestConsole(guest: String, text: String)
    case stepOutput(guest: String, step: Int, text: String)
}

/// The parser: feed it lines in order.
public struct DomUSerial: Sendable {
    public var result: DomURunResult

    public init(_ spec: DomURunSpec) { result = DomURunResult(spec) }

    @discardableResult
    public mutating func read(_ line: Substring, at time: Double) -> DomUSerialLine {
        // Xen's and dom0's output share the line: a marker may come after a fragment of another
        // line, so each form is found where it starts, not only at column 0.
        if let r = line.range(of: "domU["), let close = line[r.upperBound...].range(of: "]| ") {
            let name = String(line[r.upperBound..<close.lowerBound])
            let text = String(line[close.upperBound...])
            if let g = guestIndex(name) {
                result.guests[g].console.append(text)
                if result.guests[g].firstConsoleAt == nil { result.guests[g].firstConsoleAt = time }
            }
            return .guestConsole(guest: name, text: text)
        }
        if let r = line.range(of: "step["), let close = line[r.upperBound...].range(of: "]| ") {
            let tag = line[r.upperBound..<close.lowerBound].split(separator: " ")
            let text = String(line[close.upperBound...])
            if tag.count == 2, let k = Int(tag[1]) {
                let name = String(tag[0])
                if guestIndex(name) != nil { pendingOutput[name, default: [:]][k, default: []].append(text) }
                return .stepOutput(guest: name, step: k, text: text)
            }
        }
        if let r = line.range(of: "harness: ") {
            marker(line[r.upperBound...], at: time)
            return .marker
        }
        if line.hasPrefix("(XEN)") {
            let text = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
            if line.contains("Panic on CPU") { result.xenPanic = text; panicMessagePending = true }
            else if panicMessagePending, !text.hasPrefix("****") {
                // The panic's reason is the line after "Panic on CPU N:".
                result.xenPanic! += " " + text
                panicMessagePending = false
            }
            return .xen
        }
        return .dom0
    }

    /// A dom0 command's output arrives before its step's result line.
    var pendingOutput: [String: [Int: [String]]] = [:]
    var panicMessagePending = false

    func guestIndex(_ name: String) -> Int? { result.guests.firstIndex { $0.name == name } }

    mutating func marker(_ text: Substring, at time: Double) {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        func number(_ i: Int) -> Double? { i < words.count ? Double(words[i]) : nil }
        func rest(from i: Int) -> String { words.count > i ? words[i...].joined(separator: " ") : "" }
        switch (words.first, words.count > 1 ? words[1] : nil) {
        case ("initramfs", "up"): result.initramfsUpAt = time
        case ("dom0", "init"): result.dom0InitAt = time
        case ("dom0", "ready"): result.dom0ReadyAt = time; result.dom0ReadyUptime = number(2)
        case ("dom0", "FAIL"): result.dom0Failure = rest(from: 2)
        case ("run", "done"): result.runDoneAt = time
        case ("logs", "saved"): result.logsSaved = true
        case ("guest", let name?):
            guard let g = guestIndex(String(name)), words.count >= 3 else { return }
            switch words[2] {
            case "staging": result.guests[g].stagingAt = time
            case "create":
                if words.count > 3 && words[3] == "FAIL" { result.guests[g].createFailure = rest(from: 4) }
                else { result.guests[g].createdAt = time }
            case "domid":
                result.guests[g].domid = words.count > 3 ? Int(words[3]) : nil
                result.guests[g].domidAt = time
            case "restarted":
                result.guests[g].restarts += 1
                result.guests[g].domid = words.count > 5 ? Int(words[5]) : nil
            case "step":
                guard words.count >= 5, let k = Int(words[3]) else { return }
                let outcome: StepResult.Outcome = words[4] == "ok" ? .ok : words[4] == "skipped" ? .skipped : .failed
                let output = pendingOutput[String(name)]?.removeValue(forKey: k) ?? []
                result.guests[g].steps.append(StepResult(index: k, outcome: outcome, detail: rest(from: 5), output: output))
            case "ended":
                let word = words.count > 3 ? String(words[3]) : "unknown"
                result.guests[g].endingWord = word
                result.guests[g].ending = GuestEnding(rawValue: word)
                result.guests[g].endedAt = time
            default: break
            }
        default: break
        }
    }
}

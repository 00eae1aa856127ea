// Reads a Xen serial log line by line and decides what happened to dom0 and its self-tests.

/// What the serial console said, as far as it has got.
public struct SerialVerdict: Sendable, Equatable {
    public enum XenOutcome: String, Sendable { case halted, crashed, rebooted }

    /// Xen's own word on dom0: halted on power-off, crashed, or rebooted.
    public var xen: XenOutcome?
    /// The guest's `guest: N passed, N failed` line.
    public var passed: Int?
    public var failed: Int?
    /// Xen's boot timestamps (seconds) of the hand-over to dom0 and of its end.
    public var handOver: Double?
    public var end: Double?
    /// A Xen panic or a dom0 build failure.
    public var panic: String?

    public init() {}

    /// Done: Xen has said what became of dom0 (QEMU does not exit by itself on a halt).
    public var finished: Bool { xen != nil || panic != nil }

    /// All passed, and Xen agrees: dom0 powered off rather than crashed.
    public var success: Bool { xen == .halted && failed == 0 && (passed ?? 0) > 0 && panic == nil }

    public var milliseconds: Double? { handOver.flatMap { h in end.map { ($0 - h) * 1000 } } }

    public mutating func read(_ line: Substring) {
        let stamp = Self.timestamp(line)
        // Xen frees its init memory just before it schedules dom0: the hand-over.
        if line.contains("Freed") && line.contains("init memory") { handOver = stamp }
        if line.contains("Hardware Dom0 halted") { xen = .halted; end = stamp }
        else if line.contains("Hardware Dom0 crashed") { xen = .crashed; end = stamp }
        else if line.contains("Hardware Dom0 shutdown: rebooting") { xen = .rebooted; end = stamp }
        if line.contains("Panic on CPU") || line.contains("Could not set up DOM0") || line.contains("Failed to build Dom0") {
            panic = String(line)
        }
        if let r = line.range(of: "guest: ") {
            let rest = line[r.upperBound...].split(separator: " ")
            if rest.count >= 4, rest[1].hasPrefix("passed"), rest[3].hasPrefix("failed"),
               let p = Int(rest[0]), let f = Int(rest[2]) {
                passed = p; failed = f
            }
        }
    }

    /// `(XEN) [    0.980400] ...` -> 0.9804.
    static func timestamp(_ line: Substring) -> Double? {
        guard let open = line.firstIndex(of: "["), let close = line[open...].firstIndex(of: "]") else { return nil }
        return Double(line[line.index(after: open)..<close].trimmingCharacters(in: .whitespaces))
    }
}

import Foundation

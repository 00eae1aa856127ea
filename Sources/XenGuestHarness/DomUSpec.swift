// What a domU run is: the xenstore daemon dom0 runs, and the guests it creates one after another,
// each with the dom0-side steps to take while it lives and the ending it should come to.
import Foundation

/// The two xenstore daemons Debian 12's Xen ships; a guest's xenstore client must work with both
/// (they differ in what they advertise and accept: PLATFORM-NOTES "Xenstore daemons").
public enum XenstoreDaemon: String, Sendable, CaseIterable, Codable {
    /// The OCaml daemon Debian's init script prefers.
    case oxenstored
    /// The C daemon.
    case xenstored
}

/// How a guest's life ended, as dom0 saw it.
public enum GuestEnding: String, Sendable, Codable, CaseIterable {
    // Xen's shutdown reasons (SHUTDOWN_* in public/sched.h), as xl's log reports the code.
    case poweroff, reboot, suspend, crash, watchdog
    case softReset = "soft_reset"
    /// Still running when its time was up: the harness destroyed it.
    case timeout
    /// Gone without xl logging a shutdown (destroyed by someone else, or xl's monitor died).
    case vanished
    /// `xl create` failed.
    case notCreated = "not-created"

    /// The ending for a SHUTDOWN_* code.
    public static func shutdownReason(_ code: Int) -> GuestEnding? {
        switch code {
        case 0: .poweroff
        case 1: .reboot
        case 2: .suspend
        case 3: .crash
        case 4: .watchdog
        case 5: .softReset
        default: nil
        }
    }
}

/// What a console line must show for a wait step.
public enum ConsolePattern: Sendable, Equatable, CustomStringConvertible {
    /// The line contains this text (grep -F).
    case text(String)
    /// The line matches this POSIX extended regular expression (grep -E).
    case regex(String)

    public var description: String {
        switch self {
        case .text(let t): "a line containing \"\(t)\""
        case .regex(let r): "a line matching /\(r)/"
        }
    }
}

/// One dom0-side step taken while a guest lives. Steps run in order; the first to fail fails the
/// guest, skips the rest, and the harness waits for the guest's end (or its timeout) as usual.
public enum GuestStep: Sendable, Equatable, CustomStringConvertible {
    /// Wait until the guest's console shows a matching line (fails after `timeout` seconds, or
    /// when the guest ends first).
    case waitForConsole(ConsolePattern, timeout: Double = 30)
    /// Run a bash command in dom0 with $DOMID and $NAME set; it must exit 0 within `timeout`
    /// seconds. Its output goes to the serial line and to the run's logs.
    case dom0(String, timeout: Double = 30)

    public var description: String {
        switch self {
        case .waitForConsole(let p, let t): "wait up to \(Int(t)) s for \(p)"
        case .dom0(let c, let t): "run in dom0 (up to \(Int(t)) s): \(c)"
        }
    }
}

/// One guest of a run.
public struct GuestSpec: Sendable, Equatable {
    /// The domain's name: letters, digits, `-`, `_`, `.` (it names log files in dom0).
    public var name: String
    /// The PV kernel (ELF) on the host; copied into the run's share.
    public var kernel: URL
    public var ramdisk: URL?
    public var memoryMiB: Int
    public var vcpus: Int
    /// The guest's command line (xl's `extra`: start_info's cmd_line).
    public var extra: String
    /// More xl config lines, as xl reads them (`vif = [ "bridge=xenbr0" ]`, `disk = [ ... ]`).
    public var xlLines: [String]
    public var steps: [GuestStep]
    public var expectedEnding: GuestEnding
    /// Seconds from `xl create` to the guest's end; then it is destroyed and ends in `.timeout`.
    public var timeout: Double
    /// Put the project's dom0 programs (Dom0Tools: udpecho) into the guest's ramdisk too, as
    /// /bin/NAME (a second newc archive after the first: Linux unpacks every one it finds), so
    /// that a Linux guest runs the same echo service a test compares the Swift kernel's with.
    public var ramdiskTools = false
    /// xl restarts the guest when it reboots (`on_reboot="restart"`): its ending is then the
    /// last life's, and dom0's steps follow it to its new domid.
    public var restartOnReboot: Bool
    /// A dom0 command run before `xl create` (files and loop devices the xl config names); if
    /// it fails the guest is not created. Its output is step 0's.
    public var setup: String?
    /// A dom0 command run after the guest has ended (however it ended, unless a step failed),
    /// as the step after the last of `steps`: a check on what the guest left behind.
    public var afterEnd: String?

    /// The steps dom0 reports: `steps`, then `afterEnd`.
    public var reportedSteps: Int { steps.count + (afterEnd == nil ? 0 : 1) }

    public init(name: String, kernel: URL, ramdisk: URL? = nil, memoryMiB: Int = 32, vcpus: Int = 1, extra: String = "",
                xlLines: [String] = [], steps: [GuestStep] = [], expectedEnding: GuestEnding = .poweroff, timeout: Double = 60,
                restartOnReboot: Bool = false, setup: String? = nil, afterEnd: String? = nil) {
        self.name = name; self.kernel = kernel; self.ramdisk = ramdisk; self.memoryMiB = memoryMiB; self.vcpus = vcpus
        self.extra = extra; self.xlLines = xlLines; self.steps = steps; self.expectedEnding = expectedEnding; self.timeout = timeout
        self.restartOnReboot = restartOnReboot; self.setup = setup; self.afterEnd = afterEnd
    }

    public func validate() throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard !name.isEmpty, name.count <= 64, name.allSatisfy(allowed.contains), name.first != "." else {
            throw HarnessError("guest name \"\(name)\": use 1-64 letters, digits, '-', '_' or '.'")
        }
        guard memoryMiB >= 4 else { throw HarnessError("guest \(name): \(memoryMiB) MiB is too little") }
        guard vcpus >= 1 else { throw HarnessError("guest \(name): at least one vcpu") }
        guard FileManager.default.fileExists(atPath: kernel.path) else { throw HarnessError("guest \(name): no kernel at \(kernel.path)") }
        if let ramdisk, !FileManager.default.fileExists(atPath: ramdisk.path) {
            throw HarnessError("guest \(name): no ramdisk at \(ramdisk.path)")
        }
    }
}

/// One boot of dom0 and the guests it runs, in order.
public struct DomURunSpec: Sendable, Equatable {
    /// The plan's name, for the logs.
    public var plan: String
    public var xenstored: XenstoreDaemon
    public var guests: [GuestSpec]
    /// Make bridges `xenbr0` (10.0.0.1/24) and `xenbr1` (10.0.1.1/24) in dom0 for guests' vifs
    /// (`vif = [ "bridge=xenbr0,ip=10.0.0.2" ]`).
    public var bridge: Bool
    /// dom0's memory (Xen's dom0_mem, fixed: no ballooning).
    public var dom0MemoryMiB: Int

    /// Print every command of dom0's script with dom0's uptime (bash's xtrace), to see where time goes.
    public var traceDom0 = false

    public init(plan: String, xenstored: XenstoreDaemon, guests: [GuestSpec], bridge: Bool = false, dom0MemoryMiB: Int = 512) {
        self.plan = plan; self.xenstored = xenstored; self.guests = guests; self.bridge = bridge; self.dom0MemoryMiB = dom0MemoryMiB
    }

    public func validate() throws {
        guard !guests.isEmpty else { throw HarnessError("plan \(plan) has no guests") }
        for guest in guests { try guest.validate() }
        let names = guests.map(\.name)
        if Set(names).count != names.count { throw HarnessError("plan \(plan): guest names must differ (\(names.joined(separator: ", ")))") }
    }
}

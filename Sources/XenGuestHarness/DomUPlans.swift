// Named domU plans: each a function from the command's options to a run spec. To add one, write a
// function returning a DomURunSpec and list it in `all`; `xen-guest boot --as domU --plan NAME`
// runs it.
import Foundation

/// What the command line gives a plan.
public struct DomUPlanOptions: Sendable {
    public var assets: Dom0Assets
    public var xenstored: XenstoreDaemon
    /// The Swift kernel (ELF) to run as a domU.
    public var kernel: URL
    /// Run Debian's Linux with the harness's busybox initramfs instead of the Swift kernel.
    public var linux: Bool
    /// The guest's memory and command line and each guest's timeout, when given.
    public var memoryMiB: Int?
    public var args: String
    public var timeout: Double?

    public init(assets: Dom0Assets, xenstored: XenstoreDaemon, kernel: URL, linux: Bool, memoryMiB: Int? = nil, args: String = "", timeout: Double? = nil) {
        self.assets = assets; self.xenstored = xenstored; self.kernel = kernel; self.linux = linux
        self.memoryMiB = memoryMiB; self.args = args; self.timeout = timeout
    }
}

public enum DomUPlans {
    public typealias Plan = @Sendable (DomUPlanOptions) -> DomURunSpec

    /// Every plan by name, with a line for --help.
    public static let all: [(name: String, about: String, make: Plan)] = [
        ("default", "the guest boots, its console shows `guest: N passed, M failed` (Linux: `linux-domU: up`), it powers off", defaultPlan),
        ("harness-check", "the harness itself, on Linux domUs: dom0 steps that pass, fail and are skipped, a crash, a timeout", harnessCheck),
    ]

    public static func named(_ name: String) -> Plan? { all.first { $0.name == name }?.make }

    /// The Swift kernel's line of results.
    public static let swiftVerdict = ConsolePattern.regex("guest: [0-9]+ passed, [0-9]+ failed")
    /// The Linux domU's first line of its own.
    public static let linuxUp = ConsolePattern.text("linux-domU: up")

    /// The Swift kernel as a domU.
    public static func swiftGuest(_ o: DomUPlanOptions, name: String = "swift-guest", steps: [GuestStep]) -> GuestSpec {
        GuestSpec(name: name, kernel: o.kernel, memoryMiB: o.memoryMiB ?? 32, extra: o.args, steps: steps, timeout: o.timeout ?? 60)
    }

    /// Debian's Linux as a PV domU with the harness's initramfs (InitramfsImages.linuxDomUInit):
    /// it prints `linux-domU: up`, runs `domu_run` if given, and powers off.
    public static func linuxGuest(_ o: DomUPlanOptions, name: String = "linux-domU", run command: String? = nil,
                                  steps: [GuestStep], expectedEnding: GuestEnding = .poweroff, timeout: Double? = nil) -> GuestSpec {
        var extra = "console=hvc0 quiet"
        if let command { extra += " domu_run=\"\(command)\"" }
        if !o.args.isEmpty { extra += " " + o.args }
        return GuestSpec(name: name, kernel: o.assets.vmlinux, ramdisk: o.assets.linuxDomUInitramfs, memoryMiB: o.memoryMiB ?? 256,
                         extra: extra, steps: steps, expectedEnding: expectedEnding, timeout: timeout ?? o.timeout ?? 120)
    }

    @Sendable static func defaultPlan(_ o: DomUPlanOptions) -> DomURunSpec {
        let guest = o.linux ? linuxGuest(o, steps: [.waitForConsole(linuxUp, timeout: 90)])
                            : swiftGuest(o, steps: [.waitForConsole(swiftVerdict, timeout: 45)])
        return DomURunSpec(plan: "default", xenstored: o.xenstored, guests: [guest])
    }

    /// Three Linux guests, for the harness's own test: every kind of step result and three endings.
    @Sendable static func harnessCheck(_ o: DomUPlanOptions) -> DomURunSpec {
        let steps = linuxGuest(o, name: "steps", run: "sleep 3", steps: [
            .waitForConsole(linuxUp, timeout: 90),
            .dom0("test \"$(xenstore-read /local/domain/$DOMID/name)\" = \"$NAME\" && echo \"xenstore names domain $DOMID $NAME\""),
            .dom0("echo about to fail; exit 3"),
            .dom0("echo never runs"),
        ])
        let crash = linuxGuest(o, name: "crash", run: "echo c > /proc/sysrq-trigger",
                               steps: [.waitForConsole(.text("linux-domU: run"), timeout: 90)], expectedEnding: .crash)
        let stuck = linuxGuest(o, name: "stuck", run: "sleep 1000", steps: [.waitForConsole(linuxUp, timeout: 90)],
                               expectedEnding: .timeout, timeout: 60)
        return DomURunSpec(plan: "harness-check", xenstored: o.xenstored, guests: [steps, crash, stuck], bridge: true)
    }
}

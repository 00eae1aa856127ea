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
    /// The figures plan's floor: a PV kernel that prints one line and powers off.
    public var floorKernel: URL?

    public init(assets: Dom0Assets, xenstored: XenstoreDaemon, kernel: URL, linux: Bool, memoryMiB: Int? = nil, args: String = "", timeout: Double? = nil,
                floorKernel: URL? = nil) {
        self.assets = assets; self.xenstored = xenstored; self.kernel = kernel; self.linux = linux
        self.memoryMiB = memoryMiB; self.args = args; self.timeout = timeout; self.floorKernel = floorKernel
    }
}

public enum DomUPlans {
    public typealias Plan = @Sendable (DomUPlanOptions) -> DomURunSpec

    /// Every plan by name, with a line for --help.
    public static let all: [(name: String, about: String, make: Plan)] = [
        ("default", "the Swift kernel's domU tests: a 32 MiB guest with every self-test and the tests dom0 takes part in (a key dom0 reads back, a watch on dom0's write, a directory longer than one reply, a line typed on the console, xl shutdown), then a 2 GiB guest through xl reboot and xl shutdown, then a guest with an empty command line and a vif (with --linux: Linux boots and powers off)", defaultPlan),
        ("boot", "the guest boots with --args and --memory, its console shows `guest: N passed, M failed` (Linux: `linux-domU: up`), it powers off", bootPlan),
        ("figures", "for Benchmarks/domu-figures.sh: the floor kernel (--floor-kernel), the Swift kernel with no self-tests and Debian's Linux, five times each, interleaved", figures),
        ("linux-net", "the network path with Debian's Linux as the guest: a vif on each bridge, dom0 pings both, every UDP size 1-1472 echoed by udpecho, a burst of 3000 with 128 outstanding", linuxNet),
        ("net", "the Swift kernel's netfront: a vif on each bridge, dom0 pings both (also at 1472 bytes), every UDP size 1-1472 and a 3000-datagram burst echoed (its books balanced with the guest's and the vif's counters), one vif detached under traffic and another attached, then xl shutdown", swiftNet),
        ("net-figures", "for Benchmarks/net-figures.sh: the Swift kernel and Debian's Linux with the same vif, five of each interleaved, each measured by dom0's ping (300 at 10 ms) and udpecho rate (64 and 1472 bytes, 5 s each, 32 outstanding)", netFigures),
        ("blk", "the Swift kernel's blkfront against Linux's blkback: a 128 MiB image in dom0's tmpfs (through the block script's loop device), a loop device with 4096-byte sectors and a read-only image; the kernel's disktest on each (every request size, flush, discard, the whole disk written, read back and hashed), dom0's sha256sum of each image compared after the guest ends; one disk detached, another attached, then xl shutdown", swiftBlock),
        ("blk-figures", "for Benchmarks/blk-figures.sh: the Swift kernel's diskbench and Debian's Linux running Dom0Tools' diskbench on /dev/xvda, five of each interleaved, each with the same 128 MiB image in dom0's tmpfs as xvda (sequential write and read in 1 MiB requests, random 4 KiB reads at queue depth 1 and 32)", blkFigures),
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

    @Sendable static func bootPlan(_ o: DomUPlanOptions) -> DomURunSpec {
        let guest = o.linux ? linuxGuest(o, steps: [.waitForConsole(linuxUp, timeout: 90)])
                            : swiftGuest(o, steps: [.waitForConsole(swiftVerdict, timeout: 45)])
        return DomURunSpec(plan: "boot", xenstored: o.xenstored, guests: [guest])
    }

    /// A verdict with nothing failed.
    public static let swiftAllPassed = ConsolePattern.regex("guest: [0-9]+ passed, 0 failed")

    @Sendable static func defaultPlan(_ o: DomUPlanOptions) -> DomURunSpec {
        guard !o.linux else { var spec = bootPlan(o); spec.plan = "default"; return spec }
        return DomURunSpec(plan: "default", xenstored: o.xenstored, guests: [peerTests(o), rebootAndShutdown(o), plain(o)], bridge: true)
    }

    /// An empty command line and a vif on dom0's bridge: the guest lists the device it was given
    /// (netback's backend path), runs every self-test and powers off by itself.
    static func plain(_ o: DomUPlanOptions) -> GuestSpec {
        GuestSpec(name: "swift-domU-plain", kernel: o.kernel, memoryMiB: o.memoryMiB ?? 32, extra: o.args,
                  xlLines: [#"vif = [ "bridge=xenbr0" ]"#],
                  steps: [
                      .waitForConsole(.regex("guest: device vif/0 backend /local/domain/0/backend/vif/[0-9]+/0: netfront"), timeout: 45),
                      .waitForConsole(.text("guest: xenstore connected as domain")),
                      .waitForConsole(swiftAllPassed),
                  ], timeout: o.timeout ?? 90)
    }

    /// Every self-test, then the ones dom0 answers (the kernel's `interactive`), then xl shutdown.
    /// What differs between the daemons is checked as each reports it: ring reconnection (only
    /// oxenstored offers it) and DIRECTORY_PART (only the C daemon has it).
    static func peerTests(_ o: DomUPlanOptions) -> GuestSpec {
        let reconnection: ConsolePattern = o.xenstored == .oxenstored
            ? .text("guest: pass xenstore: ring reconnection")
            : .text("guest: skip xenstore: ring reconnection; requests and watches work after it: the daemon does not offer ring reconnection")
        let longDirectory: ConsolePattern = o.xenstored == .oxenstored
            ? .text("guest: long directory refused with E2BIG (the daemon has no DIRECTORY_PART)")
            : .text("guest: long directory listed in parts: 200 names")
        // 200 names of 28 bytes: over one reply's 4096, and more than a domU may create itself.
        let fill = #"args=(); for i in $(seq 1000 1199); do args+=("/local/domain/$DOMID/data/long-directory/entry-with-a-long-name-$i" 1); done; "#
            + #"xenstore-write "${args[@]}" && xenstore-write "/local/domain/$DOMID/data/long-directory-ready" 1"#
        let steps: [GuestStep] = [
            .waitForConsole(.regex(#"guest: wrote data/xen-guest "written by domU [0-9]+""#), timeout: 45),
            .dom0(#"v=$(xenstore-read "/local/domain/$DOMID/data/xen-guest") && echo "dom0 read: $v" && test "$v" = "written by domU $DOMID""#),
            .waitForConsole(.text("guest: pass xenstore: two transactions on one key conflict")),
            .waitForConsole(reconnection),
            .waitForConsole(.text("guest: waiting for dom0 to write data/from-dom0")),
            .dom0(#"xenstore-write "/local/domain/$DOMID/data/from-dom0" "hello from dom0""#),
            .waitForConsole(.text(#"guest: watch saw data/from-dom0 = "hello from dom0""#)),
            .waitForConsole(.text("guest: waiting for dom0 to fill data/long-directory")),
            .dom0(fill),
            .waitForConsole(longDirectory),
            .waitForConsole(.text("guest: console waiting for a line")),
            .dom0(#"tty=$(xenstore-read "/local/domain/$DOMID/console/tty") && echo "console is $tty" && echo "typed in dom0" > "$tty""#),
            .waitForConsole(.text(#"guest: console echo "typed in dom0""#)),
            .waitForConsole(.text("guest: waiting for dom0 to stop xenconsoled")),
            .dom0(#"pid=$(cat /run/xenconsoled.pid) && kill -STOP "$pid" && xenstore-write "/local/domain/$DOMID/data/console-stopped" 1 && "#
                  + #"for i in $(seq 150); do [ -n "$(xenstore-read "/local/domain/$DOMID/data/console-flooded" 2>/dev/null)" ] && break; sleep 0.1; done; "#
                  + #"flooded=$(xenstore-read "/local/domain/$DOMID/data/console-flooded" 2>/dev/null); kill -CONT "$pid"; "#
                  + #"xenstore-write "/local/domain/$DOMID/data/console-resumed" 1; echo "xenconsoled stopped until the flood: ${flooded:-never}"; [ -n "$flooded" ]"#),
            .waitForConsole(.regex("guest: console: [0-9]+ bytes lost so far")),
            .waitForConsole(.text("guest: pass console: a stalled xenconsoled")),
            .waitForConsole(.text("guest: waiting for control/shutdown")),
            .dom0(#"xl shutdown "$NAME""#),
            .waitForConsole(.text(#"guest: control/shutdown "poweroff" accepted"#)),
            .waitForConsole(swiftAllPassed),
        ]
        return GuestSpec(name: "swift-domU", kernel: o.kernel, memoryMiB: o.memoryMiB ?? 32,
                         extra: (["interactive"] + (o.args.isEmpty ? [] : [o.args])).joined(separator: " "),
                         steps: steps, timeout: o.timeout ?? 120)
    }

    /// 2 GiB (three of the kernel's own page-table levels' worth of mapping), every self-test,
    /// then xl reboot (xl restarts it as a new domain of the same name) and xl shutdown.
    static func rebootAndShutdown(_ o: DomUPlanOptions) -> GuestSpec {
        let steps: [GuestStep] = [
            .waitForConsole(.text("guest: waiting for control/shutdown"), timeout: 90),
            .dom0(#"xl reboot "$NAME""#),
            .waitForConsole(.text(#"guest: control/shutdown "reboot" accepted"#)),
            .waitForConsole(.text("guest: Embedded Swift PV kernel on Xen"), timeout: 60),
            .waitForConsole(.text("guest: waiting for control/shutdown"), timeout: 90),
            .dom0(#"xl shutdown "$NAME""#),
            .waitForConsole(swiftAllPassed),
        ]
        return GuestSpec(name: "swift-domU-2g", kernel: o.kernel, memoryMiB: 2048,
                         extra: (["wait"] + (o.args.isEmpty ? [] : [o.args])).joined(separator: " "),
                         steps: steps, timeout: o.timeout ?? 180, restartOnReboot: true)
    }

    /// The floor, the Swift kernel (devices listed, no self-tests) and Linux, interleaved so that
    /// drift in dom0 over the run touches all three alike. Without --floor-kernel the floor is
    /// left out (its spec would name a kernel that is not there).
    @Sendable static func figures(_ o: DomUPlanOptions) -> DomURunSpec {
        var guests: [GuestSpec] = []
        for round in 1...5 {
            if let floor = o.floorKernel {
                guests.append(GuestSpec(name: "floor-\(round)", kernel: floor, memoryMiB: 32,
                                        steps: [.waitForConsole(.text("floor: up"), timeout: 30)], timeout: 60))
            }
            guests.append(GuestSpec(name: "swift-\(round)", kernel: o.kernel, memoryMiB: o.memoryMiB ?? 32, extra: "tests=none",
                                    steps: [.waitForConsole(.text("guest: xenstore connected"), timeout: 30)], timeout: 60))
            guests.append(linuxGuest(o, name: "linux-\(round)", steps: [.waitForConsole(linuxUp, timeout: 90)]))
        }
        return DomURunSpec(plan: "figures", xenstored: o.xenstored, guests: guests)
    }

    /// The harness's network path, with Linux as the guest (the yardstick for netfront): vifs on
    /// xenbr0 and xenbr1 with addresses in the backend's `ip` key, its interfaces configured by
    /// its own init, and dom0's ping and udpecho against each address.
    @Sendable static func linuxNet(_ o: DomUPlanOptions) -> DomURunSpec {
        let setup = "ip link set lo up; ip addr add 10.0.0.2/24 dev eth0; ip link set eth0 up; ip addr add 10.0.1.2/24 dev eth1; ip link set eth1 up; "
            // Longer than the guest's timeout: the last step destroys it, and a busy host's slow
            // steps must not find it powered off by its own sleep (the harness's 240 s bounds it).
            + "udpecho serve 7 & echo linux-domU: net ready; sleep 600"
        var guest = linuxGuest(o, name: "linux-net", run: setup, steps: [
            .waitForConsole(.text("linux-domU: net ready"), timeout: 90),
            .dom0("ping -c 20 -i 0.2 -W 2 10.0.0.2 && ping -c 20 -i 0.2 -W 2 10.0.1.2", timeout: 60),
            .dom0("ping -c 10 -i 0.2 -s 1472 -W 2 10.0.0.2", timeout: 60),
            .dom0("udpecho sizes 10.0.0.2 7 1472 && udpecho sizes 10.0.1.2 7 1472", timeout: 120),
            .dom0("udpecho burst 10.0.0.2 7 3000 128", timeout: 60),
            .dom0("netdetach 1 10.0.1.2 10.0.0.2", timeout: 30),
            .dom0(#"xl destroy "$NAME""#),
        ], expectedEnding: .vanished, timeout: 240)
        guest.xlLines = [#"vif = [ "bridge=xenbr0,ip=10.0.0.2", "bridge=xenbr1,ip=10.0.1.2" ]"#]
        guest.ramdiskTools = true
        return DomURunSpec(plan: "linux-net", xenstored: o.xenstored, guests: [guest], bridge: true)
    }

    /// netfront against Linux's netback: two vifs, dom0's ping and udpecho on each.
    @Sendable static func swiftNet(_ o: DomUPlanOptions) -> DomURunSpec {
        let guest = GuestSpec(name: "swift-net", kernel: o.kernel, memoryMiB: o.memoryMiB ?? 32,
                              extra: (["wait", "tests=none", "echo=7"] + (o.args.isEmpty ? [] : [o.args])).joined(separator: " "),
                              xlLines: [#"vif = [ "bridge=xenbr0,ip=10.0.0.2", "bridge=xenbr1,ip=10.0.1.2" ]"#],
                              steps: [
                                  .waitForConsole(.text("guest: net: vif 0 connected"), timeout: 45),
                                  .waitForConsole(.text("guest: net: vif 1 connected"), timeout: 45),
                                  .dom0("ping -c 20 -i 0.2 -W 2 10.0.0.2 && ping -c 20 -i 0.2 -W 2 10.0.1.2", timeout: 60),
                                  .dom0("ping -c 10 -i 0.2 -s 1472 -W 2 10.0.0.2", timeout: 60),
                                  .dom0("udpecho sizes 10.0.0.2 7 1472 && udpecho sizes 10.0.1.2 7 1472", timeout: 120),
                                  // The books of a burst balanced with the guest's own counters and the vif's.
                                  .dom0("netburst 10.0.0.2 7 3000 128 0", timeout: 90),
                                  // Detached under traffic, the other vif answering; a new one picked up.
                                  .dom0("netdetach 1 10.0.1.2 10.0.0.2", timeout: 30),
                                  .waitForConsole(.text("guest: net: vif 1 closed"), timeout: 10),
                                  .dom0(#"xl network-attach "$NAME" bridge=xenbr1 ip=10.0.1.3"#, timeout: 30),
                                  .waitForConsole(.regex(#"guest: net: vif [0-9]+ connected, mac [0-9a-f:]+, address 10\.0\.1\.3"#), timeout: 30),
                                  .dom0("ping -c 10 -i 0.2 -W 2 10.0.1.3 && udpecho sizes 10.0.1.3 7 1472 && ping -c 5 -i 0.2 -W 2 10.0.0.2", timeout: 120),
                                  .dom0(#"xl shutdown "$NAME""#),
                                  .waitForConsole(swiftAllPassed),
                              ], timeout: o.timeout ?? 300)
        return DomURunSpec(plan: "net", xenstored: o.xenstored, guests: [guest], bridge: true)
    }

    /// Where the blk plan's images live in dom0: its tmpfs (a loop device over the 9p share is
    /// ~20 MB/s), and the loop device the 4096-byte-sector disk is set up on beforehand (a high
    /// number: the block script takes the first free one for the image files).
    static let blkDirectory = "/tmp/blk"
    static let blkSectorLoop = "/dev/loop7"

    /// blkfront against Linux's blkback: three disks at boot, the exercise on each, the images'
    /// checksums compared in dom0 after the guest has ended; one detached, one attached.
    @Sendable static func swiftBlock(_ o: DomUPlanOptions) -> DomURunSpec {
        let d = blkDirectory
        let setup = "mkdir -p \(d) && truncate -s 128M \(d)/xvda.img && truncate -s 32M \(d)/xvdb.img && truncate -s 16M \(d)/xvdd.img"
            + " && head -c 16M /dev/urandom > \(d)/xvdc.img"
            + " && losetup --sector-size 4096 \(blkSectorLoop) \(d)/xvdb.img && losetup -l"
        let disks = #"disk = [ "format=raw,vdev=xvda,access=rw,target=\#(d)/xvda.img", "phy:\#(blkSectorLoop),xvdb,w", "#
            + #""format=raw,vdev=xvdc,access=ro,target=\#(d)/xvdc.img" ]"#
        // xvda 51712, xvdb 51728, xvdc 51744, xvdd 51760 (xen-vbd-interface.txt: 202 << 8 | N << 4).
        let connected = { (id: Int) in GuestStep.waitForConsole(.text("guest: blkfront: vbd \(id) connected"), timeout: 60) }
        let hashed = { (id: Int) in GuestStep.waitForConsole(.regex("guest: blkfront: disk \(id) sha256 [0-9a-f]{64}"), timeout: 600) }
        let guest = GuestSpec(name: "swift-blk", kernel: o.kernel, memoryMiB: o.memoryMiB ?? 32,
                              extra: (["wait", "tests=none", "disktest"] + (o.args.isEmpty ? [] : [o.args])).joined(separator: " "),
                              xlLines: [disks],
                              steps: [
                                  connected(51712), connected(51728), connected(51744),
                                  hashed(51712), hashed(51728), hashed(51744),
                                  .dom0("blkdetach 51744", timeout: 60),
                                  .waitForConsole(.text("guest: blkfront: vbd 51744 closed"), timeout: 10),
                                  .dom0(#"xl block-attach "$NAME" format=raw,vdev=xvdd,access=rw,target=\#(d)/xvdd.img"#, timeout: 60),
                                  connected(51760),
                                  // A capacity change while connected: blkback notices the loop
                                  // device's new size and rewrites `sectors` (16 MiB -> 24 MiB).
                                  .dom0(#"truncate -s 24M \#(d)/xvdd.img && losetup -c "$(losetup -j \#(d)/xvdd.img | cut -d: -f1)" && losetup -j \#(d)/xvdd.img"#, timeout: 30),
                                  .waitForConsole(.text("guest: blkfront: vbd 51760 resized to 49152 sectors"), timeout: 30),
                                  .dom0(#"xl shutdown "$NAME""#),
                                  .waitForConsole(swiftAllPassed),
                              ], timeout: o.timeout ?? 1200,
                              setup: setup,
                              afterEnd: #"blkcheck "/var/log/xen/console/guest-$NAME.log" 51712=\#(d)/xvda.img 51728=\#(d)/xvdb.img 51744=\#(d)/xvdc.img"#)
        return DomURunSpec(plan: "blk", xenstored: o.xenstored, guests: [guest])
    }

    /// What Benchmarks/net-figures.sh measures on each guest, through the one vif on xenbr0: the
    /// same static C client (udpecho) and dom0's ping for both kernels.
    static let netFigureSteps: [GuestStep] = [
        .dom0("ping -c 3 -i 0.2 -W 2 10.0.0.2 > /dev/null", timeout: 30),  // ARP settled on both sides
        .dom0("ping -q -c 300 -i 0.01 -W 2 10.0.0.2", timeout: 60),
        .dom0("udpecho rate 10.0.0.2 7 64 5 32", timeout: 30),
        .dom0("udpecho rate 10.0.0.2 7 1472 5 32", timeout: 30),
    ]

    /// The Swift guest and Linux, interleaved so that drift in dom0 touches both alike.
    @Sendable static func netFigures(_ o: DomUPlanOptions) -> DomURunSpec {
        let vif = [#"vif = [ "bridge=xenbr0,ip=10.0.0.2" ]"#]
        var guests: [GuestSpec] = []
        for round in 1...5 {
            guests.append(GuestSpec(name: "swift-\(round)", kernel: o.kernel, memoryMiB: o.memoryMiB ?? 32,
                                    extra: (["wait", "tests=none", "echo=7"] + (o.args.isEmpty ? [] : [o.args])).joined(separator: " "),
                                    xlLines: vif,
                                    steps: [.waitForConsole(.text("guest: net: vif 0 connected"), timeout: 45)] + netFigureSteps
                                        + [.dom0(#"xl shutdown "$NAME""#), .waitForConsole(swiftAllPassed)],
                                    timeout: 150))
            var linux = linuxGuest(o, name: "linux-\(round)",
                                   run: "ip link set lo up; ip addr add 10.0.0.2/24 dev eth0; ip link set eth0 up; udpecho serve 7 & echo linux-domU: net ready; sleep 600",
                                   steps: [.waitForConsole(.text("linux-domU: net ready"), timeout: 90)] + netFigureSteps + [.dom0(#"xl destroy "$NAME""#)],
                                   expectedEnding: .vanished, timeout: 200)
            linux.xlLines = vif
            linux.ramdiskTools = true
            guests.append(linux)
        }
        return DomURunSpec(plan: "net-figures", xenstored: o.xenstored, guests: guests, bridge: true)
    }

    /// The one image every guest of the blk-figures plan has as xvda, filled once (no guest
    /// pays for tmpfs allocating its pages), its xl disk line, and the figures' four lines.
    static let blkFigureImage = "\(blkDirectory)/figures.img"
    static let blkFigureSetup = "mkdir -p \(blkDirectory) && { [ -f \(blkFigureImage) ] || dd if=/dev/zero of=\(blkFigureImage) bs=1M count=128 2>&1; }"
    static let blkFigureDisk = [#"disk = [ "format=raw,vdev=xvda,access=rw,target=\#(blkFigureImage)" ]"#]
    static func blkFigureSteps(prefix: String) -> [GuestStep] {
        ["seq-write ", "seq-read ", "rand-read-4k qd1:", "rand-read-4k qd32:"].map {
            .waitForConsole(.text("\(prefix)diskbench: \($0)"), timeout: 120)
        }
    }

    /// blkfront and Linux's blkfront against the same blkback and image, interleaved so that
    /// drift in dom0 touches both alike; each measures itself (the Swift kernel's diskbench,
    /// Dom0Tools' diskbench.c in Linux: the same requests, sizes, depths and random offsets).
    @Sendable static func blkFigures(_ o: DomUPlanOptions) -> DomURunSpec {
        var guests: [GuestSpec] = []
        for round in 1...5 {
            guests.append(GuestSpec(name: "swift-\(round)", kernel: o.kernel, memoryMiB: o.memoryMiB ?? 32,
                                    extra: (["tests=none", "diskbench"] + (o.args.isEmpty ? [] : [o.args])).joined(separator: " "),
                                    xlLines: blkFigureDisk,
                                    steps: [.waitForConsole(.text("guest: blkfront: vbd 51712 connected"), timeout: 60)]
                                        + blkFigureSteps(prefix: "guest: ") + [.waitForConsole(swiftAllPassed)],
                                    timeout: 300, setup: blkFigureSetup))
            var linux = linuxGuest(o, name: "linux-\(round)", run: "diskbench /dev/xvda 128 5",
                                   steps: [.waitForConsole(linuxUp, timeout: 90)] + blkFigureSteps(prefix: "")
                                       + [.waitForConsole(.text("linux-domU: poweroff"))],
                                   timeout: 300)
            linux.xlLines = blkFigureDisk
            linux.ramdiskTools = true
            linux.setup = blkFigureSetup
            guests.append(linux)
        }
        return DomURunSpec(plan: "blk-figures", xenstored: o.xenstored, guests: guests)
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

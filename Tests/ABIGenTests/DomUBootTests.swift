// domU runs under Debian's Linux dom0 on real Xen under QEMU, through the built `xen-guest`. In
// GuestKernelBootTests' suite, which is serialized: one QEMU at a time.
import Foundation
import Testing
import XenGuestHarness

extension GuestKernelBootTests {
    /// `xen-guest boot --as domU ARGS` (it prepares .build-domu first if needed: root, network).
    func bootDomU(_ args: [String]) throws -> CommandResult {
        try runTool(Self.xenGuest, ["boot", "--as", "domU"] + args)
    }

    @Test(arguments: XenstoreDaemon.allCases)
    func linuxDomUBootsAndPowersOffUnderLinuxDom0(_ daemon: XenstoreDaemon) throws {
        let r = try bootDomU(["--linux", "--xenstored", daemon.rawValue])
        let log = "\n\(r.stdout)\n\(r.stderr)"
        #expect(r.status == 0, "the Linux domU run with \(daemon.rawValue) failed:\(log)")
        #expect(r.stdout.contains("harness: xenstored \(daemon.rawValue) up"), "dom0 must run \(daemon.rawValue):\(log)")
        #expect(r.stdout.contains("domU[linux-domU]| linux-domU: up"), "the guest's console must reach the serial line live:\(log)")
        #expect(r.stdout.contains("harness: guest linux-domU step 1 ok saw: linux-domU: up"), "\(log)")
        #expect(r.stdout.contains("harness: guest linux-domU ended poweroff"), "xl's log must say reason code 0:\(log)")
        #expect(r.stdout.contains("xen-guest: guest linux-domU (domid 1, \(daemon.rawValue)): ended poweroff (expected poweroff), 1/1 steps ok"), "\(log)")
    }

    /// The Swift kernel's domU tests (the default plan) against each daemon: every self-test
    /// and the tests dom0 answers in a 32 MiB guest, xl reboot and xl shutdown of a 2 GiB one,
    /// and an empty command line with a vif, which it lists.
    @Test(arguments: XenstoreDaemon.allCases)
    func swiftKernelPassesItsDomUTestsUnderLinuxDom0(_ daemon: XenstoreDaemon) throws {
        let kernel = Paths.packageRoot.appendingPathComponent(".build-kernel/GuestKernel.stripped").path
        try #require(FileManager.default.fileExists(atPath: kernel), "build the kernel first: xen-guest build (scripts/test does)")
        let r = try bootDomU(["--kernel", kernel, "--xenstored", daemon.rawValue])
        let log = "\n\(r.stdout)\n\(r.stderr)"
        #expect(r.status == 0, "the Swift domU run with \(daemon.rawValue) failed:\(log)")
        for marker in [
            "domU[swift-domU]| guest: xenstore connected as domain 1",
            "step[swift-domU 2]| dom0 read: written by domU 1",
            "domU[swift-domU]| guest: watch saw data/from-dom0 = \"hello from dom0\"",
            "domU[swift-domU]| guest: console echo \"typed in dom0\"",
            "domU[swift-domU]| guest: pass console: a stalled xenconsoled holds the kernel one hold time",
            "domU[swift-domU]| guest: control/shutdown \"poweroff\" accepted",
            "harness: guest swift-domU ended poweroff",
            "domU[swift-domU-2g]| guest: control/shutdown \"reboot\" accepted",
            "harness: guest swift-domU-2g restarted as domid",
            "harness: guest swift-domU-2g ended poweroff",
            "domU[swift-domU-plain]| guest: device vif/0 backend /local/domain/0/backend/vif/",
            "harness: guest swift-domU-plain ended poweroff",
        ] {
            #expect(r.stdout.contains(marker), "expected `\(marker)`:\(log)")
        }
        let differs = daemon == .oxenstored
            ? ["guest: pass xenstore: ring reconnection", "guest: long directory refused with E2BIG"]
            : ["guest: skip xenstore: ring reconnection", "guest: long directory listed in parts: 200 names"]
        for marker in differs { #expect(r.stdout.contains("domU[swift-domU]| " + marker), "\(daemon.rawValue): expected `\(marker)`:\(log)") }
        #expect(!r.stdout.contains("| guest: FAIL") && !r.stdout.contains("| guest: ERROR"), "no self-test may fail:\(log)")
    }

    /// The network path netfront will be tested on, with Linux as the guest: two vifs on two
    /// bridges, dom0's ping on each, udpecho (Tests/Dom0Tools) every size and a burst.
    @Test func linuxDomUAnswersOnBothVifsUnderLinuxDom0() throws {
        let r = try bootDomU(["--plan", "linux-net", "--xenstored", "oxenstored"])
        let log = "\n\(r.stdout)\n\(r.stderr)"
        #expect(r.status == 0, "the linux-net run failed:\(log)")
        #expect(r.stdout.components(separatedBy: "20 packets transmitted, 20 received, 0% packet loss").count == 3, "dom0's ping on each vif:\(log)")
        #expect(r.stdout.components(separatedBy: "udpecho sizes 1-1472: 1472 echoed byte for byte, 0 failed").count == 3, "\(log)")
        #expect(r.stdout.contains("udpecho burst: 3000 sent, 3000 echoed, 0 lost"), "\(log)")
    }

    /// The Swift kernel's netfront against Linux's netback (the net plan): two vifs, dom0's
    /// ping on each (0% loss, also at 1472 bytes), every UDP size 1-1472 echoed byte for byte on
    /// each, a 3000-datagram burst with 128 outstanding echoed whole, then xl shutdown.
    /// The kernel of the size target (`--profile domu`: no self-tests) is the one the network
    /// path is tested with, so the build that is measured is the build that is run.
    @Test func swiftNetfrontAnswersOnBothVifsUnderLinuxDom0() throws {
        let kernel = Paths.packageRoot.appendingPathComponent(".build-kernel-domu/GuestKernel.stripped").path
        try #require(FileManager.default.fileExists(atPath: kernel), "build the kernel first: xen-guest build --profile domu (scripts/test does)")
        let r = try bootDomU(["--kernel", kernel, "--plan", "net", "--xenstored", "oxenstored"])
        let log = "\n\(r.stdout)\n\(r.stderr)"
        #expect(r.status == 0, "the net run failed:\(log)")
        for vif in 0...1 { #expect(r.stdout.contains("domU[swift-net]| guest: net: vif \(vif) connected"), "vif \(vif):\(log)") }
        #expect(r.stdout.components(separatedBy: "20 packets transmitted, 20 received, 0% packet loss").count == 3, "dom0's ping on each vif:\(log)")
        #expect(r.stdout.contains("10 packets transmitted, 10 received, 0% packet loss"), "1472-byte pings:\(log)")
        #expect(r.stdout.contains("udpecho burst: 3000 sent, 3000 echoed, 0 lost"), "\(log)")
        #expect(r.stdout.contains("netburst: balanced: 3000 sent = 3000 echoed + 0 dropped by the guest + 0 by the vif"), "the burst's books:\(log)")
        #expect(r.stdout.contains("domU[swift-net]| guest: net: vif 1 closed"), "vif 1 detached (closed, or closed N us after closing began):\(log)")
        #expect(r.stdout.range(of: #"netdetach: xl network-detach swift-net 1 took [0-9]+ ms, exit 0"#, options: .regularExpression) != nil, "\(log)")
        #expect(r.stdout.range(of: #"guest: net: vif [0-9]+ connected, mac [0-9a-f:]+, address 10\.0\.1\.3"#, options: .regularExpression) != nil, "the vif attached afterwards:\(log)")
        #expect(r.stdout.components(separatedBy: "udpecho sizes 1-1472: 1472 echoed byte for byte, 0 failed").count == 4, "\(log)")
        #expect(r.stdout.contains("harness: guest swift-net ended poweroff"), "\(log)")
    }

    /// The Swift kernel's blkfront against Linux's blkback (the blk plan): three disks (an image
    /// file through the block script's loop device, a loop device with 4096-byte sectors, a
    /// read-only image), each exercised by the kernel (every request size, flush, discard, the
    /// whole disk written, read back and hashed), the hashes equal to dom0's sha256sum of each
    /// image after the guest ended; one disk detached (its close under 2 s), another attached.
    /// The disk exercise is test code (SelfTests/DiskTest.swift), so this boots the full build.
    @Test func swiftBlkfrontWritesAndReadsEveryDiskUnderLinuxDom0() throws {
        let kernel = Paths.packageRoot.appendingPathComponent(".build-kernel/GuestKernel.stripped").path
        try #require(FileManager.default.fileExists(atPath: kernel), "build the kernel first: xen-guest build (scripts/test does)")
        let r = try bootDomU(["--kernel", kernel, "--plan", "blk", "--xenstored", "oxenstored"])
        let log = "\n\(r.stdout)\n\(r.stderr)"
        #expect(r.status == 0, "the blk run failed:\(log)")
        let prefix = "domU[swift-blk]| guest: blkfront: "
        #expect(r.stdout.contains(prefix + "vbd 51712 connected, sectors 262144, sector-size 512"), "xvda:\(log)")
        #expect(r.stdout.contains(prefix + "vbd 51728 connected, sectors 65536, sector-size 4096"), "xvdb, 4096-byte sectors:\(log)")
        #expect(r.stdout.contains(prefix + "vbd 51744 connected, sectors 32768, sector-size 512, physical 512, read-only"), "xvdc:\(log)")
        for id in [51712, 51728] {
            #expect(r.stdout.contains(prefix + "disk \(id) sizes "), "disk \(id) every size:\(log)")
            #expect(r.stdout.contains(prefix + "disk \(id) discard of 1 MiB ok"), "disk \(id) discard:\(log)")
        }
        #expect(r.stdout.contains(prefix + "disk 51744 read-only: write and discard refused, nothing on the ring"), "\(log)")
        for id in [51712, 51728, 51744] {
            #expect(r.stdout.contains("blkcheck: disk \(id): guest and dom0 agree on /tmp/blk/"), "disk \(id) checksum:\(log)")
        }
        #expect(r.stdout.contains("blkfront checksum ok"), "\(log)")
        #expect(r.stdout.contains(prefix + "vbd 51744 closed"), "xvdc detached:\(log)")
        #expect(r.stdout.range(of: #"blkdetach: xl block-detach swift-blk 51744 took [0-9]+ ms, exit 0"#, options: .regularExpression) != nil, "\(log)")
        #expect(r.stdout.contains(prefix + "vbd 51760 connected"), "xvdd attached afterwards:\(log)")
        #expect(r.stdout.contains(prefix + "vbd 51760 resized to 49152 sectors"), "the capacity change while connected:\(log)")
        #expect(r.stdout.contains("harness: guest swift-blk ended poweroff"), "\(log)")
    }

    /// The harness's own plan: a dom0 command that passes and prints, one that fails (the rest
    /// skipped, the guest still run to its end), a guest that crashes (kept, its registers read,
    /// destroyed), and one destroyed when its time is up.
    @Test func domUHarnessReportsStepsCrashesAndTimeouts() throws {
        let r = try bootDomU(["--plan", "harness-check", "--xenstored", "xenstored"])
        let log = "\n\(r.stdout)\n\(r.stderr)"
        #expect(r.status != 0, "a failing step must fail the run:\(log)")
        for marker in [
            "step[steps 2]| xenstore names domain 1 steps",
            "harness: guest steps step 2 ok exit 0",
            "step[steps 3]| about to fail",
            "harness: guest steps step 3 FAIL exit status 3",
            "harness: guest steps step 4 skipped",
            "harness: guest steps ended poweroff",
            "harness: guest crash ended crash",
            "harness: guest stuck ended timeout",
            "harness: run done",
        ] {
            #expect(r.stdout.contains(marker), "expected `\(marker)`:\(log)")
        }
        #expect(!r.stdout.contains("never runs"), "a step after a failure must not run:\(log)")
        #expect(r.stdout.contains("xen-guest:   guest steps: step 3 failed: exit status 3"), "\(log)")
        #expect(r.stdout.contains("xen-guest: guest crash (domid 2, xenstored): ended crash (expected crash)") && r.stdout.contains("steps ok") , "\(log)")
        // The run's directory (the last line of the failure logs) has what dom0 collected.
        let dir = try #require(r.stdout.split(separator: "\n").compactMap { line -> String? in
            guard let at = line.range(of: "----- run directory: ") else { return nil }
            return String(line[at.upperBound...].prefix { $0 != " " })
        }.last, "the failure report names the run directory:\(log)")
        for guest in ["crash", "stuck"] {
            let xenctx = (try? String(contentsOfFile: "\(dir)/logs/\(guest)-xenctx.txt", encoding: .utf8)) ?? ""
            #expect(xenctx.contains("rip:"), "dom0 reads a kept guest's registers before destroying it (\(guest)):\n\(xenctx)")
        }
        #expect(FileManager.default.fileExists(atPath: "\(dir)/serial.log") && FileManager.default.fileExists(atPath: "\(dir)/logs/dmesg.txt"))
    }

    @Test func xlConfigWritesAPVDomainForARealXenHost() throws {
        let r = try runTool(Self.xenGuest, ["xl-config", "--kernel", "/srv/GuestKernel", "--memory", "64", "--args", "tests=all", "--name", "sg"])
        #expect(r.status == 0, "\(r.stderr)")
        for line in ["name = \"sg\"", "type = \"pv\"", "kernel = \"/srv/GuestKernel\"", "memory = 64", "extra = \"tests=all\"", "on_reboot = \"restart\"", "on_crash = \"preserve\""] {
            #expect(r.stdout.contains(line + "\n"), "expected \(line):\n\(r.stdout)")
        }
    }
}

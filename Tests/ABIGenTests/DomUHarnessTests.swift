// The domU harness's pure parts: the newc writer, bzImage parsing, module dependencies, the xl
// config, dom0's generated script, and the serial-line parser. No QEMU here (DomUBootTests boots).
import Foundation
import Testing
@testable import XenGuestHarness

@Suite struct DomUHarnessTests {
    // MARK: newc

    /// A newc header as the format spells it: magic, then 13 fields of 8 hex digits.
    static func header(ino: UInt32, mode: UInt32, nlink: UInt32, size: UInt32, rdevmajor: UInt32 = 0, rdevminor: UInt32 = 0, namesize: UInt32) -> String {
        "070701" + [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdevmajor, rdevminor, namesize, 0]
            .map { String(format: "%08X", $0) }.joined()
    }

    @Test func newcArchiveIsByteExactForAKnownTinyArchive() {
        let archive = Initramfs.archive([
            .directory("d"),
            .file("d/f", Array("hi\n".utf8)),
            .symlink("l", to: "d/f"),
            .characterDevice("c", major: 5, minor: 1),
        ])
        // Written out by hand from the format: header (110 bytes) + name + NUL, padded to 4;
        // data padded to 4.
        var expected = Array(Self.header(ino: 1, mode: 0o040755, nlink: 2, size: 0, namesize: 2).utf8) + Array("d\0".utf8)
                                                                        // 110 + 2 = 112: no padding
        expected += Array(Self.header(ino: 2, mode: 0o100644, nlink: 1, size: 3, namesize: 4).utf8) + Array("d/f\0".utf8)
        expected += [0, 0]                                              // 110 + 4 = 114 -> 116
        expected += Array("hi\n".utf8) + [0]                            // 3 -> 4
        expected += Array(Self.header(ino: 3, mode: 0o120777, nlink: 1, size: 3, namesize: 2).utf8) + Array("l\0".utf8)
        expected += Array("d/f".utf8) + [0]                             // 112 aligned; target 3 -> 4
        expected += Array(Self.header(ino: 4, mode: 0o020600, nlink: 1, size: 0, rdevmajor: 5, rdevminor: 1, namesize: 2).utf8) + Array("c\0".utf8)
        expected += Array(Self.header(ino: 0, mode: 0, nlink: 1, size: 0, namesize: 11).utf8) + Array("TRAILER!!!\0".utf8)
        expected += [0, 0, 0]                                           // 110 + 11 = 121 -> 124
        #expect(archive == expected, "newc bytes differ at offset \(zip(archive, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(archive.count, expected.count))")
        #expect(archive.count % 4 == 0)
    }

    @Test func newcArchiveListsAsCpioSeesIt() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/cpio") else { return }   // optional cross-check
        let dir = try temporaryDirectory()
        let file = dir.appendingPathComponent("a.cpio")
        try Data(Initramfs.archive([.directory("bin"), .executable("bin/x", [1, 2, 3]), .symlink("bin/y", to: "x"),
                                    .characterDevice("console", major: 5, minor: 1)])).write(to: file)
        let out = try HostCommand.run(["sh", "-c", "cpio -tv --quiet < '\(file.path)'"])
        let lines = out.stdout.split(separator: "\n")
        #expect(lines.count == 4, "cpio -tv: \(out.stdout)")
        #expect(lines.first { $0.hasSuffix(" bin/x") }?.hasPrefix("-rwxr-xr-x") == true, "\(out.stdout)")
        #expect(lines.first { $0.contains("bin/y -> x") }?.hasPrefix("lrwxrwxrwx") == true, "\(out.stdout)")
        #expect(lines.first { $0.hasSuffix(" console") }?.hasPrefix("crw-------") == true, "\(out.stdout)")
    }

    // MARK: bzImage

    /// A bzImage's bytes with just what the parser reads: setup_sects, "HdrS", the protocol
    /// version, payload_offset/length, and a payload.
    static func bzImage(setupSectors: UInt8 = 3, version: UInt16 = 0x020F, payloadOffset: Int = 0x40, payload: [UInt8]) -> [UInt8] {
        let start = ((setupSectors == 0 ? 4 : Int(setupSectors)) + 1) * 512 + payloadOffset   // 0 means 4
        var image = [UInt8](repeating: 0, count: start + payload.count + 32)
        image[0x1F1] = setupSectors
        image.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        image[0x206] = UInt8(version & 0xFF); image[0x207] = UInt8(version >> 8)
        func put32(_ at: Int, _ v: Int) { for i in 0..<4 { image[at + i] = UInt8((v >> (8 * i)) & 0xFF) } }
        put32(0x248, payloadOffset)
        put32(0x24C, payload.count)
        image.replaceSubrange(start..<(start + payload.count), with: payload)
        return image
    }

    @Test func bzImageHeaderLocatesAnXzPayloadAndItsSizeTrailer() throws {
        let payload: [UInt8] = [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 9, 9, 9, 0x78, 0x56, 0x34, 0x12]
        let image = Self.bzImage(payload: payload)
        let header = try BzImage(image)
        #expect(header.setupSectors == 3 && header.protectedModeStart == 2048)
        #expect(header.payloadOffset == 0x40 && header.payloadLength == payload.count)
        #expect(header.compression == .xz)
        let (bytes, size) = header.compressedPayload(of: image)
        #expect(Array(bytes) == Array(payload.dropLast(4)), "the 4-byte size trailer is not part of the xz stream")
        #expect(size == 0x12345678)
    }

    @Test func bzImageGzipPayloadHasNoSizeTrailer() throws {
        let payload: [UInt8] = [0x1F, 0x8B, 8, 0, 1, 2, 3, 4]
        let image = Self.bzImage(payload: payload)
        let header = try BzImage(image)
        #expect(header.compression == .gzip)
        let (bytes, size) = header.compressedPayload(of: image)
        #expect(Array(bytes) == payload && size == nil)
    }

    @Test func bzImageZeroSetupSectorsMeansFour() throws {
        let header = try BzImage(Self.bzImage(setupSectors: 0, payload: [0x28, 0xB5, 0x2F, 0xFD, 0, 0, 0, 0, 0]))
        #expect(header.setupSectors == 4 && header.compression == .zstd)
    }

    @Test func everyKernelCompressionIsRecognisedByItsMagic() {
        let magics: [(KernelCompression, [UInt8])] = [
            (.xz, [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]), (.gzip, [0x1F, 0x8B]), (.zstd, [0x28, 0xB5, 0x2F, 0xFD]),
            (.lz4, [0x02, 0x21, 0x4C, 0x18]), (.bzip2, [0x42, 0x5A, 0x68]), (.lzo, [0x89, 0x4C, 0x5A, 0x4F]), (.lzma, [0x5D, 0x00, 0x00]),
        ]
        for (compression, magic) in magics {
            #expect(KernelCompression.detect((magic + [0, 0])[...]) == compression, "\(compression)")
        }
        #expect(KernelCompression.detect([0x7F, 0x45, 0x4C, 0x46][...]) == nil)
    }

    @Test func bzImageErrorsSayWhatIsWrong() {
        #expect(throws: HarnessError.self) { try BzImage([UInt8](repeating: 0, count: 4096)) }
        let old = Self.bzImage(version: 0x0207, payload: [0x1F, 0x8B, 0, 0, 0])
        #expect { try BzImage(old) } throws: { "\($0)".contains("older than 2.08") }
        let unknown = Self.bzImage(payload: [0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0])
        #expect { try BzImage(unknown) } throws: { "\($0)".contains("unknown compression") && "\($0)".contains("aa bb cc") }
        var truncated = Self.bzImage(payload: [0x1F, 0x8B, 0, 0, 0])
        truncated[0x24C] = 0xFF; truncated[0x24D] = 0xFF
        #expect { try BzImage(truncated) } throws: { "\($0)".contains("outside the file") }
    }

    // MARK: modules

    /// A relocatable ELF64 with a .modinfo section holding `entries` (and .shstrtab).
    static func module(_ entries: [String]) -> [UInt8] {
        let modinfo: [UInt8] = entries.flatMap { Array($0.utf8) + [UInt8(0)] }
        let names = Array("\0.modinfo\0.shstrtab\0".utf8)
        var elf = [UInt8](repeating: 0, count: 64)
        elf.replaceSubrange(0..<4, with: [0x7F, 0x45, 0x4C, 0x46]); elf[4] = 2; elf[5] = 1; elf[6] = 1
        let modinfoOffset = elf.count; elf += modinfo
        let namesOffset = elf.count; elf += names
        while elf.count % 8 != 0 { elf.append(0) }
        let sectionTable = elf.count
        func put(_ at: Int, _ v: Int, _ width: Int) { for i in 0..<width { elf[at + i] = UInt8((v >> (8 * i)) & 0xFF) } }
        put(0x28, sectionTable, 8); put(0x3A, 64, 2); put(0x3C, 3, 2); put(0x3E, 2, 2)
        elf += [UInt8](repeating: 0, count: 64 * 3)
        for (i, (name, offset, size)) in [(0, 0, 0), (1, modinfoOffset, modinfo.count), (10, namesOffset, names.count)].enumerated() {
            let h = sectionTable + 64 * i
            put(h, name, 4); put(h + 0x18, offset, 8); put(h + 0x20, size, 8)
        }
        return elf
    }

    @Test func modinfoIsReadFromTheModulesSection() throws {
        let info = try KernelModules.modinfo(Self.module(["license=GPL", "depends=9pnet,netfs,fscache", "name=9p"]))
        #expect(info.map(\.key) == ["license", "depends", "name"])
        #expect(info.first { $0.key == "depends" }?.value == "9pnet,netfs,fscache")
    }

    @Test func modulesLoadDependenciesFirst() throws {
        let deps = ["9p": ["9pnet", "netfs", "fscache"], "netfs": [], "fscache": ["netfs"], "9pnet": [],
                    "9pnet_virtio": ["9pnet", "virtio_ring", "virtio"], "virtio": [], "virtio_ring": []]
        let order = try KernelModules.loadOrder(["9pnet_virtio", "9p"], dependencies: deps)
        #expect(order == ["9pnet", "virtio_ring", "virtio", "9pnet_virtio", "netfs", "fscache", "9p"])
        #expect { try KernelModules.loadOrder(["a"], dependencies: ["a": ["b"]]) } throws: { "\($0)".contains("b (needed by a)") }
        #expect { try KernelModules.loadOrder(["a"], dependencies: ["a": ["b"], "b": ["a"]]) } throws: { "\($0)".contains("cycle") }
    }

    @Test func moduleNamesFollowTheKernelsSpelling() {
        #expect(KernelModules.name(ofFile: "kernel/drivers/xen/xen-evtchn.ko") == "xen_evtchn")
        #expect(KernelModules.name(ofFile: "kernel/fs/9p/9p.ko.xz") == "9p")
        #expect(KernelModules.name(ofFile: "modules.order") == nil)
    }

    @Test func modulesResolveFromAPackageTreeWithBuiltinsDropped() throws {
        let dir = try temporaryDirectory()
        let kernel = dir.appendingPathComponent("kernel/drivers/xen")
        try FileManager.default.createDirectory(at: kernel, withIntermediateDirectories: true)
        try Data(Self.module(["depends=xen-privcmd", "name=xenfs"])).write(to: kernel.appendingPathComponent("xenfs.ko"))
        try Data(Self.module(["depends=", "name=xen_privcmd"])).write(to: kernel.appendingPathComponent("xen-privcmd.ko"))
        try "kernel/drivers/xen/xenbus/xenbus.ko\n".write(to: dir.appendingPathComponent("modules.builtin"), atomically: true, encoding: .utf8)
        let modules = try KernelModules.resolve(["xenfs", "xenbus"], in: dir)
        #expect(modules.map(\.name) == ["xen_privcmd", "xenfs"], "xenbus is built in; xenfs's `xen-privcmd` is xen_privcmd")
    }

    // MARK: Debian

    @Test func theKernelImageComesFromTheMetapackagesDependency() throws {
        let package = try DebianPackages.kernelImage(fromMetapackage: ["Package": "linux-image-amd64",
                                                                      "Depends": "linux-image-6.1.0-57-amd64 (= 6.1.192-3)"])
        #expect(package == DebianPackage(name: "linux-image-6.1.0-57-amd64", version: "6.1.192-3"))
        #expect(throws: HarnessError.self) { try DebianPackages.kernelImage(fromMetapackage: ["Depends": "kmod"]) }
    }

    // MARK: xl config

    @Test func xlConfigIsAPVGuestThatIsKeptWhenItCrashes() {
        let text = XLConfig(name: "swift-guest", kernel: "/tmp/guests/swift-guest.kernel", memoryMiB: 32, vcpus: 2,
                            extra: "tests=all say=\"hi\" path=C:\\x", extraLines: ["vif = [ \"bridge=xenbr0\" ]"]).text
        let settings = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(settings == [
            "name = \"swift-guest\"", "type = \"pv\"", "kernel = \"/tmp/guests/swift-guest.kernel\"", "memory = 32", "vcpus = 2",
            "extra = \"tests=all say=\\\"hi\\\" path=C:\\\\x\"",
            "on_poweroff = \"destroy\"", "on_reboot = \"destroy\"", "on_crash = \"preserve\"", "vif = [ \"bridge=xenbr0\" ]",
        ])
    }

    @Test func aRunsGuestIsConfiguredWithItsFilesInDom0sStaging() {
        let guest = GuestSpec(name: "g", kernel: URL(fileURLWithPath: "/k"), ramdisk: URL(fileURLWithPath: "/r"), memoryMiB: 2048)
        let config = XLConfig(guest, directory: Dom0Script.stagingDirectory)
        #expect(config.kernel == "/tmp/guests/g.kernel" && config.ramdisk == "/tmp/guests/g.ramdisk" && config.memoryMiB == 2048)
        #expect(config.text.contains("ramdisk = \"/tmp/guests/g.ramdisk\"\n"))
    }

    // MARK: dom0's script

    static func spec(_ daemon: XenstoreDaemon = .oxenstored) -> DomURunSpec {
        let kernel = URL(fileURLWithPath: "/k")
        return DomURunSpec(plan: "unit", xenstored: daemon, guests: [
            GuestSpec(name: "one", kernel: kernel, steps: [
                .waitForConsole(.text("it's \"up\" $HOME `x`")),
                .waitForConsole(.regex("guest: [0-9]+ passed, 0 failed"), timeout: 5),
                .dom0("echo 'quoted' \"$DOMID\" && xl list $NAME", timeout: 7),
            ]),
            GuestSpec(name: "two", kernel: kernel, expectedEnding: .crash, timeout: 9),
        ], bridge: true)
    }

    @Test func dom0ScriptIsValidBashWithEachStepQuotedOnce() throws {
        let text = Dom0Script.text(Self.spec())
        let dir = try temporaryDirectory()
        let file = dir.appendingPathComponent("dom0.sh")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let check = try HostCommand.run(["bash", "-n", file.path], allowFailure: true)
        #expect(check.status == 0, "bash -n: \(check.stderr)")
        #expect(text.contains(#"step_console 1 F 'it'\''s "up" $HOME `x`' 30 "#), "a console text goes to bash as one word, unexpanded")
        #expect(text.contains("step_console 2 E 'guest: [0-9]+ passed, 0 failed' 5 "))
        #expect(text.contains(#"step_dom0 3 7 'echo '\''quoted'\'' "$DOMID" && xl list $NAME'"#))
        #expect(text.contains("guest_create 'one' 60") && text.contains("guest_create 'two' 9"))
        #expect(text.contains("ip link add xenbr$b type bridge") && text.contains("ip addr add 10.0.$b.1/24 dev xenbr$b"))
        #expect(text.contains("oxenstored --pid-file") && !text.contains("xenstored --pid-file /run/xenstored.pid -T"))
        let c = Dom0Script.text(Self.spec(.xenstored))
        #expect(c.contains("\nxenstored --pid-file /run/xenstored.pid -T") || c.contains(" xenstored --pid-file /run/xenstored.pid -T"))
    }

    /// A guest's set-up command runs before `xl create` (and a failing one stops it being
    /// created); its after-end check is one more step, after guest_finish, counted as expected.
    @Test func aGuestsSetUpRunsBeforeCreateAndItsCheckAfterItsEnd() throws {
        let guest = GuestSpec(name: "g", kernel: URL(fileURLWithPath: "/k"), steps: [.dom0("true")],
                              setup: "losetup /dev/loop7 '/tmp/a b'", afterEnd: "blkcheck x 1=/tmp/a")
        let text = Dom0Script.text(DomURunSpec(plan: "unit", xenstored: .oxenstored, guests: [guest]))
        let dir = try temporaryDirectory()
        let file = dir.appendingPathComponent("dom0.sh")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let check = try HostCommand.run(["bash", "-n", file.path], allowFailure: true)
        #expect(check.status == 0, "bash -n: \(check.stderr)")
        #expect(text.contains(#"if guest_setup 'g' 'losetup /dev/loop7 '\''/tmp/a b'\''' && guest_create 'g' 60 0; then"#), "\(text)")
        let finish = try #require(text.range(of: "fi\nguest_finish\n", options: .backwards))
        #expect(text[finish.upperBound...].contains("step_dom0 2 300 'blkcheck x 1=/tmp/a'"), "the check runs after guest_finish as step 2")
        #expect(guest.reportedSteps == 2)
        var serial = DomUSerial(DomURunSpec(plan: "unit", xenstored: .oxenstored, guests: [guest]))
        for line in ["harness: guest g create FAIL set-up command exit status 1", "harness: guest g ended not-created"] { _ = serial.read(Substring(line), at: 1) }
        #expect(serial.result.guests[0].createFailure == "set-up command exit status 1")
        #expect(serial.result.guests[0].expectedSteps == 2)
    }

    @Test func initramfsInitScriptsAreValidShell() throws {
        let dir = try temporaryDirectory()
        for (name, text) in [("dom0", InitramfsImages.dom0Init(modules: ["virtio_pci", "9p"])),
                             ("domU", InitramfsImages.linuxDomUInit(modules: ["xen_netfront"]))] {
            let file = dir.appendingPathComponent(name)
            try text.write(to: file, atomically: true, encoding: .utf8)
            let check = try HostCommand.run(["sh", "-n", file.path], allowFailure: true)
            #expect(check.status == 0, "\(name) /init: \(check.stderr)")
        }
        #expect(InitramfsImages.dom0Init(modules: ["a", "b"]).contains("for m in a b; do"))
        #expect(InitramfsImages.linuxDomUInit(modules: []).contains("echo \"linux-domU: up"))
    }

    @Test func shellQuotingSurvivesSingleQuotes() throws {
        let text = "a 'b' $c \\d"
        let out = try HostCommand.run(["bash", "-c", "printf %s \(shellQuoted(text))"])
        #expect(out.stdout == text)
    }

    @Test func dom0FstabMountsWhatTheRootLeavesReadOnly() {
        let points = Dom0Script.fstab.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
            .map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] }
        #expect(points == ["/run", "/var/lib/xen", "/var/lib/xenstored", "/var/log", "/tmp", "/var/tmp", "/dev/pts", "/proc/xen"])
        for point in points where !point.hasPrefix("/dev") && !point.hasPrefix("/proc") {
            #expect(RootFilesystem.mountPoints.contains(String(point.dropFirst())), "the root must have \(point) to mount on")
        }
    }

    // MARK: serial line

    @Test func serialLinesBecomeGuestConsolesStepsAndEndings() {
        var serial = DomUSerial(Self.spec())
        let lines: [(Double, String)] = [
            (1.0, "(XEN) [    0.9] Freed 656kB init memory"),
            (3.0, "harness: initramfs up 3.1"),
            (5.0, "harness: dom0 ready 6.25"),
            (5.1, "harness: guest one staging"),
            (5.5, "harness: guest one create"),
            (6.0, "harness: guest one domid 3"),
            (7.0, "domU[one]| it's \"up\" $HOME `x`"),
            (7.5, "domU[one]| guest: 20 passed, 0 failed"),
            (7.6, "harness: guest one step 1 ok saw: it's \"up\" $HOME `x`"),
            (7.7, "harness: guest one step 2 ok saw: guest: 20 passed, 0 failed"),
            (7.8, "step[one 3]| quoted 3"),
            (7.9, "[   12.5] some dom0 kernel line harness: guest one step 3 FAIL exit status 1"),
            (8.0, "harness: guest one ended poweroff"),
            (9.0, "harness: guest two create FAIL libxl: error: something"),
            (9.1, "harness: guest two ended not-created"),
            (9.5, "harness: run done 20.1"),
            (9.6, "harness: logs saved"),
        ]
        var kinds: [DomUSerialLine] = []
        for (t, line) in lines { kinds.append(serial.read(Substring(line), at: t)) }
        let r = serial.result
        #expect(kinds[0] == .xen && kinds[6] == .guestConsole(guest: "one", text: "it's \"up\" $HOME `x`"))
        #expect(kinds[10] == .stepOutput(guest: "one", step: 3, text: "quoted 3"))
        #expect(r.initramfsUpAt == 3.0 && r.dom0ReadyAt == 5.0 && r.dom0ReadyUptime == 6.25 && r.runDoneAt == 9.5 && r.logsSaved)
        let one = r.guests[0]
        #expect(one.domid == 3 && one.stagingAt == 5.1 && one.createdAt == 5.5 && one.firstConsoleAt == 7.0 && one.endedAt == 8.0)
        #expect(one.console == ["it's \"up\" $HOME `x`", "guest: 20 passed, 0 failed"])
        #expect(one.steps.map(\.outcome) == [.ok, .ok, .failed])
        #expect(one.steps[2].output == ["quoted 3"] && one.steps[2].detail == "exit status 1")
        #expect(one.ending == .poweroff && !one.success && one.failures == ["step 3 failed: exit status 1"])
        let two = r.guests[1]
        #expect(two.createFailure == "libxl: error: something" && two.ending == .notCreated)
        #expect(two.failures.contains("xl create failed: libxl: error: something"))
        #expect(two.failures.contains("ended not-created, expected crash"))
        #expect(!r.success)
    }

    @Test func aRunPassesOnlyWhenEveryGuestEndsAsExpected() {
        var serial = DomUSerial(DomURunSpec(plan: "p", xenstored: .xenstored, guests: [
            GuestSpec(name: "a", kernel: URL(fileURLWithPath: "/k"), steps: [.waitForConsole(.text("x"))], expectedEnding: .crash),
        ]))
        for line in ["harness: dom0 ready 1", "harness: guest a create", "harness: guest a domid 1",
                     "harness: guest a step 1 ok saw: x", "harness: guest a ended crash", "harness: run done 2"] {
            serial.read(Substring(line), at: 1)
        }
        #expect(serial.result.success, "\(serial.result.failures)")
        var unfinished = serial
        unfinished.result.runDoneAt = nil
        #expect(unfinished.result.failures == ["dom0's script never reached the end of the run"])
        var timedOut = DomUSerial(DomURunSpec(plan: "p", xenstored: .xenstored, guests: [GuestSpec(name: "a", kernel: URL(fileURLWithPath: "/k"))]))
        for line in ["harness: guest a create", "harness: guest a domid 1", "harness: guest a ended timeout", "harness: run done 2"] {
            timedOut.read(Substring(line), at: 1)
        }
        #expect(timedOut.result.guests[0].failures == ["ended timeout, expected poweroff"])
    }

    @Test func aXenPanicIsReportedWithItsReason() {
        var serial = DomUSerial(Self.spec())
        for line in ["(XEN) ****************************************", "(XEN) Panic on CPU 0:",
                     "(XEN) Could not set up DOM0 guest OS", "(XEN) ****************************************"] {
            serial.read(Substring(line), at: 1)
        }
        #expect(serial.result.xenPanic == "Panic on CPU 0: Could not set up DOM0 guest OS")
    }

    @Test func shutdownReasonCodesAreXens() {
        #expect((0...5).compactMap(GuestEnding.shutdownReason) == [.poweroff, .reboot, .suspend, .crash, .watchdog, .softReset])
        #expect(GuestEnding.shutdownReason(6) == nil)
    }

    @Test func everyPlanMakesAValidRunSpec() throws {
        let dir = try temporaryDirectory()
        let file = dir.appendingPathComponent("kernel")
        try Data([0x7F]).write(to: file)
        let assets = Dom0Assets(directory: dir, hypervisor: "/xen", hypervisorVersion: "4.17", vmlinux: file, kernelRelease: "6.1",
                                dom0Initramfs: file, linuxDomUInitramfs: file, root: dir)
        for plan in DomUPlans.all {
            for linux in [false, true] {
                let spec = plan.make(DomUPlanOptions(assets: assets, xenstored: .xenstored, kernel: file, linux: linux))
                #expect(throws: Never.self) { try spec.validate() }
                #expect(spec.xenstored == .xenstored)
            }
        }
        let swift = DomUPlans.named("boot")!(DomUPlanOptions(assets: assets, xenstored: .oxenstored, kernel: file, linux: false, memoryMiB: 2048, args: "tests=all"))
        #expect(swift.guests[0].memoryMiB == 2048 && swift.guests[0].extra == "tests=all" && swift.guests[0].steps == [.waitForConsole(DomUPlans.swiftVerdict, timeout: 45)])
        #expect(DomURun.machineMemoryMiB(swift) >= 512 + 2048, "a 2 GiB domU must fit beside dom0")
    }
}

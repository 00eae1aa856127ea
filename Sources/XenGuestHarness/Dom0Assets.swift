// The Linux dom0's assets, prepared once and cached under .build-domu/: Debian's kernel as an ELF,
// dom0's initramfs, the Linux PV domU's initramfs, and the root filesystem. Each part is made in a
// temporary directory and renamed into place, so a failed or interrupted preparation leaves the
// previous cache or none, never half of one.
import Foundation

public struct Dom0Assets: Sendable {
    /// Bump when the kernel/initramfs recipe changes (modules, /init scripts, extraction).
    public static let recipeVersion = 2
    static let hypervisorPackage = "xen-hypervisor-4.17-amd64"

    /// .build-domu under the package root.
    public var directory: URL
    /// The hypervisor (multiboot ELF), gunzipped from /boot.
    public var hypervisor: String
    public var hypervisorVersion: String
    /// Debian's kernel as an ELF vmlinux: dom0's kernel and the Linux domU's.
    public var vmlinux: URL
    public var kernelRelease: String
    public var dom0Initramfs: URL
    public var linuxDomUInitramfs: URL
    /// dom0's root filesystem, shared read-only over 9p.
    public var root: URL
    /// Where runs put their shared directories.
    public var runs: URL { directory.appendingPathComponent("runs") }

    /// The inputs of the kernel part; the root's are in RootFilesystem.fingerprint. Apart, so that a
    /// kernel update does not redo the root (a minute and more) and a Xen update not the kernel.
    static func fingerprint(kernel: DebianPackage, busybox: DebianPackage) -> String {
        """
        recipe=\(recipeVersion)
        kernel=\(kernel)
        busybox=\(busybox)
        dom0-modules=\((InitramfsImages.dom0NinePModules + InitramfsImages.dom0XenModules).joined(separator: ","))
        domU-modules=\(InitramfsImages.domUModules.joined(separator: ","))

        """
    }

    /// Makes whatever is missing or made from other inputs (all of it with `force`), reporting one
    /// line per stage with its time, and returns the assets.
    public static func prepare(packageRoot: URL, force: Bool = false, progress: (String) -> Void) throws -> Dom0Assets {
        let directory = packageRoot.appendingPathComponent(".build-domu")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try removeAbandonedStaging(in: directory)
        var clock = StageClock()

        guard let hypervisorVersion = DebianPackages.installedVersion(hypervisorPackage) else {
            throw HarnessError("\(hypervisorPackage) is not installed: run scripts/install-deps")
        }
        let stanzas = try DebianPackages.candidates(["linux-image-amd64", "busybox-static"])
        let kernel = try DebianPackages.kernelImage(fromMetapackage: stanzas["linux-image-amd64"]!)
        let busybox = DebianPackage(name: "busybox-static", version: stanzas["busybox-static"]!["Version"] ?? "")
        let kernelRelease = String(kernel.name.dropFirst("linux-image-".count))
        progress("inputs: \(hypervisorPackage) \(hypervisorVersion), \(kernel), \(busybox) (\(clock.lap()))")

        let root = directory.appendingPathComponent("root")
        let rootNeeded = force || !RootFilesystem.isCurrent(root, hypervisorVersion: hypervisorVersion)
        // Say now, not after the kernel's download, that the root cannot be made without root.
        if rootNeeded { _ = try Privilege.prefix() }

        let env = try BootEnvironment.locate(cacheDirectory: directory)
        let kernelDir = directory.appendingPathComponent("kernel")
        let print = fingerprint(kernel: kernel, busybox: busybox)
        let printFile = kernelDir.appendingPathComponent("fingerprint")
        if !force, (try? String(contentsOf: printFile, encoding: .utf8)) == print {
            progress("kernel and initramfs images: cached in \(kernelDir.path)")
        } else {
            try replace(kernelDir, asRoot: false) { staging in
                try makeKernelAssets(in: staging, kernel: kernel, busybox: busybox, downloads: directory.appendingPathComponent("downloads"),
                                     progress: progress)
                try print.write(to: staging.appendingPathComponent("fingerprint"), atomically: true, encoding: .utf8)
            }
        }

        if !rootNeeded {
            progress("root filesystem: cached in \(root.path)")
        } else {
            progress("root filesystem: making it (debootstrap and Xen's tools: a minute or more)")
            let rootClock = StageClock()
            let log = directory.appendingPathComponent("root.log")
            try replace(root, asRoot: true) { staging in
                try RootFilesystem.make(staging, hypervisorVersion: hypervisorVersion, log: log) { progress($0) }
            }
            progress("root filesystem: made in \(rootClock.total) (log: \(log.path))")
        }

        return Dom0Assets(directory: directory, hypervisor: env.hypervisor, hypervisorVersion: hypervisorVersion,
                          vmlinux: kernelDir.appendingPathComponent("vmlinux"), kernelRelease: kernelRelease,
                          dom0Initramfs: kernelDir.appendingPathComponent("dom0-initramfs.cpio"),
                          linuxDomUInitramfs: kernelDir.appendingPathComponent("linux-domU-initramfs.cpio"), root: root)
    }

    /// The kernel part: vmlinux, dom0's and the Linux domU's initramfs, the kernel's config.
    static func makeKernelAssets(in staging: URL, kernel: DebianPackage, busybox: DebianPackage, downloads: URL,
                                 progress: (String) -> Void) throws {
        var clock = StageClock()
        let release = String(kernel.name.dropFirst("linux-image-".count))
        let kernelDeb = try DebianPackages.download(kernel, into: downloads)
        let busyboxDeb = try DebianPackages.download(busybox, into: downloads)
        let size = (try? FileManager.default.attributesOfItem(atPath: kernelDeb.path)[.size] as? Int) ?? 0
        progress("download: \(kernelDeb.lastPathComponent) (\(size / 1_000_000) MB), \(busyboxDeb.lastPathComponent) (\(clock.lap()))")

        let unpacked = staging.appendingPathComponent("unpacked")
        defer { try? FileManager.default.removeItem(at: unpacked) }
        try DebianPackages.unpack(kernelDeb, into: unpacked.appendingPathComponent("kernel"))
        try DebianPackages.unpack(busyboxDeb, into: unpacked.appendingPathComponent("busybox"))
        progress("unpack: dpkg-deb -x both packages (\(clock.lap()))")

        let boot = unpacked.appendingPathComponent("kernel/boot")
        let vmlinux = staging.appendingPathComponent("vmlinux")
        let compression = try LinuxKernelImage.extractELF(bzImage: boot.appendingPathComponent("vmlinuz-\(release)"), to: vmlinux, scratch: staging)
        try FileManager.default.copyItem(at: boot.appendingPathComponent("config-\(release)"), to: staging.appendingPathComponent("config"))
        let elfSize = (try? FileManager.default.attributesOfItem(atPath: vmlinux.path)[.size] as? Int) ?? 0
        progress("vmlinux: ELF from vmlinuz-\(release) (\(compression.rawValue) payload), \(elfSize / 1_000_000) MB (\(clock.lap()))")

        let modulesDir = unpacked.appendingPathComponent("kernel/lib/modules/\(release)")
        let dom0Modules = try KernelModules.resolve(InitramfsImages.dom0NinePModules + InitramfsImages.dom0XenModules, in: modulesDir)
        let domUModules = try KernelModules.resolve(InitramfsImages.domUModules, in: modulesDir)
        progress("modules: dom0 \(dom0Modules.map(\.name).joined(separator: " ")); domU \(domUModules.map(\.name).joined(separator: " ")) (\(clock.lap()))")

        let busyboxPath = unpacked.appendingPathComponent("busybox/bin/busybox")
        let busyboxBytes = [UInt8](try Data(contentsOf: busyboxPath))
        let applets = try HostCommand.run([busyboxPath.path, "--list"]).stdout.split(separator: "\n").map(String.init)
        let dom0Image = InitramfsImages.dom0(busybox: busyboxBytes, applets: applets, modules: dom0Modules)
        let domUImage = InitramfsImages.linuxDomU(busybox: busyboxBytes, applets: applets, modules: domUModules)
        try Data(dom0Image).write(to: staging.appendingPathComponent("dom0-initramfs.cpio"))
        try Data(domUImage).write(to: staging.appendingPathComponent("linux-domU-initramfs.cpio"))
        progress("initramfs: dom0 \(dom0Image.count / 1024) KB, Linux domU \(domUImage.count / 1024) KB, busybox with \(applets.count) applets (\(clock.lap()))")

        // Older downloads are not needed again.
        for file in (try? FileManager.default.contentsOfDirectory(atPath: downloads.path)) ?? []
        where file != kernelDeb.lastPathComponent && file != busyboxDeb.lastPathComponent {
            try? FileManager.default.removeItem(at: downloads.appendingPathComponent(file))
        }
    }

    /// Makes `target` anew through `make(staging)` on a sibling directory, then renames it into
    /// place (same parent: no directory's `..` changes, so no root is needed for the rename).
    static func replace(_ target: URL, asRoot: Bool, _ make: (URL) throws -> Void) throws {
        let pid = getpid()
        let staging = target.deletingLastPathComponent().appendingPathComponent("\(target.lastPathComponent).tmp-\(pid)")
        let old = target.deletingLastPathComponent().appendingPathComponent("\(target.lastPathComponent).old-\(pid)")
        try removeTree(staging, asRoot: asRoot)
        do {
            if !asRoot { try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false) }
            try make(staging)
        } catch {
            try? removeTree(staging, asRoot: asRoot)
            throw error
        }
        if FileManager.default.fileExists(atPath: target.path) {
            guard rename(target.path, old.path) == 0 else { throw HarnessError("cannot move \(target.path) aside: errno \(errno)") }
        }
        guard rename(staging.path, target.path) == 0 else { throw HarnessError("cannot rename \(staging.path) into place: errno \(errno)") }
        try removeTree(old, asRoot: asRoot)
    }

    /// Staging and old directories left by a preparation that was killed (its process is gone).
    static func removeAbandonedStaging(in directory: URL) throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
            guard let dash = name.lastIndex(of: "-"), name.contains(".tmp-") || name.contains(".old-"),
                  let pid = Int32(name[name.index(after: dash)...]) else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }
            try removeTree(directory.appendingPathComponent(name), asRoot: name.hasPrefix("root."))
        }
    }

    /// Removes a tree, first unmounting anything mounted inside it (a debootstrap that died leaves
    /// its chroot's /proc and /sys mounted), and never crossing into another filesystem.
    static func removeTree(_ tree: URL, asRoot: Bool) throws {
        guard FileManager.default.fileExists(atPath: tree.path) else { return }
        let mounts = ((try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
            .filter { $0.hasPrefix(tree.path + "/") }
        for mount in mounts.sorted(by: >) { try HostCommand.run(["umount", "-l", mount], asRoot: true, allowFailure: true) }
        try HostCommand.run(["rm", "-rf", "--one-file-system", tree.path], asRoot: asRoot)
    }
}

// dom0's root filesystem: a minimal Debian 12 from debootstrap with Xen's tools at exactly the
// hypervisor's version, shared read-only into dom0 over 9p.
import Foundation

public enum RootFilesystem {
    /// Bump when the recipe below changes: a root made by another recipe is made again.
    public static let recipeVersion = 2

    /// Debian packages besides minbase: modprobe for Xen's hotplug scripts (kmod), ps and pkill
    /// (procps), `ip` and `bridge` for the vif scripts (iproute2; bridge-utils' brctl is what
    /// Xen 4.17's vif-bridge tries first), `ping` for the network tests (iputils-ping).
    static let extraPackages = ["kmod", "procps", "iproute2", "bridge-utils", "iputils-ping"]

    /// Xen's tool packages, installed at the hypervisor's version. xen-utils-4.17 holds xl,
    /// xenconsoled, xen-init-dom0 and both xenstore daemons (the C `xenstored` and `oxenstored`,
    /// in /usr/lib/xen-4.17/bin); xenstore-utils the xenstore-read/-write/-ls clients.
    static let xenPackages = ["xen-utils-4.17", "xen-utils-common", "xenstore-utils"]

    /// Directories dom0's script mounts a tmpfs or a share on: they must exist in the read-only root.
    static let mountPoints = ["harness", "var/lib/xen", "var/lib/xenstored", "var/log", "run", "tmp", "var/tmp"]

    /// What the root is made from, as the text stored beside it; a different text means remake it.
    public static func fingerprint(hypervisorVersion: String) -> String {
        """
        recipe=\(recipeVersion)
        suite=bookworm variant=minbase
        include=\(extraPackages.joined(separator: ","))
        xen-tools=\(xenPackages.joined(separator: ",")) at \(hypervisorVersion)

        """
    }

    static let fingerprintFile = "etc/xen-guest-root"

    /// Whether `root` was made by this recipe for `hypervisorVersion`.
    public static func isCurrent(_ root: URL, hypervisorVersion: String) -> Bool {
        (try? String(contentsOf: root.appendingPathComponent(fingerprintFile), encoding: .utf8)) == fingerprint(hypervisorVersion: hypervisorVersion)
    }

    /// Makes the root in `directory` (which must not exist). Each stage is reported to `progress`.
    public static func make(_ directory: URL, hypervisorVersion: String, log: URL, progress: (String) -> Void) throws {
        try HostCommand.require("debootstrap", package: "debootstrap")
        try HostCommand.require("chroot", package: "coreutils")
        let mirror = ProcessInfo.processInfo.environment["XEN_GUEST_DEBIAN_MIRROR"] ?? "http://deb.debian.org/debian"

        var clock = StageClock()
        try HostCommand.run(["debootstrap", "--variant=minbase", "--include=\(extraPackages.joined(separator: ","))",
                             "bookworm", directory.path, mirror], asRoot: true, log: log)
        progress("root: debootstrap --variant=minbase bookworm (\(extraPackages.joined(separator: ", "))): \(clock.lap())")

        // The host's Debian sources (with bookworm-security, where the hypervisor may come from),
        // then every package built from Xen's source pinned to the hypervisor's version: debootstrap
        // alone would install bookworm's older tools, which must not drive a newer hypervisor.
        let sources = try hostDebianSources()
        let staging = log.deletingLastPathComponent().appendingPathComponent("root-apt-\(getpid())")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        try sources.write(to: staging.appendingPathComponent("debian.sources"), atomically: true, encoding: .utf8)
        try """
            # Written by xen-guest (RootFilesystem.swift): Xen's tools at the hypervisor's version.
            Package: src:xen
            Pin: version \(hypervisorVersion)
            Pin-Priority: 1001

            """.write(to: staging.appendingPathComponent("xen-guest-xen.pref"), atomically: true, encoding: .utf8)
        // Packages' maintainer scripts must not start Xen's services inside the chroot.
        try "#!/bin/sh\nexit 101\n".write(to: staging.appendingPathComponent("policy-rc.d"), atomically: true, encoding: .utf8)
        let root = directory.path
        let (r, s) = (shellQuoted(root), shellQuoted(staging.path))
        try HostCommand.run(["sh", "-c", """
            set -e
            rm -f \(r)/etc/apt/sources.list
            install -m 644 \(s)/debian.sources \(r)/etc/apt/sources.list.d/debian.sources
            install -m 644 \(s)/xen-guest-xen.pref \(r)/etc/apt/preferences.d/xen-guest-xen.pref
            install -m 755 \(s)/policy-rc.d \(r)/usr/sbin/policy-rc.d
            """], asRoot: true)
        let apt = ["chroot", root, "apt-get", "-q", "-y", "-o", "Dpkg::Use-Pty=0"]
        let env = ["DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        try HostCommand.run(apt + ["update"], environment: env, asRoot: true, log: log)
        try HostCommand.run(apt + ["install", "--no-install-recommends"] + xenPackages.map { "\($0)=\(hypervisorVersion)" },
                            environment: env, asRoot: true, log: log)
        progress("root: Xen tools \(hypervisorVersion): \(clock.lap())")

        // Every installed package built from Xen's source must be at the hypervisor's version.
        let installed = try HostCommand.run(["chroot", root, "dpkg-query", "-W", "-f=${source:Package} ${Package} ${Version}\n"],
                                            environment: env, asRoot: true).stdout
        let rows: [[Substring]] = installed.split(separator: "\n").map { $0.split(separator: " ") }
        let xen = rows.filter { row in row.count == 3 && row[0] == "xen" }
        let off: [String] = xen.filter { row in row[2] != hypervisorVersion }.map { row in "\(row[1]) \(row[2])" }
        guard !xen.isEmpty, off.isEmpty else {
            throw HarnessError("the root's Xen packages are not all at the hypervisor's version \(hypervisorVersion): \(off.joined(separator: ", "))")
        }

        // Mount points for dom0's script, no package caches, and the recipe's fingerprint.
        try fingerprint(hypervisorVersion: hypervisorVersion).write(to: staging.appendingPathComponent("fingerprint"), atomically: true, encoding: .utf8)
        try HostCommand.run(["sh", "-c", """
            set -e
            cd \(r)
            rm -f usr/sbin/policy-rc.d
            chroot . apt-get clean
            rm -rf var/lib/apt/lists/* var/cache/apt/*.bin var/cache/debconf/*-old var/log/*.log var/log/apt/*
            mkdir -p \(mountPoints.joined(separator: " "))
            install -m 644 \(s)/fingerprint \(fingerprintFile)
            """], asRoot: true, log: log.deletingPathExtension().appendingPathExtension("cleanup.log"))
        progress("root: cleaned, \(mountPoints.count) mount points: \(clock.lap())")
    }

    /// The host's apt sources for Debian's own archives, as one deb822 file. Third-party sources
    /// are left out: the chroot has no keys for them.
    static func hostDebianSources() throws -> String {
        var texts: [String] = []
        let dir = "/etc/apt/sources.list.d"
        let files = ["/etc/apt/sources.list"] + ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".list") || $0.hasSuffix(".sources") }.sorted().map { "\(dir)/\($0)" }
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            if file.hasSuffix(".sources") {
                for stanza in text.components(separatedBy: "\n\n") where stanza.contains("debian.org/debian") {
                    texts.append(stanza.trimmingCharacters(in: .whitespacesAndNewlines))
                }
            } else {
                for var line in text.split(separator: "\n").map(String.init) {
                    // deb [options] URI SUITE COMPONENTS... -> deb822, without the options.
                    if let open = line.firstIndex(of: "["), let close = line[open...].firstIndex(of: "]") {
                        line.removeSubrange(open...close)
                    }
                    let words = line.split(separator: " ")
                    guard words.first == "deb", line.contains("debian.org/debian") else { continue }
                    let rest = words.dropFirst()
                    guard rest.count >= 3 else { continue }
                    texts.append("Types: deb\nURIs: \(rest[rest.startIndex])\nSuites: \(rest[rest.startIndex + 1])\nComponents: \(rest.dropFirst(2).joined(separator: " "))")
                }
            }
        }
        if texts.isEmpty {
            // No Debian archive configured on the host (a local mirror?): Debian 12's defaults.
            texts = ["Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main",
                     "Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main"]
        }
        return "# The host's Debian sources, copied by xen-guest (RootFilesystem.swift).\n" + texts.joined(separator: "\n\n") + "\n"
    }
}

/// Times the stages of a preparation for its progress lines.
struct StageClock {
    var start = Date()
    var last = Date()

    /// Seconds since the previous lap, as "1.2 s".
    mutating func lap() -> String {
        let now = Date()
        defer { last = now }
        return String(format: "%.1f s", now.timeIntervalSince(last))
    }

    var total: String { String(format: "%.1f s", Date().timeIntervalSince(start)) }
}

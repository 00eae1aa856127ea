// The xl domain configuration of a PV guest (xl.cfg(5)): what the harness's dom0 gives `xl create`,
// and what `xen-guest xl-config` writes for a real Xen host.

public struct XLConfig: Sendable, Equatable {
    public var name: String
    /// Paths as dom0 sees them.
    public var kernel: String
    public var ramdisk: String?
    public var memoryMiB: Int
    public var vcpus: Int
    public var extra: String
    public var extraLines: [String]
    public var restartOnReboot: Bool

    public init(name: String, kernel: String, ramdisk: String? = nil, memoryMiB: Int, vcpus: Int = 1, extra: String = "", extraLines: [String] = [],
                restartOnReboot: Bool = false) {
        self.name = name; self.kernel = kernel; self.ramdisk = ramdisk; self.memoryMiB = memoryMiB; self.vcpus = vcpus
        self.extra = extra; self.extraLines = extraLines; self.restartOnReboot = restartOnReboot
    }

    /// The guest of a run, with its kernel and ramdisk at `directory` inside dom0.
    public init(_ guest: GuestSpec, directory: String) {
        self.init(name: guest.name, kernel: "\(directory)/\(guest.name).kernel",
                  ramdisk: guest.ramdisk == nil ? nil : "\(directory)/\(guest.name).ramdisk",
                  memoryMiB: guest.memoryMiB, vcpus: guest.vcpus, extra: guest.extra, extraLines: guest.xlLines,
                  restartOnReboot: guest.restartOnReboot)
    }

    public var text: String {
        var lines = [
            "# xl domain configuration (xl.cfg(5)) for the PV guest \(name), written by xen-guest.",
            "name = \(Self.quoted(name))",
            "type = \"pv\"",
            "kernel = \(Self.quoted(kernel))",
        ]
        if let ramdisk { lines.append("ramdisk = \(Self.quoted(ramdisk))") }
        lines += [
            "memory = \(memoryMiB)",
            "vcpus = \(vcpus)",
        ]
        if !extra.isEmpty { lines.append("extra = \(Self.quoted(extra))") }
        lines += [
            "# A guest that powers off is finished: nothing to keep.",
            "on_poweroff = \"destroy\"",
        ] + (restartOnReboot ? [
            "# The kernel reboots only when the toolstack asks (xl reboot): it comes back as a new domain.",
            "on_reboot = \"restart\"",
        ] : [
            "# A test kernel that asks for a reboot has failed or is looping: stop it rather than",
            "# restart it, so the first failure is the one on the console.",
            "on_reboot = \"destroy\"",
        ]) + [
            "# Keep a crashed domain (state 'c' in xl list) so that its registers and memory can be",
            "# read (xenctx, xl dump-core) before `xl destroy`; restarting would lose them.",
            "on_crash = \"preserve\"",
        ]
        lines += extraLines
        return lines.joined(separator: "\n") + "\n"
    }

    /// An xl config string: double quotes, with `\` and `"` escaped as libxlu's lexer reads them.
    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

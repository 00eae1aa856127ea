// Finds the kernel modules dom0 needs in a kernel package's lib/modules/VERSION and the order to load
// them in. Debian's package ships no modules.dep (depmod makes it at install time, and the host may
// have no depmod): each module's own `.modinfo` section says what it depends on.
import Foundation

public enum KernelModules {
    /// `.modinfo`'s `key=value` strings (NUL-separated) of a relocatable ELF64 module.
    public static func modinfo(_ elf: [UInt8]) throws -> [(key: String, value: String)] {
        func u16(_ at: Int) -> Int { Int(elf[at]) | Int(elf[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func u64(_ at: Int) -> Int { u32(at) | u32(at + 4) << 32 }
        guard elf.count >= 64, elf[0..<4] == [0x7F, 0x45, 0x4C, 0x46], elf[4] == 2, elf[5] == 1 else {
            throw HarnessError("not a little-endian ELF64 module")
        }
        let sectionTable = u64(0x28), entrySize = u16(0x3A), count = u16(0x3C), namesIndex = u16(0x3E)
        guard entrySize >= 64, sectionTable + count * entrySize <= elf.count, namesIndex < count else {
            throw HarnessError("the module's section table lies outside the file")
        }
        func section(_ i: Int) -> (name: Int, offset: Int, size: Int) {
            let h = sectionTable + i * entrySize
            return (u32(h), u64(h + 0x18), u64(h + 0x20))
        }
        let names = section(namesIndex)
        func name(_ at: Int) -> String {
            var end = names.offset + at
            while end < elf.count && elf[end] != 0 { end += 1 }
            return String(decoding: elf[(names.offset + at)..<end], as: UTF8.self)
        }
        guard let info = (0..<count).map(section).first(where: { name($0.name) == ".modinfo" }) else { return [] }
        guard info.offset + info.size <= elf.count else { throw HarnessError(".modinfo lies outside the file") }
        return elf[info.offset..<(info.offset + info.size)].split(separator: 0).compactMap { entry in
            let text = String(decoding: entry, as: UTF8.self)
            guard let eq = text.firstIndex(of: "=") else { return nil }
            return (String(text[..<eq]), String(text[text.index(after: eq)...]))
        }
    }

    /// A module's name as the kernel spells it: the file name without .ko[.xz|.zst|.gz], `-` as `_`.
    public static func name(ofFile file: String) -> String? {
        let base = file.split(separator: "/").last.map(String.init) ?? file
        for suffix in [".ko", ".ko.xz", ".ko.zst", ".ko.gz"] where base.hasSuffix(suffix) {
            return String(base.dropLast(suffix.count)).replacingOccurrences(of: "-", with: "_")
        }
        return nil
    }

    /// Dependencies first, then each module in the order asked for; a module appears once.
    /// `dependencies`: module name -> the names its `depends=` lists.
    public static func loadOrder(_ wanted: [String], dependencies: [String: [String]]) throws -> [String] {
        var order: [String] = []
        var visiting: Set<String> = []
        func visit(_ module: String, neededBy: String?) throws {
            if order.contains(module) { return }
            guard let deps = dependencies[module] else {
                throw HarnessError("kernel module \(module)\(neededBy.map { " (needed by \($0))" } ?? "") is neither built in nor in the package")
            }
            guard visiting.insert(module).inserted else { throw HarnessError("kernel modules depend on each other in a cycle through \(module)") }
            for dep in deps { try visit(dep, neededBy: module) }
            visiting.remove(module)
            order.append(module)
        }
        for module in wanted { try visit(module, neededBy: nil) }
        return order
    }

    /// A module as it goes into an initramfs: its name, and its bytes decompressed (busybox's
    /// insmod reads only plain .ko files).
    public struct Module: Sendable {
        public var name: String
        public var bytes: [UInt8]
    }

    /// The modules `wanted` needs from `modulesDirectory` (lib/modules/VERSION), in load order.
    /// Names the kernel has built in (modules.builtin) are dropped, as are dependencies on them.
    public static func resolve(_ wanted: [String], in modulesDirectory: URL) throws -> [Module] {
        // `depends=` may spell a name with `-` (xenfs: "xen-privcmd"); the kernel treats both alike.
        let wanted = wanted.map { $0.replacingOccurrences(of: "-", with: "_") }
        let builtinList = (try? String(contentsOf: modulesDirectory.appendingPathComponent("modules.builtin"), encoding: .utf8)) ?? ""
        let builtin = Set(builtinList.split(separator: "\n").compactMap { name(ofFile: String($0)) })
        var files: [String: URL] = [:]
        let kernelDir = modulesDirectory.appendingPathComponent("kernel")
        guard let walker = FileManager.default.enumerator(at: kernelDir, includingPropertiesForKeys: nil) else {
            throw HarnessError("no modules under \(kernelDir.path)")
        }
        for case let url as URL in walker { if let n = name(ofFile: url.path) { files[n] = url } }

        // Read only the modules on the way: the whole tree is thousands of files.
        var dependencies: [String: [String]] = [:]
        var bytes: [String: [UInt8]] = [:]
        var queue = wanted.filter { !builtin.contains($0) }
        while let module = queue.popLast() {
            if dependencies[module] != nil { continue }
            guard let file = files[module] else { continue }   // loadOrder names what is missing
            let data = try decompressedModule(file)
            let deps = try modinfo(data).first { $0.key == "depends" }?.value
                .split(separator: ",").map { $0.replacingOccurrences(of: "-", with: "_") }.filter { !builtin.contains($0) } ?? []
            dependencies[module] = deps
            bytes[module] = data
            queue += deps
        }
        return try loadOrder(wanted.filter { !builtin.contains($0) }, dependencies: dependencies)
            .map { Module(name: $0, bytes: bytes[$0]!) }
    }

    static func decompressedModule(_ file: URL) throws -> [UInt8] {
        let tool: [String]? = file.path.hasSuffix(".xz") ? ["xz", "-dc"] : file.path.hasSuffix(".zst") ? ["zstd", "-dc"]
            : file.path.hasSuffix(".gz") ? ["gzip", "-dc"] : nil
        guard let tool else { return [UInt8](try Data(contentsOf: file)) }
        try HostCommand.require(tool[0], package: tool[0] == "xz" ? "xz-utils" : tool[0])
        // Through a file: the tool's output is binary, and HostCommand collects text.
        let plain = FileManager.default.temporaryDirectory.appendingPathComponent("xen-guest-module-\(getpid())-\(file.lastPathComponent).ko")
        defer { try? FileManager.default.removeItem(at: plain) }
        try HostCommand.run(["sh", "-c", tool.joined(separator: " ") + " < " + shellQuoted(file.path) + " > " + shellQuoted(plain.path)])
        return [UInt8](try Data(contentsOf: plain))
    }
}

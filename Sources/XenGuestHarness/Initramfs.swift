// Writes an initramfs: an uncompressed cpio archive in the "newc" format Linux unpacks at boot
// (070701 headers of 13 eight-digit hex fields; Linux's Documentation/driver-api/early-userspace/
// buffer-format.rst). Written here, so that no cpio tool and no root is needed: device nodes and
// root ownership are just header fields.

/// One archive member. Paths are relative ("bin/busybox"); parents must come first.
public struct InitramfsEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case directory
        case file(contents: [UInt8])
        case symlink(target: String)
        case characterDevice(major: UInt32, minor: UInt32)
    }

    public var path: String
    public var kind: Kind
    /// Permission bits only; the file type comes from `kind`.
    public var permissions: UInt32

    public init(path: String, kind: Kind, permissions: UInt32) {
        self.path = path; self.kind = kind; self.permissions = permissions
    }

    public static func directory(_ path: String, permissions: UInt32 = 0o755) -> InitramfsEntry {
        InitramfsEntry(path: path, kind: .directory, permissions: permissions)
    }
    public static func file(_ path: String, _ contents: [UInt8], permissions: UInt32 = 0o644) -> InitramfsEntry {
        InitramfsEntry(path: path, kind: .file(contents: contents), permissions: permissions)
    }
    public static func executable(_ path: String, _ contents: [UInt8]) -> InitramfsEntry {
        file(path, contents, permissions: 0o755)
    }
    public static func script(_ path: String, _ text: String) -> InitramfsEntry {
        executable(path, Array(text.utf8))
    }
    public static func symlink(_ path: String, to target: String) -> InitramfsEntry {
        InitramfsEntry(path: path, kind: .symlink(target: target), permissions: 0o777)
    }
    public static func characterDevice(_ path: String, major: UInt32, minor: UInt32, permissions: UInt32 = 0o600) -> InitramfsEntry {
        InitramfsEntry(path: path, kind: .characterDevice(major: major, minor: minor), permissions: permissions)
    }

    /// st_mode: the type bits of <sys/stat.h> with the permissions.
    var mode: UInt32 {
        switch kind {
        case .directory: 0o040000 | permissions
        case .file: 0o100000 | permissions
        case .symlink: 0o120000 | permissions
        case .characterDevice: 0o020000 | permissions
        }
    }

    /// What follows the name: a file's bytes, a symlink's target.
    var data: [UInt8] {
        switch kind {
        case .file(let contents): contents
        case .symlink(let target): Array(target.utf8)
        case .directory, .characterDevice: []
        }
    }
}

public enum Initramfs {
    /// The archive's bytes. Everything is owned by root with mtime 0, so that the same entries
    /// always give the same bytes (the cache compares them); inode numbers count up from 1, and
    /// every link count is 1 (2 for directories), so Linux never takes two members for hard links.
    public static func archive(_ entries: [InitramfsEntry]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.reduce(512) { $0 + 120 + $1.path.utf8.count + $1.data.count })
        for (index, entry) in entries.enumerated() {
            var rdev: (UInt32, UInt32) = (0, 0)
            if case .characterDevice(let major, let minor) = entry.kind { rdev = (major, minor) }
            append(&out, inode: UInt32(index + 1), mode: entry.mode, links: entry.kind == .directory ? 2 : 1,
                   rdev: rdev, name: entry.path, data: entry.data)
        }
        // The end of the archive is a member named TRAILER!!!.
        append(&out, inode: 0, mode: 0, links: 1, rdev: (0, 0), name: "TRAILER!!!", data: [])
        return out
    }

    /// One member: header, NUL-terminated name padded to 4 bytes, data padded to 4 bytes.
    static func append(_ out: inout [UInt8], inode: UInt32, mode: UInt32, links: UInt32, rdev: (UInt32, UInt32),
                       name: String, data: [UInt8]) {
        let nameBytes = Array(name.utf8) + [0]
        // c_magic, then c_ino, c_mode, c_uid, c_gid, c_nlink, c_mtime, c_filesize, c_devmajor,
        // c_devminor, c_rdevmajor, c_rdevminor, c_namesize, c_check.
        let fields: [UInt32] = [inode, mode, 0, 0, links, 0, UInt32(data.count), 0, 0, rdev.0, rdev.1,
                                UInt32(nameBytes.count), 0]
        out += Array("070701".utf8)
        for field in fields { out += hex8(field) }
        out += nameBytes
        pad(&out)
        out += data
        pad(&out)
    }

    static func hex8(_ value: UInt32) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        return (0..<8).reversed().map { digits[Int((value >> (UInt32($0) * 4)) & 0xF)] }
    }

    static func pad(_ out: inout [UInt8]) {
        while out.count % 4 != 0 { out.append(0) }
    }
}

// Takes the ELF vmlinux out of a Linux bzImage, so that Xen (for dom0) and libxc (for a domU) load
// it as it is: Xen decompressing a bzImage itself costs 2-5 s under QEMU's software emulation.
import Foundation

/// The compressions Linux's x86 build offers for the payload (CONFIG_KERNEL_*), by magic number.
public enum KernelCompression: String, Sendable, CaseIterable {
    case gzip, bzip2, lzma, xz, lzo, lz4, zstd

    static func detect(_ bytes: ArraySlice<UInt8>) -> KernelCompression? {
        func starts(_ magic: [UInt8]) -> Bool { bytes.count >= magic.count && Array(bytes.prefix(magic.count)) == magic }
        if starts([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .xz }
        if starts([0x1F, 0x8B]) { return .gzip }
        if starts([0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
        if starts([0x02, 0x21, 0x4C, 0x18]) { return .lz4 }     // lz4's legacy frame, as `lz4 -l` writes
        if starts([0x42, 0x5A, 0x68]) { return .bzip2 }
        if starts([0x89, 0x4C, 0x5A, 0x4F]) { return .lzo }
        if starts([0x5D, 0x00, 0x00]) { return .lzma }
        return nil
    }

    /// Everything but gzip (whose trailer has the size already) gets the uncompressed size
    /// appended by the kernel's build as 4 little-endian bytes (`size_append`); the tools take those
    /// for trailing garbage.
    var hasSizeTrailer: Bool { self != .gzip }

    /// The Debian tool that decompresses it to stdout, and its package.
    var decompressor: (command: [String], package: String) {
        switch self {
        case .gzip: (["gzip", "-dc"], "gzip")
        case .bzip2: (["bzip2", "-dc"], "bzip2")
        case .lzma: (["xz", "--format=lzma", "-dc"], "xz-utils")
        case .xz: (["xz", "--single-stream", "-dc"], "xz-utils")
        case .lzo: (["lzop", "-dc"], "lzop")
        case .lz4: (["lz4", "-dc"], "lz4")
        case .zstd: (["zstd", "-dc"], "zstd")
        }
    }
}

/// The parts of a bzImage's setup header (Linux's Documentation/arch/x86/boot.rst) that locate the
/// compressed kernel.
public struct BzImage: Sendable, Equatable {
    /// Setup sectors before the protected-mode code (0 means 4, for old images).
    public var setupSectors: Int
    /// Boot protocol version: payload_offset and payload_length exist from 2.08.
    public var protocolVersion: UInt16
    /// Where the compressed payload starts and how long it is, relative to the protected-mode code.
    public var payloadOffset: Int
    public var payloadLength: Int
    public var compression: KernelCompression

    /// The protected-mode code follows the boot sector and the setup sectors.
    public var protectedModeStart: Int { (setupSectors + 1) * 512 }
    public var payloadRange: Range<Int> { (protectedModeStart + payloadOffset)..<(protectedModeStart + payloadOffset + payloadLength) }

    public init(_ image: [UInt8]) throws {
        func u16(_ at: Int) -> UInt16 { UInt16(image[at]) | UInt16(image[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
        guard image.count >= 0x250, Array(image[0x202..<0x206]) == Array("HdrS".utf8) else {
            throw HarnessError("not a bzImage: no \"HdrS\" setup header at 0x202")
        }
        protocolVersion = u16(0x206)
        guard protocolVersion >= 0x208 else {
            throw HarnessError(String(format: "bzImage boot protocol %x.%02x is older than 2.08: no payload_offset", protocolVersion >> 8, protocolVersion & 0xFF))
        }
        setupSectors = image[0x1F1] == 0 ? 4 : Int(image[0x1F1])
        payloadOffset = Int(u32(0x248))
        payloadLength = Int(u32(0x24C))
        let start = (setupSectors + 1) * 512 + payloadOffset
        guard payloadLength > 4, start + payloadLength <= image.count else {
            throw HarnessError("bzImage payload (offset \(payloadOffset), length \(payloadLength)) lies outside the file's \(image.count) bytes")
        }
        guard let compression = KernelCompression.detect(image[start..<(start + payloadLength)]) else {
            let magic = image[start..<(start + 6)].map { String(format: "%02x", $0) }.joined(separator: " ")
            throw HarnessError("bzImage payload has an unknown compression (first bytes \(magic))")
        }
        self.compression = compression
    }

    /// The compressed vmlinux without the size trailer, and the size the trailer promises.
    public func compressedPayload(of image: [UInt8]) -> (bytes: ArraySlice<UInt8>, uncompressedSize: Int?) {
        let all = image[payloadRange]
        guard compression.hasSizeTrailer else { return (all, nil) }
        let t = all.endIndex - 4
        let size = Int(all[t]) | Int(all[t + 1]) << 8 | Int(all[t + 2]) << 16 | Int(all[t + 3]) << 24
        return (all[all.startIndex..<t], size)
    }
}

public enum LinuxKernelImage {
    /// Writes the ELF vmlinux inside `bzImage` to `output`, decompressed with Debian's tool for its
    /// compression, and checks that what came out is an ELF of the promised size.
    public static func extractELF(bzImage: URL, to output: URL, scratch: URL) throws -> KernelCompression {
        let image = [UInt8](try Data(contentsOf: bzImage))
        let header = try BzImage(image)
        let (payload, size) = header.compressedPayload(of: image)
        let (command, package) = header.compression.decompressor
        try HostCommand.require(command[0], package: package)
        let compressed = scratch.appendingPathComponent("vmlinux.\(header.compression.rawValue)")
        try Data(payload).write(to: compressed)
        defer { try? FileManager.default.removeItem(at: compressed) }
        let shell = command.joined(separator: " ") + " < \(shellQuoted(compressed.path)) > \(shellQuoted(output.path))"
        try HostCommand.run(["sh", "-c", shell])
        let elf = try FileHandle(forReadingFrom: output)
        defer { try? elf.close() }
        let magic = try elf.read(upToCount: 4) ?? Data()
        guard magic == Data([0x7F, 0x45, 0x4C, 0x46]) else {
            throw HarnessError("decompressing \(bzImage.lastPathComponent)'s \(header.compression.rawValue) payload gave no ELF (first bytes \(magic.map { String(format: "%02x", $0) }.joined(separator: " ")))")
        }
        let written = Int(try elf.seekToEnd())
        if let size, size != written {
            throw HarnessError("\(bzImage.lastPathComponent): the payload promised \(size) bytes of vmlinux, decompressing gave \(written)")
        }
        return header.compression
    }
}

// SHA256 against FIPS 180-4's vectors and against /usr/bin/sha256sum on random data, fed in
// pieces of every awkward size (a block boundary crossed inside an update, empty updates).
import Foundation
import Testing
@testable import XenDevices

@Suite struct SHA256Tests {
    func hex(_ digest: InlineArray<32, UInt8>) -> String {
        (0..<32).map { String(format: "%02x", digest[$0]) }.joined()
    }

    func digest(_ bytes: [UInt8], pieces: [Int] = []) -> String {
        var h = SHA256()
        bytes.withUnsafeBytes { all in
            var at = 0, i = 0
            while at < all.count {
                let n = pieces.isEmpty ? all.count : min(pieces[i % pieces.count], all.count - at)
                h.update(UnsafeRawBufferPointer(rebasing: all[at..<(at + n)]))
                at += n; i += 1
            }
        }
        return hex(h.finish())
    }

    @Test func hashesTheEmptyString() {
        #expect(digest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func hashesABC() {
        #expect(digest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func hashesTheTwoBlockMessage() {
        let m = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(digest(m) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(digest(m, pieces: [1]) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func hashesAMillionAs() {
        let m = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(digest(m) == expected)
        #expect(digest(m, pieces: [63, 1, 0, 65, 4096, 7]) == expected, "fed in pieces")
    }

    @Test func agreesWithSha256sumOnRandomData() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/sha256sum"))
        var rng = SystemRandomNumberGenerator()
        for length in [1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 4096, 65_537, 300_001] {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("sha256-\(getpid())-\(length)")
            try Data(data).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
            p.arguments = [file.path]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            p.waitUntilExit()
            let line = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let expected = String(line.prefix(64))
            #expect(digest(data) == expected, "\(length) bytes in one piece")
            #expect(digest(data, pieces: [3, 61, 64, 129]) == expected, "\(length) bytes in pieces")
        }
    }
}

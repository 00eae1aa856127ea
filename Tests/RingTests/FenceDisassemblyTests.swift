// Point 2's barrier check: the ring engine as the kernel compiles it (Tests/RingFenceProbe, built
// by scripts/test for x86_64-unknown-none-elf, Embedded, -Osize) has a real fence (mfence) in the
// notify and final-check paths, where ring.h has xen_mb(), and none in the consume path, where
// ring.h has only xen_rmb() (a compiler barrier on x86_64).
import Foundation
import Testing

@Suite("Barriers in the compiled engine")
struct FenceDisassemblyTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let objects = root.appendingPathComponent(".build/x86_64-unknown-none-elf/release/RingFenceProbe.build")

    /// Instructions per function, from `objdump -d`.
    func disassembly() throws -> [String: [String]] {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.objects.path).filter { $0.hasSuffix(".o") }
        guard !files.isEmpty else { throw Mismatch(description: "no objects in \(Self.objects.path): run scripts/test, which builds the Embedded probe first") }
        var functions: [String: [String]] = [:]
        for file in files {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/objdump")
            p.arguments = ["-d", "--no-show-raw-insn", Self.objects.appendingPathComponent(file).path]
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            var current: String?
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasSuffix(">:"), let open = line.firstIndex(of: "<") {
                    current = String(line[line.index(after: open)..<line.index(line.endIndex, offsetBy: -2)])
                    functions[current!] = []
                } else if let c = current, line.contains(":\t") {
                    functions[c]!.append(String(line.split(separator: "\t").dropFirst().joined(separator: " ")))
                }
            }
        }
        return functions
    }

    func body(_ functions: [String: [String]], _ name: String) throws -> [String] {
        // The Swift function itself (its mangled name holds the name), not the @_cdecl thunk.
        guard let key = functions.keys.first(where: { $0.hasPrefix("$e") && $0.contains(name) }) else {
            throw Mismatch(description: "\(name) not found among \(functions.count) functions")
        }
        return functions[key]!
    }

    @Test("mfence in the push-and-notify and final-check paths, none when consuming")
    func fences() throws {
        let functions = try disassembly()
        for name in ["PushRequests", "PushResponses", "FinalCheckRequests", "FinalCheckResponses"] {
            let code = try body(functions, name)
            #expect(code.contains { $0.hasPrefix("mfence") }, "\(name): no mfence in\n\(code.joined(separator: "\n"))")
        }
        let take = try body(functions, "TakeRequest")
        #expect(!take.isEmpty)
        #expect(!take.contains { $0.hasPrefix("mfence") || $0.hasPrefix("lock") }, "the consume path has a fence:\n\(take.joined(separator: "\n"))")
    }
}

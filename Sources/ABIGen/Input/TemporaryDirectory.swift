// The generator's scratch directories: made for one job under the system's temporary directory
// and removed by the code that made them, when the job ends and when it throws.
import Foundation

enum TemporaryDirectory {
    /// A new, empty directory named for what it holds (`abigen-git-...`); the caller removes it.
    static func make(_ purpose: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("abigen-\(purpose)-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw ABIGenError("cannot create a temporary directory \(url.path): \(error.localizedDescription)")
        }
        return url
    }

    /// Runs `body` in a new directory that is gone when it returns or throws.
    static func with<T>(_ purpose: String, _ body: (URL) throws -> T) throws -> T {
        let url = try make(purpose)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url)
    }
}

// Running the tools the generator leans on (gcc, swiftc, git, tar): one way, output captured.
import Foundation

enum Subprocess {
    struct Result { var status: Int32; var output: String }

    /// Runs `args` (the first found on PATH), stdout and stderr together.
    static func run(_ args: [String], directory: URL? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        if let directory { p.currentDirectoryURL = directory }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { throw ABIGenError("cannot run \(args[0]): \(error.localizedDescription)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}

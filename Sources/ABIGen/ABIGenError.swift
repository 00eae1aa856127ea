// The one error type of the generator: each case says what went wrong and where.

public struct ABIGenError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// `file:line` where there is one.
    public var location: String?

    public init(_ message: String, at location: String? = nil) {
        self.message = message; self.location = location
    }

    public var description: String { location.map { "\($0): error: \(message)" } ?? "error: \(message)" }
}

extension ABIGenError {
    /// The one line every subcommand prints for an error: `abigen: FILE:LINE: error: ...`.
    public var diagnostic: String { "abigen: \(self)" }
}

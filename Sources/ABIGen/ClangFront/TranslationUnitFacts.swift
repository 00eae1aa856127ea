// What one translation unit said about the headers: plain values, no libclang types.

/// The facts one parse of one header in one view yields. The model builder merges these.
public struct TranslationUnitFacts: Sendable {
    public var header: String
    public var view: Visibility
    public var types: [TypeDecl] = []
    public var macros: [MacroFact] = []
    /// Enumerators of anonymous enums that no typedef names: constants, like macros.
    public var enumConstants: [MacroFact] = []
    public var errors: [HeaderDiagnostic] = []

    public struct MacroFact: Sendable {
        public var name: String
        public var location: SourceLocation
        public var functionLike: Bool
        /// The tokens after the name, joined by spaces (for classifying non-values).
        public var body: String
        /// Set when the probe evaluated it to a value.
        public var value: Constant.Value?
        public var cType: String?
        public var type: TypeRef?
    }
}

public struct HeaderDiagnostic: Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String
    /// True when the diagnostic is an `#error` directive (a header refusing this configuration).
    public var isErrorDirective: Bool
    public var description: String { "\(file):\(line): \(message)" }
}

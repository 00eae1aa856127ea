// The C -> Swift name mapping (written down in docs/spec-format.md): C names are kept.

public enum Naming {
    static let swiftKeywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
        "inout", "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public",
        "rethrows", "static", "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue",
        "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return",
        "throw", "switch", "where", "while", "Any", "as", "await", "false", "is", "nil", "self", "Self",
        "super", "throws", "true", "try", "Type", "Protocol", "consume", "borrowing", "consuming",
    ]

    /// A C identifier as a Swift identifier: the same, in backticks where Swift reserves it.
    public static func identifier(_ c: String) -> String { swiftKeywords.contains(c) ? "`\(c)`" : c }

    static func assignSwiftNames(_ model: inout ABIModel) {
        var byKey: [String: String] = [:]
        // Parents come before their anonymous records only by key length; resolve recursively.
        let index = model.typeIndex
        func name(_ key: String) -> String {
            if let n = byKey[key] { return n }
            let t = index[key]!
            let n: String
            if let parent = t.parent, let sep = key.range(of: "::", options: .backwards) {
                // Nested anonymous types end in `_t`: the member that holds one has the bare name.
                n = name(parent) + "." + String(key[sep.upperBound...]) + "_t"
            } else if let space = key.firstIndex(of: " "), t.kind != .typedef, t.key.hasPrefix(t.kind.rawValue + " ") {
                n = String(key[key.index(after: space)...])
            } else {
                n = key
            }
            byKey[key] = n
            return n
        }
        for i in model.types.indices { model.types[i].swiftName = name(model.types[i].key) }
    }
}

// The C name of a value, for the enum-like types (C enums, enum families): what a log line
// prints for a code Xen returned (`XEN_EINVAL`, `GNTST_bad_domain`) without a hand-kept table.

enum CNameEmitter {
    /// `public var cName: StaticString?` over `(Swift expression of the value, C name)` pairs;
    /// where two names share a value the first is given. The caller's type has `rawValue`.
    static func property(_ values: [(value: String, name: String)], indent: String) -> String {
        var s = "\(indent)/// The C name of this value, or nil for one the headers do not name.\n"
        s += "\(indent)public var cName: StaticString? {\n"
        for v in values { s += "\(indent)    if rawValue == \(v.value) { return \"\(v.name)\" }\n" }
        return s + "\(indent)    return nil\n\(indent)}\n"
    }
}

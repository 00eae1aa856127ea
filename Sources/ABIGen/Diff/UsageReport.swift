// Which parts of the ABI a guest uses (from the sources its build compiles), and which of them
// another release changes: the port's status page and its upgrade checklist.
import Foundation

public struct ABIUsage: Sendable {
    public var hypercalls: [String: Set<String>] = [:]   // hypercall -> sub-ops used ("" for the call itself)
    public var types: Set<String> = []                   // model keys
    public var constants: Set<String> = []

    /// Reads every Swift, C and assembler file under `directories` and keeps the identifiers that
    /// name something in `model`: generated types and constants, family members
    /// (`EventChannelOp.send`), typed hypercalls (`Xen.event_channel_op.send`) and the boot
    /// stub's `XENABI_` names.
    public static func scan(_ directories: [URL], model: ABIModel) throws -> ABIUsage {
        var usage = ABIUsage()
        let typesBySwiftName = Dictionary(model.types.map { ($0.swiftName, $0.key) }, uniquingKeysWith: { a, _ in a })
        let constants = Set(model.constants.map(\.name))
        let bootNames = Dictionary(model.constants.map { ("XENABI_" + $0.name.drop { $0 == "_" }, $0.name) }, uniquingKeysWith: { a, _ in a })
        let families = Dictionary(model.families.map { ($0.swiftName, $0) }, uniquingKeysWith: { a, _ in a })
        let hypercalls = Dictionary(model.hypercalls.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var files: [URL] = []
        for d in directories {
            guard let e = FileManager.default.enumerator(at: d, includingPropertiesForKeys: nil) else {
                throw ABIGenError("cannot read the sources in \(d.path)")
            }
            for case let u as URL in e where ["swift", "c", "h", "S"].contains(u.pathExtension) { files.append(u) }
        }
        for file in files.sorted(by: { $0.path < $1.path }) {
            let text = try String(contentsOf: file, encoding: .utf8)
            // Dotted identifier chains: `Xen.event_channel_op.send`, `EventChannelOp.send`, `DOMID_SELF`.
            var chain: [Substring] = []
            var word = Substring()
            var index = text.startIndex
            func endWord() {
                if !word.isEmpty { chain.append(word); word = Substring() }
            }
            func endChain() {
                endWord()
                record(chain)
                chain = []
            }
            func record(_ c: [Substring]) {
                guard let first = c.first else { return }
                let name = String(first)
                if let key = typesBySwiftName[name] { usage.types.insert(key) }
                if constants.contains(name) { usage.constants.insert(name) }
                if let original = bootNames[name] { usage.constants.insert(original) }
                if let f = families[name], c.count > 1 {
                    let member = f.prefix + c[1]
                    if f.members.contains(member) || (f.typeFieldMembers ?? []).contains(member) { usage.constants.insert(member) }
                }
                if (name == "Xen" || name == "XenMulticall"), c.count > 1, let h = hypercalls[String(c[1])] {
                    if c.count > 2, let f = h.family.flatMap({ families[$0] }), let op = h.subops.first(where: { $0.constant == f.prefix + c[2] }) {
                        usage.hypercalls[h.name, default: []].insert(op.constant)
                        if let arg = op.argument { usage.types.insert(arg) }
                        usage.constants.insert(op.constant)
                    } else if h.family == nil {
                        usage.hypercalls[h.name, default: []].insert("")
                    }
                    usage.constants.insert(h.numberConstant)
                }
            }
            while index < text.endIndex {
                let ch = text[index]
                if ch.isLetter || ch.isNumber || ch == "_" {
                    if word.isEmpty { word = text[index..<text.index(after: index)] } else { word = text[word.startIndex..<text.index(after: index)] }
                } else if ch == "." && !word.isEmpty {
                    endWord()
                } else {
                    endChain()
                }
                index = text.index(after: index)
            }
            endChain()
        }
        // A type used brings the types its fields name (the layout it depends on).
        var queue = Array(usage.types)
        let index = model.typeIndex
        while let k = queue.popLast() {
            guard let t = index[k] else { continue }
            var refs: [TypeRef] = (t.fields ?? []).map(\.type)
            if let u = t.underlying { refs.append(u) }
            while let r = refs.popLast() {
                switch r {
                case let .named(n): if usage.types.insert(n).inserted { queue.append(n) }
                case let .array(e, _), let .flexibleArray(e): refs.append(e)
                case let .pointer(to?, _): refs.append(to)
                default: break
                }
            }
        }
        return usage
    }

    public func markdown(model: ABIModel, against diff: ABIDiffReport?) -> String {
        var s = "# What the guest kernel uses of Xen \(model.xenVersion)'s ABI\n\n"
        s += "Read from the sources its build compiles: \(hypercalls.count) hypercalls, \(types.count) types (with those their fields name), \(constants.count) constants.\n\n## Hypercalls\n\n"
        for (h, ops) in hypercalls.sorted(by: { $0.key < $1.key }) {
            let named = ops.filter { !$0.isEmpty }.sorted()
            s += "- `\(h)`" + (named.isEmpty ? "" : ": " + named.map { "`\($0)`" }.joined(separator: ", ")) + "\n"
        }
        s += "\n## Types\n\n" + types.sorted().map { "`\($0)`" }.joined(separator: ", ") + "\n"
        s += "\n## Constants\n\n" + constants.sorted().map { "`\($0)`" }.joined(separator: ", ") + "\n"
        if let diff {
            let touched = diff.changes.filter { c in
                if constants.contains(c.entity) || types.contains(c.entity) || types.contains(String(c.entity.split(separator: ".").first ?? "")) { return true }
                // `hypercall NAME` and `hypercall NAME: SUBOP` (SpecDiff's entities).
                guard c.entity.hasPrefix("hypercall ") else { return false }
                let name = c.entity.dropFirst("hypercall ".count).split(separator: ":").first.map(String.init) ?? ""
                return hypercalls[name] != nil
            }
            s += "\n## Upgrade checklist: \(diff.oldVersion) → \(diff.newVersion)\n\n"
            if touched.isEmpty { s += "Nothing the kernel uses changed.\n" }
            for c in touched {
                s += "- [ ] **\(c.severity.rawValue)** `\(c.entity)` (\(c.line == 0 ? c.header : "\(c.header):\(c.line)")): \(c.kind.rawValue)"
                s += c.old.map { ", was `\($0)`" } ?? ""
                s += c.new.map { ", now `\($0)`" } ?? ""
                s += " — \(c.rule)\n"
            }
        }
        return s
    }
}

// The diff as a Markdown report for code review, grouped by header, breaking changes first.
import Foundation

public enum DiffReportWriter {
    public static func markdown(_ r: ABIDiffReport) -> String {
        var s = "# Xen public ABI: \(r.oldVersion) → \(r.newVersion) (x86_64)\n\n"
        s += "Interface version \(r.oldInterface) → \(r.newInterface). "
        s += r.changes.isEmpty ? "No change.\n" : "**\(r.breaking) breaking**, \(r.compatible) compatible changes. The rules are in docs/abi-rules.md; each change names the one that decided it.\n"
        for (title, severity) in [("Breaking changes", ABIChange.Severity.breaking), ("Compatible changes", .compatible)] {
            let group = r.changes.filter { $0.severity == severity }
            guard !group.isEmpty else { continue }
            s += "\n## \(title) (\(group.count))\n"
            var header = ""
            for c in group {
                if c.header != header {
                    header = c.header
                    s += "\n### \(header)\n\n| entity | change | old | new | rule | line |\n|---|---|---|---|---|---|\n"
                }
                s += "| `\(c.entity)` | \(c.kind.rawValue) | \(cell(c.old)) | \(cell(c.new)) | \(c.rule) | \(c.line == 0 ? "" : String(c.line)) |\n"
            }
        }
        return s
    }

    static func cell(_ s: String?) -> String {
        guard let s else { return "" }
        return "`" + s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "`", with: "'") + "`"
    }

    public static func json(_ r: ABIDiffReport) throws -> String {
        struct Out: Encodable { var report: ABIDiffReport; var breaking: Int; var compatible: Int; var exitStatus: Int32 }
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(Out(report: r, breaking: r.breaking, compatible: r.compatible, exitStatus: r.exitStatus)), as: UTF8.self) + "\n"
    }
}

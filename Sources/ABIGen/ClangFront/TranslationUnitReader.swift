// Parses one public header as its own translation unit and reads its types and macro values.
import CClang
import Foundation

/// The compiler configuration every translation unit is parsed with.
public struct ParseConfiguration: Sendable {
    public var includeDir: String
    public var interfaceVersion: UInt32
    public var target = "x86_64-linux-gnu"

    func arguments(view: Visibility) -> [String] {
        var args = ["-x", "c", "-std=gnu11", "-target", target, "-ferror-limit=0", "-Wno-everything",
                    "-I", includeDir,
                    "-D__XEN_INTERFACE_VERSION__=" + String(format: "0x%08x", interfaceVersion)]
        if view == .toolsOnly { args.append("-D__XEN_TOOLS__") }
        return args
    }
}

public struct TranslationUnitReader {
    let configuration: ParseConfiguration
    /// What the facts are filed under: the header, or the first of several read together.
    let header: String
    /// The headers the unit includes, in order: one, or several for a combined reading.
    let headers: [String]
    let view: Visibility
    let prerequisites: [String]
    /// Object-like macro names `#define`d in the header's text: probed for values.
    let probeCandidates: [String]
    let headerPrefix: String
    /// The precompiled prelude, unless one of the headers is part of it.
    let prelude: Prelude?
    /// False: a macro's body is read only when two files define it (all the interface-range
    /// readings need); tokenizing every definition is a good part of a large unit's reading.
    public var readsEveryMacroBody = true
    /// `mainFile()` made beforehand: a combined unit's is the same at every interface version
    /// (thousands of lines, each worth building once).
    var madeMainFile: MainFile?

    public init(configuration: ParseConfiguration, header: String, view: Visibility,
                prerequisites: [String], probeCandidates: [String], prelude: Prelude?) {
        self.init(configuration: configuration, headers: [header], view: view, prerequisites: prerequisites,
                  probeCandidates: probeCandidates, prelude: prelude)
    }

    /// One unit that includes `headers` in order after the prerequisites, probing every candidate.
    public init(configuration: ParseConfiguration, headers: [String], view: Visibility,
                prerequisites: [String], probeCandidates: [String], prelude: Prelude?) {
        self.configuration = configuration; self.header = headers.first ?? ""; self.headers = headers; self.view = view
        self.prerequisites = prerequisites; self.probeCandidates = probeCandidates
        self.prelude = prelude.flatMap { p in headers.contains(where: p.headers.contains) ? nil : p }
        headerPrefix = configuration.includeDir + "/xen/"
    }

    static let mainFileName = "abigen-probe.c"

    typealias MainFile = (text: String, probeLines: [Int: String])

    /// The main file: the C library's integer types, `xen.h` (every public header assumes it), the
    /// header, and one probe per candidate macro on its own line so diagnostics map back to it.
    func mainFile() -> MainFile {
        if let madeMainFile { return madeMainFile }
        // With the precompiled prelude the same includes are no-ops behind their guards.
        var lines = ["#include <stdint.h>", "#include <stddef.h>"]
        lines += prerequisites.map { "#include <\($0)>" }
        lines += ["#include <xen/xen.h>"] + headers.map { "#include <xen/\($0)>" }
        var probeLines: [Int: String] = [:]
        for name in probeCandidates {
            lines.append("#ifdef \(name)")
            lines.append("static const __auto_type __abigen_probe_\(name) = \(name);")
            probeLines[lines.count] = name
            lines.append("#endif")
        }
        return (lines.joined(separator: "\n") + "\n", probeLines)
    }

    public func read() -> TranslationUnitFacts {
        let started = Date()
        defer {
            if ProcessInfo.processInfo.environment["ABIGEN_TIMING"] != nil {
                FileHandle.standardError.write(Data(String(format: "tu %@ %@ %.1f ms\n", header, view.rawValue, Date().timeIntervalSince(started) * 1000).utf8))
            }
        }
        var facts = TranslationUnitFacts(header: header, view: view)
        let (text, probeLines) = mainFile()
        let index = clang_createIndex(0, 0)
        defer { clang_disposeIndex(index) }
        var args = configuration.arguments(view: view)
        if let prelude { args += ["-include-pch", prelude.pchPath] }
        let options = CXTranslationUnit_DetailedPreprocessingRecord.rawValue | CXTranslationUnit_KeepGoing.rawValue
            | CXTranslationUnit_SkipFunctionBodies.rawValue
        let (tu, code) = parseTranslationUnit(index, name: Self.mainFileName, text: text, arguments: args, options: options)
        guard code == CXError_Success, let tu else {
            facts.errors.append(HeaderDiagnostic(file: header, line: 0, message: "libclang could not parse the translation unit (code \(code.rawValue))", isErrorDirective: false))
            return facts
        }
        defer { clang_disposeTranslationUnit(tu) }

        var failedProbes = Set<String>()
        var sources = SourceLines()
        for i in 0..<clang_getNumDiagnostics(tu) {
            let d = clang_getDiagnostic(tu, i)
            defer { clang_disposeDiagnostic(d) }
            guard clang_getDiagnosticSeverity(d).rawValue >= CXDiagnostic_Error.rawValue else { continue }
            var file: CXFile?
            var line: UInt32 = 0
            clang_getExpansionLocation(clang_getDiagnosticLocation(d), &file, &line, nil, nil)
            let path = file.map { clang_getFileName($0).consume() } ?? ""
            if path.hasSuffix(Self.mainFileName), let probe = probeLines[Int(line)] {
                failedProbes.insert(probe)
                continue
            }
            let message = clang_getDiagnosticSpelling(d).consume()
            var spellingFile: CXFile?
            var spellingLine: UInt32 = 0
            clang_getSpellingLocation(clang_getDiagnosticLocation(d), &spellingFile, &spellingLine, nil, nil)
            let spelled = spellingFile.map { clang_getFileName($0).consume() } ?? path
            let source = sources.line(Int(spellingLine), of: spelled).trimmingCharacters(in: .whitespaces)
            let isDirective = source.hasPrefix("#")
                && source.dropFirst().trimmingCharacters(in: .whitespaces).hasPrefix("error")
            facts.errors.append(HeaderDiagnostic(file: relative(spelled) ?? spelled, line: Int(spellingLine),
                                                 message: message, isErrorDirective: isDirective))
        }

        let root = clang_getTranslationUnitCursor(tu)
        let files = FileNames()
        var walker = DeclarationWalker(reader: self, files: files)
        // A probe's value goes to the macro's last definition (a combined unit holds thousands).
        var lastDefinition: [String: Int] = [:]
        var macroCursors: [CXCursor] = []
        for cursor in root.children {
            // The record lists every macro expansion and #include too: nothing to read there, and
            // a combined unit holds tens of thousands (their locations cost more than the rest).
            let kind = cursor.kind
            if kind == CXCursor_MacroExpansion || kind == CXCursor_InclusionDirective { continue }
            // Declarations of the C library, and of the prelude when this unit used it precompiled
            // (the prelude headers' own units read those), are not this unit's to read.
            if cursor.kind != CXCursor_VarDecl {
                guard let file = files.relative(cursor, self) else { continue }
                if let prelude, prelude.headers.contains(file) { continue }
            }
            switch cursor.kind {
            case CXCursor_MacroDefinition:
                if let m = macroFact(cursor, withBody: readsEveryMacroBody, files: files) {
                    lastDefinition[m.name] = facts.macros.count
                    facts.macros.append(m)
                    macroCursors.append(cursor)
                }
            case CXCursor_VarDecl:
                let name = cursor.spelling
                guard name.hasPrefix("__abigen_probe_") else { continue }
                let macro = String(name.dropFirst("__abigen_probe_".count))
                guard !failedProbes.contains(macro) else { continue }
                if let value = evaluate(cursor), let i = lastDefinition[macro] {
                    facts.macros[i].value = value.value
                    facts.macros[i].cType = value.cType
                    facts.macros[i].type = value.type
                }
            default:
                walker.visitTopLevel(cursor)
            }
        }
        walker.finish()
        if !readsEveryMacroBody {
            // The names some second file defines too: one dictionary entry per name, not a set.
            var firstFile: [String: String] = [:]
            var shared = Set<String>()
            for m in facts.macros {
                if let f = firstFile[m.name] {
                    if f != m.location.header { shared.insert(m.name) }
                } else {
                    firstFile[m.name] = m.location.header
                }
            }
            for i in facts.macros.indices where shared.contains(facts.macros[i].name) { facts.macros[i].body = body(of: macroCursors[i]) }
        }
        facts.types = walker.types
        facts.enumConstants = walker.anonymousEnumConstants
        return facts
    }

    /// Whether the headers compile without an error, probes aside. Cheaper than `read()` for a unit
    /// that does not: the parse stops at its first error (a unit with any error contributes nothing
    /// to the interface ranges, so which errors it has does not matter there).
    public func compiles() -> Bool {
        let index = clang_createIndex(0, 0)
        defer { clang_disposeIndex(index) }
        var args = configuration.arguments(view: view).map { $0 == "-ferror-limit=0" ? "-ferror-limit=1" : $0 }
        if let prelude { args += ["-include-pch", prelude.pchPath] }
        let headersOnly = TranslationUnitReader(configuration: configuration, headers: headers, view: view,
                                                prerequisites: prerequisites, probeCandidates: [], prelude: nil)
        let (tu, code) = parseTranslationUnit(index, name: Self.mainFileName, text: headersOnly.mainFile().text, arguments: args,
                                              options: CXTranslationUnit_SkipFunctionBodies.rawValue)
        guard code == CXError_Success, let tu else { return false }
        defer { clang_disposeTranslationUnit(tu) }
        return !hasErrors(tu)
    }

    /// Each file's path relative to the root, worked out once per file of a unit: a combined unit
    /// asks for it for every one of its thousands of declarations and macros.
    final class FileNames {
        var known: [UnsafeMutableRawPointer: String?] = [:]

        func relative(_ file: CXFile?, _ reader: TranslationUnitReader) -> String? {
            guard let file else { return nil }
            if let r = known[file] { return r }
            let r = reader.relative(clang_getFileName(file).consume())
            known[file] = r
            return r
        }

        func relative(_ cursor: CXCursor, _ reader: TranslationUnitReader) -> String? {
            var file: CXFile?
            clang_getSpellingLocation(clang_getCursorLocation(cursor), &file, nil, nil, nil)
            return relative(file, reader)
        }
    }

    /// A path relative to the public header root, or nil for files outside it.
    func relative(_ path: String) -> String? {
        guard path.hasPrefix(headerPrefix) else { return nil }
        // Byte by byte: Foundation's substring search and counting characters are slow, and every
        // cursor's file comes here.
        let rest = Substring(path.utf8.dropFirst(headerPrefix.utf8.count))
        let dot = UInt8(ascii: "."), slash = UInt8(ascii: "/")
        guard zip(rest.utf8, rest.utf8.dropFirst()).contains(where: { $0 == dot && ($1 == dot || $1 == slash) }) else { return String(rest) }
        // `hvm/../xen.h` as spelled by a quoted include: fold it to `xen.h`.
        var parts: [Substring] = []
        for p in rest.split(separator: "/") {
            if p == ".." { _ = parts.popLast() } else if p != "." { parts.append(p) }
        }
        return parts.joined(separator: "/")
    }

    func macroFact(_ cursor: CXCursor, withBody: Bool, files: FileNames) -> TranslationUnitFacts.MacroFact? {
        var file: CXFile?
        var line: UInt32 = 0
        clang_getSpellingLocation(clang_getCursorLocation(cursor), &file, &line, nil, nil)
        guard let rel = files.relative(file, self) else { return nil }
        return .init(name: cursor.spelling, location: SourceLocation(header: rel, line: Int(line)),
                     functionLike: clang_Cursor_isMacroFunctionLike(cursor) != 0, body: withBody ? body(of: cursor) : "")
    }

    /// A macro definition's tokens after the name, joined by spaces.
    func body(of cursor: CXCursor) -> String {
        var tokens: UnsafeMutablePointer<CXToken>?
        var count: UInt32 = 0
        let tu = clang_Cursor_getTranslationUnit(cursor)
        clang_tokenize(tu, clang_getCursorExtent(cursor), &tokens, &count)
        var words: [String] = []
        if let tokens {
            for i in 0..<Int(count) { words.append(clang_getTokenSpelling(tu, tokens[i]).consume()) }
            clang_disposeTokens(tu, tokens, count)
        }
        return words.dropFirst().joined(separator: " ")
    }

    func evaluate(_ variable: CXCursor) -> (value: Constant.Value, cType: String, type: TypeRef)? {
        // No parentheses around the macro in the probe: libclang reads a string literal only when
        // the initialiser is the literal itself (decayed to a pointer), not a parenthesised one.
        evaluate(variable, as: variable.type.canonical)
    }

    func evaluate(_ cursor: CXCursor, as type: CXType) -> (value: Constant.Value, cType: String, type: TypeRef)? {
        guard let result = clang_Cursor_Evaluate(cursor) else { return nil }
        defer { clang_EvalResult_dispose(result) }
        switch clang_EvalResult_getKind(result) {
        case CXEval_Int:
            guard let ref = DeclarationWalker.builtin(type) else { return nil }
            let unsigned = clang_EvalResult_isUnsignedInt(result) != 0
            let raw = unsigned ? Int64(bitPattern: UInt64(clang_EvalResult_getAsUnsigned(result)))
                               : Int64(clang_EvalResult_getAsLongLong(result))
            return (.integer(raw, unsigned: unsigned), DeclarationWalker.unqualifiedSpelling(type), ref)
        case CXEval_StrLiteral:
            guard let s = clang_EvalResult_getAsStr(result) else { return nil }
            return (.string(String(cString: s)), "char *", .pointer(.integer(bits: 8, signed: true), const: true))
        default:
            return nil
        }
    }
}

/// Lines of the files diagnostics point into, each file read once (a header that refuses a view
/// yields hundreds of diagnostics).
struct SourceLines {
    private var files: [String: [Substring]] = [:]

    mutating func line(_ n: Int, of path: String) -> Substring {
        if files[path] == nil {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            files[path] = text.split(separator: "\n", omittingEmptySubsequences: false)
        }
        let lines = files[path]!
        return n > 0 && n <= lines.count ? lines[n - 1] : ""
    }
}

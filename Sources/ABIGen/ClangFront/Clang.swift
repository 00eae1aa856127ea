// Thin Swift views of libclang's C API. Only ClangFront/ imports CClang.
import CClang
import Foundation

extension CXString {
    /// Takes ownership of the libclang string and returns it as a Swift string.
    func consume() -> String {
        defer { clang_disposeString(self) }
        guard let c = clang_getCString(self) else { return "" }
        return String(cString: c)
    }
}

extension CXCursor {
    var kind: CXCursorKind { clang_getCursorKind(self) }
    var spelling: String { clang_getCursorSpelling(self).consume() }
    var type: CXType { clang_getCursorType(self) }
    var isNull: Bool { clang_Cursor_isNull(self) != 0 }

    /// The direct children, in source order.
    var children: [CXCursor] {
        final class Box { var items: [CXCursor] = [] }
        let box = Box()
        clang_visitChildren(self, { child, _, data in
            Unmanaged<Box>.fromOpaque(data!).takeUnretainedValue().items.append(child)
            return CXChildVisit_Continue
        }, Unmanaged.passUnretained(box).toOpaque())
        return box.items
    }

    /// Where the declaration is spelled (file path as the compiler opened it, and line).
    var location: (file: String, line: Int) {
        var file: CXFile?
        var line: UInt32 = 0
        clang_getSpellingLocation(clang_getCursorLocation(self), &file, &line, nil, nil)
        return (file.map { clang_getFileName($0).consume() } ?? "", Int(line))
    }

    /// Where a macro expansion that produced this declaration was written.
    var expansionLocation: (file: String, line: Int) {
        var file: CXFile?
        var line: UInt32 = 0
        clang_getExpansionLocation(clang_getCursorLocation(self), &file, &line, nil, nil)
        return (file.map { clang_getFileName($0).consume() } ?? "", Int(line))
    }
}

extension CXType {
    var spelling: String { clang_getTypeSpelling(self).consume() }
    var canonical: CXType { clang_getCanonicalType(self) }
    var declaration: CXCursor { clang_getTypeDeclaration(self) }
    var size: Int { Int(clang_Type_getSizeOf(self)) }
    var alignment: Int { Int(clang_Type_getAlignOf(self)) }
    var isConst: Bool { clang_isConstQualifiedType(self) != 0 }

    /// The fields of a record type, including unnamed ones (anonymous members), in order.
    var fields: [CXCursor] {
        final class Box { var items: [CXCursor] = [] }
        let box = Box()
        _ = clang_Type_visitFields(self, { field, data in
            Unmanaged<Box>.fromOpaque(data!).takeUnretainedValue().items.append(field)
            return CXVisit_Continue
        }, Unmanaged.passUnretained(box).toOpaque())
        return box.items
    }
}

/// Whether the unit has a diagnostic of error severity or worse.
func hasErrors(_ tu: CXTranslationUnit) -> Bool {
    for i in 0..<clang_getNumDiagnostics(tu) {
        let d = clang_getDiagnostic(tu, i)
        defer { clang_disposeDiagnostic(d) }
        if clang_getDiagnosticSeverity(d).rawValue >= CXDiagnostic_Error.rawValue { return true }
    }
    return false
}

/// Parses `text` as the in-memory main file `name`: every translation unit the front reads (the
/// headers' and the precompiled prelude) is made this way.
func parseTranslationUnit(_ index: CXIndex?, name: String, text: String, arguments: [String],
                          options: UInt32) -> (CXTranslationUnit?, CXErrorCode) {
    var tu: CXTranslationUnit?
    let code: CXErrorCode = name.withCString { cname in
        text.withCString { contents in
            var unsaved = CXUnsavedFile(Filename: cname, Contents: contents, Length: UInt(strlen(contents)))
            let cargs = arguments.map { strdup($0) }
            defer { cargs.forEach { free($0) } }
            var argv = cargs.map { UnsafePointer<CChar>($0) }
            return clang_parseTranslationUnit2(index, cname, &argv, Int32(argv.count), &unsaved, 1, options, &tu)
        }
    }
    return (tu, code)
}

// The prelude every translation unit shares (the C integer types and xen.h), precompiled once per view.
import CClang
import Foundation

/// Every header is compiled after `<stdint.h>`, `<stddef.h>` and `<xen/xen.h>`, and that prelude is
/// most of each translation unit's work. Compiled once per view into a precompiled header, it
/// makes each header's own parse several times cheaper. Headers that are part of the prelude are
/// still parsed without it, so their own declarations are read in full.
public struct Prelude: Sendable {
    public var pchPath: String
    /// Headers (relative to the root) the prelude includes.
    public var headers: Set<String>

    static let text = "#include <stdint.h>\n#include <stddef.h>\n#include <xen/xen.h>\n"

    /// Builds the prelude for a view, or nil when it does not compile cleanly (each header's own
    /// translation unit then reports the error with its location).
    public static func build(configuration: ParseConfiguration, view: Visibility, into dir: URL) -> Prelude? {
        let index = clang_createIndex(0, 0)
        defer { clang_disposeIndex(index) }
        let tag = "\(view.rawValue)-\(String(configuration.interfaceVersion, radix: 16))"
        let name = dir.appendingPathComponent("abigen-prelude-\(tag).h").path
        let pch = dir.appendingPathComponent("abigen-prelude-\(tag).pch").path
        let args = configuration.arguments(view: view).map { $0 == "c" ? "c-header" : $0 }
        let options = CXTranslationUnit_Incomplete.rawValue | CXTranslationUnit_ForSerialization.rawValue
        let (tu, code) = parseTranslationUnit(index, name: name, text: text, arguments: args, options: options)
        guard code == CXError_Success, let tu else { return nil }
        defer { clang_disposeTranslationUnit(tu) }
        guard !hasErrors(tu) else { return nil }
        guard clang_saveTranslationUnit(tu, pch, 0) == 0 else { return nil }

        final class Box { var files: [String] = [] }
        let box = Box()
        clang_getInclusions(tu, { file, _, _, data in
            guard let file else { return }
            Unmanaged<Box>.fromOpaque(data!).takeUnretainedValue().files.append(clang_getFileName(file).consume())
        }, Unmanaged.passUnretained(box).toOpaque())
        let reader = TranslationUnitReader(configuration: configuration, header: "", view: view, prerequisites: [], probeCandidates: [], prelude: nil)
        return Prelude(pchPath: pch, headers: Set(box.files.compactMap(reader.relative)))
    }
}

// The manifest is the model written out: sorted keys and a fixed order, so its diffs are clean.
import Foundation

/// `abi.json`.
struct ManifestEmitter: Emitter {
    let model: ABIModel
    func emit() throws -> [GeneratedFile] { [GeneratedFile(path: "abi.json", contents: try ManifestWriter.encode(model))] }
}

public enum ManifestWriter {
    public static func encode(_ model: ABIModel) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(model), as: UTF8.self) + "\n"
    }

    public static func decode(_ data: Data, from path: String) throws -> ABIModel {
        do { return try JSONDecoder().decode(ABIModel.self, from: data) } catch {
            throw ABIGenError("\(path) is not an abigen manifest: \(error)")
        }
    }
}

// Writes a generated tree all at once: into a temporary sibling, then renamed over the target.
import Foundation

public enum OutputWriter {
    /// Replaces `directory` with exactly `files`. Nothing is changed unless every file was written:
    /// the new tree is built beside the old one and swapped in by rename.
    public static func replace(_ directory: URL, with files: [GeneratedFile]) throws {
        let staging = Staging(directory)
        try staging.write(files)
        try staging.commit()
    }

    /// `replace` in steps: files written into the new tree as they come (the first call makes
    /// it), then `commit` swaps it in, or `discard` removes it.
    public final class Staging {
        let directory: URL
        let parent: URL
        let staging: URL
        private var made = false

        public init(_ directory: URL) {
            self.directory = directory
            parent = directory.deletingLastPathComponent()
            staging = parent.appendingPathComponent(".\(directory.lastPathComponent).abigen-new-\(ProcessInfo.processInfo.processIdentifier)")
        }

        public func write(_ files: [GeneratedFile]) throws {
            let fm = FileManager.default
            if !made {
                do { try fm.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
                    throw ABIGenError("cannot create \(parent.path): \(error.localizedDescription)")
                }
                guard fm.isWritableFile(atPath: parent.path) else { throw ABIGenError("output directory \(parent.path) is not writable") }
                try? fm.removeItem(at: staging)
                made = true
            }
            do {
                for f in files {
                    let url = staging.appendingPathComponent(f.path)
                    try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try Data(f.contents.utf8).write(to: url)
                }
            } catch {
                discard()
                throw ABIGenError("cannot write the output under \(parent.path): \(error.localizedDescription)")
            }
        }

        public func discard() {
            if made { try? FileManager.default.removeItem(at: staging) }
        }

        public func commit() throws {
            let fm = FileManager.default
            if !made { try write([]) }
            let old = parent.appendingPathComponent(".\(directory.lastPathComponent).abigen-old-\(ProcessInfo.processInfo.processIdentifier)")
            if fm.fileExists(atPath: directory.path) {
                do { try fm.moveItem(at: directory, to: old) } catch {
                    try? fm.removeItem(at: staging)
                    throw ABIGenError("cannot replace \(directory.path): \(error.localizedDescription)")
                }
            }
            do { try fm.moveItem(at: staging, to: directory) } catch {
                if fm.fileExists(atPath: old.path) { try? fm.moveItem(at: old, to: directory) }
                try? fm.removeItem(at: staging)
                throw ABIGenError("cannot move the output into \(directory.path): \(error.localizedDescription)")
            }
            try? fm.removeItem(at: old)
        }
    }

    /// Replaces the file at `url` with `contents`: written beside it, then renamed over it, so a
    /// reader sees the old file or the new one, never part of either.
    public static func replaceFile(_ url: URL, with contents: String) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).abigen-new-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try Data(contents.utf8).write(to: tmp)
            guard rename(tmp.path, url.path) == 0 else { throw ABIGenError(String(cString: strerror(errno))) }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw ABIGenError("cannot write \(url.path): \((error as? ABIGenError)?.message ?? error.localizedDescription)")
        }
    }
}

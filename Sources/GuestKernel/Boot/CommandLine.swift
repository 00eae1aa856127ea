// What the kernel does, chosen by its command line (start_info.cmd_line: xl's `extra=`, a dom0's
// module arguments): words separated by spaces.
//   (empty)          every self-test group, then power off with the verdict
//   tests=G1,G2,...  only these self-test groups (SelfTests.run names them; `none` for none)
//   timings          each self-test's time as a `guest: figure` line
//   interactive      (domU) also the tests dom0 takes part in, then as `wait`
//   wait             (domU) after the tests, wait for control/shutdown (xl shutdown, xl reboot)
//                    and end as it asks, instead of powering off at once
//   overflow-stack   overflow the boot stack on purpose: the guard page under it stops the domain
//   disktest[=ID,...] (domU) the disk exercise (SelfTests/DiskTest.swift; not in the domu build) on every vbd present at
//                    boot, or on those named by id (51712 is xvda), before `wait`
// A kernel built without self-tests (`xen-guest build --profile domu`) answers each word that asks
// for them (tests= other than none, timings, interactive) with a skip line saying they are not in
// this build; with no word the line means no self-test there.
import XenABI

enum CommandLine {
    /// The command line's bytes, up to its NUL (at most the 1024 bytes start_info holds).
    static var bytes: UnsafeBufferPointer<UInt8> {
        let base = UnsafeRawPointer(Boot.startInfo).advanced(by: MemoryLayout<start_info>.offset(of: \.cmd_line)!).assumingMemoryBound(to: UInt8.self)
        var n = 0
        while n < Int(MAX_GUEST_CMDLINE) && base[n] != 0 { n += 1 }
        return UnsafeBufferPointer(start: base, count: n)
    }

    /// The words, each a slice of the command line.
    static func words() -> Words { Words(line: bytes) }

    struct Words: IteratorProtocol {
        let line: UnsafeBufferPointer<UInt8>
        var at = 0
        mutating func next() -> UnsafeBufferPointer<UInt8>? {
            while at < line.count && line[at] == 0x20 { at += 1 }
            guard at < line.count else { return nil }
            let start = at
            while at < line.count && line[at] != 0x20 { at += 1 }
            return UnsafeBufferPointer(rebasing: line[start..<at])
        }
    }

    /// Whether `word` is one of the words.
    static func has(_ word: StaticString) -> Bool {
        var w = words()
        while let next = w.next() { if equal(next, word) { return true } }
        return false
    }

    /// The value of `key=value`, if the key is given.
    static func value(_ key: StaticString) -> UnsafeBufferPointer<UInt8>? {
        var w = words()
        while let next = w.next() {
            let k = key.utf8CodeUnitCount
            if next.count > k, next[k] == 0x3D, equal(UnsafeBufferPointer(rebasing: next[0..<k]), key) {
                return UnsafeBufferPointer(rebasing: next[(k + 1)...])
            }
        }
        return nil
    }

    /// Whether the comma-separated list `key=a,b` names `item`; with no `key=` at all, `absent`.
    static func list(_ key: StaticString, contains item: StaticString, absent: Bool) -> Bool {
        guard let v = value(key) else { return absent }
        var start = 0
        for i in 0...v.count where i == v.count || v[i] == 0x2C {
            if equal(UnsafeBufferPointer(rebasing: v[start..<i]), item) { return true }
            start = i + 1
        }
        return false
    }

    /// Whether `word` asks for self-tests: `tests=` naming any group, `timings`, `interactive`,
    /// the disk's exercise and figures (`disktest`, `disktest=`, `diskbench`), `overflow-stack`.
    static func asksForSelfTests(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
        if equal(word, "timings") || equal(word, "interactive") || equal(word, "disktest") || equal(word, "diskbench")
            || equal(word, "overflow-stack") { return true }
        let disks: StaticString = "disktest="
        if word.count >= disks.utf8CodeUnitCount && equal(UnsafeBufferPointer(rebasing: word[0..<disks.utf8CodeUnitCount]), disks) { return true }
        let key: StaticString = "tests="
        let k = key.utf8CodeUnitCount
        return word.count >= k && equal(UnsafeBufferPointer(rebasing: word[0..<k]), key)
            && !equal(UnsafeBufferPointer(rebasing: word[k...]), "none")
    }

    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: StaticString) -> Bool {
        b.withUTF8Buffer { b in a.count == b.count && a.indices.allSatisfy { a[$0] == b[$0] } }
    }
}

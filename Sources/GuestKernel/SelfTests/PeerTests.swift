// Tests that need dom0 to take part (the command line's `interactive`: the harness's dom0
// script, or a user at dom0's shell). Each prints what it waits for, and dom0 answers: a key
// written under the watch, a line typed on the console, then `xl shutdown` or `xl reboot`.
import XenABI
import XenDevices

enum PeerTests {
    /// How long each waits for dom0 (generous: dom0's side runs under software emulation too).
    static let patience: UInt64 = 90_000

    static func run() {
        guard Store.client != nil else { Report.skip("dom0 peer tests", "no xenstore connection"); return }
        watchSeesDom0sWrite()
        longDirectory()
        consoleEcho()
        stalledConsole()
    }

    static func watchSeesDom0sWrite() {
        let name: StaticString = "xenstore: a watch fires for dom0's write and the value is read"
        let key = XenStorePath("data/from-dom0")
        let watch: XenStoreWatchID
        do { watch = try Store.client!.watch(key) } catch { StoreTests.storeError(name, "WATCH", error); return }
        defer { Store.client!.unwatch(watch) }
        Console.write("guest: waiting for dom0 to write data/from-dom0\n")
        let deadline = SelfTests.deadline(ms: patience)
        // A new watch fires once at once, before dom0 has written: every event is checked by
        // reading the key, until it holds a value.
        while Store.nextEvent(watch, timeout: deadline) != nil {
            switch Store.read(key) {
            case .success(let v) where !v.isEmpty:
                Console.write("guest: watch saw data/from-dom0 = \""); Console.write(bytes: v); Console.write("\"\n")
                Report.pass(name)
                return
            case .success, .failure(.daemon(.XEN_ENOENT)): continue
            case .failure(let e): StoreTests.storeError(name, "READ", e); return
            }
        }
        Report.fail(name, "no event with a value before the deadline")
    }

    /// A directory whose list of names is longer than one reply (200 names, 5600 bytes). dom0
    /// fills it: a domU's own node cannot hold that many (the C daemon's entry-size quota of
    /// 2048 bytes counts the children's names: ENOSPC after 71 of these). The C daemon answers
    /// DIRECTORY with E2BIG and serves DIRECTORY_PART pages, every name arriving once; oxenstored
    /// has no DIRECTORY_PART and sends the whole list in one reply over XENSTORE_PAYLOAD_MAX,
    /// which the client drops: the listing ends in E2BIG. The connection must be intact after.
    static func longDirectory() {
        let name: StaticString = "xenstore: a directory longer than one reply is listed in parts, or refused cleanly"
        let dir = XenStorePath("data/long-directory")
        let count = 200
        func child(_ i: Int) -> [UInt8] { var c = [UInt8]("entry-with-a-long-name-"); c.appendDecimal(UInt64(1000 + i)); return c }
        if let e = Store.write(dir, []) { StoreTests.storeError(name, "WRITE", e); return }
        let ready = XenStorePath("data/long-directory-ready")
        let watch: XenStoreWatchID
        do { watch = try Store.client!.watch(ready) } catch { StoreTests.storeError(name, "WATCH", error); return }
        defer { Store.client!.unwatch(watch) }
        Console.write("guest: waiting for dom0 to fill data/long-directory\n")
        let deadline = SelfTests.deadline(ms: patience)
        var filled = false
        while !filled, Store.nextEvent(watch, timeout: deadline) != nil {
            if case .success(let v) = Store.read(ready), !v.isEmpty { filled = true }
        }
        guard filled else { Report.fail(name, "dom0 did not fill the directory before the deadline"); return }
        let listed = Store.directory(dir)
        _ = Store.call(.rm(dir))
        _ = Store.call(.rm(ready))
        let usable = Store.read(XenStorePath("domid")).map { xenParseDecimal($0, maximum: 0x7FEF) } == .success(UInt64(Domain.id))
        switch listed {
        case .success(let names):
            let all = names.count == count && (0..<count).allSatisfy { i in names.contains(child(i)) }
            Console.write("guest: long directory listed in parts: "); Console.write(names.count); Console.write(" names\n")
            Report.check(name, all && usable, "every name once, and the connection usable after")
        case .failure(.daemon(.XEN_E2BIG)):
            Console.write("guest: long directory refused with E2BIG (the daemon has no DIRECTORY_PART)\n")
            Report.check(name, usable, "the connection usable after the refusal")
        case .failure(let e):
            StoreTests.storeError(name, "listing", e)
        }
    }

    static func consoleEcho() {
        let name: StaticString = "console: a line typed in dom0 arrives on the input ring and is echoed"
        Console.write("guest: console waiting for a line\n")
        var line: [UInt8]? = nil
        _ = EventLoop.run(until: { line = PVConsole.takeLine(); return line != nil }, timeout: SelfTests.deadline(ms: patience))
        guard let line else { Report.fail(name, "no line before the deadline"); return }
        Console.write("guest: console echo \""); Console.write(bytes: line); Console.write("\"\n")
        Report.pass(name)
    }

    /// dom0 stops xenconsoled (SIGSTOP), the kernel prints 100 lines into the full ring: the
    /// first wait for room runs out after the hold time, the rest is dropped at once, and the
    /// loss is counted; once dom0 lets xenconsoled go on and the ring drains, the loss is
    /// reported in a line of its own.
    static func stalledConsole() {
        let name: StaticString = "console: a stalled xenconsoled holds the kernel one hold time; the loss is counted and reported"
        guard waitForKey(XenStorePath("data/console-stopped"), "guest: waiting for dom0 to stop xenconsoled\n") else {
            Report.fail(name, "dom0 did not say it stopped xenconsoled"); return
        }
        let lostBefore = PVConsole.with { $0.bytesLost }
        let start = Time.now()
        for i in 0..<100 {
            Console.write("guest: console flood line "); Console.write(i)
            Console.write(" .................................................................\n")
        }
        let took = Time.now() - start
        let lost = PVConsole.with { $0.bytesLost } - lostBefore
        _ = Store.write(XenStorePath("data/console-flooded"), [UInt8]("1"))
        guard waitForKey(XenStorePath("data/console-resumed"), nil) else { Report.fail(name, "dom0 did not let xenconsoled go on"); return }
        PVConsole.drain(timeout: 5_000_000_000)
        Console.write("guest: console flood: "); Console.write(lost); Console.write(" bytes dropped in ")
        Console.write(took / 1_000_000); Console.write(" ms\n")
        Report.check(name, lost > 0 && took < 1_000_000_000, "bytes lost, and the flood bounded by about one hold time")
    }

    /// Prints `prompt` (if any), then waits for dom0 to give `key` a value.
    static func waitForKey(_ key: XenStorePath, _ prompt: StaticString?) -> Bool {
        guard let watch = try? Store.client!.watch(key) else { return false }
        defer { Store.client!.unwatch(watch) }
        if let prompt { Console.write(prompt) }
        let deadline = SelfTests.deadline(ms: patience)
        while Store.nextEvent(watch, timeout: deadline) != nil {
            if case .success(let v) = Store.read(key), !v.isEmpty { return true }
        }
        return false
    }
}

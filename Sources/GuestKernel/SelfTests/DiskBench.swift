// The disk's figures, chosen by the command line word `diskbench`, for Benchmarks/blk-figures.sh
// beside Linux's (Tests/Dom0Tools/diskbench.c does the same in a Linux guest): on the first
// writable vbd, 128 MiB (or the whole disk, if smaller) written from its start in 1 MiB requests
// one at a time (as `dd bs=1M oflag=direct` submits them: the driver splits each into ring
// requests in flight together) and flushed, read back the same way, then random 4 KiB reads, each at a page
// aligned offset anywhere on the disk, for 5 s with one request outstanding and for 5 s with 32.
// One line a figure:
//   guest: diskbench: seq-write 128 MiB in N ms: X MB/s
//   guest: diskbench: rand-read-4k qd1: N reads in M ms: X IOPS
// What is written is never read back or checked here (DiskTest does that): only timed.
import XenABI
import XenDevices

enum DiskBench {
    static var chunk: Int { 1 << 20 }
    static var span: UInt64 { 128 << 20 }
    static var randomTime: UInt64 { 5_000_000_000 }
    static var depth: Int { 32 }

    static func run() {
        guard CommandLine.has("diskbench") else { return }
        // 1 MiB for the sequential passes, then a page for each random read in flight.
        guard let first = PageAllocator.allocate(contiguous: chunk / Boot.pageSize + depth) else { Report.fail("diskbench", "no memory for its buffers"); return }
        let buffer = UnsafeMutableRawPointer(bitPattern: Boot.address(ofPFN: first))!
        let deadline = Time.now() &+ 30_000_000_000
        var disk: Disk? = nil
        _ = EventLoop.run(until: {
            disk = Block.disks.first { $0.front.state == .connected && !$0.front.disk.readOnly }
            return disk != nil
        }, timeout: deadline)
        guard let disk else { Report.fail("diskbench", "no writable disk connected"); return }
        let bytes = min(span, disk.front.disk.capacity) & ~UInt64(chunk - 1)
        guard bytes > 0 else { Report.fail("diskbench", "disk smaller than 1 MiB"); return }
        for i in 0..<(chunk / 8) { buffer.storeBytes(of: UInt64(i) &* 0x9E37_79B9_7F4A_7C15, toByteOffset: i * 8, as: UInt64.self) }
        guard sequential(disk, write: true, bytes, buffer), sequential(disk, write: false, bytes, buffer),
              random(disk, bytes, buffer + chunk, depth: 1), random(disk, bytes, buffer + chunk, depth: depth) else { return }
        Report.pass("diskbench: figures printed")
    }

    /// `bytes` from the disk's start, 1 MiB at a time, each waited for before the next; a write
    /// pass ends with a flush.
    static func sequential(_ disk: Disk, write: Bool, _ bytes: UInt64, _ buffer: UnsafeMutableRawPointer) -> Bool {
        let start = Time.now()
        var offset: UInt64 = 0
        while offset < bytes {
            let r: BlkfrontRequest = write ? .write(offset: offset, from: UnsafeRawBufferPointer(start: buffer, count: chunk))
                                           : .read(offset: offset, into: UnsafeMutableRawBufferPointer(start: buffer, count: chunk))
            guard (try? disk.front.submit(r, tag: 0)) != nil, let c = next(disk), c.status == .okay else {
                Report.fail("diskbench", write ? "a sequential write failed" : "a sequential read failed"); return false
            }
            offset += UInt64(chunk)
        }
        // The writes on the disk, as diskbench.c's fsync asks of Linux.
        if write {
            guard (try? disk.front.submit(.flush, tag: 0)) != nil, let c = next(disk), c.status == .okay else {
                Report.fail("diskbench", "the flush after the writes failed"); return false
            }
        }
        let ns = max(Time.now() &- start, 1)
        Console.write(write ? "guest: diskbench: seq-write " : "guest: diskbench: seq-read ")
        Console.write(bytes >> 20); Console.write(" MiB in "); Console.write(ns / 1_000_000); Console.write(" ms: ")
        tenths(bytes * 10 / max(ns / 1000, 1)); Console.write(" MB/s\n")  // bytes per µs: MB/s
        return true
    }

    /// 4 KiB reads at random page-aligned offsets below `bytes`, `depth` outstanding, for
    /// `randomTime`; each completion is followed at once by the next request.
    static func random(_ disk: Disk, _ bytes: UInt64, _ pages: UnsafeMutableRawPointer, depth: Int) -> Bool {
        var state: UInt64 = 0x6469_736b_6265_6e63  // "diskbenc"
        let blocks = bytes >> 12
        var reads: UInt64 = 0
        let start = Time.now()
        let end = start &+ randomTime
        var submitting = true
        // The tag is the page a read goes into.
        func submit(_ slot: Int) -> Bool {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17  // xorshift64
            let r = BlkfrontRequest.read(offset: (state % blocks) << 12, into: UnsafeMutableRawBufferPointer(start: pages + slot * 4096, count: 4096))
            return (try? disk.front.submit(r, tag: UInt64(slot))) != nil
        }
        for slot in 0..<depth where !submit(slot) { Report.fail("diskbench", "a random read not submitted"); return false }
        while disk.front.pendingRequests > 0 {
            guard let c = next(disk), c.status == .okay else { Report.fail("diskbench", "a random read failed"); return false }
            reads += 1
            if submitting && Time.now() >= end { submitting = false }
            if submitting && !submit(Int(c.tag)) { Report.fail("diskbench", "a random read not submitted"); return false }
        }
        let ns = max(Time.now() &- start, 1)
        Console.write("guest: diskbench: rand-read-4k qd"); Console.write(UInt64(depth)); Console.write(": ")
        Console.write(reads); Console.write(" reads in "); Console.write(ns / 1_000_000); Console.write(" ms: ")
        Console.write(reads * 1_000_000_000 / ns); Console.write(" IOPS\n")
        return true
    }

    /// The next completion, through the event loop; nil if the disk stopped or 30 s passed.
    static func next(_ disk: Disk) -> BlkfrontCompletion? {
        var c: BlkfrontCompletion? = nil
        _ = EventLoop.run(until: { c = disk.front.takeCompletion(); return c != nil || disk.front.state != .connected },
                          timeout: Time.now() &+ 30_000_000_000)
        return c
    }

    /// A value in tenths as `X.Y`.
    static func tenths(_ v: UInt64) {
        Console.write(v / 10); Console.write("."); Console.write(v % 10)
    }
}

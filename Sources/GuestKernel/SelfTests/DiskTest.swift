// The disk exercise, chosen by the command line: `disktest` (every vbd present at boot) or
// `disktest=ID,ID,...` (vbds by id: 51712 is xvda). On a writable disk: requests of every size
// from one logical sector to 16 pages (past the 11 of a direct request) and from just below the
// largest one ring request takes (the negotiated segments) to just past it, at offsets not
// aligned to a page, each read back; one request split into three ring requests; a discard when offered; then the whole disk
// written with a pattern in which every 512-byte unit holds its own number and a seed (a write
// that lands elsewhere, or never lands, is caught), a flush, and the whole disk read back,
// checked and hashed. On a read-only disk: a write and a discard refused before anything
// reaches the ring, and the whole disk read and hashed. Each disk ends with
// `guest: blkfront: disk N sha256 HEX`, for dom0 to compare with `sha256sum` of its image.
import XenABI
import XenDevices

enum DiskTest {
    static var seed: UInt64 { 0x626c_6b66_726f_6e74 }  // "blkfront"
    /// The buffer a pass goes through: 4 MiB out, 4 MiB back (a request split in three ring
    /// requests of 1 MiB, the most segments blkback offers, fits).
    static var chunk: Int { 4 << 20 }
    nonisolated(unsafe) static var out = UnsafeMutableRawPointer(bitPattern: 0x10)!
    nonisolated(unsafe) static var back = UnsafeMutableRawPointer(bitPattern: 0x10)!

    static func run() {
        let list = CommandLine.value("disktest")
        guard list != nil || CommandLine.has("disktest") else { return }
        guard let first = PageAllocator.allocate(contiguous: 2 * chunk / Boot.pageSize) else { Report.fail("disktest", "no 8 MiB for its buffers"); return }
        out = UnsafeMutableRawPointer(bitPattern: Boot.address(ofPFN: first))!
        back = out + chunk
        // Every disk named (or found at boot) connected, or given up on.
        let deadline = Time.now() &+ 30_000_000_000
        _ = EventLoop.run(until: {
            guard Block.discovery.devices.count > 0 else { return false }
            for id in Block.discovery.devices where named(id, list) {
                guard let d = Block.disk(id), d.front.state != .starting else { return false }
            }
            return true
        }, timeout: deadline)
        for id in Block.discovery.devices where named(id, list) {
            guard let d = Block.disk(id), d.front.state == .connected else { Report.fail("disktest", "a disk never connected"); continue }
            Console.write("guest: blkfront: disk "); Console.write(UInt64(id)); Console.write(" exercise\n")
            if exercise(d) { Report.pass("disktest: a disk written, read back and hashed") } else { Report.fail("disktest", "see the line before") }
        }
    }

    static func named(_ id: UInt32, _ list: UnsafeBufferPointer<UInt8>?) -> Bool {
        guard let list else { return true }
        var n: UInt64 = 0, any = false
        for i in 0...list.count {
            if i == list.count || list[i] == 0x2C {
                if any && n == UInt64(id) { return true }
                n = 0; any = false
            } else { n = n &* 10 &+ UInt64(list[i] &- 0x30); any = true }
        }
        return false
    }

    /// Says why and returns false.
    static func failed(_ disk: Disk, _ why: StaticString, at offset: UInt64 = 0) -> Bool {
        Console.write("guest: blkfront: disk "); Console.write(UInt64(disk.id)); Console.write(" FAIL "); Console.write(why)
        Console.write(" at byte "); Console.write(offset); Console.newline()
        return false
    }

    static func exercise(_ disk: Disk) -> Bool {
        let d = disk.front.disk
        let size = UInt64(d.sectorSize)
        if d.readOnly {
            let before = disk.front.counters.requests
            let refused = (try? disk.front.submit(.write(offset: 0, from: UnsafeRawBufferPointer(start: out, count: d.sectorSize)), tag: 0)) == nil
                && (try? disk.front.submit(.discard(offset: 0, length: size, secure: false), tag: 0)) == nil
            guard refused, disk.front.counters.requests == before else { return failed(disk, "a write to a read-only disk was not refused") }
            Console.write("guest: blkfront: disk "); Console.write(UInt64(disk.id)); Console.write(" read-only: write and discard refused, nothing on the ring\n")
            return pass(disk, write: false, check: false)
        }
        // Every size from one logical sector to 16 pages and around the largest ring request,
        // each at a different offset in sectors (for 512-byte sectors, not page-aligned), each
        // with a seed of its own (old data left in place is caught), read back.
        let largest = UInt64(d.maxSegments * Boot.pageSize)
        let base: UInt64 = 1 << 20
        guard d.capacity >= base + 4 * largest else { return failed(disk, "disk too small for the exercise") }
        var n = size, sizes: UInt64 = 0
        while n <= largest + 2 * size {
            sizes += 1
            let offset = base + (n / size % 8) * size
            let s = seed ^ (n << 32)
            fill(out, offset, Int(n), s)
            guard request(disk, .write(offset: offset, from: UnsafeRawBufferPointer(start: out, count: Int(n)))),
                  request(disk, .read(offset: offset, into: UnsafeMutableRawBufferPointer(start: back, count: Int(n)))) else { return failed(disk, "a request of every size", at: offset) }
            if let bad = check(back, offset, Int(n), s) { return failed(disk, "read back wrong", at: bad) }
            n += size
            // Every size in between (thousands of them with 256 segments) tests nothing new.
            if n > 16 * 4096 + 2 * size && n + 2 * size < largest { n = largest - 2 * size }
        }
        // Three ring requests' worth in one, split by the driver.
        let big = 3 * largest + size
        fill(out, base, Int(big), seed ^ 3)
        guard request(disk, .write(offset: base, from: UnsafeRawBufferPointer(start: out, count: Int(big)))),
              request(disk, .read(offset: base, into: UnsafeMutableRawBufferPointer(start: back, count: Int(big)))) else { return failed(disk, "a request split in three", at: base) }
        if let bad = check(back, base, Int(big), seed ^ 3) { return failed(disk, "split request read back wrong", at: bad) }
        Console.write("guest: blkfront: disk "); Console.write(UInt64(disk.id)); Console.write(" sizes "); Console.write(size)
        Console.write(" to "); Console.write(largest + 2 * size); Console.write(" bytes ok ("); Console.write(sizes); Console.write(" sizes)\n")
        guard request(disk, .flush) else { return failed(disk, "flush") }
        if d.discard {
            // Discarded sectors read back as anything: the whole-disk pass rewrites them.
            guard request(disk, .discard(offset: base, length: 1 << 20, secure: false)) else { return failed(disk, "discard", at: base) }
            Console.write("guest: blkfront: disk "); Console.write(UInt64(disk.id)); Console.write(" discard of 1 MiB ok\n")
        }
        guard pass(disk, write: true, check: false) else { return false }
        guard request(disk, .flush) else { return failed(disk, "flush") }
        return pass(disk, write: false, check: true)
    }

    /// One request, waited for; true if it completed okay.
    static func request(_ disk: Disk, _ r: BlkfrontRequest) -> Bool {
        guard (try? disk.front.submit(r, tag: 0)) != nil else { return false }
        return drain(disk)
    }

    /// Waits for every request submitted; true if all completed okay.
    static func drain(_ disk: Disk) -> Bool {
        var ok = true
        let deadline = Time.now() &+ 30_000_000_000
        while true {
            var c: BlkfrontCompletion? = nil
            let got = EventLoop.run(until: { c = disk.front.takeCompletion(); return c != nil || disk.front.state != .connected }, timeout: deadline)
            guard got, let done = c else { return false }
            if done.status != .okay { ok = false }
            // Submitted one at a time or a chunk at a time: done when nothing is left queued.
            if disk.front.pendingRequests == 0 { return ok }
        }
    }

    /// The whole disk, a chunk at a time in requests of the largest size: written with the
    /// pattern, or read (checked against it, when `check`) and hashed.
    static func pass(_ disk: Disk, write: Bool, check checking: Bool) -> Bool {
        let d = disk.front.disk
        let piece = d.maxSegments * Boot.pageSize
        var hash = SHA256()
        let start = Time.now()
        var offset: UInt64 = 0
        while offset < d.capacity {
            let length = Int(min(UInt64(chunk), d.capacity - offset))
            if write { fill(out, offset, length, seed) }
            var at = 0
            while at < length {
                let n = min(piece, length - at)
                let r: BlkfrontRequest = write ? .write(offset: offset + UInt64(at), from: UnsafeRawBufferPointer(start: out + at, count: n))
                                               : .read(offset: offset + UInt64(at), into: UnsafeMutableRawBufferPointer(start: back + at, count: n))
                guard (try? disk.front.submit(r, tag: 0)) != nil else { return failed(disk, "submit", at: offset + UInt64(at)) }
                at += n
            }
            guard drain(disk) else { return failed(disk, write ? "whole-disk write" : "whole-disk read", at: offset) }
            if !write {
                if checking, let bad = check(back, offset, length, seed) { return failed(disk, "whole disk read back wrong", at: bad) }
                hash.update(UnsafeRawBufferPointer(start: back, count: length))
            }
            offset += UInt64(length)
        }
        let us = max((Time.now() &- start) / 1000, 1)
        Console.write("guest: blkfront: disk "); Console.write(UInt64(disk.id)); Console.write(write ? " wrote " : " read ")
        Console.write(d.capacity >> 20); Console.write(" MiB in "); Console.write(us / 1000); Console.write(" ms, ")
        Console.write(d.capacity / us); Console.write(" MB/s\n")
        if !write {
            Console.write("guest: blkfront: disk "); Console.write(UInt64(disk.id)); Console.write(" sha256 ")
            let digest = hash.finish()
            for i in 0..<32 { Console.write(hexByte: digest[i]) }
            Console.newline()
        }
        return true
    }

    /// The pattern of `length` bytes at `offset` on the disk: each 512-byte unit its number,
    /// the seed, and words that mix both.
    static func fill(_ p: UnsafeMutableRawPointer, _ offset: UInt64, _ length: Int, _ seed: UInt64) {
        let words = p.assumingMemoryBound(to: UInt64.self)
        for u in 0..<(length >> 9) {
            let unit = (offset >> 9) + UInt64(u)
            let w = words + u * 64
            w[0] = unit; w[1] = seed
            let mix = unit &* 0x9E37_79B9_7F4A_7C15 ^ seed
            for j in 2..<64 { w[j] = mix &+ UInt64(j) }
        }
    }

    /// The first byte offset on the disk that does not hold the pattern, or nil.
    static func check(_ p: UnsafeMutableRawPointer, _ offset: UInt64, _ length: Int, _ seed: UInt64) -> UInt64? {
        let words = p.assumingMemoryBound(to: UInt64.self)
        for u in 0..<(length >> 9) {
            let unit = (offset >> 9) + UInt64(u)
            let w = words + u * 64
            guard w[0] == unit, w[1] == seed else { return unit << 9 }
            let mix = unit &* 0x9E37_79B9_7F4A_7C15 ^ seed
            for j in 2..<64 where w[j] != mix &+ UInt64(j) { return unit << 9 }
        }
        return nil
    }
}

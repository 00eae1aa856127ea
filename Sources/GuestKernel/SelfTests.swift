// Self-tests: each proves a Xen behaviour (or the kernel's own machinery) on the real hypervisor.
import GuestKernelBoot
import XenABI

enum SelfTests {
    static func run() {
        timed("xen_version", xenVersion)
        timed("heap", heapStress)
        timed("page allocator", pageAllocatorStress)
        timed("pages past the boot mapping", pagesPastTheBootMapping)
        timed("time", time)
        timed("event delivery", eventDeliveredThroughTheUpcall)
        timed("masked port", maskedPortStaysPendingUntilUnmasked)
        timed("event storm", eventStorm)
        timed("timer", timerWakesFromBlock)
        timed("grant table", grantTable)
        timed("ring", RingSelfTest.run)
        timed("faults", faults)
        #if GUEST_INJECT_FAILURE
        Report.fail("injected failure", "built with --inject-failure")
        #endif
    }

    /// Runs a test and, when the command line says `timings`, reports how long it took in Xen's
    /// system time (off by default: every byte on the serial console costs boot time).
    static func timed(_ name: StaticString, _ test: () -> Void) {
        let start = Time.now()
        test()
        if Boot.commandLineHas("timings") { Report.figure(name, (Time.now() - start) / 1000, "us") }
    }

    static func xenVersion() {
        do {
            let v = try Xen.xen_version.version()
            Console.write("guest: Xen "); Console.write(v >> 16); Console.write("."); Console.write(v & 0xFFFF); Console.newline()
            Report.check("xen_version reports 4.x", v >> 16 == 4, "major version 4")
            let extra = try Xen.xen_version.extraversion()
            Report.check("xen_version extraversion is a string", withUnsafeBytes(of: extra) { $0.contains(0) }, "a NUL within 16 bytes")
            let caps = try Xen.xen_version.capabilities()
            let has64: Bool = withUnsafeBytes(of: caps) { bytes in
                let needle: StaticString = "xen-3.0-x86_64"
                return needle.withUTF8Buffer { n in
                    (0...(bytes.count - n.count)).contains { i in n.indices.allSatisfy { bytes[i + $0] == n[$0] } }
                }
            }
            Report.check("xen_version capabilities list xen-3.0-x86_64", has64, "x86_64 PV support")
        } catch {
            Report.fail("xen_version", "hypercall failed")
        }
    }

    static func heapStress() {
        var pointers: [UnsafeMutableRawPointer] = []
        var ok = true
        for i in 0..<200 {
            guard let p = Heap.allocate(16 + (i * 37) % 700, alignment: i % 3 == 0 ? 64 : 16) else { ok = false; break }
            if i % 3 == 0 && UInt(bitPattern: p) % 64 != 0 { ok = false }
            p.storeBytes(of: UInt32(i), as: UInt32.self)
            pointers.append(p)
        }
        for (i, p) in pointers.enumerated() where p.load(as: UInt32.self) != UInt32(i) { ok = false }
        for p in pointers.reversed() { Heap.release(p) }
        Report.check("heap: 200 allocations, aligned, distinct, freed", ok, "every block intact")
        let again = Heap.allocate(64 * 1024, alignment: 16)
        Report.check("heap: freed space is reused", again != nil, "a 64 KiB block after freeing everything")
        if let again { Heap.release(again) }
    }

    static func pageAllocatorStress() {
        let before = PageAllocator.free
        var pfns: [Int] = []
        while pfns.count < 64, let p = PageAllocator.allocate() { pfns.append(p) }
        // Distinct: each page is marked once, so stamping a word in each finds no stamp twice.
        for p in pfns { UnsafeMutablePointer<UInt64>(bitPattern: Boot.address(ofPFN: p))!.pointee = 0 }
        var distinct = true
        for p in pfns {
            let word = UnsafeMutablePointer<UInt64>(bitPattern: Boot.address(ofPFN: p))!
            if word.pointee != 0 { distinct = false }
            word.pointee = 1
        }
        for p in pfns { PageAllocator.release(p) }
        Report.check("page allocator: 64 distinct pages, all returned", pfns.count == 64 && distinct && PageAllocator.free == before, "64 distinct pfns")
    }

    /// Pages past Xen's boot mapping, written and read back through the mappings we made.
    static func pagesPastTheBootMapping() {
        let first = Boot.pfn(ofAddress: Boot.mappedEnd), last = Int(Boot.startInfo.pointee.nr_pages) - 1
        guard first <= last else { Report.pass("pages past the boot mapping: none in a domain this small"); return }
        var ok = true
        // (Under QEMU without -mem-prealloc, the host's first touch of its own memory made these
        // pages some 70 times slower to touch than boot-mapped ones: xen-guest preallocates.)
        for pfn in [first, (first + last) / 2, last] {
            let p = UnsafeMutablePointer<UInt64>(bitPattern: Boot.address(ofPFN: pfn))!
            for i in 0..<512 { p[i] = UInt64(pfn) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(i) }
            for i in 0..<512 where p[i] != UInt64(pfn) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(i) { ok = false }
        }
        Report.check("pages past the boot mapping written and read back", ok, "every word as written")
    }

    static func time() {
        let first = Time.now()
        var previous = first
        var backwards = 0
        for _ in 0..<10_000 {
            let t = Time.now()
            if t < previous { backwards += 1 }
            previous = t
        }
        Report.check("time never goes backwards over 10000 reads", backwards == 0, "monotonic vcpu_time_info")
        Report.check("time advances", previous > first && first > 0, "system time moves forward")
        Report.figure("system time at this point", first, "ns")
        Report.figure("raw readings behind an earlier one (held at the mark)", UInt64(Time.backwardSteps), "reads")
    }

    /// A port pair to ourselves: alloc_unbound, then bind_interdomain to it; sending on one end
    /// raises the other.
    static func loopback() throws(XenError) -> (receive: UInt32, send: UInt32) {
        var unbound = evtchn_alloc_unbound(dom: DOMID_SELF, remote_dom: DOMID_SELF)
        try Xen.event_channel_op.alloc_unbound(&unbound)
        var bind = evtchn_bind_interdomain(remote_dom: DOMID_SELF, remote_port: unbound.port)
        try Xen.event_channel_op.bind_interdomain(&bind)
        return (unbound.port, bind.local_port)
    }

    static func eventDeliveredThroughTheUpcall() {
        do {
            let (receive, send) = try loopback()
            let upcallsBefore = Events.upcalls
            try Xen.event_channel_op.send(evtchn_send(port: send))
            Report.check("event channel: sent to itself, delivered through the upcall",
                         Events.delivered[Int(receive)] == 1 && Events.upcalls > upcallsBefore, "one delivery by the upcall, not by polling")
        } catch {
            Report.fail("event channel: sent to itself, delivered through the upcall", "hypercall failed")
        }
    }

    static func maskedPortStaysPendingUntilUnmasked() {
        do {
            let (receive, send) = try loopback()
            Events.maskPort(receive)
            try Xen.event_channel_op.send(evtchn_send(port: send))
            let heldBack = Events.delivered[Int(receive)] == 0 && Events.isPending(receive)
            try Events.unmaskPort(receive)
            Report.check("event channel: a masked port stays pending, delivered on unmask",
                         heldBack && Events.delivered[Int(receive)] == 1, "pending while masked, one delivery after EVTCHNOP_unmask")
        } catch {
            Report.fail("event channel: a masked port stays pending, delivered on unmask", "hypercall failed")
        }
    }

    static func eventStorm() {
        do {
            let (receive, send) = try loopback()
            for _ in 0..<1000 { try Xen.event_channel_op.send(evtchn_send(port: send)) }
            let n = Events.delivered[Int(receive)]
            Report.check("event storm: 1000 sends delivered, none lost or invented", n >= 1 && n <= 1000, "between 1 and 1000 deliveries")
            Report.figure("deliveries for 1000 sends", UInt64(n), "upcalls")
        } catch {
            Report.fail("event storm: 1000 sends delivered, none lost or invented", "hypercall failed")
        }
    }

    /// VIRQ_TIMER bound, a one-shot timer armed with set_timer_op, and SCHEDOP_block until it
    /// fires: the wake-up must not come before the deadline in Xen's own system time.
    static func timerWakesFromBlock() {
        do {
            var bind = evtchn_bind_virq(virq: VIRQ_TIMER, vcpu: 0)
            try Xen.event_channel_op.bind_virq(&bind)
            Events.onTimer = Int32(bind.port)
            Events.timerFired = false
            let deadline = Time.now() + 1_000_000
            var fired = 0, early = 0, blocks = 0
            var woke: UInt64 = 0
            // Xen may run a timer up to its slop (50 us by default) early: a sleep that must not
            // end before its deadline re-arms and blocks again until it has passed.
            while blocks < 1000 {
                Events.timerFired = false
                try Xen.set_timer_op(deadline)
                while blocks < 1000 {
                    Events.maskUpcalls()
                    if Events.timerFired { Events.unmaskUpcalls(); break }
                    // SCHEDOP_block unmasks upcalls and sleeps until an event is pending.
                    try Xen.sched_op.block()
                    blocks += 1
                }
                guard Events.timerFired else { break }
                fired += 1
                woke = Time.now()
                if woke >= deadline { break }
                early += 1
            }
            Report.check("timer: SCHEDOP_block wakes on VIRQ_TIMER, never before the deadline",
                         fired >= 1 && woke >= deadline, "woken by the timer at or after its deadline")
            if woke >= deadline { Report.figure("timer lateness", woke - deadline, "ns") }
            Report.figure("timer deliveries before the deadline (re-armed)", UInt64(early), "times")
        } catch {
            Report.fail("timer: SCHEDOP_block wakes on VIRQ_TIMER, never before the deadline", "hypercall failed")
        }
    }

    /// An invalid opcode (a fault: Xen reports rip at the instruction) and a breakpoint (a trap:
    /// rip after it), each handled through the trap table and resumed.
    static func faults() {
        Traps.expected = (6, 2)
        Traps.taken = nil
        cpu_ud2()
        Report.check("trap table: #UD taken, handled and resumed", Traps.taken?.vector == 6, "vector 6 reached the handler")
        Traps.expected = (3, 0)
        Traps.taken = nil
        cpu_int3()
        Report.check("trap table: #BP from ring 3 taken and resumed", Traps.taken?.vector == 3, "vector 3 reached the handler")
    }

    static func grantTable() {
        do {
            let (frames, maxFrames) = try GrantTable.start()
            Report.check("grant table: query_size and setup_table", frames >= 1 && maxFrames >= frames, "at least one frame")
            guard let source = PageAllocator.allocate(), let target = PageAllocator.allocate() else {
                Report.fail("grant table: copy through a grant", "no pages"); return
            }
            let src = UnsafeMutablePointer<UInt8>(bitPattern: Boot.address(ofPFN: source))!
            let dst = UnsafeMutablePointer<UInt8>(bitPattern: Boot.address(ofPFN: target))!
            for i in 0..<64 { src[i] = UInt8(truncatingIfNeeded: i &* 3 &+ 1); dst[i] = 0 }
            let ref = GrantTable.firstFree
            GrantTable.grant(ref, to: 0, mfn: Memory.mfn(ofPFN: source), readOnly: true)
            // Xen copies from our grant (source: the grant ref) into our own frame (dest: a gmfn,
            // the machine frame for a PV guest): it must read the entry we wrote.
            var copy = gnttab_copy()
            copy.source.u.ref = ref
            copy.source.domid = DOMID_SELF
            copy.source.offset = 0
            copy.dest.u.gmfn = xen_pfn_t(Memory.mfn(ofPFN: target))
            copy.dest.domid = DOMID_SELF
            copy.dest.offset = 0
            copy.len = 64
            copy.flags = GrantCopyFlags.source_gref.rawValue
            try Xen.grant_table_op.copy(&copy)
            let same = (0..<64).allSatisfy { dst[$0] == src[$0] }
            Report.check("grant table: Xen copies through our grant entry", copy.status == GNTST_okay && same, "GNTST_okay and the bytes copied")
            Report.check("grant table: access ended with the result checked", GrantTable.endAccess(ref), "flags cleared while not in use")
            let bad = (GrantTable.entries + Int(ref)).pointee.flags == 0
            var again = copy
            again.status = 0
            try Xen.grant_table_op.copy(&again)
            Report.check("grant table: an ended grant is refused", bad && again.status != GNTST_okay, "copy fails after end of access")
        } catch {
            Report.fail("grant table", "hypercall failed")
        }
    }
}

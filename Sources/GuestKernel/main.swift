// The PV kernel's boot path, top to bottom. Each step names the Xen facility it sets up.
import XenABI

Console.write("guest: Embedded Swift PV kernel on Xen\n")
Boot.printStartInfo()
Report.check("start_info magic is xen-3.0-x86_64", Boot.magicIsX86_64(), "a 64-bit PV start_info")
Report.check("start_info gives the domain's pages", Boot.startInfo.pointee.nr_pages > 0, "nr_pages > 0")

// Memory: the heap right after Xen's bootstrap structures, then every other page.
let heapPages = 128
Heap.start(at: Boot.bootstrapEnd, size: heapPages * Boot.pageSize)
PageAllocator.start(first: Boot.pfn(ofAddress: Boot.bootstrapEnd) + heapPages, count: Int(Boot.startInfo.pointee.nr_pages))

// The pages past Xen's boot mapping: mapped with L1 tables of our own, so all of nr_pages is usable.
let bootMappedPFNs = Boot.pfn(ofAddress: Boot.mappedEnd)
let nrPages = Int(Boot.startInfo.pointee.nr_pages)
do {
    let mapped = bootMappedPFNs < nrPages ? try PageTables.mapRange(from: bootMappedPFNs, to: nrPages) : 0
    Report.check("all pages mapped: the rest past the boot mapping (mmu_update, mmuext_op)", mapped == max(nrPages - bootMappedPFNs, 0), "every pfn past the boot mapping")
    Report.figure("pages mapped past the boot mapping", UInt64(mapped), "pages")
} catch {
    Report.fail("all pages mapped: the rest past the boot mapping (mmu_update, mmuext_op)", "page-table hypercall failed")
}

// The trap table first: from here on a fault prints where it happened instead of killing us.
do { try Traps.start(); Report.pass("trap table installed (set_trap_table)") } catch { Report.fail("trap table installed (set_trap_table)", "set_trap_table failed") }

// shared_info, then events: the upcall registered and unmasked.
do { try SharedInfo.map(); Report.pass("shared_info mapped with update_va_mapping") } catch { Report.fail("shared_info mapped with update_va_mapping", "update_va_mapping failed"); Report.finish() }
do { try Events.start(); Report.pass("event upcall registered (set_callbacks)") } catch { Report.fail("event upcall registered (set_callbacks)", "set_callbacks failed"); Report.finish() }

SelfTests.run()
Report.finish()

// The PV kernel's boot path, top to bottom: each step sets up one Xen facility and panics with
// the operation and Xen's error if it cannot. A domU then connects its console ring, xenstore
// and the toolstack's control key, and lists its devices. Then the command line says what to run
// (the self-tests only in a build that has them: `xen-guest build --profile domu` leaves them out).
import GuestKernelBoot
import XenABI

let entryTSC = cpu_rdtsc()
Console.write("guest: Embedded Swift PV kernel on Xen\n")
Boot.printStartInfo()
guard Boot.magicIsX86_64() else { Panic.fail("start_info: not a 64-bit PV start_info (magic)") }

// Memory: a page allocator over all nr_pages (its bitmap right after Xen's bootstrap
// structures), every page mapped (tables of our own past Xen's boot mapping), then the heap.
let nrPages = Int(Boot.startInfo.pointee.nr_pages)
PageAllocator.start(first: Boot.pfn(ofAddress: Boot.bootstrapEnd), count: nrPages)
do { _ = try PageTables.mapRange(from: min(Boot.pfn(ofAddress: Boot.mappedEnd), nrPages), to: nrPages) } catch { Panic.fail("map every page (mmu_update, mmuext_op)", error) }
let heapPages = 128
guard let heapPFN = PageAllocator.allocate(contiguous: heapPages) else { Panic.fail("heap", KernelError.noFreePage) }
Heap.start(at: Boot.address(ofPFN: heapPFN), size: heapPages * Boot.pageSize)

// The boot stack's guard page: an overflow stops the domain there (boot.S).
do { try Memory.unmap(at: UInt(bitPattern: boot_stack_guard_address())) } catch { Panic.fail("unmap the boot stack's guard page (update_va_mapping)", error) }

// The trap table first: from here on a fault prints where it happened instead of killing us.
do { try Traps.start() } catch { Panic.fail("set_trap_table", error) }
do { try SharedInfo.map() } catch { Panic.fail("map shared_info (update_va_mapping)", error) }
let entry = Time.at(tsc: entryTSC)
do { try Events.start() } catch { Panic.fail("event upcall (set_callbacks)", error) }
do { try EventLoop.start() } catch { Panic.fail("event loop: bind VIRQ_TIMER", error) }
do { try GrantTable.start() } catch { Panic.fail("grant table (GNTTABOP_setup_table)", error) }

if !Domain.isInitial { DomU.start(entry: entry) }

#if GUEST_SELF_TESTS
if CommandLine.has("overflow-stack") { TrapTests.overflowStack() }
SelfTests.run()
if CommandLine.has("interactive") { PeerTests.run() }
DiskTest.run()
DiskBench.run()
#else
// Built without self-tests (the domu profile): a word that asks for them is told so.
var words = CommandLine.words()
while let word = words.next() { if CommandLine.asksForSelfTests(word) { Report.notBuilt(word) } }
#endif
if CommandLine.has("interactive") || CommandLine.has("wait") { Report.finish(then: Control.awaitShutdown()) }
Report.finish()

// Event channels, the hardware half: the upcall Xen makes into boot.S only records which ports
// fired (EventLoop hands them to their owners), and the 2-level ABI's mask and unmask.
import GuestKernelBoot
import XenABI

enum Events {
    /// The 2-level ABI on x86_64: 64 selector bits, each for a word of 64 ports.
    static let maxPorts = 64 * 64
    /// Ports the upcall found pending and unmasked, not yet taken by the loop: one bit each in
    /// words 0..<64 and, in word 64, which of those words have any, set with locked instructions
    /// (the upcall interrupts the loop on the same vCPU).
    nonisolated(unsafe) static var fired = UnsafeMutablePointer<UInt>(bitPattern: 8)!
    static var firedWords: UnsafeMutablePointer<UInt> { fired + 64 }
    nonisolated(unsafe) static var upcalls = 0
    nonisolated(unsafe) static var started = false

    /// Registers the upcall and failsafe entries, then lets Xen deliver (dom0 starts masked).
    static func start() throws(BootError) {
        guard let page = PageAllocator.allocate() else { throw .kernel(.noFreePage) }
        fired = UnsafeMutablePointer<UInt>(bitPattern: Boot.address(ofPFN: page))!
        fired.initialize(repeating: 0, count: 65)
        do { try Xen.set_callbacks(UInt64(hypervisor_callback_address()), UInt64(failsafe_callback_address()), 0) } catch { throw .xen(error) }
        started = true
        unmaskUpcalls()
    }

    static func maskUpcalls() { SharedInfo.upcallMask.pointee = 1; cpu_barrier() }

    /// Clears the mask; anything that arrived meanwhile is delivered by making any hypercall
    /// (Xen checks for a pending upcall on every return to the guest).
    static func unmaskUpcalls() {
        cpu_barrier()
        SharedInfo.upcallMask.pointee = 0
        cpu_mb()
        if SharedInfo.upcallPending.pointee != 0 { _ = try? Xen.xen_version.version() }
    }

    static func maskPort(_ port: UInt32) { atomic_set_bit(SharedInfo.mask + Int(port / 64), port % 64) }
    static func isPending(_ port: UInt32) -> Bool { (SharedInfo.pending + Int(port / 64)).pointee & (1 << UInt(port % 64)) != 0 }

    /// Unmasks through Xen, which re-raises the event if it is pending.
    static func unmaskPort(_ port: UInt32) throws(XenError) {
        try Xen.event_channel_op.unmask(evtchn_unmask(port: port))
    }

    /// Takes the words that have fired ports, then the ports of one word.
    static func takeWords() -> UInt { atomic_xchg_ulong(firedWords, 0) }
    static func take(word: Int) -> UInt { atomic_xchg_ulong(fired + word, 0) }

    static var anyFired: Bool { firedWords.pointee != 0 }

    /// Takes `port`'s pending bit as the upcall would, recording it as fired for the loop: for a
    /// caller that waits on one port itself (SCHEDOP_poll) and must not swallow its event.
    static func takePending(_ port: UInt32) {
        guard port < UInt32(maxPorts), atomic_test_and_clear_bit(SharedInfo.pending + Int(port / 64), port % 64) != 0 else { return }
        atomic_set_bit(fired + Int(port / 64), port % 64)
        atomic_set_bit(firedWords, port / 64)
    }

    /// The upcall: for each selector bit Xen set, each pending and unmasked port, clear it in
    /// shared_info and record it. Everything read from shared_info is read once and bounded by
    /// the 2-level ABI's 64x64 ports; no owner runs here, so a port that keeps firing costs the
    /// upcall one bit each time, never an owner's work (XSA-391).
    static func upcall() {
        upcalls += 1
        repeat {
            SharedInfo.upcallPending.pointee = 0
            cpu_barrier()
            var selector = atomic_xchg_ulong(SharedInfo.pendingSelector, 0)
            while selector != 0 {
                let word = selector.trailingZeroBitCount
                selector &= selector - 1
                var ready = (SharedInfo.pending + word).pointee & ~(SharedInfo.mask + word).pointee
                while ready != 0 {
                    let bit = ready.trailingZeroBitCount
                    ready &= ready - 1
                    guard atomic_test_and_clear_bit(SharedInfo.pending + word, UInt32(bit)) != 0 else { continue }
                    atomic_set_bit(fired + word, UInt32(bit))
                    atomic_set_bit(firedWords, UInt32(word))
                }
            }
        } while SharedInfo.upcallPending.pointee != 0
    }
}

@_cdecl("guest_event_upcall")
func guestEventUpcall() { Events.upcall() }

@_cdecl("guest_failsafe")
func guestFailsafe() {
    Console.write("guest: failsafe callback: Xen could not return to a frame\n")
    Domain.shutdown(.crash)
}

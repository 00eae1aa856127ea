// Event channels: the upcall Xen makes into boot.S, the 2-level pending/mask scan, delivery counts.
import GuestKernelBoot
import XenABI

enum Events {
    static let maxPorts = 64 * 64
    /// Deliveries per port, counted by the upcall.
    nonisolated(unsafe) static var delivered: UnsafeMutablePointer<UInt32> = .init(bitPattern: 8)!
    nonisolated(unsafe) static var upcalls = 0
    /// What a port's delivery does besides counting.
    nonisolated(unsafe) static var onTimer: Int32 = -1
    nonisolated(unsafe) static var timerFired = false

    /// Registers the upcall and failsafe entries, then lets Xen deliver (dom0 starts masked).
    static func start() throws(XenError) {
        delivered = UnsafeMutablePointer<UInt32>.allocate(capacity: maxPorts)
        delivered.initialize(repeating: 0, count: maxPorts)
        try Xen.set_callbacks(UInt64(hypervisor_callback_address()), UInt64(failsafe_callback_address()), 0)
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

    /// The upcall: for each selector bit Xen set, each pending and unmasked port, clear and count.
    /// Everything read from shared_info is read once and bounded by the 2-level ABI's 64x64 ports.
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
                    let port = word * 64 + bit
                    delivered[port] &+= 1
                    if Int32(port) == onTimer { timerFired = true }
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

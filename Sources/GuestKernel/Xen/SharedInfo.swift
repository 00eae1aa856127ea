// shared_info: mapped once, then read through raw offsets with barriers (Xen writes it at any time).
import GuestKernelBoot
import XenABI

enum SharedInfo {
    nonisolated(unsafe) static var page: UnsafeMutableRawPointer = .init(bitPattern: 8)!
    /// Until it is, there is no clock (Time reads it) and no event to wait for.
    nonisolated(unsafe) static var isMapped = false

    /// Maps the shared_info frame (a machine address in start_info) over a page of our own.
    static func map() throws(BootError) {
        guard let pfn = PageAllocator.allocate() else { throw .kernel(.noFreePage) }
        let va = Boot.address(ofPFN: pfn)
        do { try Memory.map(mfn: Boot.startInfo.pointee.shared_info >> 12, at: va) } catch { throw .xen(error) }
        page = UnsafeMutableRawPointer(bitPattern: va)!
        isMapped = true
    }

    static var vcpu0: UnsafeMutableRawPointer { page + MemoryLayout<shared_info>.offset(of: \.vcpu_info)! }
    static var upcallPending: UnsafeMutablePointer<UInt8> { (vcpu0 + MemoryLayout<vcpu_info>.offset(of: \.evtchn_upcall_pending)!).assumingMemoryBound(to: UInt8.self) }
    static var upcallMask: UnsafeMutablePointer<UInt8> { (vcpu0 + MemoryLayout<vcpu_info>.offset(of: \.evtchn_upcall_mask)!).assumingMemoryBound(to: UInt8.self) }
    static var pendingSelector: UnsafeMutablePointer<UInt> { (vcpu0 + MemoryLayout<vcpu_info>.offset(of: \.evtchn_pending_sel)!).assumingMemoryBound(to: UInt.self) }
    static var pending: UnsafeMutablePointer<UInt> { (page + MemoryLayout<shared_info>.offset(of: \.evtchn_pending)!).assumingMemoryBound(to: UInt.self) }
    static var mask: UnsafeMutablePointer<UInt> { (page + MemoryLayout<shared_info>.offset(of: \.evtchn_mask)!).assumingMemoryBound(to: UInt.self) }
    static var time: UnsafeMutableRawPointer { vcpu0 + MemoryLayout<vcpu_info>.offset(of: \.time)! }
}


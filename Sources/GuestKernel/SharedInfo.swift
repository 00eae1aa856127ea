// shared_info: mapped once, then read through raw offsets with barriers (Xen writes it at any time).
import GuestKernelBoot
import XenABI

/// x86 page-table entry bits (the architecture's, not Xen's): present, writable, user (a PV
/// kernel runs in ring 3), accessed, dirty.
enum PTE {
    static let present: UInt64 = 1 << 0, writable: UInt64 = 1 << 1, user: UInt64 = 1 << 2
    static let accessed: UInt64 = 1 << 5, dirty: UInt64 = 1 << 6
    static let kernelData = present | writable | user | accessed | dirty
}

enum Memory {
    /// The machine frame behind a pseudo-physical page, from the phys-to-machine list Xen built.
    static func mfn(ofPFN pfn: Int) -> UInt64 {
        UnsafeRawPointer(bitPattern: UInt(Boot.startInfo.pointee.mfn_list))!.load(fromByteOffset: pfn * 8, as: UInt64.self)
    }

    /// Maps machine frame `mfn` at `va` (a page of ours) with update_va_mapping.
    static func map(mfn: UInt64, at va: UInt, writable: Bool = true) throws(XenError) {
        let pte = (mfn << 12) | (writable ? PTE.kernelData : PTE.kernelData & ~PTE.writable)
        try Xen.update_va_mapping(UInt64(va), pte, UInt64(UVMF_INVLPG))
    }
}

enum SharedInfo {
    nonisolated(unsafe) static var page: UnsafeMutableRawPointer = .init(bitPattern: 8)!

    /// Maps the shared_info frame (a machine address in start_info) over a page of our own.
    static func map() throws(XenError) {
        guard let pfn = PageAllocator.allocate() else { throw XenError(code: 12) }
        let va = Boot.address(ofPFN: pfn)
        try Memory.map(mfn: Boot.startInfo.pointee.shared_info >> 12, at: va)
        page = UnsafeMutableRawPointer(bitPattern: va)!
    }

    static var vcpu0: UnsafeMutableRawPointer { page + MemoryLayout<shared_info>.offset(of: \.vcpu_info)! }
    static var upcallPending: UnsafeMutablePointer<UInt8> { (vcpu0 + MemoryLayout<vcpu_info>.offset(of: \.evtchn_upcall_pending)!).assumingMemoryBound(to: UInt8.self) }
    static var upcallMask: UnsafeMutablePointer<UInt8> { (vcpu0 + MemoryLayout<vcpu_info>.offset(of: \.evtchn_upcall_mask)!).assumingMemoryBound(to: UInt8.self) }
    static var pendingSelector: UnsafeMutablePointer<UInt> { (vcpu0 + MemoryLayout<vcpu_info>.offset(of: \.evtchn_pending_sel)!).assumingMemoryBound(to: UInt.self) }
    static var pending: UnsafeMutablePointer<UInt> { (page + MemoryLayout<shared_info>.offset(of: \.evtchn_pending)!).assumingMemoryBound(to: UInt.self) }
    static var mask: UnsafeMutablePointer<UInt> { (page + MemoryLayout<shared_info>.offset(of: \.evtchn_mask)!).assumingMemoryBound(to: UInt.self) }
    static var time: UnsafeMutableRawPointer { vcpu0 + MemoryLayout<vcpu_info>.offset(of: \.time)! }
}

/// Xen system time from vcpu_time_info: the version counter protocol (odd while Xen updates;
/// read until two reads of it agree and are even) and TSC scaling.
enum Time {
    /// The last time returned. Extrapolating from one set of vcpu_time_info parameters can give a
    /// value a little past what the next set (Xen refreshes them) gives for the same instant, so a
    /// reader that must never see time go backwards keeps the high-water mark (as Linux's pvclock).
    nonisolated(unsafe) static var last: UInt64 = 0
    /// How often the raw reading fell behind the mark (reported, not hidden).
    nonisolated(unsafe) static var backwardSteps = 0

    static func now() -> UInt64 {
        let t = raw()
        if t < last { backwardSteps += 1; return last }
        last = t
        return t
    }

    static func raw() -> UInt64 {
        let t = SharedInfo.time
        let versionOffset = MemoryLayout<vcpu_time_info>.offset(of: \.version)!
        while true {
            let version = t.load(fromByteOffset: versionOffset, as: UInt32.self)
            cpu_barrier()
            if version & 1 != 0 { continue }
            let stamp = t.load(fromByteOffset: MemoryLayout<vcpu_time_info>.offset(of: \.tsc_timestamp)!, as: UInt64.self)
            let system = t.load(fromByteOffset: MemoryLayout<vcpu_time_info>.offset(of: \.system_time)!, as: UInt64.self)
            let mul = t.load(fromByteOffset: MemoryLayout<vcpu_time_info>.offset(of: \.tsc_to_system_mul)!, as: UInt32.self)
            let shift = t.load(fromByteOffset: MemoryLayout<vcpu_time_info>.offset(of: \.tsc_shift)!, as: Int8.self)
            let tsc = cpu_rdtsc()
            cpu_barrier()
            guard t.load(fromByteOffset: versionOffset, as: UInt32.self) == version else { continue }
            var delta = tsc &- stamp
            delta = shift < 0 ? delta >> UInt64(-Int(shift)) : delta << UInt64(shift)
            let scaled = delta.multipliedFullWidth(by: UInt64(mul))
            return system &+ (scaled.high << 32 | scaled.low >> 32)
        }
    }
}

// Xen's system time, read from shared_info's vcpu_time_info.
import GuestKernelBoot
import XenABI

/// Xen system time from vcpu_time_info: the version counter protocol (odd while Xen updates;
/// read until two reads of it agree and are even) and TSC scaling.
enum Time {
    /// The last time returned. Extrapolating from one set of vcpu_time_info parameters can give a
    /// value a little past what the next set (Xen refreshes them) gives for the same instant, so a
    /// reader that must never see time go backwards keeps the high-water mark (as Linux's pvclock).
    nonisolated(unsafe) static var last: UInt64 = 0
    /// How often the raw reading fell behind the mark (reported, not hidden).
    nonisolated(unsafe) static var backwardSteps = 0

    /// 0 until shared_info is mapped. Out of line: every driver's clock reads it, and the pvclock
    /// arithmetic inlined into each was 200 bytes a copy.
    @inline(never) static func now() -> UInt64 {
        guard SharedInfo.isMapped else { return 0 }
        let t = raw()
        if t < last { backwardSteps += 1; return last }
        last = t
        return t
    }

    static func raw() -> UInt64 { at(tsc: nil) }

    /// The system time at a TSC reading taken earlier (or now, for nil): how the kernel's entry,
    /// before shared_info was mapped, is placed on Xen's clock.
    static func at(tsc earlier: UInt64?) -> UInt64 {
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
            let tsc = earlier ?? cpu_rdtsc()
            cpu_barrier()
            guard t.load(fromByteOffset: versionOffset, as: UInt32.self) == version else { continue }
            // The distance from the stamp, taken modulo 2^64 (a domU's TSC may have started just
            // after the stamp was taken: a stamp of 0xffff... and a small TSC are close), and
            // read as signed: the entry's TSC, read before the stamp, lies behind it.
            let signed = Int64(bitPattern: tsc &- stamp)
            var delta = signed.magnitude
            delta = shift < 0 ? delta >> UInt64(-Int(shift)) : delta << UInt64(shift)
            let scaled = delta.multipliedFullWidth(by: UInt64(mul))
            let ns = scaled.high << 32 | scaled.low >> 32
            return signed < 0 ? system &- ns : system &+ ns
        }
    }
}

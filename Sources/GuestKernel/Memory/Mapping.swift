// Mappings: the machine frame behind a page, and one page mapped at a virtual address of ours.
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

    /// The pseudo-physical page behind a machine frame of ours, from the machine-to-phys table
    /// Xen maps read-only for every PV guest at MACH2PHYS_VIRT_START.
    static func pfn(ofMFN mfn: UInt64) -> Int {
        Int(UnsafeRawPointer(bitPattern: UInt(MACH2PHYS_VIRT_START))!.load(fromByteOffset: Int(mfn) * 8, as: UInt64.self))
    }

    /// Unmaps the page at `va` (its frame stays ours): any access to it faults.
    static func unmap(at va: UInt) throws(XenError) {
        try Xen.update_va_mapping(UInt64(va), 0, UInt64(UVMF_INVLPG))
    }

    /// Maps machine frame `mfn` at `va` (a page of ours) with update_va_mapping.
    static func map(mfn: UInt64, at va: UInt, writable: Bool = true) throws(XenError) {
        let pte = (mfn << 12) | (writable ? PTE.kernelData : PTE.kernelData & ~PTE.writable)
        try Xen.update_va_mapping(UInt64(va), pte, UInt64(UVMF_INVLPG))
    }
}


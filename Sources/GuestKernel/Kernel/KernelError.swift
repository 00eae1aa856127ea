// What can go wrong inside the kernel that is not Xen's answer to a hypercall.
import XenABI

enum KernelError: Error {
    /// The page allocator has no free page (below the limit asked for, where there is one).
    case noFreePage
    /// A port beyond the 2-level event channel ABI's 4096, or one bound twice.
    case portOutOfRange
    case portAlreadyBound
    /// Xen's page tables are not what a PV guest is promised (a table we must extend is missing).
    case unexpectedPageTable
    /// Xen answered a batch hypercall for fewer entries than it was given.
    case shortBatch
    /// A grant-table operation's own status (`GNTST_*`), set though the hypercall returned 0.
    case grantStatus(Int16)

    var description: StaticString {
        switch self {
        case .noFreePage: return "no free page"
        case .portOutOfRange: return "event channel port out of range"
        case .portAlreadyBound: return "event channel port already has an owner"
        case .unexpectedPageTable: return "page tables not as Xen promises a PV guest"
        case .shortBatch: return "Xen did fewer entries of a batch than it was given"
        case .grantStatus: return "grant-table status"
        }
    }
}

/// Either what Xen said or what the kernel found: the one error type of a boot step.
enum BootError: Error {
    case xen(XenError)
    case kernel(KernelError)
}

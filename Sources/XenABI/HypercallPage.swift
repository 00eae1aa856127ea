// The hypercall primitive the generated wrappers call in a real guest.
import XenHypercallPage

/// Enters Xen through the hypercall page. Every typed wrapper in `XenHypercall` is generic over
/// its entry, so a kernel uses this one and host tests use a recording double, with no cost for
/// the indirection once specialised.
public enum XenHypercallPage: XenHypercallEntry {
    @inline(__always)
    public static func hypercall(_ nr: UInt, _ a1: UInt, _ a2: UInt, _ a3: UInt, _ a4: UInt, _ a5: UInt) -> Int {
        xen_hypercall_page_call(nr, a1, a2, a3, a4, a5)
    }
}

/// The typed hypercalls of a real guest.
public typealias Xen = XenHypercall<XenHypercallPage>

// The hypercall primitive the generated wrappers call in a real guest.
import XenHypercallPage

/// Enters Xen through the hypercall page. Every typed wrapper in `XenHypercall` is generic over
/// its entry, so a kernel uses this one and host tests use a recording double, with no cost for
/// the indirection once specialised.
public enum XenHypercallPage: XenHypercallEntry {
    @inline(__always) public static func hypercall0(_ nr: UInt) -> Int { xen_hypercall_page_call0(nr) }
    @inline(__always) public static func hypercall1(_ nr: UInt, _ a1: UInt) -> Int { xen_hypercall_page_call1(nr, a1) }
    @inline(__always) public static func hypercall2(_ nr: UInt, _ a1: UInt, _ a2: UInt) -> Int { xen_hypercall_page_call2(nr, a1, a2) }
    @inline(__always) public static func hypercall3(_ nr: UInt, _ a1: UInt, _ a2: UInt, _ a3: UInt) -> Int { xen_hypercall_page_call3(nr, a1, a2, a3) }
    @inline(__always) public static func hypercall4(_ nr: UInt, _ a1: UInt, _ a2: UInt, _ a3: UInt, _ a4: UInt) -> Int { xen_hypercall_page_call4(nr, a1, a2, a3, a4) }
    @inline(__always) public static func hypercall5(_ nr: UInt, _ a1: UInt, _ a2: UInt, _ a3: UInt, _ a4: UInt, _ a5: UInt) -> Int {
        xen_hypercall_page_call5(nr, a1, a2, a3, a4, a5)
    }
}

/// The typed hypercalls of a real guest.
public typealias Xen = XenHypercall<XenHypercallPage>

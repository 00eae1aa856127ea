// XenABI: the generated layer for the pinned Xen release (Generated/, a link to
// Generated/xen-4.17/Swift/Guest) and the few hand-written primitives beside it.

/// The Xen release and interface version this layer was generated from.
public enum XenABIRelease {
    public static var xenVersion: StaticString { "4.17" }
    public static var interfaceVersion: UInt32 { UInt32(bitPattern: __XEN_LATEST_INTERFACE_VERSION__) }
}

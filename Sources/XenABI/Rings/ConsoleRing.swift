// The PV console page (`struct xencons_interface`, io/console.h) as the guest sees it: it writes
// `out` and reads `in`.

public struct XenConsoleRing: ~Copyable {
    public var output: XenByteWriter
    public var input: XenByteReader

    /// Attaches where the offsets stand now.
    @inlinable
    public init(_ interface: UnsafeMutableRawPointer) throws(XenRingError) {
        let out = try XenByteStream(xencons_interface_out.self, interface: interface)
        let in_ = try XenByteStream(xencons_interface_in.self, interface: interface)
        output = XenByteWriter(out)
        input = XenByteReader(in_)
    }
}

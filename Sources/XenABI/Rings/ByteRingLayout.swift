// What abigen finds as a byte ring: an interface struct with a power-of-two `char NAME[N]` buffer
// and the `NAME_cons` / `NAME_prod` offsets beside it (`xencons_interface`'s `in` and `out`,
// `xenstore_domain_interface`'s `req` and `rsp`). One generated conforming type per buffer.

public protocol XenByteRingLayout {
    /// `struct.buffer`, as in the headers.
    static var name: StaticString { get }
    /// The buffer's offset in the interface struct.
    static var dataOffset: Int { get }
    /// The buffer's size in bytes, a power of two.
    static var capacity: RING_IDX { get }
    /// The offsets of `NAME_cons` and `NAME_prod` in the interface struct.
    static var consumerOffset: Int { get }
    static var producerOffset: Int { get }
}

/// What abigen finds as a flex ring (`DEFINE_XEN_FLEX_RING_AND_INTF`, or `DEFINE_XEN_FLEX_RING`
/// with its own `name_data_intf`): the interface page's offsets for both directions. The data
/// lives apart, `2 << order` pages split into `in` and `out` halves.
public protocol XenFlexRingLayout {
    static var name: StaticString { get }
    static var inConsumerOffset: Int { get }
    static var inProducerOffset: Int { get }
    static var outConsumerOffset: Int { get }
    static var outProducerOffset: Int { get }
    static var ringOrderOffset: Int { get }
    /// `ref[]`: the grant references of the data pages.
    static var referencesOffset: Int { get }
}

// Single accesses to a 32-bit field a peer can write, for the fields outside the rings' indexes
// (xenstore's features, connection state and error; a flex ring's order).
import XenSharedMemory

public enum XenSharedMemoryAccess {
    /// One volatile load: the value is read once, whatever the compiler would like.
    @inlinable public static func read(_ field: UnsafeRawPointer) -> UInt32 { xen_shared_read_u32(field) }
    /// One volatile store.
    @inlinable public static func write(_ field: UnsafeMutableRawPointer, _ value: UInt32) { xen_shared_write_u32(field, value) }
    /// `xen_mb()`: a full fence (mfence).
    @inlinable public static func fullBarrier() { xen_shared_mb() }
}

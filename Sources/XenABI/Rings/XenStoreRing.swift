// The xenstore page (`struct xenstore_domain_interface`, io/xs_wire.h; docs/misc/xenstore-ring.txt)
// as the guest sees it: requests go out on `req`, responses and watch events come back on `rsp`.
// Beside the two byte rings, the server advertises features, and with them may set the
// connection state (reconnection) and an error code (connection error indicator).

public struct XenStoreRing: ~Copyable {
    @usableFromInline let interface: UnsafeMutableRawPointer
    public var requests: XenByteWriter
    public var responses: XenByteReader

    /// Attaches where the offsets stand now: a guest must not assume they start at zero.
    @inlinable
    public init(_ interface: UnsafeMutableRawPointer) throws(XenRingError) {
        self.interface = interface
        let req = try XenByteStream(xenstore_domain_interface_req.self, interface: interface)
        let rsp = try XenByteStream(xenstore_domain_interface_rsp.self, interface: interface)
        requests = XenByteWriter(req)
        responses = XenByteReader(rsp)
    }

    /// `server_features`: bits are only ever added, and only the server writes them.
    @inlinable
    public var serverFeatures: UInt32 { XenSharedMemoryAccess.read(interface + xenstore_domain_interface.FieldOffset.server_features) }

    @inlinable
    public func serverSupports(_ feature: Int32) -> Bool { serverFeatures & UInt32(bitPattern: feature) != 0 }

    /// Refuses to go on when the server has deactivated the connection
    /// (XENSTORE_SERVER_FEATURE_ERROR and a non-zero `error`) or a reconnection is in progress
    /// (XENSTORE_SERVER_FEATURE_RECONNECTION and `connection` = XENSTORE_RECONNECT): in both
    /// cases every field but `connection` is to be ignored.
    @inlinable
    public func checkConnection() throws(XenRingError) {
        let features = serverFeatures
        if features & UInt32(bitPattern: XENSTORE_SERVER_FEATURE_ERROR) != 0 {
            let error = XenSharedMemoryAccess.read(interface + xenstore_domain_interface.FieldOffset.error)
            if error != UInt32(bitPattern: XENSTORE_ERROR_NONE) { throw .peerReportedError(error) }
        }
        if features & UInt32(bitPattern: XENSTORE_SERVER_FEATURE_RECONNECTION) != 0,
           XenSharedMemoryAccess.read(interface + xenstore_domain_interface.FieldOffset.connection) != UInt32(bitPattern: XENSTORE_CONNECTED) {
            throw .reconnecting
        }
    }

    /// Writes as much of a request as fits; the caller then signals the event channel.
    @inlinable
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(XenRingError) -> Int {
        try checkConnection()
        return try requests.write(bytes)
    }

    /// Reads what has arrived, up to the buffer's size.
    @inlinable
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(XenRingError) -> Int {
        try checkConnection()
        return try responses.read(into: buffer)
    }

    /// Asks the server to reset the ring (xenstore-ring.txt, "The ring reconnection feature"):
    /// sets `connection` to XENSTORE_RECONNECT. The caller signals the event channel and waits for
    /// `reattachIfConnected()` to succeed.
    @inlinable
    public func requestReconnection() throws(XenRingError) {
        guard serverSupports(XENSTORE_SERVER_FEATURE_RECONNECTION) else { throw .unsupported }
        XenSharedMemoryAccess.fullBarrier()
        XenSharedMemoryAccess.write(interface + xenstore_domain_interface.FieldOffset.connection, UInt32(bitPattern: XENSTORE_RECONNECT))
    }

    /// Once the server has set `connection` back to XENSTORE_CONNECTED, takes up the offsets it
    /// left (empty queues, wherever they stand). Returns false while the reconnection runs.
    @inlinable
    public mutating func reattachIfConnected() throws(XenRingError) -> Bool {
        guard XenSharedMemoryAccess.read(interface + xenstore_domain_interface.FieldOffset.connection) == UInt32(bitPattern: XENSTORE_CONNECTED) else { return false }
        XenSharedMemoryAccess.fullBarrier()
        self = try XenStoreRing(interface)
        return true
    }
}

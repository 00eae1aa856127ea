// What a driver returns instead of blocking: the kernel's event loop does the waiting, and calls
// the driver again when its port fires or the deadline passes (MirageOS splits its rings the same
// way: the protocol in `Ring`, the waiting in `Lwt_ring`).

public enum XenWait: Equatable {
    /// Nothing left to do until one of the driver's ports fires.
    case event
    /// Call again when a port fires or, at the latest, at this system time (nanoseconds).
    case deadline(UInt64)
    /// More work is ready now: call again before blocking.
    case ready

    /// The sooner of two waits: what a caller driving several machines blocks on.
    @inlinable
    public func sooner(_ other: XenWait) -> XenWait {
        switch (self, other) {
        case (.ready, _), (_, .ready): return .ready
        case (.event, let w), (let w, .event): return w
        case (.deadline(let a), .deadline(let b)): return .deadline(min(a, b))
        }
    }
}

// The toolstack's control key (xl shutdown, xl reboot) through XenDevices' XenBusControl, run
// after each round of the store; the main flow ends the domain once `requested` is set.
import XenABI
import XenDevices

enum Control {
    nonisolated(unsafe) static var control = XenBusControl()
    nonisolated(unsafe) static var owner = -1

    static var requested: XenBusControl.Request? { with { $0.requested } }
    static func with<R>(_ body: (inout XenBusControl) -> R) -> R { body(&control) }

    static func start() -> XenStoreError? {
        do { try control.start(store: &Store.client!) } catch { return error }
        owner = EventLoop.register { _ in advance(); return .done }
        Store.subscribe(owner)
        return nil
    }

    /// The end of a `wait` or `interactive` run: waits for the toolstack's request; the verdict
    /// follows it.
    static func awaitShutdown() -> ShutdownReason {
        guard Store.client != nil else { Report.skip("wait for control/shutdown", "no xenstore connection"); return .poweroff }
        Console.write("guest: waiting for control/shutdown (xl shutdown or xl reboot)\n")
        _ = EventLoop.run(until: { requested != nil })
        return requested == .reboot ? .reboot : .poweroff
    }

    static func advance() {
        _ = control.advance(store: &Store.client!)
        while let event = control.takeEvent() {
            switch event {
            case .accepted(let r):
                Console.write(r == .poweroff ? "guest: control/shutdown \"poweroff\" accepted\n" : "guest: control/shutdown \"reboot\" accepted\n")
            case .refused(let value):
                Console.write("guest: control/shutdown \""); Console.write(bytes: value)
                Console.write("\" refused: this kernel does not suspend (only poweroff and reboot are built)\n")
            }
        }
    }
}

// The device layer's platform on the real hypervisor: what a driver is given is what Xen does.
// A page granted to ourselves and mapped back, whose access cannot end while it is mapped
// (XSA-396), a grant copy, and an event channel made through the platform and delivered by the
// event loop.
import XenABI
import XenDevices

enum PlatformTests {
    static func run() {
        let platform = GuestPlatform()
        grantMappedBackAndEnded(platform)
        eventChannelThroughThePlatform(platform)
    }

    static func grantMappedBackAndEnded(_ platform: GuestPlatform) {
        let name: StaticString = "platform: a granted page mapped back; access cannot end while mapped (XSA-396)"
        do throws(XenPlatformError) {
            let page = try platform.allocatePage()
            defer { platform.freePage(page) }
            let bytes = page.address.assumingMemoryBound(to: UInt8.self)
            for i in 0..<64 { bytes[i] = UInt8(truncatingIfNeeded: i &* 5 &+ 7) }
            let ref = try platform.grantAccess(to: platform.domainID, frame: page.frame, readOnly: false)
            let mapping = try platform.mapGrant(from: platform.domainID, ref: ref, readOnly: false)
            let seen = mapping.address.assumingMemoryBound(to: UInt8.self)
            let same = (0..<64).allSatisfy { seen[$0] == bytes[$0] }
            seen[100] = 0xA5
            let shared = bytes[100] == 0xA5
            let whileMapped = platform.endAccess(ref)
            try platform.unmapGrant(mapping)
            let afterUnmap = platform.endAccess(ref)
            Report.check(name, same && shared && whileMapped == .stillMapped && afterUnmap == .ended,
                         "the same frame through the mapping, stillMapped while mapped, ended after unmap")
        } catch {
            report(name, error)
        }
    }

    static func eventChannelThroughThePlatform(_ platform: GuestPlatform) {
        let name: StaticString = "platform: an unbound port bound and notified, delivered to its owner"
        do throws(XenPlatformError) {
            let local = try platform.allocateUnboundPort(for: platform.domainID)
            let peer = try platform.bindInterdomain(remote: platform.domainID, remotePort: local)
            let count = Counter()
            let owner = EventLoop.register { _ in count.value += 1; return .done }
            do { try EventLoop.bind(local, to: owner) } catch { Report.error(name, "EventLoop.bind", error); return }
            platform.notify(peer)
            let delivered = EventLoop.run(until: { count.value >= 1 }, timeout: SelfTests.deadline(ms: 100))
            platform.closePort(peer)
            platform.closePort(local)
            Report.check(name, delivered && count.value == 1, "one delivery")
        } catch {
            report(name, error)
        }
    }

    static func report(_ name: StaticString, _ error: XenPlatformError) {
        switch error {
        case let .hypercall(errno): Report.error(name, "platform", XenError(code: Int32(bitPattern: errno.rawValue)))
        case let .grantStatus(status): Report.error(name, "platform", .grantStatus(status))
        case .outOfPages: Report.error(name, "platform", .noFreePage)
        case .outOfGrantEntries, .unsupported: Report.fail(name, "no grant entry, or unsupported")
        }
    }
}

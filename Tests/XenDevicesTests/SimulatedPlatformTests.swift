// The simulated platform keeps the contract drivers rely on, so later driver tests can trust
// it: a grant the peer still maps cannot end (XSA-396), grant copies stay inside their pages.
import Testing
import XenABI
@testable import XenDevices

@Suite("simulated platform")
struct SimulatedPlatformTests {
    @Test("ending a grant the peer still maps reports stillMapped and keeps the grant (XSA-396)")
    func stillMapped() throws {
        let platform = SimulatedPlatform()
        let page = try platform.allocatePage()
        let ref = try platform.grantAccess(to: 0, frame: page.frame, readOnly: false)
        #expect(ref >= 8, "entries 0-7 are the toolstack's")
        let mapping = try platform.mapGrant(from: 5, ref: ref, readOnly: false)
        #expect(platform.endAccess(ref) == .stillMapped)
        #expect(platform.grants[ref] != nil, "the grant stays while mapped")
        try platform.unmapGrant(mapping)
        #expect(platform.endAccess(ref) == .ended)
        platform.freePage(page)
    }

    @Test("a grant copy past the end of a page is refused")
    func copyBounds() throws {
        let platform = SimulatedPlatform()
        let a = try platform.allocatePage(), b = try platform.allocatePage()
        let ref = try platform.grantAccess(to: 0, frame: a.frame, readOnly: true)
        a.address.storeBytes(of: 0xAB, toByteOffset: 100, as: UInt8.self)
        try platform.copyGrant(from: .grant(domain: 5, ref: ref, offset: 100), to: .local(frame: b.frame, offset: 0), length: 1)
        #expect(b.address.load(as: UInt8.self) == 0xAB)
        #expect(throws: XenPlatformError.hypercall(.XEN_EINVAL)) {
            try platform.copyGrant(from: .grant(domain: 5, ref: ref, offset: 4000), to: .local(frame: b.frame, offset: 0), length: 200)
        }
    }
}

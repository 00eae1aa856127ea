// What the model must say about Debian's installed Xen 4.17 headers.
import Testing
@testable import ABIGen

@Suite struct InstalledHeadersTests {
    let model = RealHeaders.model

    @Test func constantsBehindFunctionLikeMacrosHaveValuesAndCTypes() throws {
        let domidSelf = try #require(RealHeaders.constant("DOMID_SELF"), "DOMID_SELF (xen_mk_uint) must be a constant")
        #expect(domidSelf.value == .integer(0x7FF0, unsigned: true))
        #expect(domidSelf.cType == "unsigned int")
        let uvmfAll = try #require(RealHeaders.constant("UVMF_ALL"), "UVMF_ALL (xen_mk_ulong) must be a constant")
        #expect(uvmfAll.value == .integer(4, unsigned: true))
        #expect(uvmfAll.cType == "unsigned long")
        // __CONST_RING_SIZE(usbif_urb, USBIF_RING_SIZE): the ring size 4.17 defines that way, which
        // must agree with the size computed from the ring's own layout.
        let urb = try #require(RealHeaders.constant("USB_URB_RING_SIZE"))
        let ring = try #require(model.rings.first { $0.name == "usbif_urb" })
        #expect(urb.value == .integer(Int64(ring.pageRingSize), unsigned: true))
        #expect(urb.cType == "unsigned long")
    }

    @Test func stringConstantsAreRead() throws {
        let native = try #require(RealHeaders.constant("XEN_IO_PROTO_ABI_NATIVE"))
        #expect(native.value == .string("x86_64-abi"))
    }

    @Test func headerSetFollowsTheRule() {
        #expect(model.headers.count == 68)
        let skipped = Set(model.skippedHeaders.map(\.header))
        for linux in ["privcmd.h", "gntdev.h", "gntalloc.h", "evtchn.h", "sys/privcmd.h"] { #expect(skipped.contains(linux), "\(linux) is Linux's, not Xen's") }
        for other in ["arch-arm.h", "arch-x86_32.h", "arch-x86/xen-x86_32.h", "foreign/x86_64.h", "dom0_ops.h"] { #expect(skipped.contains(other)) }
        #expect(model.headers.contains("io/9pfs.h") && model.headers.contains("io/pvcalls.h"))
        #expect(model.includedThrough["arch-x86/hvm/save.h"] == "hvm/save.h")
        #expect(Set(model.headers).isDisjoint(with: skipped))
    }

    @Test func oneEntityPerTypeAcrossTranslationUnits() {
        var seen = Set<String>()
        for t in model.types { #expect(seen.insert(t.key).inserted, "\(t.key) appears twice") }
        // struct mmuext_op is reached from xen.h in every translation unit.
        #expect(model.types.filter { $0.key == "struct mmuext_op" }.count == 1)
    }

    @Test func toolsOnlyAndToolsShapes() throws {
        #expect(RealHeaders.type("struct xen_domctl")?.visibility == .toolsOnly)
        #expect(RealHeaders.type("struct xen_sysctl")?.visibility == .toolsOnly)
        #expect(RealHeaders.type("struct evtchn_send")?.visibility == .guest)
        let regs = try #require(RealHeaders.type("struct cpu_user_regs"))
        #expect(regs.visibility == .guest)
        let tools = try #require(regs.toolsShape, "cpu_user_regs has register unions under __XEN_TOOLS__")
        #expect(tools.size == regs.size)
        #expect(tools.fields?.contains { $0.name == nil } == true)
        // Both views use anonymous unions; only the tools view adds the 8/16-bit names.
        #expect(RealHeaders.type("struct cpu_user_regs::rax_union")?.fields?.contains { $0.name == "rax" } == true)
        #expect(tools.fields != regs.fields)
    }

    @Test func anonymousMembersAreNamedFromContext() {
        for t in model.types {
            #expect(!t.swiftName.contains("anon") && !t.swiftName.contains("unnamed") && !t.swiftName.contains("("), "\(t.key) -> \(t.swiftName)")
        }
        #expect(RealHeaders.type("struct cpu_user_regs::rax_union")?.swiftName == "cpu_user_regs.rax_union_t")
        #expect(RealHeaders.type("struct evtchn_status::u")?.swiftName == "evtchn_status.u_t")
    }

    @Test func bitfieldsCarryBitOffsetsAndWidths() throws {
        let ioreq = try #require(RealHeaders.type("struct ioreq"))
        let state = try #require(ioreq.fields?.first { $0.name == "state" })
        #expect(state.bitWidth == 4)
        let dataIsPtr = try #require(ioreq.fields?.first { $0.name == "data_is_ptr" })
        #expect(dataIsPtr.bitWidth == 1 && dataIsPtr.bitOffset == (state.bitOffset ?? -1) + 4)
    }

    @Test func ringInstancesAreFoundWithTheirPageSizes() {
        let rings = Dictionary(model.rings.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for name in ["blkif", "netif_tx", "netif_rx", "xen_netif_ctrl"] { #expect(rings[name] != nil, "ring \(name)") }
        #expect(rings["netif_tx"]?.pageRingSize == 256)
        #expect(rings["netif_rx"]?.pageRingSize == 256)
        #expect(rings["blkif"]?.pageRingSize == 32)
    }

    @Test func guestHandlesAreRecognised() {
        #expect(RealHeaders.type("__guest_handle_uint8")?.guestHandleOf == .integer(bits: 8, signed: false))
    }

    @Test func specFamiliesAndHypercallsResolve() throws {
        let evtchn = try #require(model.families.first { $0.swiftName == "EventChannelOp" })
        #expect(evtchn.members.contains("EVTCHNOP_send"))
        let gtf = try #require(model.families.first { $0.swiftName == "GrantEntryFlags" })
        #expect(gtf.typeFieldMembers?.contains("GTF_permit_access") == true)
        #expect(gtf.members.contains("GTF_readonly"))
        #expect(!gtf.members.contains("GTF_permit_access"))
        let call = try #require(model.hypercalls.first { $0.name == "event_channel_op" })
        #expect(call.number == 32)
        #expect(call.subops.first { $0.constant == "EVTCHNOP_send" }?.argument == "struct evtchn_send")
        #expect(model.hypercalls.count == 20)
    }

    @Test func nothingIsLeftUnexpressedAndNonValuesAreAccountedFor() {
        #expect(model.unexpressed.isEmpty)
        let categories = Set(model.nonValueMacros.map(\.category.rawValue))
        #expect(categories.isSubset(of: ["empty", "type", "attribute", "statement", "not-constant", "alias of a non-value"]))
    }

    @Test func manifestRoundTripsByteForByte() throws {
        let text = try ManifestWriter.encode(model)
        let back = try ManifestWriter.decode(Data(text.utf8), from: "test")
        #expect(try ManifestWriter.encode(back) == text)
    }
}

import Foundation

// The wire format: requests as xs_wire.h frames them, replies refused unless they follow their
// type's syntax (xenstore.txt), error names mapped to xen_errno.
import Testing
import XenABI
@testable import XenDevices

@Suite("xenstore wire format")
struct XenStoreWireTests {
    func parse(_ type: xsd_sockmsg_type, _ payload: [UInt8], to request: xsd_sockmsg_type) -> Result<XenStoreReply, XenStoreError> {
        Result { () throws(XenStoreError) in try XenStoreWire.parseReply(type: type.rawValue, payload: payload[...], to: request) }
    }

    @Test("a request is an xsd_sockmsg header and its payload: WRITE's value carries no nul")
    func requestFraming() throws {
        let encoded = try XenStoreRequest.write(path("device/vif/0/state"), bytes("4"), transaction: 9).encoded(requestID: 3)
        let header = encoded.withUnsafeBytes { $0.loadUnaligned(as: xsd_sockmsg.self) }
        #expect(header.type == xsd_sockmsg_type.XS_WRITE.rawValue && header.req_id == 3 && header.tx_id == 9)
        #expect(Int(header.len) == encoded.count - 16, "len counts the payload only")
        #expect(Array(encoded[16...]) == bytes("device/vif/0/state") + [0] + bytes("4"))
        let perms = XenStoreRequest.setPermissions(path("/a"), [.init(.none, 5), .init(.read, 0)])
        #expect(perms.payload == bytes("/a") + [0] + bytes("n5") + [0] + bytes("r0") + [0])
        // Two strings, the offset's terminated too: the C daemon answers EINVAL to one.
        let part = XenStoreRequest.directoryPart(path("device/vif"), offset: 4080, transaction: 3)
        #expect(part.type == .XS_DIRECTORY_PART && part.transaction == 3)
        #expect(part.payload == bytes("device/vif") + [0] + bytes("4080") + [0])
        #expect(XenStoreRequest.directoryPart(path("/a"), offset: 0).payload == bytes("/a") + [0, 48, 0])
    }

    @Test("a payload over XENSTORE_PAYLOAD_MAX is never sent: xenstored would kill the connection")
    func oversizedRequestRefused() {
        let big = XenStoreRequest.write(path("/a"), [UInt8](repeating: 65, count: 4094))
        #expect(throws: XenStoreError.requestTooLong) { try big.encoded(requestID: 1) }
        #expect((try? XenStoreRequest.write(path("/a"), [UInt8](repeating: 65, count: 4093)).encoded(requestID: 1)) != nil)
    }

    @Test("every name in xs_wire.h's xsd_errors maps to its xen_errno; others are unknown")
    func errorNames() {
        let names = ["EINVAL", "EACCES", "EEXIST", "EISDIR", "ENOENT", "ENOMEM", "ENOSPC", "EIO", "ENOTEMPTY", "ENOSYS", "EROFS", "EBUSY", "EAGAIN", "EISCONN", "E2BIG", "EPERM"]
        let codes: [xen_errno] = [.XEN_EINVAL, .XEN_EACCES, .XEN_EEXIST, .XEN_EISDIR, .XEN_ENOENT, .XEN_ENOMEM, .XEN_ENOSPC, .XEN_EIO, .XEN_ENOTEMPTY, .XEN_ENOSYS, .XEN_EROFS, .XEN_EBUSY, .XEN_EAGAIN, .XEN_EISCONN, .XEN_E2BIG, .XEN_EPERM]
        for (name, code) in zip(names, codes) {
            #expect(parse(.XS_ERROR, bytes(name) + [0], to: .XS_READ) == .failure(.daemon(code)), "\(name)")
        }
        #expect(parse(.XS_ERROR, bytes("EQUOTA") + [0], to: .XS_READ) == .failure(.unknownDaemonError))
        #expect(parse(.XS_ERROR, bytes("ENOENT"), to: .XS_READ) == .failure(.malformedReply), "unterminated")
        #expect(parse(.XS_ERROR, bytes("ENOENT") + [0, 0], to: .XS_READ) == .failure(.malformedReply), "bytes after the name")
        #expect(parse(.XS_ERROR, bytes("ENO") + [0] + bytes("ENT") + [0], to: .XS_READ) == .failure(.malformedReply))
    }

    @Test("OK replies are exactly OK and a nul")
    func okReplies() {
        #expect(parse(.XS_WRITE, bytes("OK") + [0], to: .XS_WRITE) == .success(.ok))
        for bad in [bytes("OK"), bytes("OK") + [0, 0], bytes("NO") + [0], [], bytes("OKAY") + [0]] {
            #expect(parse(.XS_WRITE, bad, to: .XS_WRITE) == .failure(.malformedReply), "\(bad)")
        }
    }

    @Test("a reply of another type than the request's is refused")
    func mismatchedType() {
        #expect(parse(.XS_DIRECTORY, bytes("a") + [0], to: .XS_READ) == .failure(.mismatchedReply))
        #expect(parse(.XS_WATCH_EVENT, bytes("a") + [0], to: .XS_WRITE) == .failure(.mismatchedReply))
    }

    @Test("READ's value is binary and kept whole; DIRECTORY's names are terminated leaf names")
    func readAndDirectory() {
        #expect(parse(.XS_READ, [1, 0, 2], to: .XS_READ) == .success(.value([1, 0, 2])))
        #expect(parse(.XS_READ, [], to: .XS_READ) == .success(.value([])))
        #expect(parse(.XS_DIRECTORY, bytes("0") + [0] + bytes("12") + [0], to: .XS_DIRECTORY) == .success(.children([bytes("0"), bytes("12")])))
        #expect(parse(.XS_DIRECTORY, [], to: .XS_DIRECTORY) == .success(.children([])))
        for bad in [bytes("0") + [0] + bytes("1"), [0], bytes("a/b") + [0], bytes("a b") + [0], [0xFF, 0]] {
            #expect(parse(.XS_DIRECTORY, bad, to: .XS_DIRECTORY) == .failure(.malformedReply), "\(bad)")
        }
    }

    @Test("DIRECTORY_PART's page: a decimal generation count, names, and an empty name after the last on the last page")
    func directoryPart() {
        func page(_ generation: UInt64, _ names: [String], last: Bool) -> Result<XenStoreReply, XenStoreError> {
            .success(.childrenPart(generation: generation, children: names.map(bytes), isLast: last))
        }
        #expect(parse(.XS_DIRECTORY_PART, bytes("17") + [0] + bytes("a") + [0] + bytes("b") + [0], to: .XS_DIRECTORY_PART) == page(17, ["a", "b"], last: false))
        #expect(parse(.XS_DIRECTORY_PART, bytes("17") + [0] + bytes("a") + [0, 0], to: .XS_DIRECTORY_PART) == page(17, ["a"], last: true))
        #expect(parse(.XS_DIRECTORY_PART, bytes("0") + [0, 0], to: .XS_DIRECTORY_PART) == page(0, [], last: true), "an offset at or past the end")
        #expect(parse(.XS_DIRECTORY_PART, bytes("18446744073709551615") + [0], to: .XS_DIRECTORY_PART) == page(.max, [], last: false))
        let bad: [[UInt8]] = [
            [], [0], [0, 0],                                         // no generation count
            bytes("17"),                                             // unterminated
            bytes("17") + [0] + bytes("a"),                          // a name unterminated
            bytes("1x") + [0, 0], bytes("-1") + [0, 0], bytes("18446744073709551616") + [0, 0],
            bytes("17") + [0] + bytes("a") + [0, 0] + bytes("b") + [0],  // an empty name before the end
            bytes("17") + [0, 0, 0],                                 // two end markers
            bytes("17") + [0] + bytes("a/b") + [0, 0],
            bytes("17") + [0] + bytes("a.b") + [0, 0],
            bytes("17") + [0] + [UInt8](repeating: 97, count: 3072) + [0, 0],  // no child of the root is that long
        ]
        for payload in bad {
            #expect(parse(.XS_DIRECTORY_PART, payload, to: .XS_DIRECTORY_PART) == .failure(.malformedReply), "\(payload.prefix(40))")
        }
        #expect(parse(.XS_DIRECTORY_PART, bytes("17") + [0] + [UInt8](repeating: 97, count: 3071) + [0, 0], to: .XS_DIRECTORY_PART)
                == .success(.childrenPart(generation: 17, children: [[UInt8](repeating: 97, count: 3071)], isLast: true)))
        #expect(parse(.XS_DIRECTORY, bytes("17") + [0, 0], to: .XS_DIRECTORY_PART) == .failure(.mismatchedReply))
        #expect(parse(.XS_DIRECTORY_PART, bytes("a") + [0], to: .XS_DIRECTORY) == .failure(.mismatchedReply))
    }

    @Test("GET_PERMS gives at least one entry, each a letter and a domid; TRANSACTION_START a non-zero decimal id")
    func permissionsAndTransactionIDs() {
        #expect(parse(.XS_GET_PERMS, bytes("n5") + [0] + bytes("b0") + [0], to: .XS_GET_PERMS) == .success(.permissions([.init(.none, 5), .init(.both, 0)])))
        for bad in [[], bytes("x5") + [0], bytes("r") + [0], bytes("r65536") + [0], bytes("r-1") + [0], bytes("r5")] {
            #expect(parse(.XS_GET_PERMS, bad, to: .XS_GET_PERMS) == .failure(.malformedReply), "\(bad)")
        }
        #expect(parse(.XS_TRANSACTION_START, bytes("4294967295") + [0], to: .XS_TRANSACTION_START) == .success(.transaction(.max)))
        for bad in [bytes("0") + [0], bytes("4294967296") + [0], bytes("12"), bytes("1a") + [0], bytes(" 1") + [0], [0]] {
            #expect(parse(.XS_TRANSACTION_START, bad, to: .XS_TRANSACTION_START) == .failure(.malformedReply), "\(bad)")
        }
    }

    @Test("a watch event is exactly a valid path and a token, each terminated")
    func watchEvents() throws {
        let e = try XenStoreWire.parseWatchEvent((bytes("device/vif") + [0] + bytes("xw1") + [0])[...])
        #expect(e.path == bytes("device/vif") && e.token == bytes("xw1"))
        #expect(throws: XenStoreError.self) { try XenStoreWire.parseWatchEvent((bytes("a") + [0] + bytes("t"))[...]) }
        #expect(throws: XenStoreError.self) { try XenStoreWire.parseWatchEvent((bytes("a") + [0])[...]) }
        #expect(throws: XenStoreError.self) { try XenStoreWire.parseWatchEvent((bytes("a") + [0] + bytes("t") + [0] + bytes("x") + [0])[...]) }
        #expect(throws: XenStoreError.invalidPath) { try XenStoreWire.parseWatchEvent((bytes("a//b") + [0] + bytes("t") + [0])[...]) }
    }

    @Test("paths follow xenstore.txt: characters, slashes, lengths")
    func paths() {
        for good in ["/", "/local/domain/5", "device/vif/0", "a-b_c@d"] { #expect(XenStorePath.isValid(bytes(good)), "\(good)") }
        for bad in ["", "//", "/a/", "a//b", "/a b", "/a\u{0}b", "/a.b", "../x", "/local/domain/0/backend/vif/5/0/.."] {
            #expect(!XenStorePath.isValid(bytes(bad)), "\(bad)")
        }
        #expect(XenStorePath.isValid([47] + [UInt8](repeating: 97, count: 3071)))
        #expect(!XenStorePath.isValid([47] + [UInt8](repeating: 97, count: 3072)), "over XENSTORE_ABS_PATH_MAX")
        #expect(!XenStorePath.isValid([UInt8](repeating: 97, count: 2049)), "relative over XENSTORE_REL_PATH_MAX")
        #expect(throws: XenStoreError.invalidPath) { try path("/a").appending(bytes("b/c")) }
        #expect(path("/").appending("a").bytes == bytes("/a"))
        #expect(path("device/vif").appending(decimal: 12).bytes == bytes("device/vif/12"))
    }

    @Test("decimal values: digits only, bounded")
    func decimals() {
        #expect(xenParseDecimal(bytes("0"), maximum: 10) == 0)
        #expect(xenParseDecimal(bytes("18446744073709551615"), maximum: .max) == .max)
        for bad in ["", "-1", "+1", " 1", "1 ", "0x10", "11", "18446744073709551616", "99999999999999999999999"] {
            #expect(xenParseDecimal(bytes(bad), maximum: bad.count > 3 ? .max : 10) == nil, "\(bad)")
        }
        var out: [UInt8] = []
        out.appendDecimal(0); out.appendDecimal(.max)
        #expect(out.text == "018446744073709551615")
    }
}

// libFuzzer target: the xenstore client's reply path. The input's first bytes choose up to four
// requests, a watch and a directory listing, and how the rest arrives; the rest is what a
// hostile daemon puts on the response ring, in pieces, with the client handling an event after
// each. Every payload is also parsed directly as a reply to each request type and as a watch
// event. Nothing may crash, read past a length, leave more in flight than the client allows,
// or list more than the listing's bounds.
import XenABI
import XenDevices

/// The client needs no pages or grants of its own: any it asked for would be a bug.
struct FuzzPlatform: FuzzPlatformStubs {
    func allocatePage() throws(XenPlatformError) -> XenPage { throw .outOfPages }
    func freePage(_ page: XenPage) {}
    func grantAccess(to domain: domid_t, frame: UInt64, readOnly: Bool) throws(XenPlatformError) -> grant_ref_t { 8 }
    func endAccess(_ ref: grant_ref_t) -> XenGrantEnd { .ended }
}

let requestTypes: [xsd_sockmsg_type] = [.XS_READ, .XS_WRITE, .XS_DIRECTORY, .XS_DIRECTORY_PART, .XS_GET_PERMS, .XS_TRANSACTION_START, .XS_RM, .XS_WATCH, .XS_SET_PERMS]

func request(_ selector: UInt8) -> XenStoreRequest {
    let p = XenStorePath("data/x")
    switch selector % 8 {
    case 0: return .read(p)
    case 1: return .write(p, [1, 2])
    case 2: return .directory(p)
    case 3: return .getPermissions(p)
    case 4: return .rm(p)
    case 5: return .mkdir(p)
    case 6: return .directoryPart(p, offset: UInt32(selector))
    default: return .setPermissions(p, [XenStorePermission(.read, 0)])
    }
}

/// A DIRECTORY or DIRECTORY_PART reply's names: every one a leaf name, none empty or holding a nul.
func checkNames(_ names: [[UInt8]]) {
    check(names.allSatisfy { !$0.isEmpty && !$0.contains(0) && !$0.contains(UInt8(ascii: "/")) }, "an empty, nul- or slash-holding name")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 6 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    // Direct parses: the payload as every type's reply, and as a watch event.
    let payload = Array(input[6...].prefix(Int(XENSTORE_PAYLOAD_MAX) + 16))[...]
    for type in requestTypes {
        let reply = Result { () throws(XenStoreError) in try XenStoreWire.parseReply(type: UInt32(input[0] % 24), payload: payload, to: type) }
        if case .success(.value(let v)) = reply { check(v.count <= Int(XENSTORE_PAYLOAD_MAX), "a value longer than the payload maximum") }
        if case .success(.children(let names)) = reply { checkNames(names) }
        if case .success(.childrenPart(_, let names, _)) = reply {
            checkNames(names)
            check(names.count <= Int(XENSTORE_PAYLOAD_MAX) / 2, "more names than a payload holds")
        }
    }
    if let event = try? XenStoreWire.parseWatchEvent(payload) { check(!event.path.contains(0) && !event.token.contains(0), "a nul inside an event string") }

    // The client: requests out, the input in on the response ring.
    let page = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<xenstore_domain_interface>.size, alignment: 4)
    defer { page.deallocate() }
    page.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<xenstore_domain_interface>.size)
    (page + xenstore_domain_interface.FieldOffset.server_features).storeBytes(of: UInt32(input[1] & 3), as: UInt32.self)
    guard var client = try? XenStoreClient(interface: page, port: 1, platform: FuzzPlatform()) else { return 0 }
    var ids: [XenStoreRequestID] = []
    for i in 0..<Int(input[2] % 5) { if let id = try? client.submit(request(input[3 + i % 3])) { ids.append(id) } }
    let watch = input[5] & 1 == 0 ? try? client.watch(XenStorePath("device")) : nil
    // A listing, when input[1] asks for one: its DIRECTORY goes out now, its pages as replies come.
    let listed = input[1] & 4 != 0
    var listing = XenStoreDirectoryListing(XenStorePath("data"), maxChildren: 64, maxBytes: 1024)
    if listed { _ = listing.advance(store: &client) }
    // Drain what the client wrote, as the daemon would, so its writes never fill the ring.
    var requests = XenByteReader(try! XenByteStream(xenstore_domain_interface_req.self, interface: page))
    var responses = XenByteWriter(try! XenByteStream(xenstore_domain_interface_rsp.self, interface: page))
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 8)
    defer { scratch.deallocate() }
    var offset = 6
    let chunk = 1 + Int(input[5] >> 1)
    var rounds = 0
    while offset < size, rounds < 64 {
        _ = try? requests.read(into: scratch)
        let piece = UnsafeRawBufferPointer(start: data + offset, count: min(chunk, size - offset))
        guard let n = try? responses.write(piece) else { break }
        offset += n
        _ = client.handleEvent()
        rounds += 1
        check(client.requestsInFlight <= XenStoreClient<FuzzPlatform>.maxInFlight, "more in flight than allowed")
        for id in ids {
            if case .success(.value(let v))? = client.takeReply(id) { check(v.count <= Int(XENSTORE_PAYLOAD_MAX), "an oversized value") }
        }
        if let watch { while let e = client.takeWatchEvent(watch) { check(e.path.count <= Int(XENSTORE_ABS_PATH_MAX), "an event path too long") } }
        if listed, case .listed(let names) = listing.advance(store: &client) {
            checkNames(names)
            check(names.count <= 64 && names.reduce(0) { $0 + $1.count + 1 } <= 1024, "a listing past its bounds")
        }
    }
    return 0
}

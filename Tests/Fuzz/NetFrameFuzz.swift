// libFuzzer target: the net stack's receive path, with the input as one received frame (as
// netfront hands it over, exactly its length, so AddressSanitizer sees any read past it). A
// fresh stack that knows the peer and the gateway takes the frame as it is, then again as if
// the backend vouched for its L4 checksum and as if it were left blank, then once more with its
// IPv4, ICMP and UDP checksums made right (so mutations reach what lies behind them), before and
// after the ARP entries expire, and validated. Nothing may crash; every frame is answered,
// learned from or dropped, and counted once; a reply fits its buffer, is never longer than the
// frame, comes from our addresses, writes nothing past its length, is blank only as a UDP echo
// of a blank request, and has correct checksums whenever its request had (verified or made so).
import XenDevices

@inline(never) func check(_ condition: Bool, _ what: StaticString) { if !condition { fatalError("\(what)") } }

let ourMAC = MACAddress(0x00, 0x16, 0x3E, 0x00, 0x00, 0x02)
let configuration = NetConfiguration(mac: ourMAC, address: IPv4Address(10, 0, 0, 2), netmask: IPv4Address(255, 255, 255, 0),
                                     gateway: IPv4Address(10, 0, 0, 1), udpEchoPort: 7)
let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: 1514, alignment: 8)

/// The RFC 1071 sum of `bytes` added to `sum` (not complemented, not folded).
func sum(_ bytes: UnsafeRawBufferPointer, _ start: UInt32 = 0) -> UInt32 {
    var s = start
    for i in stride(from: 0, to: bytes.count, by: 2) { s &+= UInt32(bytes[i]) << 8 | (i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0) }
    return s
}
func folded(_ s: UInt32) -> UInt16 { var s = s; while s > 0xFFFF { s = (s & 0xFFFF) + (s >> 16) }; return UInt16(s) }
func be16(_ b: UnsafeRawBufferPointer, _ at: Int) -> Int { Int(b[at]) << 8 | Int(b[at + 1]) }
func store(_ b: UnsafeMutableRawBufferPointer, _ at: Int, _ v: UInt16) { b[at] = UInt8(v >> 8); b[at + 1] = UInt8(v & 0xFF) }

/// Makes the IPv4 header's checksum right, and the ICMP or UDP one, where the frame has them.
func fixChecksums(_ f: UnsafeMutableRawBufferPointer) {
    guard f.count >= 34, f[12] == 0x08, f[13] == 0x00 else { return }
    let ihl = Int(f[14] & 0x0F) * 4
    guard ihl >= 20, 14 + ihl <= f.count else { return }
    store(f, 24, 0)
    store(f, 24, ~folded(sum(UnsafeRawBufferPointer(rebasing: f[14..<14 + ihl]))))
    let end = 14 + min(be16(UnsafeRawBufferPointer(f), 16), f.count - 14)
    let l4 = 14 + ihl
    guard end >= l4 + 8 else { return }
    if f[23] == 1 {
        store(f, l4 + 2, 0)
        store(f, l4 + 2, ~folded(sum(UnsafeRawBufferPointer(rebasing: f[l4..<end]))))
    } else if f[23] == 17 {
        let length = be16(UnsafeRawBufferPointer(f), l4 + 4)
        guard length >= 8, l4 + length <= end else { return }
        store(f, l4 + 6, 0)
        let pseudo = sum(UnsafeRawBufferPointer(rebasing: f[26..<34]), UInt32(17 + length))
        let c = ~folded(sum(UnsafeRawBufferPointer(rebasing: f[l4..<l4 + length]), pseudo))
        store(f, l4 + 6, c == 0 ? 0xFFFF : c)
    }
}

/// A reply as the stack must write it: ours, and its checksums right when `l4Right` (its request's
/// were, or it was completed).
func checkReply(_ n: Int, frameSize: Int, l4Right: Bool, checksum: NetChecksum, blank: Bool) {
    for i in n..<reply.count { if reply[i] != 0xA5 { check(false, "a byte written past the reply") } }
    check(n <= reply.count, "a reply longer than its buffer")
    check(n <= max(frameSize, 42), "a reply longer than the frame")
    guard n > 0 else { check(!blank, "no reply, yet blank"); return }
    let r = UnsafeRawBufferPointer(rebasing: reply[0..<n])
    check(n >= 42, "a reply shorter than any we send")
    check(r[6] == 0x00 && r[7] == 0x16 && r[8] == 0x3E && r[9] == 0 && r[10] == 0 && r[11] == 2, "a reply not from our MAC")
    if r[12] == 0x08 && r[13] == 0x06 {
        check(n == 42 && r[28] == 10 && r[29] == 0 && r[30] == 0 && r[31] == 2, "an ARP packet not from our address")
        check(!blank, "an ARP packet sent blank")
    } else {
        check(r[12] == 0x08 && r[13] == 0x00 && r[14] == 0x45 && be16(r, 16) == n - 14, "a malformed IPv4 reply")
        check(folded(sum(UnsafeRawBufferPointer(rebasing: r[14..<34]))) == 0xFFFF, "a bad IPv4 header checksum in a reply")
        check(r[26] == 10 && r[27] == 0 && r[28] == 0 && r[29] == 2, "an IPv4 reply not from our address")
        let l4 = UnsafeRawBufferPointer(rebasing: r[34...])
        if r[23] == 1 {
            check(!blank, "an ICMP reply sent blank")
            check(l4[0] == 0 && l4[1] == 0, "a malformed ICMP echo reply")
            check(!l4Right || folded(sum(l4)) == 0xFFFF, "a bad ICMP checksum in a reply")
        } else {
            check(r[23] == 17 && be16(l4, 4) == l4.count, "a malformed UDP reply")
            check(blank == (checksum == .blank), "a UDP reply blank unlike its request")
            check(!l4Right || blank || be16(l4, 6) == 0 || folded(sum(l4, sum(UnsafeRawBufferPointer(rebasing: r[26..<34]), UInt32(17 + l4.count)))) == 0xFFFF,
                  "a bad UDP checksum in a reply")
        }
    }
}

/// Hands `frame` to `stack`; checks it was counted once and what came back. `l4Right`: the
/// frame's ICMP or UDP checksum is right (or it was verified).
func deliver(_ frame: UnsafeRawBufferPointer, to stack: inout NetStack, checksum: NetChecksum, l4Right: Bool = false, now: UInt64) {
    let before = stack.counters
    reply.initializeMemory(as: UInt8.self, repeating: 0xA5)
    let r = stack.receive(frame, checksum: checksum, now: now, reply: reply)
    let n = r.length
    let after = stack.counters
    check(after.received == before.received + 1, "a frame not counted as received")
    check((after.sent - before.sent) == (n > 0 ? 1 : 0), "a reply not counted as sent")
    let dropped = after.dropped - before.dropped
    let learned = after.arpLearned - before.arpLearned
    // An unresolved reply is a drop with an ARP request sent in its place.
    let answered = after.arpRepliesSent + after.echoRepliesSent + after.udpEchoesSent - before.arpRepliesSent - before.echoRepliesSent - before.udpEchoesSent
    check(dropped + learned + answered == 1, "a frame not accounted for exactly once")
    check(answered == 0 || n > 0, "an answer counted but not sent")
    checkReply(n, frameSize: frame.count, l4Right: l4Right || checksum == .unverified, checksum: checksum, blank: r.checksumBlank)
}

/// An ARP request for our address from `mac`/`ip`, which teaches the stack its sender.
func introduce(_ stack: inout NetStack, mac: UInt8, ip: UInt8) {
    let f: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x16, 0x3E, 0, 0, mac, 0x08, 0x06,
                      0, 1, 0x08, 0x00, 6, 4, 0, 1, 0x00, 0x16, 0x3E, 0, 0, mac, 10, 0, 0, ip, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]
    f.withUnsafeBytes { deliver($0, to: &stack, checksum: .unverified, now: 1_000_000_000) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let frame = UnsafeRawBufferPointer(start: data, count: size)
    var stack = NetStack(configuration)
    introduce(&stack, mac: 9, ip: 9)
    introduce(&stack, mac: 0xFE, ip: 1)
    deliver(frame, to: &stack, checksum: .unverified, now: 2_000_000_000)
    deliver(frame, to: &stack, checksum: .validated, now: 3_000_000_000)
    deliver(frame, to: &stack, checksum: .blank, now: 3_000_000_000)
    // A copy of exactly the frame's size, its checksums made right: once while the neighbours are
    // known, once after their entries expired.
    let fixed = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
    defer { fixed.deallocate() }
    if size > 0 { fixed.copyMemory(from: frame) }
    fixChecksums(fixed)
    deliver(UnsafeRawBufferPointer(fixed), to: &stack, checksum: .unverified, now: 4_000_000_000)
    deliver(UnsafeRawBufferPointer(fixed), to: &stack, checksum: .validated, l4Right: true, now: 5_000_000_000)
    deliver(UnsafeRawBufferPointer(fixed), to: &stack, checksum: .unverified, now: 62_000_000_000)
    return 0
}

// The addresses' text forms the kernel is configured with (xenstore's `mac` and `ip` keys, the
// command line): what is taken and what is refused.
import Testing
import XenDevices

@Suite("net stack: address text")
struct NetStackAddressTests {
    @Test("MAC addresses: six hex pairs with colons, either case")
    func macs() {
        #expect(MACAddress(parsing: bytes("00:16:3e:0a:Bc:FF")) == MACAddress(0x00, 0x16, 0x3E, 0x0A, 0xBC, 0xFF))
        #expect(MACAddress(parsing: bytes("ff:ff:ff:ff:ff:ff")) == .broadcast)
        for bad in ["", "00:16:3e:0a:bc", "00:16:3e:0a:bc:ff:", "00-16-3e-0a-bc-ff", "0:16:3e:0a:bc:ff0", "00:16:3g:0a:bc:ff", " 0:16:3e:0a:bc:ff"] {
            #expect(MACAddress(parsing: bytes(bad)) == nil, "\(bad)")
        }
        #expect(MACAddress(0x01, 0, 0x5E, 0, 0, 1).isGroup)
        #expect(!MACAddress(0x00, 0x16, 0x3E, 0, 0, 1).isGroup)
    }

    @Test("IPv4 addresses: dotted decimal, four parts of 0-255, no leading zeros")
    func ipv4() {
        #expect(IPv4Address(parsing: bytes("10.0.0.2")) == IPv4Address(10, 0, 0, 2))
        #expect(IPv4Address(parsing: bytes("255.255.255.255")) == .broadcast)
        #expect(IPv4Address(parsing: bytes("0.0.0.0")) == .any)
        #expect(IPv4Address(parsing: bytes("192.168.100.1"))?.value == 0xC0A8_6401)
        for bad in ["", "10.0.0", "10.0.0.2.1", "10.0.0.256", "10.0.0.02", "10..0.2", ".10.0.0", "10.0.0.", "10.0.0.2 ", "1000.0.0.1", "a.b.c.d", "10.0.0.-1"] {
            #expect(IPv4Address(parsing: bytes(bad)) == nil, "\(bad)")
        }
    }

    @Test("netmasks from prefix lengths")
    func netmasks() {
        #expect(IPv4Address.netmask(prefixLength: 24) == IPv4Address(255, 255, 255, 0))
        #expect(IPv4Address.netmask(prefixLength: 0) == .any)
        #expect(IPv4Address.netmask(prefixLength: 32) == .broadcast)
        #expect(IPv4Address.netmask(prefixLength: 33) == nil)
        #expect(IPv4Address.netmask(prefixLength: -1) == nil)
    }
}

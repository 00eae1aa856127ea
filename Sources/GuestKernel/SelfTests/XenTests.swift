// What Xen handed over and says about itself: start_info, xen_version.
import XenABI

enum XenTests {
    static func run() {
        Report.check("start_info magic is xen-3.0-x86_64", Boot.magicIsX86_64(), "a 64-bit PV start_info")
        Report.check("start_info gives the domain's pages", Boot.startInfo.pointee.nr_pages > 0, "nr_pages > 0")
        let name: StaticString = "xen_version"
        do {
            let v = try Xen.xen_version.version()
            Console.write("guest: Xen "); Console.write(v >> 16); Console.write("."); Console.write(v & 0xFFFF); Console.newline()
            Report.check("xen_version reports 4.x", v >> 16 == 4, "major version 4")
            let extra = try Xen.xen_version.extraversion()
            Report.check("xen_version extraversion is a string", withUnsafeBytes(of: extra) { $0.contains(0) }, "a NUL within 16 bytes")
            let caps = try Xen.xen_version.capabilities()
            let has64: Bool = withUnsafeBytes(of: caps) { bytes in
                let needle: StaticString = "xen-3.0-x86_64"
                return needle.withUTF8Buffer { n in
                    (0...(bytes.count - n.count)).contains { i in n.indices.allSatisfy { bytes[i + $0] == n[$0] } }
                }
            }
            Report.check("xen_version capabilities list xen-3.0-x86_64", has64, "x86_64 PV support")
        } catch {
            Report.error(name, "xen_version", error)
        }
    }
}

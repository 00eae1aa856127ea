// What a domU has that dom0 does not: its console ring's owner, the xenstore connection, its
// id (from xenstore: a PV guest is not told it otherwise), the toolstack's control key, and the
// devices it was given. A step that fails panics: nothing after it could work.
import XenABI
import XenDevices

enum DomU {
    static func start(entry: UInt64) {
        do { try PVConsole.start() } catch { Panic.fail("console ring: bind its event channel", error) }
        do { try Store.start() } catch {
            switch error {
            case .noStorePage: Panic.fail("xenstore: start_info names no store page in this domain")
            case .store: Panic.fail("xenstore: the store page's ring indexes are refused")
            case .kernel(let e): Panic.fail("xenstore: bind its event channel", e)
            }
        }
        switch Store.read(XenStorePath("domid")) {
        case .success(let v):
            guard let id = xenParseDecimal(v, maximum: UInt64(DOMID_FIRST_RESERVED) - 1) else { Panic.fail("xenstore: domid is not a domain id") }
            Domain.id = domid_t(id)
        case .failure(let e):
            Console.write("guest: xenstore: READ domid: "); Console.write(storeError: e); Console.newline()
            Panic.fail("xenstore: cannot learn this domain's id")
        }
        if let e = Control.start() {
            Console.write("guest: control/shutdown: "); Console.write(storeError: e); Console.newline()
            Panic.fail("xenstore: cannot watch control/shutdown")
        }
        let devices: Int
        switch Devices.list() {
        case .success(let n): devices = n
        case .failure(let e):
            Console.write("guest: device listing: "); Console.write(storeError: e); Console.newline()
            devices = 0
        }
        Network.start()
        Block.start()
        Console.write("guest: xenstore connected as domain "); Console.write(UInt64(Domain.id))
        Console.write(", "); Console.write(devices); Console.write(" device(s) listed, ")
        Console.write((Time.now() - entry) / 1000); Console.write(" us after entry\n")
    }
}

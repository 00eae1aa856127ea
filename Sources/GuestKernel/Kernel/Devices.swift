// The devices the toolstack gave this domU: `device/<kind>/<id>` in its xenstore home, each
// with its backend's path. Listed at boot, each with the driver that takes it (vifs: netfront,
// Kernel/Network.swift; vbds: blkfront, Kernel/Block.swift) or the word that there is none.
import XenABI
import XenDevices

enum Devices {
    /// Lists every device; returns how many, or the store's error.
    static func list() -> Result<Int, XenStoreError> {
        let root = XenStorePath("device")
        let kinds: [[UInt8]]
        switch Store.directory(root) {
        case .success(let k): kinds = k
        case .failure(.daemon(.XEN_ENOENT)): kinds = []  // no device at all
        case .failure(let e): return .failure(e)
        }
        var count = 0
        // `device/suspend/event-channel` is libxl's suspend event channel, not a device.
        for kind in kinds where !kind.equals("suspend") {
            let kindPath: XenStorePath
            do { kindPath = try root.appending(kind) } catch { return .failure(error) }
            guard case .success(let ids) = Store.directory(kindPath) else { continue }
            for id in ids {
                count += 1
                Console.write("guest: device "); Console.write(bytes: kind); Console.write("/"); Console.write(bytes: id)
                if let path = try? kindPath.appending(id).appending("backend"), case .success(let backend) = Store.read(path) {
                    Console.write(" backend "); Console.write(bytes: backend)
                }
                Console.write(kind.equals("vif") ? ": netfront\n" : kind.equals("vbd") ? ": blkfront\n" : ": no driver for it in this kernel yet\n")
            }
        }
        return .success(count)
    }
}

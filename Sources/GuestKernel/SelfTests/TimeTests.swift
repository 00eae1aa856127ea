// Xen's system time from vcpu_time_info: monotonic and advancing.
import XenABI

enum TimeTests {
    static func run() {
        let first = Time.now()
        var previous = first
        var backwards = 0
        for _ in 0..<10_000 {
            let t = Time.now()
            if t < previous { backwards += 1 }
            previous = t
        }
        Report.check("time never goes backwards over 10000 reads", backwards == 0, "monotonic vcpu_time_info")
        Report.check("time advances", previous > first && first > 0, "system time moves forward")
        Report.figure("system time at this point", first, "ns")
        Report.figure("raw readings behind an earlier one (held at the mark)", UInt64(Time.backwardSteps), "reads")
    }
}

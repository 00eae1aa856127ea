#!/usr/bin/env bash
# The Swift kernel as a domU beside the toolstack's floor and a Debian Linux PV domU, all under
# the harness's Linux dom0 on Xen 4.17 under QEMU, five of each interleaved in one dom0 boot
# (the `figures` plan): `xl create` to each guest's first console line (the host's clock at the
# serial line: the same path for all three), and each kernel's own time from its entry to its
# xenstore connected and devices listed (Linux: /proc/uptime when its init runs, by which time
# xenbus has probed its devices). The target: the Swift kernel within 10 % of the floor.
#   Benchmarks/domu-figures.sh [oxenstored|xenstored|--help]      (REPEAT=N dom0 boots, default 1)
set -euo pipefail
. "$(dirname "$0")/lib/domu-plan.sh"

# The floor: Benchmarks/FloorKernel, freestanding C against the installed Xen headers.
gcc -O2 -ffreestanding -fno-pic -fno-stack-protector -mno-red-zone -nostdlib -static -no-pie \
  -Wl,-T,Benchmarks/FloorKernel/floor.ld -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
  -o "$work/floor.elf" Benchmarks/FloorKernel/floor.c
strip -o "$work/floor" "$work/floor.elf"
domu_plan_boot figures --floor-kernel "$work/floor" --repeat "${REPEAT:-1}"

python3 - "$work/out.txt" "$(stat -c %s "$work/floor")" "$(stat -c %s "$kernel")" "$daemon" <<'PY'
import re, statistics, sys
text = open(sys.argv[1]).read()
first = {"floor": [], "swift": [], "linux": []}
for name, secs in re.findall(r"xen-guest: guest (\w+)-\d+ .*?to first console line ([0-9.]+) s", text):
    first[name].append(float(secs))
own = {"swift": [int(us) / 1e6 for us in re.findall(r"domU\[swift-\d+\]\| guest: xenstore connected .*?, (\d+) us after entry", text)],
       "linux": [float(s) for s in re.findall(r"domU\[linux-\d+\]\| linux-domU: up ([0-9.]+)", text)]}
def span(v):
    return f"{min(v):.2f} / {statistics.median(v):.2f} / {max(v):.2f} s (n={len(v)})" if v else "-"
print(f"domU figures with {sys.argv[4]}, {len(first['swift'])} runs of each; min / median / max")
print(f"  image: floor {sys.argv[2]} bytes, Swift kernel {sys.argv[3]} bytes, Linux: Debian's vmlinux with a busybox initramfs")
print(f"  xl create -> first console line   floor  {span(first['floor'])}")
print(f"                                    Swift  {span(first['swift'])}")
print(f"                                    Linux  {span(first['linux'])}")
print(f"  own time, entry -> xenstore up    Swift  {span(own['swift'])}")
print(f"    (Linux: entry -> init)          Linux  {span(own['linux'])}")
if first["floor"] and first["swift"]:
    f, s = statistics.median(first["floor"]), statistics.median(first["swift"])
    print(f"  Swift vs floor, medians: {100 * (s - f) / f:+.1f} % (target: within +10 %)")
PY

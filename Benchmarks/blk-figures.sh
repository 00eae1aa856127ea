#!/usr/bin/env bash
# blkfront's figures beside Linux's: the Swift kernel and a Debian Linux PV domU, each given the
# same 128 MiB image in dom0's tmpfs as xvda (through the block script's loop device: one over
# the 9p share would cap both at ~20 MB/s) against Linux 6.1's blkback, five of each interleaved
# in one harness run (the `blk-figures` plan) on Xen 4.17 under QEMU (TCG). Each measures
# itself the same way: the Swift kernel's `diskbench` (SelfTests/DiskBench.swift) and, in
# Linux, the project's static C program diskbench (Tests/Dom0Tools/diskbench.c, O_DIRECT on
# /dev/xvda): 128 MiB written in 1 MiB requests one at a time then flushed, read back the same
# way (MB/s), then random 4 KiB reads for 5 s at queue depth 1 and at 32 (IOPS). Every run's raw
# figures, then the medians side by side. Not a CI gate: TCG makes absolute figures slow and
# noisy; only the comparison within one run means anything.
#   Benchmarks/blk-figures.sh [oxenstored|xenstored|--help]
set -euo pipefail
. "$(dirname "$0")/lib/domu-plan.sh"
domu_plan_boot blk-figures

python3 - "$work/out.txt" "$(stat -c %s "$kernel")" "$daemon" <<'PY'
import re, statistics, sys
text = open(sys.argv[1]).read()
runs = {}
for guest, line in re.findall(r"domU\[(\w+-\d+)\]\| (?:guest: )?diskbench: (.*)$", text, re.M):
    kind, n = guest.rsplit("-", 1)
    r = runs.setdefault((kind, int(n)), {})
    if m := re.match(r"seq-(write|read) \d+ MiB in \d+ ms: ([0-9.]+) MB/s", line):
        r[m.group(1)] = float(m.group(2))
    if m := re.match(r"rand-read-4k qd(\d+): \d+ reads in \d+ ms: (\d+) IOPS", line):
        r[f"qd{m.group(1)}"] = int(m.group(2))
keys = [("write", "seq write 1 MiB (MB/s)"), ("read", "seq read 1 MiB (MB/s)"),
        ("qd1", "rand read 4 KiB qd1 (IOPS)"), ("qd32", "rand read 4 KiB qd32 (IOPS)")]
print(f"blkfront figures with {sys.argv[3]}: Swift kernel {sys.argv[2]} bytes stripped vs Debian's Linux 6.1 PV domU, one 128 MiB image in dom0's tmpfs")
print("raw, in run order:")
for (kind, n) in sorted(runs, key=lambda k: (k[1], k[0] != "swift")):
    r = runs[(kind, n)]
    print(f"  {kind}-{n}: " + ", ".join(f"{k} {r.get(k, '-')}" for k, _ in keys))
print(f"{'median of each':32} {'Swift':>10} {'Linux':>10}  Swift ahead?")
for k, label in keys:
    v = {kind: [r[k] for (kd, _), r in runs.items() if kd == kind and k in r] for kind in ("swift", "linux")}
    if not v["swift"] or not v["linux"]:
        print(f"  {label:30} {'-':>10} {'-':>10}"); continue
    s, l = statistics.median(v["swift"]), statistics.median(v["linux"])
    print(f"  {label:30} {s:>10g} {l:>10g}  {'yes' if s > l else 'no'} (n={len(v['swift'])}/{len(v['linux'])})")
PY

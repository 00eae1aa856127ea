#!/usr/bin/env bash
# netfront's figures beside Linux's: the Swift kernel and a Debian Linux PV domU, each with one
# vif on dom0's bridge (xenbr0, 10.0.0.2) against Linux 6.1's xen-netback, five of each
# interleaved in one harness run (the `net-figures` plan) on Xen 4.17 under QEMU (TCG). Both are
# driven by the same programs in dom0: ping (300 echo requests 10 ms apart: min/avg/max RTT) and
# the project's static C client `udpecho rate` (datagrams per second echoed in 5 s with at most
# 32 outstanding, at 64 and at 1472 bytes). The Swift guest answers with its own stack's UDP echo
# service; Linux runs udpecho's server (the same C file) on its own stack. Every run's raw
# figures, then the medians side by side. Not a CI gate: TCG makes absolute figures slow and
# noisy; only the comparison within one run means anything.
#   Benchmarks/net-figures.sh [oxenstored|xenstored|--help]
set -euo pipefail
. "$(dirname "$0")/lib/domu-plan.sh"
domu_plan_boot net-figures

python3 - "$work/out.txt" "$(stat -c %s "$kernel")" "$daemon" <<'PY'
import re, statistics, sys
text = open(sys.argv[1]).read()
runs = {}
for guest, line in re.findall(r"^step\[(\w+-\d+) \d+\]\| (.*)$", text, re.M):
    kind, n = guest.rsplit("-", 1)
    r = runs.setdefault((kind, int(n)), {})
    if m := re.match(r"rtt min/avg/max/mdev = ([0-9.]+)/([0-9.]+)/([0-9.]+)/", line):
        r["min"], r["avg"], r["max"] = map(float, m.groups())
    if m := re.match(r"(\d+) packets transmitted, (\d+) received", line):
        if int(m.group(1)) == 300: r["received"] = int(m.group(2))
    if m := re.match(r"udpecho rate (\d+) bytes: (\d+) sent, (\d+) echoed in [0-9.]+ s: (\d+) datagrams/s", line):
        r[f"rate{m.group(1)}"] = int(m.group(4))
keys = [("min", "ping RTT min (ms)", False), ("avg", "ping RTT avg (ms)", False), ("max", "ping RTT max (ms)", False),
        ("rate64", "UDP echo 64 B (datagrams/s)", True), ("rate1472", "UDP echo 1472 B (datagrams/s)", True)]
print(f"netfront figures with {sys.argv[3]}: Swift kernel {sys.argv[2]} bytes stripped vs Debian's Linux 6.1 PV domU")
print("raw, in run order:")
for (kind, n) in sorted(runs, key=lambda k: (k[1], k[0] != "swift")):
    r = runs[(kind, n)]
    print(f"  {kind}-{n}: " + ", ".join(f"{k} {r.get(k, '-')}" for k, _, _ in keys) + f", replies {r.get('received', '-')}/300")
print(f"{'median of each':32} {'Swift':>10} {'Linux':>10}  Swift ahead?")
for k, label, higher in keys:
    v = {kind: [r[k] for (kd, _), r in runs.items() if kd == kind and k in r] for kind in ("swift", "linux")}
    if not v["swift"] or not v["linux"]:
        print(f"  {label:30} {'-':>10} {'-':>10}"); continue
    s, l = statistics.median(v["swift"]), statistics.median(v["linux"])
    ahead = s > l if higher else s < l
    print(f"  {label:30} {s:>10g} {l:>10g}  {'yes' if ahead else 'no'} (n={len(v['swift'])}/{len(v['linux'])})")
PY

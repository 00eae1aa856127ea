#!/usr/bin/env bash
# Ring throughput: one front end and one back end on two threads over one shared ring, 64-byte
# requests and 8-byte responses, every request checked on arrival. Swift goes through XenABI's
# public API with all its checks on (validated producer indexes, copies out, notify decisions);
# C uses ring.h's macros with RING_COPY_REQUEST and the overflow checks, compiled by gcc -O2.
# Runs the two alternately and prints the median of each side by side. Also prints the same
# workload with both ends in one thread (no cache line crosses cores: the protocol's own cost).
#   Benchmarks/ring-throughput.sh [REQUESTS] [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
requests=${1:-100000000}
runs=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

swift build -c release --product ring-throughput >/dev/null
swiftBin="$(swift build -c release --show-bin-path)/ring-throughput"
gcc -O2 -pthread -D__XEN_INTERFACE_VERSION__=0x00040e00 Benchmarks/ring-throughput/ring_c.c -o "$work/ring_c"

rate() { sed -n 's/.*s, \([0-9.]*\) M requests\/s.*/\1/p'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
range() { sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }

printf '%-34s %14s %14s %7s  %s\n' "shape (M requests/s, median)" "Swift XenABI" "C ring.h -O2" "ratio" "runs: Swift range / C range"
for shape in "2 1 two threads, 1 page (32 entries)" "2 16 two threads, 16 pages (512)" "1 1 one thread, 1 page (32 entries)" "1 16 one thread, 16 pages (512)"; do
  set -- $shape; threads=$1; pages=$2; shift 2; what="$*"
  : >"$work/s"; : >"$work/c"
  for _ in $(seq "$runs"); do
    "$swiftBin" "$requests" "$pages" "$threads" | rate >>"$work/s"
    "$work/ring_c" "$requests" "$pages" "$threads" | rate >>"$work/c"
  done
  s=$(median <"$work/s"); c=$(median <"$work/c")
  printf '%-34s %14s %14s %6.2fx  %s / %s\n' "$what" "$s" "$c" "$(echo "$s / $c" | bc -l)" "$(range <"$work/s")" "$(range <"$work/c")"
done
echo "target: Swift >= 1.0x C for two threads (the issue's shape); $requests requests per run, $runs runs each, alternating"

#!/usr/bin/env bash
# Cold `abigen regenerate` of the whole installed header set against Debian's bindgen run on the
# same per-header translation units (the same prelude, defines and include path), in one run.
# Prints both times side by side. Not a test: figures vary with the machine.
#
#   Benchmarks/regenerate-vs-bindgen.sh [HEADERS_DIR] [XEN_VERSION]
set -euo pipefail
headers=${1:-/usr/include/xen}
version=${2:-4.17}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v bindgen >/dev/null || { echo "bindgen is missing: apt-get install bindgen" >&2; exit 1; }
swift build -c release --product abigen >/dev/null
abigen=$(swift build -c release --show-bin-path)/abigen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jobs=$(nproc)

# abigen: the whole pipeline (both views, spec, emitters, manifest, checks), written to disk.
t0=$(date +%s.%N)
"$abigen" regenerate --headers "$headers" --xen-version "$version" --output "$work/abigen-out" --jobs "$jobs" > "$work/abigen.log"
t1=$(date +%s.%N)
"$abigen" regenerate --headers "$headers" --xen-version "$version" --output "$work/abigen-out1" --jobs 1 > /dev/null
t2=$(date +%s.%N)

# bindgen: one process per header abigen parsed, each given the same translation unit abigen's
# guest view uses (stdint.h, stddef.h, the header's prerequisites, xen/xen.h, the header).
python3 - "$work/abigen-out/abi.json" > "$work/headers.txt" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for h in m["headers"]:
    if h not in m.get("includedThrough", {}):
        print(h)
PY
latest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["interfaceVersion"])' "$work/abigen-out/abi.json")
mkdir -p "$work/inc" && ln -s "$(cd "$headers" && pwd)" "$work/inc/xen"
n=0
t3=$(date +%s.%N)
while read -r h; do
  pre=""
  case "$h" in io/9pfs.h|io/pvcalls.h) pre="#include <string.h>";; esac
  printf '#include <stdint.h>\n#include <stddef.h>\n%s\n#include <xen/xen.h>\n#include <xen/%s>\n' "$pre" "$h" > "$work/tu.h"
  tools=""
  # Headers that refuse the guest view are what bindgen must see with __XEN_TOOLS__, as abigen does.
  if grep -q 'intended for use by node control tools only\|__XEN__) && !defined(__XEN_TOOLS__)' "$headers/$h"; then tools="-D__XEN_TOOLS__"; fi
  bindgen "$work/tu.h" -o "$work/out.rs" -- -x c -std=gnu11 -I "$work/inc" -D__XEN_INTERFACE_VERSION__="$latest" $tools 2>/dev/null || true
  n=$((n + 1))
done < "$work/headers.txt"
t4=$(date +%s.%N)

python3 - "$t0" "$t1" "$t2" "$t3" "$t4" "$n" "$jobs" <<'PY'
import sys
t0, t1, t2, t3, t4 = map(float, sys.argv[1:6]); n, jobs = sys.argv[6], sys.argv[7]
a, a1, b = t1 - t0, t2 - t1, t4 - t3
print(f"{'':34}{'seconds':>10}{'x bindgen':>12}")
print(f"{'bindgen, ' + n + ' headers (1 thread)':34}{b:10.2f}{1.0:12.3f}")
print(f"{'abigen regenerate, ' + jobs + ' threads':34}{a:10.2f}{a / b:12.3f}")
print(f"{'abigen regenerate, 1 thread':34}{a1:10.2f}{a1 / b:12.3f}")
print(f"target: abigen at 0.1x bindgen or less -> {'met' if a <= 0.1 * b else 'NOT met'}")
PY

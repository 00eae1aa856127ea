#!/usr/bin/env bash
# Cold `abigen regenerate` of the whole installed header set against Debian's bindgen run on the
# same per-header translation units (the same prelude, defines and include path), in one run; and
# what the interface ranges cost (regenerate with them, the default, against --no-interface-ranges).
# Prints the times side by side. Not a test: figures vary with the machine.
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

# abigen: the whole pipeline (both views, spec, emitters, manifest, checks), written to disk, with
# the interface ranges (the default) and without, on every core and on one.
regenerate() { # threads, extra flag, output
  local t0 t1
  t0=$(date +%s.%N)
  "$abigen" regenerate --headers "$headers" --xen-version "$version" --output "$3" --jobs "$1" $2 > /dev/null
  t1=$(date +%s.%N)
  python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$t0" "$t1"
}
ranges=$(regenerate "$jobs" "" "$work/abigen-out")
ranges1=$(regenerate 1 "" "$work/abigen-out1")
plain=$(regenerate "$jobs" --no-interface-ranges "$work/abigen-plain")
plain1=$(regenerate 1 --no-interface-ranges "$work/abigen-plain1")

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

python3 - "$t3" "$t4" "$n" "$jobs" "$ranges" "$ranges1" "$plain" "$plain1" <<'PY'
import sys
t3, t4 = map(float, sys.argv[1:3]); n, jobs = sys.argv[3], sys.argv[4]
ranges, ranges1, plain, plain1 = map(float, sys.argv[5:9])
b = t4 - t3
print(f"{'':44}{'seconds':>10}{'x bindgen':>12}")
print(f"{'bindgen, ' + n + ' headers (1 thread)':44}{b:10.2f}{1.0:12.3f}")
for label, s in [(f"abigen regenerate, {jobs} threads", ranges), ("abigen regenerate, 1 thread", ranges1),
                 (f"  --no-interface-ranges, {jobs} threads", plain), ("  --no-interface-ranges, 1 thread", plain1)]:
    print(f"{label:44}{s:10.2f}{s / b:12.3f}")
print(f"target: abigen at 0.1x bindgen or less -> {'met' if ranges <= 0.1 * b else 'NOT met'} with the ranges, "
      f"{'met' if plain <= 0.1 * b else 'NOT met'} without ({jobs} threads)")
print(f"interface ranges cost: x{ranges / plain:.2f} on {jobs} threads, x{ranges1 / plain1:.2f} on 1 "
      f"(target x2 or less -> {'met' if ranges <= 2 * plain else 'NOT met'} on {jobs} threads, "
      f"{'met' if ranges1 <= 2 * plain1 else 'NOT met'} on 1)")
PY

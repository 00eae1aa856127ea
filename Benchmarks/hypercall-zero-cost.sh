#!/usr/bin/env bash
# Zero cost: a generated wrapper's call site (Embedded Swift, -Osize, inlined into its caller)
# against the same call written in C with the same inline-asm primitive (gcc -O2). Counts the
# instructions of each function in the disassembly and prints them side by side.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The kernel's code-generation flags: no stack protector, no PIC, no frame pointer (gcc -O2's
# default on x86_64), optimised for size.
swift build -c release --triple x86_64-unknown-none-elf --target ZeroCostProbe \
  -Xswiftc -enable-experimental-feature -Xswiftc Embedded -Xswiftc -Osize \
  -Xswiftc -Xfrontend -Xswiftc -disable-stack-protector -Xswiftc -Xcc -Xswiftc -fno-pic \
  -Xswiftc -Xcc -Xswiftc -fomit-frame-pointer -Xswiftc -Xcc -Xswiftc -mno-red-zone >/dev/null
bin=$(swift build -c release --triple x86_64-unknown-none-elf --show-bin-path)
objects=$(find "$bin/ZeroCostProbe.build" -name '*.o')

gcc -O2 -c -ffreestanding -fno-pic -mno-red-zone -D__XEN_INTERFACE_VERSION__=0x00040e00 \
  -I /usr/include -I Sources/XenHypercallPage/include Benchmarks/zero-cost/probe.c -o "$work/probe_c.o"

# Instructions from a function's label to its end (objdump prints one per line after "addr:").
# The Swift side is the Swift function itself (its mangled name holds $2), not the @_cdecl thunk
# that tail-jumps to it.
count() { objdump -d --no-show-raw-insn "$1" | awk -v f="$2" '
  $2 ~ ("^<.*" f ".*>:$") && $2 !~ /^<swift_/ { on = 1; next }
  on && /^$/ { on = 0 }
  on && /^ *[0-9a-f]+:/ { if ($2 != "nop" && $2 !~ /^nop/ && $2 != "int3") n++ }
  END { print n + 0 }'; }
show() { objdump -d --no-show-raw-insn "$1" | awk -v f="$2" '$2 ~ ("^<.*" f ".*>:$") && $2 !~ /^<swift_/ { on = 1; print; next } on && /^$/ { on = 0 } on { print }'; }

printf '%-28s %8s %8s  %s\n' "call site" "Swift" "C" "target: Swift <= C"
for pair in "evtchn_send:swiftEventChannelSend:EVTCHNOP_send with error mapping" "sched_yield:swiftSchedYield:SCHEDOP_yield, no argument" \
            "mmu_update_one:swiftMMUUpdateOne:one mmu_update request, its done count written back"; do
  name=${pair%%:*}; rest=${pair#*:}; swiftName=${rest%%:*}; what=${rest#*:}
  s=0; for o in $objects; do n=$(count "$o" "$swiftName"); if [ "$n" -gt 0 ]; then s=$n; fi; done
  c=$(count "$work/probe_c.o" "c_$name")
  verdict=$([ "$s" -le "$c" ] && echo met || echo "NOT met")
  printf '%-28s %8s %8s  %s (%s)\n' "$name" "$s" "$c" "$verdict" "$what"
done
if [ "${VERBOSE:-}" = 1 ]; then
  for o in $objects; do show "$o" swiftEventChannelSend; done
  show "$work/probe_c.o" c_evtchn_send
fi

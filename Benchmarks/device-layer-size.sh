#!/usr/bin/env bash
# What the device layer costs the kernel: Tests/XenDevicesProbe (every XenDevices driver
# specialised over a stand-in platform) built for x86_64-unknown-none-elf with the kernel's
# flags (Embedded, -Osize, -function-sections, no stack protector, no PIC, no red zone), then
# linked with --gc-sections from each probe function as the only root, so only what that part
# reaches is counted. The C runtime symbols the kernel supplies (memset, posix_memalign, ...)
# are one-instruction stubs here. Prints text and rodata of each part beside the target.
#   Benchmarks/device-layer-size.sh            (VERBOSE=1: the 40 largest symbols of the whole)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
target=${TARGET_BYTES:-14336}
# Its own scratch path: -function-sections differs from scripts/test's build of the probe, and
# sharing one would rebuild XenABI on every switch.
scratch=.build/device-layer-size
swift build --scratch-path "$scratch" -c release --triple x86_64-unknown-none-elf --target XenDevicesProbe \
  -Xswiftc -enable-experimental-feature -Xswiftc Embedded -Xswiftc -Osize \
  -Xswiftc -Xfrontend -Xswiftc -disable-stack-protector -Xswiftc -Xfrontend -Xswiftc -function-sections \
  -Xswiftc -Xcc -Xswiftc -fno-pic -Xswiftc -Xcc -Xswiftc -mno-red-zone -Xswiftc -Xcc -Xswiftc -fomit-frame-pointer >/dev/null
bin=$(swift build --scratch-path "$scratch" -c release --triple x86_64-unknown-none-elf --show-bin-path)
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && cp "$work"/*.elf "$KEEP"/ ; rm -rf "$work"' EXIT
objects=$(find "$bin/XenDevicesProbe.build" "$bin/XenDevices.build" "$bin/XenABI.build" -name '*.o' | sort)

# The runtime the kernel provides (GuestKernelRuntime), as stubs that cost nothing.
undefined=$(nm -u $objects 2>/dev/null | awk '$1 == "U" { print $2 }' | sort -u)
defined=$(nm --defined-only $objects 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u)
{
  echo '.text'
  for s in $(comm -23 <(echo "$undefined") <(echo "$defined")); do echo ".globl $s"; echo "$s: ret"; done
} >"$work/stubs.s"
clang --target=x86_64-unknown-none-elf -c "$work/stubs.s" -o "$work/stubs.o"

symbol() { nm --defined-only $objects 2>/dev/null | awk -v f="$1" '!done && $2 == "T" && $3 ~ f { print $3; done = 1 }'; }
store=$(symbol 'XenDevicesProbe05probea8StoreAndA3Bus')
console=$(symbol 'XenDevicesProbe05probeA7Console')
net=$(symbol 'XenDevicesProbe13probeNetStack')
netfront=$(symbol 'XenDevicesProbe13probeNetfront')
blkfront=$(symbol 'XenDevicesProbe13probeBlkfront')
[ -n "$store" ] && [ -n "$console" ] && [ -n "$net" ] && [ -n "$netfront" ] && [ -n "$blkfront" ] || { echo "probe functions not found" >&2; exit 1; }

link() { # OUT ROOT [MORE-ROOTS...]
  local out=$1 entry=$2; shift 2
  local roots=(); for r in "$@"; do roots+=(-u "$r"); done
  ld.lld -static --gc-sections -e "$entry" "${roots[@]}" -o "$work/$out" $objects "$work/stubs.o"
}
link store.elf "$store"
link console.elf "$console"
link net.elf "$net"
link netfront.elf "$netfront"
link blkfront.elf "$blkfront"
link all.elf "$store" "$console" "$net" "$netfront" "$blkfront"

bytes() { # ELF SECTION-PREFIX
  llvm-size -A "$1" | awk -v p="$2" 'index($1, p) == 1 { n += $2 } END { print n + 0 }'
}
printf '%-52s %8s %8s %8s\n' "part (linked, --gc-sections)" "text" "rodata" "sum"
total=0
for part in "store:xenstore, transactions, discovery, two frontends" "console:PV console" "net:net stack: Ethernet, ARP, IPv4, ICMP and UDP echo" "netfront:netfront (with the store and its frontend)" "blkfront:blkfront (with the store and its frontend)" "all:everything the probe exercises"; do
  name=${part%%:*}; what=${part#*:}
  t=$(bytes "$work/$name.elf" .text); r=$(bytes "$work/$name.elf" .rodata)
  printf '%-52s %8d %8d %8d\n' "$what" "$t" "$r" $((t + r))
  [ "$name" = all ] && total=$((t + r))
done
verdict=$([ "$total" -le "$target" ] && echo met || echo "NOT met")
printf '%-52s %26d  %s\n' "target for everything (text+rodata)" "$target" "$verdict"
if [ "${VERBOSE:-}" = 1 ]; then
  nm --size-sort -S -t d "$work/all.elf" | tail -40 | while read -r _ size _ name; do
    printf '%6d %s\n' "$((10#$size))" "$(swift demangle --simplified "$name" | cut -c1-150)"
  done
fi

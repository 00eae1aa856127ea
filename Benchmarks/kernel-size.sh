#!/usr/bin/env bash
# Where the kernel's bytes go: the stripped file by section (headers, text, rodata, notes, data,
# the padding between them), then the unstripped ELF's symbols grouped by area (self-tests,
# xenstore, xenbus, netfront, blkfront, net stack, console, events and grants, memory, boot,
# XenABI, LLVM's outlined sequences, the standard library's generics, the Swift runtime) and by kind of code (plain functions, own
# generics specialised, standard-library specialisations, closures and thunks, outlined value
# operations, metadata), with the largest symbols of each area. .rodata has no symbols: each
# piece of it (a string, a table) is charged to the areas of the functions whose instructions
# refer to it (found in the disassembly), "shared" when several areas do.
#   Benchmarks/kernel-size.sh                  build the default profile and measure it
#   Benchmarks/kernel-size.sh --profile domu   the same for another profile of `xen-guest build`
#   Benchmarks/kernel-size.sh ELF              measure an unstripped kernel ELF already built
#   TOP=N (default 6): symbols listed per area; OTHER=1: list what no area rule matched
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
top=${TOP:-6}

profile=""
elf=""
while [ $# -gt 0 ]; do
  case $1 in
    --profile) profile=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) elf=$1; shift ;;
  esac
done
if [ -z "$elf" ]; then
  swift build --product xen-guest >/dev/null
  out=$(.build/debug/xen-guest build ${profile:+--profile "$profile"})
  elf=$(echo "$out" | awk '$1 == "kernel:" { print $2 }')
  [ -n "$elf" ] || { echo "$out" >&2; echo "kernel-size: no kernel path from xen-guest build" >&2; exit 1; }
fi
[ -f "$elf" ] || { echo "kernel-size: no ELF at $elf" >&2; exit 1; }

# mawk has no strtonum or asort: hexadecimal and sorting written out.
awklib='
function hex(s,   i, v) { v = 0; s = tolower(s); sub(/^0x/, "", s); for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
function qsort(A, lo, hi,   i, last, t) {  # numeric ascending on A[lo..hi]
  if (lo >= hi) return
  t = A[lo]; A[lo] = A[int((lo + hi) / 2)]; A[int((lo + hi) / 2)] = t; last = lo
  for (i = lo + 1; i <= hi; i++) if (A[i] + 0 < A[lo] + 0) { last++; t = A[last]; A[last] = A[i]; A[i] = t }
  t = A[lo]; A[lo] = A[last]; A[last] = t
  qsort(A, lo, last - 1); qsort(A, last + 1, hi)
}
'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
strip -o "$work/stripped" "$elf"
echo "kernel: $elf"
echo "stripped size: $(stat -c %s "$work/stripped") bytes"
echo

# The stripped file, front to back: what each byte range of the file is.
echo "== the stripped file, by section (file bytes) =="
readelf -SW "$work/stripped" | sed -n 's/^ *\[ *[0-9]*\] //p' | awk "$awklib"'$1 != "NULL" && $1 != "Name" {
    # Name Type Address Off Size ...
    name = $1; type = $2; off = hex($4); size = hex($5)
    if (type == "NOBITS") { nobits = nobits sprintf("  %-28s %8d  (not in the file: zeroed at boot)\n", name, size); next }
    if (first == "") { first = off }
    if (last != "" && off > last) { pad += off - last }
    printf "  %-28s %8d\n", name, size; total += size
    if (off + size > last) last = off + size
  } END {
    printf "  %-28s %8d\n", "ELF header, program headers", first
    printf "  %-28s %8d\n", "padding between sections", pad
    printf "%s", nobits
  }'
shoff=$(readelf -hW "$work/stripped" | awk -F: '/Start of section headers/ { print $2 + 0 }')
shsize=$(readelf -hW "$work/stripped" | awk -F: '/Size of section headers/ { s = $2 + 0 } /Number of section headers/ { n = $2 + 0 } END { print s * n }')
printf '  %-28s %8d\n' "section header table" "$shsize"
echo

# Section ranges of the unstripped ELF (the loaded ones that occupy file bytes).
readelf -SW "$elf" | sed -n 's/^ *\[ *\([0-9]*\)\] /\1 /p' |
  awk "$awklib"'$3 == "PROGBITS" && ($2 == ".text" || $2 == ".rodata" || $2 == ".data") { print $1, $2, hex($4), hex($6) }' >"$work/sections"

# Symbols with their section and size, names demangled.
readelf -sW "$elf" | awk 'NR > 3 && $3 > 0 && $7 ~ /^[0-9]+$/ { print $2, $3, $7, $8 }' >"$work/symbols.raw"
# Simplified names to read; the full name's generic arguments (which type a standard-library
# specialisation is for); a lazy global's type from its mangled name (demangling drops it).
awk '{ print $4 }' "$work/symbols.raw" | swift demangle --simplified >"$work/names"
awk '{ print $4 }' "$work/symbols.raw" | swift demangle | awk '{
    args = ""
    if (match($0, /^generic specialization <[^>]*> of Swift\./)) {
      args = substr($0, 25, RLENGTH - 35); gsub(/(GuestKernel|XenDevices|XenABI|Swift)\./, "", args); sub(/^serialized, /, "", args)
    }
    print args }' >"$work/args"
paste -d '\t' <(awk '{ print $1, $2, $3 }' "$work/symbols.raw") "$work/names" "$work/args" \
  <(awk '{ print $4 }' "$work/symbols.raw") >"$work/symbols"

# Every address a function's instructions refer to, for .rodata: rip-relative operands, and the
# 32-bit immediates the kernel's static code model loads a string's address with.
llvm-objdump -d --no-show-raw-insn "$elf" | awk '
  /^[0-9a-f]+ <.*>:$/ { fn = $1; next }
  /# 0x[0-9a-f]+/ { match($0, /# 0x[0-9a-f]+/); print fn, substr($0, RSTART + 4, RLENGTH - 4); next }
  /# imm = 0x[0-9A-Fa-f]+/ { match($0, /# imm = 0x[0-9A-Fa-f]+/); print fn, substr($0, RSTART + 10, RLENGTH - 10) }' >"$work/refs"

awk -v top="$top" -v other="${OTHER:-}" -F '\t' "$awklib"'
function owner(n,   s) {
  s = n
  while (sub(/^(specialized |merged |partial apply for |@objc |static |reabstraction thunk helper [^ ]* |thunk for |default argument [0-9]+ of |one-time initialization (function|token) for |outlined (copy|consume|destroy|init with copy|init with take|assign with take|assign with copy|enum get tag|enum tag store|retain|release|read-only object #[0-9]+) of |type metadata (for|accessor for) |[A-Za-z_$]+ #[0-9]+ (\([^)]*\) )?in |@escaping |@callee_guaranteed |\([^)]*\) -> \([^)]*\) |generic specialization <[^>]*> of )/, "", s)) {}
  sub(/^\(/, "", s)
  if (s ~ /^\[/) return "Array"
  if (match(s, /\(([A-Za-z_]+)\)$/) && n ~ /^one-time/) return substr(s, RSTART + 1, RLENGTH - 2)
  match(s, /^[A-Za-z_$][A-Za-z0-9_$]*/)
  return substr(s, RSTART, RLENGTH)
}
function area(n,   o) {
  o = owner(n)
  if (o ~ /Tests$|^SelfTests?$|^RingSelfTest$|^Counter$/) return "self-tests"
  if (o ~ /^(XenStore|xenStore|Store$)/) return "xenstore"
  if (o ~ /^(XenBus|xenbus_|Devices$|Control$|DeviceLifecycle$)/) return "xenbus, control, devices"
  if (o ~ /^(XenBlkfront|Blkfront|Block$|Disk$|blkif_)/) return "blkfront"
  if (o ~ /^(XenNetfront|Netfront|Network$|Vif$)/) return "netfront"
  if (o ~ /^(NetStack|ARP|IPv4|ICMP|UDP|Ethernet|InternetChecksum|MACAddress|Net[A-Z]|completeChecksum$)/) return "net stack"
  if (o ~ /^(Console$|PVConsole$|XenConsole)/) return "console"
  if (o ~ /^(XenByte|XenWait|xenParse|XenDevice|XenPlatform)/) return "device-layer support"
  if (o ~ /^(Events$|EventLoop$|Time$|SharedInfo$|GrantTable$|GrantStatus$|GuestPlatform$|guestEventUpcall$|hypervisor_callback$|guest_event_upcall$)/) return "events, time, grants, platform"
  if (o ~ /^(PageAllocator|PageTables|Heap$|Mapping$|RuntimeHeap$|Memory$)/) return "memory"
  if (o ~ /^OUTLINED_FUNCTION_/) return "LLVM-outlined sequences (shared)"
  if (o ~ /^(Boot$|Traps$|CommandLine$|GuestKernel_main$|main$|_start$|Domain$|Panic$|Report$|KernelError$|DomU$|guest|failsafe|trap_|hypercall_page$|entry$|nrPages$|heapPages$|entryTSC$|boot_)/) return "boot, traps, panic, verdict"
  if (o ~ /^(xen_|Xen|evtchn|gnttab|trap_info$|start_info$|XEN)/) return "XenABI (rings, errno names)"
  if (o ~ /^(swift_|_swift|memset$|memcpy$|memmove$|memcmp$|putchar$|arc4random|posix_memalign$|free$|guest_kernel_free$|guestKernelFree$|ceil$|_emptyBoxStorage$|__)/) return "Swift runtime, C symbols"
  if (o ~ /^(Array|_?ContiguousArray|_Contiguous|_ArrayBuffer|Unsafe|Collection$|Sequence$|RangeReplaceableCollection$|BidirectionalCollection$|MutableCollection$|RandomAccessCollection$|InlineArray$|Dictionary|Set$|_copy|_allocate|String|Result$|Optional$|FixedWidthInteger$|BinaryInteger$|U?Int[0-9]*$|_Native|_HashTable|Hasher$|Range$|ClosedRange$|StaticString$|IndexingIterator$|Enumerated|Zip|_fatalErrorMessage$|_assertionFailure$|Swift$)/) return "stdlib generics (Array, collections)"
  return "other"
}
function kind(n,   o) {
  if (n ~ /^type metadata/) return "metadata"
  if (n ~ /^outlined /) return "outlined copy/destroy of values"
  if (n ~ /(^| )(closure|\$defer|partial apply|thunk|reabstraction)/) return "closures, thunks"
  if (n ~ /^one-time initialization/) return "lazy globals (initialisers, tokens)"
  if (n ~ /^(merged )?specialized /) return (area(n) == "stdlib generics (Array, collections)") ? "stdlib specialisations" : "own generics specialised"
  return "plain functions"
}
FILENAME ~ /sections$/ { split($0, f, " "); secname[f[1]] = f[2]; start[f[2]] = f[3]; size[f[2]] = f[4]; next }
FILENAME ~ /symbols$/ {
  split($1, f, " "); addr = hex(f[1]); sz = f[2]; ndx = f[3]; n = $2; args = $3; raw = $4
  s = secname[ndx]
  if (s == "") next
  if (n ~ /^one-time initialization/ && raw ~ /^\$[se][0-9]/) {  # $e (Embedded) or $s, then <module> <type> ...
    r = substr(raw, 3); match(r, /^[0-9]+/); r = substr(r, RLENGTH + 1 + substr(r, 1, RLENGTH))
    if (match(r, /^[0-9]+/)) n = n " (" substr(r, RLENGTH + 1, substr(r, 1, RLENGTH)) ")"
  }
  a = area(n); k = kind(n)
  if (args != "") { n = n " <" args ">"; if (k == "stdlib specialisations") { elemb[args] += sz; elemc[args]++ } }
  bytes[a, s] += sz; count[a]++; secsum[s] += sz
  kindbytes[k] += sz; kindcount[k]++
  if (s == ".text") { fnarea[sprintf("%016x", addr)] = a }
  line[a, ++nl[a]] = sprintf("%6d  %-7s %s", sz, s, substr(n, 1, 110))
  if (a == "other") others = others sprintf("%6d %s %s\n", sz, s, n)
  next
}
FILENAME ~ /refs$/ {
  split($0, f, " "); t = hex(f[2])
  if (t >= start[".rodata"] && t < start[".rodata"] + size[".rodata"]) {
    a = fnarea[f[1]]; if (a == "") a = "other"
    if (!(t in refarea)) { refarea[t] = a; nrefs++; refaddr[nrefs] = t }
    else if (refarea[t] != a) refarea[t] = "shared (several areas)"
  }
  next
}
END {
  # .rodata: each referenced address owns the bytes up to the next one.
  n = nrefs; for (i = 1; i <= n; i++) sorted[i] = refaddr[i]; qsort(sorted, 1, n)
  rs = start[".rodata"]; re = rs + size[".rodata"]
  if (n == 0 || sorted[1] > rs) ro["unreferenced from .text"] += (n ? sorted[1] : re) - rs
  for (i = 1; i <= n; i++) {
    t = sorted[i]; next_t = (i < n) ? sorted[i + 1] : re
    ro[refarea[t]] += next_t - t
  }
  printf "== .text: %d bytes, %d in symbols, %d between them (alignment, unnamed code) ==\n\n", size[".text"], secsum[".text"], size[".text"] - secsum[".text"]

  printf "== by area (.rodata charged to the functions that refer to it) ==\n"
  printf "  %-38s %8s %8s %8s %8s %6s\n", "area", "text", "rodata", "data", "total", "syms"
  for (a in count) areas[a] = 1
  for (a in ro) areas[a] = 1
  m = 0
  for (a in areas) { tot[a] = bytes[a, ".text"] + ro[a] + bytes[a, ".data"]; o2[++m] = tot[a] + 0 + (m / 1000); name[o2[m]] = a }
  qsort(o2, 1, m)
  for (i = m; i >= 1; i--) {
    a = name[o2[i]]
    printf "  %-38s %8d %8d %8d %8d %6d\n", a, bytes[a, ".text"], ro[a], bytes[a, ".data"], tot[a], count[a]
    gt += bytes[a, ".text"]; gr += ro[a]; gd += bytes[a, ".data"]
  }
  printf "  %-38s %8d %8d %8d %8d\n", "sum", gt, gr, gd, gt + gr + gd
  printf "\n== by kind of code (.text and .data symbols) ==\n"
  for (k in kindbytes) { k2[++nk] = kindbytes[k] + nk / 1000; kname[k2[nk]] = k }
  qsort(k2, 1, nk)
  for (i = nk; i >= 1; i--) { k = kname[k2[i]]; printf "  %-38s %8d %6d\n", k, kindbytes[k], kindcount[k] }

  printf "\n== standard-library specialisations by generic argument ==\n"
  ne = 0; for (e in elemb) { e2[++ne] = elemb[e] + ne / 1000; ename[e2[ne]] = e }
  qsort(e2, 1, ne)
  for (i = ne; i >= 1; i--) { e = ename[e2[i]]; printf "  %-54s %8d %6d\n", substr(e, 1, 54), elemb[e], elemc[e] }

  printf "\n== the largest symbols of each area (top %d) ==\n", top
  for (i = m; i >= 1; i--) {
    a = name[o2[i]]
    if (nl[a] == 0) continue
    printf "  %s\n", a
    split("", srt); for (j = 1; j <= nl[a]; j++) srt[j] = line[a, j]
    qsort(srt, 1, nl[a])
    for (j = nl[a]; j >= 1 && j > nl[a] - top; j--) printf "    %s\n", srt[j]
  }
  if (other != "" && others != "") printf "\n== matched no area rule ==\n%s", others
}' "$work/sections" "$work/symbols" "$work/refs"

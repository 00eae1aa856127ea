# Sourced by the benchmarks that boot a harness plan under the Linux dom0 (blk-figures.sh,
# domu-figures.sh, net-figures.sh), after their `set -euo pipefail`: the project's root as the
# working directory, the toolchain on PATH, the xenstore daemon from the first argument
# (default oxenstored), a scratch directory $work removed on exit, and domu_plan_boot. `--help`
# (or -h) prints the calling script's header comment and exits.
case ${1:-} in
  -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p;}' "$0"; exit 0 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
daemon=${1:-oxenstored}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# domu_plan_boot PLAN [BOOT-OPTION...]: builds xen-guest and the full kernel ($kernel), boots
# PLAN with $daemon and that kernel, its output in $work/out.txt; on failure prints the run's
# last 80 lines (QEMU's own bracketed lines left out) and exits 1.
domu_plan_boot() {
  local plan=$1
  shift
  swift build --product xen-guest >/dev/null
  xg="$(swift build --show-bin-path)/xen-guest"
  "$xg" build >/dev/null
  kernel=.build-kernel/GuestKernel.stripped
  "$xg" boot --as domU --plan "$plan" --xenstored "$daemon" "$@" --kernel "$kernel" > "$work/out.txt" 2>&1 \
    || { grep -v '^\[' "$work/out.txt" | tail -80; echo "$(basename "$0" .sh): the run failed" >&2; exit 1; }
}

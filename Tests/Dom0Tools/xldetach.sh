#!/bin/sh
# xldetach KIND DEVID LABEL: `xl -vvv KIND-detach` of guest $NAME's device DEVID (KIND block: a
# vbd, network: a vif), the one detach blkdetach and netdetach make. The xenbus close (the
# backend's Closing until its Closed: the backend's teardown and the frontend's close) must take
# under 2 s, with no toolstack timeout; both directories must be gone afterwards. Prints xl's
# lines stamped with the milliseconds since the detach began (Tests/Dom0Tools/stamp.c), where
# its time went and `xl KIND-list`; each line of its own begins with LABEL.
set -u
kind=$1 devid=$2 label=$3
case $kind in
  block) node=vbd ;;
  network) node=vif ;;
  *) echo "xldetach: KIND is block or network, not $kind" >&2; exit 2 ;;
esac
xl_log=/tmp/$label-xl.$$

start=$(date +%s%N)
{ xl -vvv "$kind-detach" "$NAME" "$devid" 2>&1; echo "exit $?"; } | stamp > "$xl_log"
end=$(date +%s%N)
xl_status=$(sed -n 's/^+[0-9]* ms: exit \([0-9]*\)$/\1/p' "$xl_log")
took_ms=$(( (end - start) / 1000000 ))
grep -v "^+[0-9]* ms: exit " "$xl_log"
# Where xl's time went, from its own stamped lines: from its start to libxl's first look at the
# backend's state (xl starting, libxl writing online=0 and state 5), then the xenbus close (the
# backend Closing until Closed), then dom0's hotplug script (`block remove`, `vif-bridge
# offline`). Under QEMU's TCG xl's own start-up (~0.8-1.3 s) and the script (~1.5-6 s of bash
# and forks for a vif) take longer than the close itself, for a Linux guest as for this one.
at() { sed -n "s/^+\([0-9]*\) ms: .*$1.*/\1/p" "$xl_log" | head -1; }
closing=$(at "wanted state 6 still waiting"); closing=${closing:-$(at "wanted state 6 ok")}
closed=$(at "wanted state 6 ok")
script=$(at "forking to execute")
script_end=$(sed -n '/forking to execute/{n;s/^+\([0-9]*\) ms: .*/\1/p;}' "$xl_log" | head -1)
handshake_ms=$(( ${closed:-0} - ${closing:-0} ))
echo "$label: xl $kind-detach $NAME $devid took $took_ms ms, exit $xl_status: to the backend's Closing ${closing:-?} ms, Closing to Closed $handshake_ms ms, hotplug script $(( ${script_end:-0} - ${script:-0} )) ms"
fail=0
[ "$xl_status" -eq 0 ] || { echo "$label: xl $kind-detach failed" >&2; fail=1; }
[ -n "$closed" ] || { echo "$label: libxl never saw the backend Closed" >&2; fail=1; }
[ $handshake_ms -lt 2000 ] || { echo "$label: the xenbus close took $handshake_ms ms (2000 allowed)" >&2; fail=1; }
if grep -qi "timed out\|timeout" "$xl_log"; then echo "$label: the toolstack timed out" >&2; fail=1; fi
if xenstore-exists "/local/domain/0/backend/$node/$DOMID/$devid"; then echo "$label: the backend directory is still there" >&2; fail=1; fi
if xenstore-exists "/local/domain/$DOMID/device/$node/$devid"; then echo "$label: the frontend directory is still there" >&2; fail=1; fi
xl "$kind-list" "$NAME"
rm -f "$xl_log"
exit $fail

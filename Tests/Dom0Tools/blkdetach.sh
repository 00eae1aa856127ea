#!/bin/sh
# blkdetach DEVID: `xl block-detach` of guest $NAME's vbd DEVID while it is idle. The xenbus
# close (the backend's Closing until its Closed: blkback's teardown and the frontend's close)
# must take under 2 s, with no toolstack timeout; both directories must be gone afterwards.
# Prints where xl's time went, from its own lines stamped with the milliseconds since the
# detach began (netdetach does the same for vifs).
set -u
devid=$1
xl_log=/tmp/blkdetach-xl.$$
start=$(date +%s%N)
{ xl -vvv block-detach "$NAME" "$devid" 2>&1; echo "exit $?"; } | stamp > "$xl_log"
end=$(date +%s%N)
xl_status=$(sed -n 's/^+[0-9]* ms: exit \([0-9]*\)$/\1/p' "$xl_log")
took_ms=$(( (end - start) / 1000000 ))
grep -v "^+[0-9]* ms: exit " "$xl_log"
at() { sed -n "s/^+\([0-9]*\) ms: .*$1.*/\1/p" "$xl_log" | head -1; }
closing=$(at "wanted state 6 still waiting"); closing=${closing:-$(at "wanted state 6 ok")}
closed=$(at "wanted state 6 ok")
script=$(at "forking to execute")
script_end=$(sed -n '/forking to execute/{n;s/^+\([0-9]*\) ms: .*/\1/p;}' "$xl_log" | head -1)
handshake_ms=$(( ${closed:-0} - ${closing:-0} ))
echo "blkdetach: xl block-detach $NAME $devid took $took_ms ms, exit $xl_status: to the backend's Closing ${closing:-?} ms, Closing to Closed $handshake_ms ms, hotplug script $(( ${script_end:-0} - ${script:-0} )) ms"
fail=0
[ "$xl_status" -eq 0 ] || { echo "blkdetach: xl block-detach failed" >&2; fail=1; }
[ -n "$closed" ] || { echo "blkdetach: libxl never saw the backend Closed" >&2; fail=1; }
[ $handshake_ms -lt 2000 ] || { echo "blkdetach: the xenbus close took $handshake_ms ms (2000 allowed)" >&2; fail=1; }
if grep -qi "timed out\|timeout" "$xl_log"; then echo "blkdetach: the toolstack timed out" >&2; fail=1; fi
if xenstore-exists "/local/domain/0/backend/vbd/$DOMID/$devid"; then echo "blkdetach: the backend directory is still there" >&2; fail=1; fi
if xenstore-exists "/local/domain/$DOMID/device/vbd/$devid"; then echo "blkdetach: the frontend directory is still there" >&2; fail=1; fi
xl block-list "$NAME"
rm -f "$xl_log"
exit $fail

#!/bin/sh
# netdetach DEVID GONE_HOST KEEP_HOST: `xl network-detach` of guest $NAME's vif DEVID while dom0
# pings it (GONE_HOST) and the guest's other vif (KEEP_HOST). The xenbus close (the backend's
# Closing until its Closed: netback's teardown and the frontend's close) must take under 2 s,
# with no toolstack timeout; the other vif must answer every ping meanwhile; both directories
# must be gone afterwards. Prints dom0's ping summaries and where xl's time went: under QEMU's
# TCG, xl's own start-up (~0.8-1.3 s) and dom0's `vif-bridge offline` script (~1.5-6 s of bash
# and forks) take longer than the close itself, for a Linux guest as for this one.
set -u
devid=$1 gone=$2 keep=$3
keep_log=/tmp/netdetach-keep.$$ gone_log=/tmp/netdetach-gone.$$ xl_log=/tmp/netdetach-xl.$$

ping -i 0.1 -W 1 "$keep" > "$keep_log" 2>&1 & keep_pid=$!
ping -i 0.05 -W 1 "$gone" > "$gone_log" 2>&1 & gone_pid=$!
sleep 1
start=$(date +%s%N)
# xl's own account, each line stamped with the milliseconds since the detach began.
{ xl -vvv network-detach "$NAME" "$devid" 2>&1; echo "exit $?"; } | stamp > "$xl_log"
end=$(date +%s%N)
xl_status=$(sed -n 's/^+[0-9]* ms: exit \([0-9]*\)$/\1/p' "$xl_log")
took_ms=$(( (end - start) / 1000000 ))
sleep 1
kill -INT $keep_pid $gone_pid; wait $keep_pid; wait $gone_pid

grep -v "^+[0-9]* ms: exit " "$xl_log"
echo "netdetach: ping of the vif that stays ($keep):"; tail -2 "$keep_log"
echo "netdetach: ping of the vif detached ($gone):"; tail -2 "$gone_log"
# Where xl's time went, from its own stamped lines: from its start to libxl's first look at the
# backend's state (xl starting, libxl writing online=0 and state 5), then the xenbus close (the
# backend Closing until Closed: netback's teardown and the guest's frontend closing), then dom0's
# `vif-bridge offline` hotplug script.
at() { sed -n "s/^+\([0-9]*\) ms: .*$1.*/\1/p" "$xl_log" | head -1; }
closing=$(at "wanted state 6 still waiting"); closing=${closing:-$(at "wanted state 6 ok")}
closed=$(at "wanted state 6 ok")
script=$(at "forking to execute")
script_end=$(sed -n '/forking to execute/{n;s/^+\([0-9]*\) ms: .*/\1/p;}' "$xl_log" | head -1)
handshake_ms=$(( ${closed:-0} - ${closing:-0} ))
echo "netdetach: xl network-detach $NAME $devid took $took_ms ms, exit $xl_status: to the backend's Closing ${closing:-?} ms, Closing to Closed $handshake_ms ms, hotplug script $(( ${script_end:-0} - ${script:-0} )) ms"
fail=0
[ $xl_status -eq 0 ] || { echo "netdetach: xl network-detach failed" >&2; fail=1; }
[ -n "$closed" ] || { echo "netdetach: libxl never saw the backend Closed" >&2; fail=1; }
[ $handshake_ms -lt 2000 ] || { echo "netdetach: the xenbus close took $handshake_ms ms (2000 allowed)" >&2; fail=1; }
if grep -qi "timed out\|timeout" "$xl_log"; then echo "netdetach: the toolstack timed out" >&2; fail=1; fi
# Every echo request up to the last answered was answered (the one in flight when ping was
# stopped is not lost): no gap in the sequence numbers of the replies.
answered=$(sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$keep_log" | sort -un | wc -l)
last=$(sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$keep_log" | sort -n | tail -1)
echo "netdetach: the vif that stays answered $answered of the first ${last:-0} pings"
[ -n "$last" ] && [ "$answered" -eq "$last" ] || { echo "netdetach: the other vif lost pings during the detach" >&2; fail=1; }
if xenstore-exists "/local/domain/0/backend/vif/$DOMID/$devid"; then echo "netdetach: the backend directory is still there" >&2; fail=1; fi
if xenstore-exists "/local/domain/$DOMID/device/vif/$devid"; then echo "netdetach: the frontend directory is still there" >&2; fail=1; fi
xl network-list "$NAME"
rm -f "$keep_log" "$gone_log" "$xl_log"
exit $fail

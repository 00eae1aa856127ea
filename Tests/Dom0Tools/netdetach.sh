#!/bin/sh
# netdetach DEVID GONE_HOST KEEP_HOST: `xl network-detach` of guest $NAME's vif DEVID, through
# xldetach (the close under 2 s, no toolstack timeout, both directories gone, where xl's time
# went), while dom0 pings it (GONE_HOST) and the guest's other vif (KEEP_HOST); the other vif
# must answer every ping meanwhile. Prints dom0's ping summaries after xldetach's lines.
set -u
devid=$1 gone=$2 keep=$3
keep_log=/tmp/netdetach-keep.$$ gone_log=/tmp/netdetach-gone.$$

ping -i 0.1 -W 1 "$keep" > "$keep_log" 2>&1 & keep_pid=$!
ping -i 0.05 -W 1 "$gone" > "$gone_log" 2>&1 & gone_pid=$!
sleep 1
fail=0
xldetach network "$devid" netdetach || fail=1
sleep 1
kill -INT $keep_pid $gone_pid; wait $keep_pid; wait $gone_pid

echo "netdetach: ping of the vif that stays ($keep):"; tail -2 "$keep_log"
echo "netdetach: ping of the vif detached ($gone):"; tail -2 "$gone_log"
# Every echo request up to the last answered was answered (the one in flight when ping was
# stopped is not lost): no gap in the sequence numbers of the replies.
answered=$(sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$keep_log" | sort -un | wc -l)
last=$(sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$keep_log" | sort -n | tail -1)
echo "netdetach: the vif that stays answered $answered of the first ${last:-0} pings"
[ -n "$last" ] && [ "$answered" -eq "$last" ] || { echo "netdetach: the other vif lost pings during the detach" >&2; fail=1; }
rm -f "$keep_log" "$gone_log"
exit $fail

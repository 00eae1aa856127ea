#!/bin/sh
# netburst HOST PORT COUNT WINDOW VIF: a udpecho burst at the Swift guest ($NAME, $DOMID) through
# dom0's vif$DOMID.VIF, with the guest's own counters (it prints them when data/net-report is
# written) and the vif's drop counters read before and after, and the books balanced: every
# datagram dom0 sent was echoed, dropped by the guest (by reason), or dropped by the vif.
# Exits 1 when they do not add up, or when anything was lost (none may be with WINDOW <= 128).
set -u
host=$1 port=$2 count=$3 window=$4 vif=$5
log=/var/log/xen/console/guest-$NAME.log
stats=/sys/class/net/vif$DOMID.$vif/statistics

# report TAG: has the guest print its counters tagged TAG; prints its line for vif VIF.
report() {
    xenstore-write "/local/domain/$DOMID/data/net-report" "$1" || exit 2
    i=0
    until grep -q "guest: net: report $1 done" "$log"; do
        i=$((i + 1)); [ $i -gt 100 ] && { echo "netburst: the guest printed no report $1" >&2; exit 2; }
        sleep 0.05
    done
    grep "guest: net: report $1 vif $vif:" "$log" | tail -1
}

# field LINE WORD: the number after WORD (WORD=N for drop reasons); 0 when absent.
field() {
    echo "$1" | awk -v w="$2" '{ for (i = 1; i <= NF; i++) { if ($i == w) { print $(i + 1) + 0; exit }
                                                          if (index($i, w "=") == 1) { print substr($i, length(w) + 2) + 0; exit } }
                                 print 0 }'
}

# The guest's drops a burst datagram (or its echo) can meet, summed over the line: the IPv4
# and UDP reasons, the reply's own, and netfront's slots and replies not sent. Frames dom0's
# bridge sends meanwhile (IPv6, other stations' unicast) are dropped for other reasons; they
# are printed but are no datagram of the burst.
burst_drops() {
    echo "$1" | awk '{ s = 0
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^(ip|udp)-[a-z-]+=[0-9]+$/ || $i ~ /^(reply-too-long|unresolved|no-route|broadcast-echo|link-broadcast-to-unicast)=[0-9]+$/) { split($i, kv, "="); s += kv[2] }
            if ($i ~ /^(tx-full|tx-dropped|tx-errors|rx-errors|rx-empty|rx-still-mapped|rx-multi-slot|rx-too-long)$/) s += $(i + 1)
        }
        print s }'
}

vif_drops() { echo $(( $(cat $stats/tx_dropped) + $(cat $stats/rx_dropped) )); }

before=$(report "burst-before-$$") || exit 2
vif_before=$(vif_drops)
out=$(udpecho burst "$host" "$port" "$count" "$window"); status=$?
echo "$out"
after=$(report "burst-after-$$") || exit 2
vif_after=$(vif_drops)
echo "guest before: ${before#*: }"
echo "guest after:  ${after#*: }"

sent=$(echo "$out" | sed -n 's/^udpecho burst: \([0-9]*\) sent, \([0-9]*\) echoed.*/\1/p')
echoed=$(echo "$out" | sed -n 's/^udpecho burst: \([0-9]*\) sent, \([0-9]*\) echoed.*/\2/p')
[ -n "$sent" ] && [ -n "$echoed" ] || { echo "netburst: no udpecho summary" >&2; exit 1; }
guest_echoed=$(( $(field "$after" udp-echoed) - $(field "$before" udp-echoed) ))
guest_drops=$(( $(burst_drops "$after") - $(burst_drops "$before") ))
other_drops=$(( $(field "$after" dropped) - $(field "$before" dropped) ))
vif_dropped=$((vif_after - vif_before))
echo "netburst: dom0 sent $sent, echoed $echoed; the guest echoed $guest_echoed, dropped $guest_drops of the burst's kind ($other_drops frames dropped by its stack in all); vif$DOMID.$vif dropped $vif_dropped"
if [ "$sent" -eq $((echoed + guest_drops + vif_dropped)) ] && [ "$guest_echoed" -ge "$echoed" ]; then
    echo "netburst: balanced: $sent sent = $echoed echoed + $guest_drops dropped by the guest + $vif_dropped by the vif"
else
    echo "netburst: NOT balanced: $sent sent, $echoed echoed + $guest_drops dropped by the guest + $vif_dropped by the vif" >&2
    exit 1
fi
[ $status -eq 0 ] || echo "netburst: $((sent - echoed)) of the burst were not echoed: none may be lost with at most $window outstanding" >&2
exit $status

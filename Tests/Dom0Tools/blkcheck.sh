#!/bin/sh
# blkcheck CONSOLE_LOG DEVID=FILE...: each disk's SHA-256 as the guest printed it
# (`guest: blkfront: disk DEVID sha256 HEX`) against `sha256sum FILE` in dom0. Prints one line a
# disk and `blkfront checksum ok` when every one matches.
set -u
console=$1; shift
fail=0
for pair in "$@"; do
    devid=${pair%%=*} file=${pair#*=}
    guest=$(sed -n "s/.*guest: blkfront: disk $devid sha256 \([0-9a-f]*\).*/\1/p" "$console" | tail -1)
    dom0=$(sha256sum "$file" | cut -d' ' -f1)
    if [ -n "$guest" ] && [ "$guest" = "$dom0" ]; then
        echo "blkcheck: disk $devid: guest and dom0 agree on $file: $dom0"
    else
        echo "blkcheck: disk $devid: guest says ${guest:-nothing}, dom0's sha256sum of $file says $dom0" >&2; fail=1
    fi
done
[ $fail -eq 0 ] && echo "blkfront checksum ok"
exit $fail

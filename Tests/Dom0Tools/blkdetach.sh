#!/bin/sh
# blkdetach DEVID: `xl block-detach` of guest $NAME's vbd DEVID while it is idle, through
# xldetach (the close under 2 s, no toolstack timeout, both directories gone, where xl's time
# went).
set -u
exec xldetach block "$1" blkdetach

#!/bin/sh
# E2E: the app chooses the ring size (testpmd --rxd/--txd, as DTS and most
# guides pass them): 64, 512, 1024 and 4096. A size the device takes gives
# rings of that size that carry a closed loop of frames between the device
# (testpmd io, "start tx_first") and the driver (testpmd io); a size beyond
# the device's maximum, which dev_info reports, is refused with a message
# naming both numbers. The maximum is what the driver under test reports;
# for ours, the device's (GET_VRING_NUM, or 32768 on vhost-user). A port
# that cannot tell its ring size fails every size for that one reason,
# found once. Runs on vhost-user and vp_vdpa (two limits: 32768 and 256).
# vv-kinds: vp_vdpa
# vv-secs: 150
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

SECS=${VV_TRAFFIC_SECS:-2}
T=ring_sizes
failed=0

# The driver's largest ring, from testpmd's port info.
ring_max() {
	MAX=
	device_start io || return 1
	driver_start "$(vv_vdev)" --forward-mode=io || return 1
	driver_cmd "show port info 0" 'Max possible number of RXDs per queue' 30 || return 1
	MAX=$(_tp_since drv "$TP_MARK" | sed -n 's/.*Max possible number of RXDs per queue: *\([0-9]*\).*/\1/p' | head -n1)
	driver_stop || return 1
	device_stop || return 1
	[ -n "$MAX" ]
}

case_size() { # N
	device_start io || { R="device did not start"; return 1; }
	if [ "$1" -gt "$MAX" ]; then
		driver_testpmd "$(vv_vdev)" --rxd="$1" --txd="$1"
		device_stop || true
		[ "$DRV_RC" != 0 ] || { R="--rxd=$1 above the maximum $MAX was accepted"; return 1; }
		grep -qE "nb_(rx|tx)_desc\(=$1\).*<= $MAX" "$DRV_LOG" || {
			R="refused, but no message names $1 and the maximum $MAX: $(grep -iE 'nb_(rx|tx)_desc|ring size' "$DRV_LOG" | head -n1)"
			return 1
		}
		NOTE="refused: $(grep -oE "nb_(rx|tx)_desc\(=$1\)[^,]*, should be: <= $MAX" "$DRV_LOG" | head -n1)"
		return 0
	fi
	driver_start "$(vv_vdev)" --rxd="$1" --txd="$1" --forward-mode=io || {
		R="the driver did not start with --rxd=$1 --txd=$1: $(grep -iE 'invalid|error|fail' "$DRV_LOG" | head -n1)"
		return 1
	}
	driver_cmd "show rxq info 0 0" 'Number of RXDs|Failed to retrieve' 30 || { R="no rxq info"; return 1; }
	if _tp_since drv "$TP_MARK" | grep -q 'Failed to retrieve'; then
		R="the port cannot tell its ring size: $(_tp_since drv "$TP_MARK" | grep 'error desc' | head -n1)"
		UNTOLD=$R
		return 1
	fi
	_n=$(_tp_since drv "$TP_MARK" | sed -n 's/.*Number of RXDs: *\([0-9]*\).*/\1/p' | head -n1)
	[ "$_n" = "$1" ] || { R="Rx queue 0 has $_n descriptors, not $1"; return 1; }
	driver_cmd start 'forwarding' || { R="driver start failed"; return 1; }
	device_cmd "start tx_first 2" 'forwarding' || { R="device start failed"; return 1; }
	sleep "$SECS"
	device_stats || { R="cannot read the device's counters"; return 1; }
	driver_stop || { R="driver testpmd did not exit cleanly (rc=$DRV_RC)"; return 1; }
	device_stop || { R="device teardown failed"; return 1; }
	[ "${DEV_RX:-0}" -ge 1280 ] || { R="the loop died: the device got back ${DEV_RX:-0} of $DEV_TX"; return 1; }
	NOTE="rings of $_n, $DEV_RX frames looped"
}

if ! ring_max; then
	vv_fail "$T.max.$VV_DRIVER" "cannot read the driver's maximum ring size"
	vv_cleanup
	exit 1
fi
vv_log "the driver reports rings of up to $MAX descriptors"
vv_cleanup
UNTOLD=
for n in ${VV_RING_SIZES:-64 512 1024 4096}; do
	if [ -n "$UNTOLD" ]; then
		eval "case_$n() { R=\"\$UNTOLD (as for the first size)\"; return 1; }"
	else
		eval "case_$n() { case_size $n; }"
	fi
	vv_run_cases "$n"
done
[ $failed = 0 ]

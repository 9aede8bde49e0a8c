#!/bin/sh
# E2E (guest script): packets counted out by the sender equal packets counted
# in by the receiver, both ways between the driver under test (VV_DRIVER) and
# a VDUSE device (trixie's testpmd):
#   drv_to_dev: driver txonly -> device rxonly
#   dev_to_drv: device txonly -> driver rxonly
# The sender is stopped first and the receiver drained before the receiver's
# counters are read. A sender's TX counter only includes packets the ring
# accepted (refusals are TX-dropped), so nothing is in flight once the
# receiver has drained: the counts must be equal, not just close, unless the
# device says it may drop (DEVICE_LOSS_PCT: QEMU's hub on vp_vdpa).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

SECS=${VV_TRAFFIC_SECS:-3}
DRAIN=${VV_DRAIN_SECS:-1}
T=txrx_counts
failed=0

rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", (b > a) ? n / (b - a) : 0 }'; }

check_counts() { # CASE SENT_NAME SENT RECV_NAME RECV T0 T1
	if [ -z "$3" ] || [ -z "$5" ]; then
		R="counters not read ($2='$3', $4='$5')"
		return 1
	fi
	if [ "$3" -eq 0 ] || [ "$5" -eq 0 ]; then
		R="no traffic: $2=$3 $4=$5"
		return 1
	fi
	if [ "$5" -gt "$3" ]; then
		R="$4=$5 > $2=$3: frames received that were never sent"
		return 1
	fi
	# A lossy device (DEVICE_LOSS_PCT, e.g. QEMU's hub, which drops what a
	# slower receiver cannot take) may lose up to that share, no more.
	if [ "$3" -ne "$5" ] && [ $((($3 - $5) * 100)) -gt $(($3 * ${DEVICE_LOSS_PCT:-0})) ]; then
		R="$2=$3 != $4=$5 (receiver RX-missed=$RMISS RX-nombuf=$RNOMBUF, sender TX-dropped=$SDROP${DEVICE_LOSS_PCT:+; more than the ${DEVICE_LOSS_PCT}% this device may drop})"
		return 1
	fi
	[ "$3" -eq "$5" ] || vv_log "$1: the device dropped $(($3 - $5)) of $3 frames ($DEVICE_KIND may drop up to ${DEVICE_LOSS_PCT}%)"
	# The window is from the sender's start answer to its stop command, so
	# the rate is approximate (a little high).
	vv_log "$1: $2 = $4 = $3 packets, ~$(rate "$3" "$6" "$7") pkt/s over ~$(awk -v a="$6" -v b="$7" 'BEGIN { print b - a }') s"
}

# A port that says its link is down while traffic flows is a failure of its
# own, reported apart so the counts are still compared.
link_check() {
	if driver_link_up; then
		LINK=up
	else
		LINK=down
	fi
}

case_drv_to_dev() {
	device_start rxonly || { R="device did not start"; return 1; }
	driver_start "$(vv_vdev)" --forward-mode=txonly || { R="driver did not start"; return 1; }
	link_check
	device_cmd start 'forwarding' || { R="device start failed"; return 1; }
	driver_cmd start 'forwarding' || { R="driver start failed"; return 1; }
	t0=$(vv_now)
	sleep "$SECS"
	t1=$(vv_now)
	driver_stats || { R="cannot stop the driver (sender)"; return 1; }
	sleep "$DRAIN"
	device_stats || { R="cannot stop the device (receiver)"; return 1; }
	driver_stop || { R="driver testpmd did not exit cleanly (rc=$DRV_RC)"; return 1; }
	device_stop || { R="device teardown failed"; return 1; }
	RMISS=$DEV_RX_MISSED RNOMBUF=$DEV_RX_NOMBUF SDROP=$DRV_TX_DROPPED
	check_counts drv_to_dev driver.TX "$DRV_TX" device.RX "$DEV_RX" "$t0" "$t1"
}

case_dev_to_drv() {
	device_start txonly || { R="device did not start"; return 1; }
	driver_start "$(vv_vdev)" --forward-mode=rxonly || { R="driver did not start"; return 1; }
	link_check
	driver_cmd start 'forwarding' || { R="driver start failed"; return 1; }
	device_cmd start 'forwarding' || { R="device start failed"; return 1; }
	t0=$(vv_now)
	sleep "$SECS"
	t1=$(vv_now)
	device_stats || { R="cannot stop the device (sender)"; return 1; }
	sleep "$DRAIN"
	driver_stats || { R="cannot stop the driver (receiver)"; return 1; }
	driver_stop || { R="driver testpmd did not exit cleanly (rc=$DRV_RC)"; return 1; }
	device_stop || { R="device teardown failed"; return 1; }
	RMISS=$DRV_RX_MISSED RNOMBUF=$DRV_RX_NOMBUF SDROP=$DEV_TX_DROPPED
	check_counts dev_to_drv device.TX "$DEV_TX" driver.RX "$DRV_RX" "$t0" "$t1"
}

for c in drv_to_dev dev_to_drv; do
	name="$T.$c.$VV_DRIVER"
	R=
	LINK=
	if "case_$c"; then
		vv_pass "$name"
	else
		vv_fail "$name" "$R"
		failed=$((failed + 1))
	fi
	case $LINK in
	up) vv_pass "$T.$c.link.$VV_DRIVER: port 0 reports link up" ;;
	down)
		vv_fail "$T.$c.link.$VV_DRIVER" "port 0 reports link down while the device's link is up"
		failed=$((failed + 1)) ;;
	esac
	vv_cleanup
done
[ $failed = 0 ]

#!/bin/sh
# Guest side of vdpa-rates.sh: for each repetition, each case runs with our
# driver and with net_virtio_user back to back (interleaved, order alternating
# per repetition), on the same VDUSE device. Appends
# "CASE DRIVER REP PACKETS SECONDS" lines to $VV_WORK/rates.txt.
#   tx: driver txonly -> device rxonly (packets the device received)
#   rx: device txonly -> driver rxonly (packets the driver received)
set -u
. "$VV_SRC/app/test/lib/test-lib.sh"

REPS=${VV_REPS:-5}
SECS=${VV_SECS:-3}
out="$VV_WORK/rates.txt"
: > "$out"

measure() { # CASE
	if [ "$1" = tx ]; then
		device_start rxonly || return 1
		driver_start "$(vv_vdev)" --forward-mode=txonly || return 1
		device_cmd start 'forwarding' || return 1
		driver_cmd start 'forwarding' || return 1
	else
		device_start txonly || return 1
		driver_start "$(vv_vdev)" --forward-mode=rxonly || return 1
		driver_cmd start 'forwarding' || return 1
		device_cmd start 'forwarding' || return 1
	fi
	# Warm-up, then a counted window between two stats snapshots.
	sleep 1
	if [ "$1" = tx ]; then
		device_cmd "show port stats 0" 'RX-packets' 10 || return 1
		_tp_parse_stats dev A
		t0=$(vv_now)
		sleep "$SECS"
		device_cmd "show port stats 0" 'RX-packets' 10 || return 1
		t1=$(vv_now)
		_tp_parse_stats dev B
		n=$((B_RX - A_RX))
	else
		driver_cmd "show port stats 0" 'RX-packets' 10 || return 1
		_tp_parse_stats drv A
		t0=$(vv_now)
		sleep "$SECS"
		driver_cmd "show port stats 0" 'RX-packets' 10 || return 1
		t1=$(vv_now)
		_tp_parse_stats drv B
		n=$((B_RX - A_RX))
	fi
	driver_stop || true
	device_stop || true
	echo "$1 $VV_DRIVER $rep $n $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >> "$out"
}

rep=1
while [ $rep -le "$REPS" ]; do
	order="ours ref"
	[ $((rep % 2)) = 0 ] && order="ref ours"
	for c in tx rx; do
		for d in $order; do
			VV_DRIVER=$d
			echo "rep $rep/$REPS: $c $d"
			measure $c || echo "rep $rep: $c $d failed"
			vv_cleanup
		done
	done
	rep=$((rep + 1))
done

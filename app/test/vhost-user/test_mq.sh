#!/bin/sh
# vhost-user test: two queue pairs. The peer (DPDK's vhost, queues=2) and
# the driver under test (queues=2, --rxq=2 --txq=2) exchange traffic both
# ways; the counts must match exactly, as in txrx_counts, and every queue
# must have carried traffic.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

SECS=${VV_TRAFFIC_SECS:-2}
T=mq
failed=0
VV_PEER_QUEUES=2
Q="--rxq=2 --txq=2"

# Queues of port 0 whose stream received packets, from a stop report.
busy_rx_queues() { # S
	_tp_since "$1" "$STOP_MARK" | awk '
		/Forward Stats for RX Port= *0\/Queue= *[0-9]+/ { q = $0; sub(/.*Queue= */, "", q); sub(/ .*/, "", q); next }
		q != "" && /RX-packets:/ { n = $2; if (n + 0 > 0) busy++; q = "" }
		END { print busy + 0 }'
}

run_case() { # SENDER_MODE RECEIVER_MODE DIRECTION
	# shellcheck disable=SC2086
	device_start "$1" $Q || { R="peer did not start"; return 1; }
	# shellcheck disable=SC2086
	driver_start "$(vv_vdev "" queues=2)" --forward-mode="$2" $Q ||
		{ R="driver did not start"; return 1; }
	driver_link_up || { R="driver port 0 link is not up"; return 1; }
	if [ "$3" = drv_to_dev ]; then
		device_cmd start 'forwarding' || { R="peer start failed"; return 1; }
		driver_cmd start 'forwarding' || { R="driver start failed"; return 1; }
		sleep "$SECS"
		STOP_MARK=$(_tp_lines drv)
		driver_stats || { R="cannot stop the driver"; return 1; }
		sleep 1
		STOP_MARK=$(_tp_lines dev)
		device_stats || { R="cannot stop the peer"; return 1; }
		busy=$(busy_rx_queues dev)
		sent=$DRV_TX recv=$DEV_RX
	else
		driver_cmd start 'forwarding' || { R="driver start failed"; return 1; }
		device_cmd start 'forwarding' || { R="peer start failed"; return 1; }
		sleep "$SECS"
		device_stats || { R="cannot stop the peer"; return 1; }
		sleep 1
		STOP_MARK=$(_tp_lines drv)
		driver_stats || { R="cannot stop the driver"; return 1; }
		busy=$(busy_rx_queues drv)
		sent=$DEV_TX recv=$DRV_RX
	fi
	driver_stop || { R="driver testpmd did not exit cleanly (rc=$DRV_RC)"; return 1; }
	device_stop || { R="peer teardown failed"; return 1; }
	if [ -z "$sent" ] || [ -z "$recv" ] || [ "$sent" -eq 0 ]; then
		R="no traffic: sent='$sent' received='$recv'"
		return 1
	fi
	[ "$sent" -eq "$recv" ] || { R="sent $sent != received $recv"; return 1; }
	[ "$busy" -eq 2 ] || { R="only $busy of 2 Rx queues carried traffic"; return 1; }
	vv_log "$3: $sent packets over 2 queue pairs, both Rx queues busy"
}

for c in "txonly rxonly drv_to_dev" "rxonly txonly dev_to_drv"; do
	set -- $c
	name="$T.$3.$VV_DRIVER"
	R=
	if [ "$3" = drv_to_dev ]; then
		run_case rxonly txonly drv_to_dev && ok=1 || ok=0
	else
		run_case txonly rxonly dev_to_drv && ok=1 || ok=0
	fi
	if [ $ok = 1 ]; then
		vv_pass "$name"
	else
		vv_fail "$name" "$R"
		failed=$((failed + 1))
	fi
	vv_cleanup
done
[ $failed = 0 ]

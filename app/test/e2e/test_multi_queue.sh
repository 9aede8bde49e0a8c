#!/bin/sh
# E2E (guest script): several queue pairs on a vDPA device, with traffic on
# every queue. QEMU's virtio-net on a 4-queue tap (mq=on): the port sends
# many flows (testpmd's flowgen) on each of its 4 Tx queues; the tap keeps
# each flow on the tap queue it came from, and the host-side peer reflects
# every frame, so each flow comes back to the Rx queue of the queue pair
# that sent it. Every Tx queue and every Rx queue must carry traffic, and
# what came back is what the peer reflected. RSS is off (--disable-rss):
# the device steers by itself and the driver only sets the pair count
# (VQ_PAIRS_SET); test_rss.sh has the hash steering.
# vv-kinds: vp_vdpa
# vv-vp_vdpa-props: mq=on,rss=on,hash=on,vectors=10
# vv-vp_vdpa-netdev: tap
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

T=multi_queue
Q=${VV_QUEUES:-4}
SECS=${VV_TRAFFIC_SECS:-3}
name="$T.$VV_DRIVER"

run() {
	device_start io || { R="device did not start"; return 1; }
	driver_start "$(vv_vdev "" "queues=$Q")" --rxq="$Q" --txq="$Q" \
		--forward-mode=rxonly --disable-rss || { R="driver did not start"; return 1; }
	# Frames an earlier test left in the tap's queues reach the port once
	# it runs: let them land and count from there.
	driver_cmd start 'forwarding' || { R="driver start failed"; return 1; }
	sleep 1
	driver_cmd stop 'Done' 30 || { R="driver stop failed"; return 1; }
	driver_queue_counts "$Q" || { R="no per-queue counts"; return 1; }
	q=0
	while [ $q -lt "$Q" ]; do
		eval "B_TXQ$q=\$DRV_TXQ$q B_RXQ$q=\$DRV_RXQ$q"
		q=$((q + 1))
	done
	device_cmd start || { R="device start failed"; return 1; }
	driver_cmd "set fwd flowgen" 'testpmd> ' 20 || { R="cannot switch to flowgen"; return 1; }
	driver_cmd start 'forwarding' || { R="driver start failed"; return 1; }
	sleep "$SECS"
	# The peer stops reflecting first and the port drains what is still
	# queued in the tap (up to its queue length per queue), so nothing
	# reflected is in flight when the counts are read.
	device_cmd stop || { R="peer stop failed"; return 1; }
	sleep 1
	driver_cmd stop 'Done' 30 || { R="driver stop failed"; return 1; }
	device_stats || { R="no counts from the peer"; return 1; }
	driver_queue_counts "$Q" || { R="no per-queue counts"; return 1; }
	driver_stop || { R="driver testpmd did not exit cleanly (rc=$DRV_RC)"; return 1; }
	per= tx=0 rx=0 q=0
	while [ $q -lt "$Q" ]; do
		eval "qt=\$((DRV_TXQ$q - B_TXQ$q)) qr=\$((DRV_RXQ$q - B_RXQ$q))"
		per="$per q$q tx=$qt rx=$qr;"
		[ "$qt" -gt 0 ] || { R="Tx queue $q sent nothing:$per"; return 1; }
		[ "$qr" -gt 0 ] || { R="Rx queue $q received nothing:$per"; return 1; }
		tx=$((tx + qt)) rx=$((rx + qr))
		q=$((q + 1))
	done
	# Every frame is accounted for: the peer got what the port sent, less
	# what its socket dropped; the port got what reached the device, less
	# what the tap dropped toward QEMU (both when a reader is slower).
	[ $((DEV_RX + DEV_RX_MISSED)) -le "$tx" ] && [ $(((tx - DEV_RX - DEV_RX_MISSED) * 100)) -le "$tx" ] ||
		{ R="sent $tx, the peer got $DEV_RX and dropped $DEV_RX_MISSED:$per"; return 1; }
	[ "$rx" -le "$DEV_TX" ] && [ $(((DEV_TX - rx) * 100)) -le "$DEV_TX" ] ||
		{ R="$DEV_TX frames reached the device ($DEV_TX_DROPPED more dropped by the tap), $rx arrived:$per"; return 1; }
	R="$Q queue pairs:$per peer rx=$DEV_RX (+$DEV_RX_MISSED dropped) tx=$DEV_TX (+$DEV_TX_DROPPED dropped by the tap)"
}

R=
if run; then
	vv_pass "$name: $R"
else
	vv_fail "$name" "$R" ${DRV_LOG:-}
	vv_cleanup
	exit 1
fi
vv_cleanup

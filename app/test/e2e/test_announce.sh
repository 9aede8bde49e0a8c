#!/bin/sh
# E2E (guest script): the link announcement (VIRTIO_NET_F_GUEST_ANNOUNCE).
# QEMU's announce_self (as after a migration) sends its own RARP for the
# NIC each round and, where the driver took GUEST_ANNOUNCE, asks the driver
# to announce too (VIRTIO_NET_S_ANNOUNCE and a config interrupt); the
# driver sends a RARP from the port's address and acknowledges on the
# control queue, which clears the bit (vdpa's link_announce). The peer on
# the host side of the tap counts the RARPs: more than QEMU's own rounds.
# vv-kinds: vp_vdpa
# vv-vp_vdpa-props: mq=on,rss=on,hash=on,vectors=10
# vv-vp_vdpa-netdev: tap
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

T=announce
ROUNDS=3
name="$T.$VV_DRIVER"

run() {
	device_start io || { R="device did not start"; return 1; }
	device_cmd start || { R="device start failed"; return 1; }
	driver_start "$(vv_vdev)" --forward-mode=flowgen || { R="driver did not start"; return 1; }
	driver_cmd start 'forwarding' || { R="driver start failed"; return 1; }
	vm_monitor "migrate_set_parameter announce-rounds $ROUNDS" || { R="cannot set QEMU's announce rounds"; return 1; }
	r0=$(tap_rarps) || { R="no RARP count from the peer"; return 1; }
	vm_monitor "announce_self" || { R="QEMU's announce_self failed"; return 1; }
	# Rounds 50, 150 and 250 ms apart, then time for the last answer.
	sleep 2
	r1=$(tap_rarps) || { R="no RARP count from the peer"; return 1; }
	flag=$(vdpa dev config show "$DEVICE_VDPA_NAME" 2>/dev/null | sed -n 's/.*link_announce \([a-z]*\).*/\1/p')
	driver_cmd stop 'Done' 30 || { R="driver stop failed"; return 1; }
	driver_stop || { R="driver testpmd did not exit cleanly (rc=$DRV_RC)"; return 1; }
	device_stop || true
	got=$((r1 - r0))
	[ "$got" -gt "$ROUNDS" ] ||
		{ R="$got RARPs for $ROUNDS rounds: only QEMU's own, none from the port (link_announce ${flag:-?})"; return 1; }
	[ "$flag" = false ] ||
		{ R="the device still asks for an announcement (link_announce ${flag:-?}): never acknowledged"; return 1; }
	R="$got RARPs for $ROUNDS rounds (QEMU's and the port's), acknowledged"
}

R=
[ "$VV_DRIVER" != ours ] ||
	VV_EAL_EXTRA="${VV_EAL_EXTRA:-} --log-level=pmd.net.virtio_vdpa:info"
if run; then
	vv_pass "$name: $R"
else
	vv_fail "$name" "$R" ${DRV_LOG:-}
	vv_cleanup
	exit 1
fi
vv_cleanup

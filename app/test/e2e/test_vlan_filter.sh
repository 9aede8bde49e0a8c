#!/bin/sh
# E2E (guest script): the device's VLAN filter follows the port
# (RTE_ETH_RX_OFFLOAD_VLAN_FILTER, vlan_filter_set -> VIRTIO_NET_CTRL_VLAN)
# on QEMU's virtio-net. The port sends flows and the tap's host-side peer
# reflects them with a VLAN tag; promiscuous mode is off (QEMU's filter
# lets everything through in promiscuous mode), and flowgen's source
# address, which the reflection is sent to, is in the port's unicast table
# (testpmd's flowgen does not use the port's address). What the port receives
# says whether the device let the tagged frames through:
#   listed    VLAN 100 in the table: passes
#   unlisted  VLAN 200 not in it: dropped
#   added     VLAN 200 added: passes
#   removed   VLAN 200 removed again: dropped
#   still_listed  VLAN 100 again: still passes (traffic never stopped)
# vv-kinds: vp_vdpa
# vv-vp_vdpa-props: mq=on,rss=on,hash=on,vectors=10
# vv-vp_vdpa-netdev: tap
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

T=vlan_filter
WIN=${VV_FILTER_SECS:-0.5}
FLOWGEN_SRC=00:01:02:03:04:00
failed=0

run() {
	device_start io || { R="device did not start"; return 1; }
	device_cmd "tag 100" || { R="peer did not start"; return 1; }
	driver_start "$(vv_vdev)" --forward-mode=flowgen --enable-hw-vlan-filter ||
		{ R="driver did not start"; return 1; }
	driver_cmd "set promisc 0 off" 'testpmd> ' 20 || { R="promiscuous off failed"; return 1; }
	driver_cmd "mac_addr add 0 $FLOWGEN_SRC" 'testpmd> ' 20 || { R="mac_addr add failed"; return 1; }
	driver_cmd start 'forwarding|Not all ports' || { R="driver start failed"; return 1; }
	_tp_since drv "$TP_MARK" | grep -q 'Not all ports' &&
		{ R="the port did not start: $(grep -m1 -E 'Fail|doesn.t match' "$DRV_LOG")"; return 1; }
	filter_step listed some "rx_vlan add 100 0"
	device_cmd "tag 200" || { R="peer did not switch to VLAN 200"; return 1; }
	filter_step unlisted none "show port info 0"
	filter_step added some "rx_vlan add 200 0"
	filter_step removed none "rx_vlan rm 200 0"
	device_cmd "tag 100" || { R="peer did not switch back to VLAN 100"; return 1; }
	filter_step still_listed some "show port info 0"
	driver_cmd stop 'Done' 30 || { R="driver stop failed"; return 1; }
	driver_stop || { R="driver testpmd did not exit cleanly (rc=$DRV_RC)"; return 1; }
	device_stop || true
}

R=
run || { vv_fail "$T.setup.$VV_DRIVER" "$R" ${DRV_LOG:-}; failed=$((failed + 1)); }
vv_cleanup
[ $failed = 0 ]

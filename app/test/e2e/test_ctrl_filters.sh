#!/bin/sh
# E2E (guest script): the device's receive filters follow the port, through
# the control queue of QEMU's virtio-net (vp_vdpa). A return code is not
# enough: the peer sends frames the device must drop or pass, and the
# driver's Rx counter says which it did. Steps (driver in rxonly, peer in
# txonly, frames to the peer's eth-peer address):
#   promiscuous off/on, MAC address set, unicast address add/remove,
#   multicast list add/remove, all-multicast on/off.
# The VLAN filter is test_vlan_filter.sh: only the tap's host-side peer
# sends tagged frames.
# vv-kinds: vp_vdpa
# vv-secs: 150
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

T=ctrl_filters
WIN=${VV_FILTER_SECS:-0.5}
DUT_MAC=52:54:00:00:01:01
FOREIGN=02:00:00:00:00:00
MCAST=01:00:5e:01:02:03
failed=0

peer_to() { # DST-MAC
	device_cmd stop 'Done|not started' 20 || return 1
	device_cmd "set eth-peer 0 $1" 'testpmd> ' 10 || return 1
	device_cmd start 'forwarding' 20
}

run() {
	device_start txonly || { R="device did not start"; return 1; }
	driver_start "$(vv_vdev)" --forward-mode=rxonly ||
		{ R="driver did not start"; return 1; }
	driver_cmd start 'forwarding' || { R="driver start failed"; return 1; }
	peer_to "$FOREIGN" || { R="peer did not start sending"; return 1; }

	filter_step promisc_off none "set promisc 0 off"
	if [ $failed -gt 0 ]; then
		# Each later step tells a filter's effect by frames the device
		# drops with promiscuous off: a device that drops none says no more.
		vv_fail "$T.later_steps.$VV_DRIVER" "not run: they need the device to drop frames with promiscuous off"
		failed=$((failed + 1))
		driver_stop || true
		device_stop || true
		return 0
	fi
	filter_step promisc_on some "set promisc 0 on"
	filter_step mac_set_theirs some "set promisc 0 off" "mac_addr set 0 $FOREIGN"
	filter_step mac_set_own none "mac_addr set 0 $DUT_MAC"
	filter_step mac_add some "mac_addr add 0 $FOREIGN"
	filter_step mac_remove none "mac_addr remove 0 $FOREIGN"

	peer_to "$MCAST" || { R="peer did not switch to multicast"; return 1; }
	filter_step mcast_unlisted none "show port info 0"
	filter_step mcast_list_add some "mcast_addr add 0 $MCAST"
	filter_step mcast_list_remove none "mcast_addr remove 0 $MCAST"
	filter_step allmulti_on some "set allmulti 0 on"
	filter_step allmulti_off none "set allmulti 0 off"

	driver_stop || { R="driver testpmd did not exit cleanly (rc=$DRV_RC)"; return 1; }
	device_stop || { R="peer teardown failed"; return 1; }
}

R=
run || { vv_fail "$T.setup.$VV_DRIVER" "$R"; failed=$((failed + 1)); }
vv_cleanup
[ $failed = 0 ]

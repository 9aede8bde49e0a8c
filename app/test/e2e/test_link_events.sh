#!/bin/sh
# E2E (guest script): the port's link follows the device's. QEMU's monitor
# takes the link of the device under test down and up (set_link); the
# device raises a config interrupt, and the port must report a link-state
# event (testpmd prints it) and the new status. Reports how long the event
# took after the monitor answered (QEMU has changed the link by then), with
# 20 ms polling of testpmd's output; no time is asserted.
# vv-kinds: vp_vdpa
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

T=link_events
failed=0

# Sets the link, waits for the event line and checks the status shown.
toggle() { # off|on down|up
	_name="$T.$2.$VV_DRIVER"
	_m=$(_tp_lines drv)
	vm_monitor "set_link dut $1" || { vv_fail "$_name" "QEMU's monitor did not take set_link"; failed=$((failed + 1)); return; }
	_t0=$(vv_now)
	_i=0
	until _tp_since drv "$_m" | grep -q 'link state change event'; do
		_i=$((_i + 1))
		if [ $_i -gt 250 ]; then
			vv_fail "$_name" "no link-state event within 5 s of set_link dut $1"
			failed=$((failed + 1))
			return
		fi
		sleep 0.02
	done
	_t1=$(vv_now)
	if ! driver_link_up; then _got=down; else _got=up; fi
	if [ "$_got" != "$2" ]; then
		vv_fail "$_name" "event seen, but the port says link $_got"
		failed=$((failed + 1))
		return
	fi
	vv_pass "$_name: link-state event $(awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms after QEMU answered set_link, then link $2"
}

run() {
	device_start rxonly || { R="device did not start"; return 1; }
	driver_start "$(vv_vdev)" --forward-mode=rxonly || { R="driver did not start"; return 1; }
	driver_link_up || { R="link not up at start"; return 1; }
	toggle off down
	toggle on up
	driver_stop || { R="driver testpmd did not exit cleanly (rc=$DRV_RC)"; return 1; }
	device_stop || { R="peer teardown failed"; return 1; }
}

R=
run || { vv_fail "$T.setup.$VV_DRIVER" "$R"; failed=$((failed + 1)); }
vm_monitor "set_link dut on" >/dev/null 2>&1 || true
vv_cleanup
[ $failed = 0 ]

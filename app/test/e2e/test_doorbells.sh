#!/bin/sh
# E2E (guest script): how the driver kicks the device. On vp_vdpa every
# vring has a notification page, which the driver maps: a kick is one store,
# so a transmitting port makes no write() on its kick eventfds. (VDUSE has
# no such page, and the driver falls back to the eventfd, but DPDK's vhost
# behind it asks for next to no kicks during traffic (NO_NOTIFY, or with
# EVENT_IDX an avail_event it never moves): the unit tests cover it.)
# strace counts the eventfd writes (the value 1, 8 bytes) of the driver's
# testpmd during traffic (the control queue's few kicks always use the
# eventfd), and the port's xstats count the kicks. DPDK 22.11's
# net_virtio_user kicks with write() on every kind: that is checked too.
# vv-kinds: vp_vdpa
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

T=doorbells
SECS=${VV_TRAFFIC_SECS:-2}
name="$T.$VV_DRIVER"
trace="$VV_OUT/strace-writes.log"

run() {
	device_start rxonly || { R="device did not start"; return 1; }
	device_cmd start 'forwarding' || { R="device start failed"; return 1; }
	VV_DRIVER_WRAP="strace -f --seccomp-bpf -e trace=write -e signal=none -o $trace" \
		driver_start "$(vv_vdev)" --forward-mode=txonly || { R="driver did not start"; return 1; }
	driver_cmd start 'forwarding' || { R="driver start failed"; return 1; }
	w0=$(grep -cF '"\1\0\0\0\0\0\0\0", 8) = 8' "$trace" || true)
	sleep "$SECS"
	w1=$(grep -cF '"\1\0\0\0\0\0\0\0", 8) = 8' "$trace" || true)
	driver_cmd stop 'Done' 30 || { R="driver stop failed"; return 1; }
	driver_cmd "show port xstats 0" 'tx_q0_kicks|testpmd> ' 10 || true
	kicks=$(_tp_since drv "$TP_MARK" | sed -n 's/^tx_q0_kicks: *\([0-9]*\).*/\1/p' | tail -n1)
	driver_stop || { R="driver testpmd did not exit cleanly (rc=$DRV_RC)"; return 1; }
	device_stop || true
	writes=$((w1 - w0))
	if [ "$VV_DRIVER" = ref ]; then
		[ "$writes" -gt 0 ] || { R="no eventfd write in ${SECS} s of traffic"; return 1; }
		R="eventfd: $writes writes in ${SECS} s"
		return 0
	fi
	[ -n "$kicks" ] || { R="no tx_q0_kicks in the port's xstats"; return 1; }
	[ "$kicks" -gt 0 ] || { R="the port never kicked"; return 1; }
	[ "$writes" -eq 0 ] || { R="$writes eventfd writes in ${SECS} s of traffic with doorbells mapped ($kicks kicks)"; return 1; }
	grep -q 'doorbells mapped' "$DRV_LOG" || { R="the driver did not say it mapped the doorbells"; return 1; }
	R="doorbell: $kicks kicks, $writes eventfd writes in ${SECS} s"
}

R=
# The driver says which kick it uses at info level.
[ "$VV_DRIVER" != ours ] ||
	VV_EAL_EXTRA="${VV_EAL_EXTRA:-} --log-level=pmd.net.virtio_vdpa.init:info"
if run; then
	vv_pass "$name: $R"
else
	vv_fail "$name" "$R"
	vv_cleanup
	exit 1
fi
vv_cleanup

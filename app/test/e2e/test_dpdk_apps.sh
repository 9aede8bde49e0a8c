#!/bin/sh
# E2E: DPDK's own example applications, unmodified and with their default
# options, forward over the driver under test (VV_DRIVER): l2fwd, and l3fwd
# with LPM and with exact match, and l3fwd-power --interrupt-only. l3fwd
# asks for the Rx checksum offloads and for packet types (no
# --parse-ptype), l3fwd-power for packet types and Rx interrupts. On a
# device that filters by MAC (QEMU's virtio-net, once the port turns
# promiscuous mode off at start) each also gets -P: the loop's frames are
# addressed to another MAC (the apps rewrite it). l3fwd-power must also sleep while no frame comes (under a fifth of
# a CPU over IDLE seconds) and be woken by the device's interrupt.
#
# A closed loop: the device side injects INJECT frames (testpmd io,
# "start tx_first") and sends back whatever comes in; the app sends every
# frame back out its one port. After SECS the loop must still run: the
# device received many times what it injected. On a device that loses
# nothing, what it sent but did not get back must be no more than what it
# injected (the frames in flight at stop).
# vv-kinds: vp_vdpa
# vv-secs: 120
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

SECS=${VV_TRAFFIC_SECS:-3}
IDLE=2
P=
case $DEVICE_KIND in vp_vdpa*) P=-P ;; esac
# Ours logs the features and bursts each start chose.
[ "$VV_DRIVER" != ours ] ||
	VV_EAL_EXTRA="${VV_EAL_EXTRA:-} --log-level=pmd.net.virtio_vdpa.init:info"
BURSTS=4		# testpmd's tx_first bursts of 32
INJECT=$((BURSTS * 32))
T=${VV_APPS_T:-dpdk_apps}
failed=0

# APP READY [APP ARGS...]: one forwarding run; R says why it failed.
loop_through() {
	_name=$1 _ready=$2
	_app=$(vv_example "$_name") || { R="example $_name not built"; return 1; }
	shift 2
	device_start io || { R="device did not start"; return 1; }
	driver_app_start "$_app" "$(vv_vdev)" "$_ready" "$@" || {
		R="$_name did not start: $(_tp_since drv 0 | grep -iE 'error|fail|invalid|cannot|doesn.t match' | head -n 2 | tr '\n' ' ')"
		return 1
	}
	if [ -n "${IDLE_CHECK:-}" ]; then
		sleep 1
		_c0=$(driver_app_cpu) || { R="$_name is not running"; return 1; }
		sleep "$IDLE"
		_c1=$(driver_app_cpu) || { R="$_name is not running"; return 1; }
		IDLE_PCT=$(((_c1 - _c0) * 100 / ($(getconf CLK_TCK) * IDLE)))
		vv_log "$_name: ${IDLE_PCT}% of a CPU while idle for $IDLE s"
	fi
	device_cmd "start tx_first $BURSTS" 'forwarding' || { R="device start failed"; return 1; }
	sleep "$SECS"
	device_stats || { R="cannot read the device's counters"; return 1; }
	driver_app_stop
	device_stop || { R="device teardown failed"; return 1; }
	[ "$DRV_RC" = 0 ] || { R="the app exited $DRV_RC on SIGINT"; return 1; }
	if [ "${DEV_RX:-0}" -lt $((INJECT * 20)) ]; then
		R="the loop died: the device injected $INJECT, sent $DEV_TX, got back ${DEV_RX:-0}"
		return 1
	fi
	if [ -z "${DEVICE_LOSS_PCT:-}" ] && [ $((DEV_TX - DEV_RX)) -gt $INJECT ]; then
		R="frames lost: the device sent $DEV_TX and got back $DEV_RX, with only $INJECT in flight"
		return 1
	fi
	NOTE="$DEV_RX frames forwarded in a loop of $INJECT in $SECS s ($DEV_TX sent by the device)"
	_f=$(_tp_since drv 0 | sed -n 's/.*bursts for .*; Rx \([^;]*\); features \(.*\)/Rx \1; \2/p' | tail -n1)
	[ -z "$_f" ] || NOTE="$NOTE; $_f"
}

case_l2fwd() {
	loop_through l2fwd 'entering main loop' -p 0x1 $P -T 1
}

case_l3fwd_lpm() {
	loop_through l3fwd 'entering main loop' -p 0x1 $P --config='(0,0,0)' -L
}

case_l3fwd_em() {
	loop_through l3fwd 'entering main loop' -p 0x1 $P --config='(0,0,0)' -E
}

case_l3fwd_power() {
	IDLE_CHECK=1 loop_through l3fwd-power 'entering main interrupt loop' \
		-p 0x1 $P --config='(0,0,0)' --interrupt-only || return 1
	if [ "$IDLE_PCT" -ge 20 ]; then
		R="it used ${IDLE_PCT}% of a CPU with no traffic: it did not sleep"
		return 1
	fi
	if ! _tp_since drv 0 | grep -q 'waked up from rx interrupt'; then
		R="it forwarded, but no Rx interrupt woke it (log: $DRV_LOG)"
		return 1
	fi
}

# shellcheck disable=SC2086
vv_run_cases ${VV_APPS_CASES:-l2fwd l3fwd_lpm l3fwd_em l3fwd_power}
[ $failed = 0 ]

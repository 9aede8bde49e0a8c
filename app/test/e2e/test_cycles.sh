#!/bin/sh
# E2E (guest script): (c) 100 x (probe, configure, start, traffic, stop,
# close) of the driver under test against a VDUSE echo device. vv_check
# fails on any leaked fd, memzone or mbuf (mempool in-use count back to 0).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../vm/guest-lib.sh"

CYCLES=${VV_CYCLES:-100}
name="cycles.$VV_DRIVER"
check="$VV_BUILD_DIR/app/test/e2e-app/vv_check"
log="$VV_OUT/vv_check-cycles.log"

run() {
	[ -x "$check" ] || { R="$check not built"; return 1; }
	vduse_device_start io || { R="device did not start"; return 1; }
	vduse_device_cmd start 'forwarding' || { R="device start failed"; return 1; }
	eal=$(_vv_driver_eal) || { R="driver EAL options"; return 1; }
	# shellcheck disable=SC2086
	timeout -k 5 400 "$check" -l 0 --no-pci --file-prefix vvdrvcyc $eal \
		-- --dev "$(vv_vdev)" --mode cycles --cycles "$CYCLES" \
		> "$log" 2>&1 && rc=0 || rc=$?
	vduse_device_stop || true
	if [ $rc != 0 ] || ! grep -q '^PASS cycles' "$log"; then
		R="vv_check exited $rc: $(grep -E '^FAIL' "$log" | head -n1)"
		return 1
	fi
}

R=
if run; then
	vv_pass "$name: $(sed -n 's/^PASS cycles: //p' "$log")"
else
	vv_fail "$name" "$R" "$log" ${DEV_LOG:-}
	exit 1
fi

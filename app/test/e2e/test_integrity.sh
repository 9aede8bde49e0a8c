#!/bin/sh
# E2E (guest script): (b) payload integrity. vv_check sends a few thousand
# frames of mixed sizes (60 B..9000 B, chained mbufs) through the driver under
# test (VV_DRIVER) to a VDUSE device that echoes them (testpmd io); every
# byte must come back. Also reports the probe-to-link-up time.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../vm/guest-lib.sh"

COUNT=${VV_INTEGRITY_COUNT:-3000}
name="integrity.$VV_DRIVER"
check="$VV_BUILD_DIR/app/test/e2e-app/vv_check"
log="$VV_OUT/vv_check-integrity.log"

run() {
	[ -x "$check" ] || { R="$check not built"; return 1; }
	vduse_device_start io --mbuf-size=10240 || { R="device did not start"; return 1; }
	vduse_device_cmd start 'forwarding' || { R="device start failed"; return 1; }
	eal=$(_vv_driver_eal) || { R="driver EAL options"; return 1; }
	# shellcheck disable=SC2086
	timeout -k 5 300 "$check" -l 0 --no-pci --file-prefix vvdrvchk $eal \
		-- --dev "$(vv_vdev)" --mode integrity --count "$COUNT" \
		--timeout 200 > "$log" 2>&1 && rc=0 || rc=$?
	grep -E '^(probe-to-link-up|exchange):' "$log" | sed 's/^/  /'
	vduse_device_stop || true
	if [ $rc != 0 ] || ! grep -q '^PASS integrity' "$log"; then
		R="vv_check exited $rc: $(grep -E '^FAIL' "$log" | head -n1)"
		return 1
	fi
}

R=
if run; then
	vv_pass "$name: $(sed -n 's/^PASS integrity: //p' "$log")"
else
	vv_fail "$name" "$R" "$log" ${DEV_LOG:-}
	exit 1
fi

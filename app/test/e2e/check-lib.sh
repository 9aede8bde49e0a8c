# Runs vv_check (app/test/e2e-app) as the driver side of one e2e case, after
# the VDUSE device has started forwarding in the given mode (sourced).
#
#   vv_check_case NAME DEVICE_MODE "DEVICE_ARGS" VV_CHECK_ARGS...
#
# Prints PASS/FAIL for NAME.VV_DRIVER and returns non-zero on failure.
# VV_CHECK_DURING, if set, is a command run in the background alongside
# (vv_check_running waits there until vv_check moves traffic);
# VV_CHECK_DEVARGS, extra devargs for the driver under test.
. "$(dirname "$0")/../lib/test-lib.sh"

# A sanitizer build's settings reach the guest as VV_* variables.
[ -z "${VV_ASAN_OPTIONS:-}" ] || export ASAN_OPTIONS="$VV_ASAN_OPTIONS"
[ -z "${VV_UBSAN_OPTIONS:-}" ] || export UBSAN_OPTIONS="$VV_UBSAN_OPTIONS"

# True once vv_check says "traffic: running"; false if it failed or
# exited first, or said nothing within a minute.
vv_check_running() {
	vv_wait 60 "grep -qE '^(traffic: running|FAIL|vv_check: exited)' '$_vc_log'" &&
		grep -q '^traffic: running' "$_vc_log"
}

vv_check_case() {
	_vc_name="$1.$VV_DRIVER" _vc_mode=$2 _vc_devargs=$3
	_vc_check="$VV_BUILD_DIR/app/test/e2e-app/vv_check"
	_vc_log="$VV_OUT/vv_check-$1.log"
	shift 3
	R=
	if _vv_check_run "$@"; then
		vv_pass "$_vc_name: $(sed -n 's/^PASS [a-z]*: //p' "$_vc_log")"
		return 0
	fi
	vv_fail "$_vc_name" "$R" "$_vc_log" ${DEV_LOG:-}
	return 1
}

_vv_check_run() {
	[ -x "$_vc_check" ] || { R="$_vc_check not built"; return 1; }
	# shellcheck disable=SC2086
	device_start "$_vc_mode" $_vc_devargs || { R="device did not start"; return 1; }
	device_cmd start 'forwarding' || { R="device start failed"; return 1; }
	_vc_eal=$(_vv_driver_eal) || { R="driver EAL options"; return 1; }
	# Our control path logs every ioctl at debug: a failure's log says why.
	[ "$VV_DRIVER" != ours ] ||
		_vc_eal="$_vc_eal --log-level=pmd.net.virtio_vdpa.init:debug"
	# A test may act on the device while vv_check runs (VV_CHECK_DURING);
	# what it did is over before the test looks at the outcome.
	_vc_during=
	if [ -n "${VV_CHECK_DURING:-}" ]; then
		(eval "$VV_CHECK_DURING") &
		_vc_during=$!
	fi
	# shellcheck disable=SC2086
	timeout -k 5 400 "$_vc_check" -l 0 --no-pci --file-prefix vvdrvchk $_vc_eal \
		-- --dev "$(vv_vdev "" "${VV_CHECK_DEVARGS:-}")" "$@" \
		> "$_vc_log" 2>&1 && _vc_rc=0 || _vc_rc=$?
	echo "vv_check: exited $_vc_rc" >> "$_vc_log"
	[ -z "$_vc_during" ] || wait "$_vc_during" || true
	grep -E '^(probe-to-link-up|port|stop|received|port stats|hotplug|vanish|unplug|exchange): ' "$_vc_log" |
		tail -n 4 | sed 's/^/  /'
	device_stop || true
	if [ $_vc_rc != 0 ] || ! grep -q '^PASS ' "$_vc_log"; then
		R="vv_check exited $_vc_rc: $(grep -E '^FAIL' "$_vc_log" | head -n1)"
		return 1
	fi
}

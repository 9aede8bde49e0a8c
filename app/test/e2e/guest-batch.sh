#!/bin/sh
# Guest script of run-e2e.sh: runs several e2e tests in one VM boot.
# Args: DRIVER:TEST pairs (TEST names app/test/e2e/test_TEST.sh); DRIVER
# ours+asan is ours from the ASan/UBSan build in $VV_ASAN_BUILD_DIR, whose
# results count as ours.
# Appends to $VV_WORK/results.txt the PASS/FAIL lines of each test and one
# "DONE TEST.DRIVER RC SECONDS" line per test, for the host to count.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

results="$VV_WORK/results.txt"
: > "$results"
status=0
for pair in "$@"; do
	drv=${pair%%:*}
	t=${pair#*:}
	build=$VV_BUILD_DIR
	plugin=$VV_PLUGIN
	if [ "$drv" = ours+asan ]; then
		drv=ours
		build=$VV_ASAN_BUILD_DIR
		plugin=$build/drivers/librte_net_virtio_vdpa.so
	fi
	id="$t.$drv"
	out="$VV_TMP/$id.out"
	echo "==== $id$([ "$build" = "$VV_BUILD_DIR" ] || echo " (ASan/UBSan build)")"
	t0=$(vv_now)
	# Each test is its own process, so a test that dies leaves the next
	# one a clean shell; vv_cleanup removes what it left in the guest.
	{
		VV_DRIVER=$drv VV_OUT="$VV_WORK/logs/$id" VV_BUILD_DIR=$build \
			VV_PLUGIN=$plugin sh "$HERE/test_$t.sh" 2>&1
		echo $? > "$VV_TMP/$id.rc"
	} | tee "$out"
	rc=$(cat "$VV_TMP/$id.rc" 2>/dev/null || echo 255)
	secs=$(awk -v a="$t0" -v b="$(vv_now)" 'BEGIN { printf "%.0f", b - a }')
	grep -E '^(PASS|FAIL) ' "$out" >> "$results"
	if [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$out"; then
		echo "FAIL $id: exited $rc without reporting a failure" | tee -a "$results"
	elif ! grep -qE '^(PASS|FAIL) ' "$out"; then
		echo "FAIL $id: reported no result" | tee -a "$results"
	fi
	[ "$rc" = 0 ] || status=1
	echo "DONE $id $rc $secs" >> "$results"
	echo "==== $id: exit $rc, ${secs}s"
	vv_cleanup
done
dmesg > "$VV_WORK/dmesg.txt" 2>/dev/null || true
exit $status

#!/bin/sh
# vhost-user test: the peer (DPDK's vhost, echoing) is killed mid-traffic
# and started again on the same socket. The driver under test must report
# link down and up with link-state events and then carry frames intact,
# without the app restarting the port; nothing leaks. With VV_PEER_CLIENT=1
# the peer is the client and our port listens (server=1).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

T=reconnect${VV_PEER_CLIENT:+_server}
name="$T.$VV_DRIVER"
devargs=
[ "${VV_PEER_CLIENT:-0}" != 1 ] || devargs=server=1
check="$VV_BUILD_DIR/app/test/e2e-app/vv_check"
log="$VV_OUT/vv_check-$T.log"

fail() {
	vv_fail "$name" "$1" "$log" ${DEV_LOG:-}
	vv_cleanup
	exit 1
}

[ -x "$check" ] || fail "$check not built"
device_start io || fail "peer did not start"
device_cmd start 'forwarding' || fail "peer forwarding did not start"
eal=$(_vv_driver_eal) || fail "driver EAL options"
# shellcheck disable=SC2086
timeout -k 5 120 "$check" -l 0 --no-pci --file-prefix vvdrvchk $eal \
	--log-level=pmd.net.virtio_vdpa.init:info \
	-- --dev "$(vv_vdev "$VV_PEER_SOCK" "$devargs")" --mode reconnect \
	--count 1000 --timeout 40 > "$log" 2>&1 &
chk=$!
echo $chk >> "$VV_TMP/pids"
vv_wait 60 "grep -q '^reconnect: port up' '$log' || ! kill -0 $chk 2>/dev/null" || true
sleep 2
kill -0 $chk 2>/dev/null || fail "vv_check ended before the peer was killed"
vv_log "killing the peer mid-traffic"
_tp_kill dev
_tp_quit dev DEV 5 || true
sleep 2
vv_log "starting the peer again"
# Forwarding from the first moment, so frames held over the outage come
# back before vv_check's exchange after the return begins.
device_start io --auto-start || fail "peer did not start again"
wait $chk && rc=0 || rc=$?
grep -E '^(reconnect|exchange): ' "$log" | sed 's/^/  /'
device_stop || true
if [ $rc != 0 ] || ! grep -q '^PASS ' "$log"; then
	fail "vv_check exited $rc: $(grep -E '^FAIL' "$log" | head -n1)"
fi
vv_pass "$name: $(sed -n 's/^PASS [a-z]*: //p' "$log")"
vv_cleanup

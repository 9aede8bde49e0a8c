#!/bin/sh
# vhost-user: checksum offloads end to end, with DPDK's vhost library as the
# device. The far side is app/test/e2e-app/vv_csum_peer on a net_vhost port
# (tso=1: the device offers HOST_TSO4/6); the driver under test runs
# testpmd's csum engine with the IPv4, UDP and TCP checksums and TSO (MSS
# MSS) in hardware, and Rx checksum offloads on (--enable-rx-cksum):
#   rx_flags: the engine counts, from our Rx flags, as many bad IPv4 and
#             bad L4 checksums as the peer sent (checked in software here,
#             as the device has no GUEST_CSUM verdict for them);
#   tx:       every frame comes back to the peer, with every checksum good
#             by definition (NEEDS_CSUM done by the device, the IPv4
#             header by the driver), and each large TCP frame with the
#             MSS as its segment size.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

T=csum
COUNT=${VV_CSUM_COUNT:-4000}
MSS=800
failed=0
PEER=$VV_BUILD_DIR/app/test/e2e-app/vv_csum_peer

run() {
	[ -x "$PEER" ] || { R="$PEER not built"; return 1; }
	rm -f "$VV_PEER_SOCK"
	PEER_LOG="$VV_OUT/csum-peer.log"
	dpdk_peer_cmd="$PEER -l 0 --no-pci --file-prefix vvdevcsum --single-file-segments --vdev net_vhost0,iface=$VV_PEER_SOCK,tso=1 -- --count $COUNT --mss $MSS --timeout 90"
	# An ASan build of the peer: its EAL allocations are not leaks to report.
	ASAN_OPTIONS=detect_leaks=0 $dpdk_peer_cmd > "$PEER_LOG" 2>&1 7>&- 8>&- &
	_peer=$!
	echo $_peer >> "$VV_TMP/pids"
	vv_wait 20 "[ -S '$VV_PEER_SOCK' ]" || { R="the peer made no socket (log: $PEER_LOG)"; return 1; }
	driver_start "$(vv_vdev "$VV_PEER_SOCK")" --forward-mode=csum \
		--enable-rx-cksum --mbuf-size=4096 || {
		R="the driver did not start: $(grep -iE 'error|fail|invalid|doesn.t match' "$DRV_LOG" | head -n2 | tr '\n' ' ')"
		return 1
	}
	for c in "port stop 0" "csum set ip hw 0" "csum set udp hw 0" \
		"csum set tcp hw 0" "tso set $MSS 0" "port start 0" start; do
		driver_cmd "$c" 'testpmd> ' 30 || { R="'$c' failed"; return 1; }
	done
	_bad=$(_tp_since drv 0 | grep -iE 'offload is not supported|tso .*not supported|does not support' | head -n1)
	[ -z "$_bad" ] || { R="testpmd refused an offload: $_bad"; return 1; }
	wait $_peer && PEER_RC=0 || PEER_RC=$?
	driver_cmd stop 'Done\.' 30 || { R="driver stop failed"; return 1; }
	FWD=$(_tp_since drv "$TP_MARK")
	driver_stop || true
}

R=
if run; then
	sent_ip=$(sed -n 's/.*sent_bad_ip \([0-9]*\).*/\1/p' "$PEER_LOG")
	sent_l4=$(sed -n 's/.*sent_bad_l4 \([0-9]*\).*/\1/p' "$PEER_LOG")
	got_ip=$(echo "$FWD" | sed -n 's/.*Bad-ipcsum: *\([0-9]*\).*/\1/p' | tail -n1)
	got_l4=$(echo "$FWD" | sed -n 's/.*Bad-l4csum: *\([0-9]*\).*/\1/p' | tail -n1)
	if [ -n "$sent_ip" ] && [ "$sent_ip" = "$got_ip" ] && [ "$sent_l4" = "$got_l4" ] &&
		[ "$sent_ip" -gt 0 ]; then
		vv_pass "$T.rx_flags.$VV_DRIVER: $got_ip bad IPv4 and $got_l4 bad L4 checksums flagged, as sent"
	else
		vv_fail "$T.rx_flags.$VV_DRIVER" "the peer sent ${sent_ip:-?} bad IPv4 and ${sent_l4:-?} bad L4 checksums; the engine counted ${got_ip:-?} and ${got_l4:-?}" "$PEER_LOG" "$DRV_LOG"
		failed=$((failed + 1))
	fi
	if [ "$PEER_RC" = 0 ]; then
		vv_pass "$T.tx.$VV_DRIVER: $(grep 'csum_peer: sent [0-9]' "$PEER_LOG" | sed 's/^csum_peer: //'); $(grep 'large frames' "$PEER_LOG" | sed 's/^csum_peer: //')"
	else
		vv_fail "$T.tx.$VV_DRIVER" "$(grep 'csum_peer:' "$PEER_LOG" | head -n2 | tr '\n' ' ')" "$PEER_LOG" "$DRV_LOG"
		failed=$((failed + 1))
	fi
else
	vv_fail "$T.setup.$VV_DRIVER" "$R" ${PEER_LOG:-} ${DRV_LOG:-}
	failed=$((failed + 1))
fi
vv_cleanup
[ $failed = 0 ]

#!/bin/sh
# E2E (guest script): the device's RSS hash in the mbuf
# (VIRTIO_NET_F_HASH_REPORT). QEMU's virtio-net (rss=on, hash=on, 4 queue
# pairs on a tap) writes the hash it steered each frame by into a 20-byte
# header. The port runs with RTE_ETH_RX_OFFLOAD_RSS_HASH and the IPv4 hash
# (--rss-ip), and testpmd's verbose mode prints each frame's hash and the
# queue it came on. The host-side peer sends 64 frames of 64 UDP flows and
# computes their Toeplitz hashes under the default key:
#   flagged  every frame carries a hash (RTE_MBUF_F_RX_RSS_HASH)
#   values   the hashes are exactly the 64 the peer computed
#   steered  each frame came on the queue the default table names for its
#            hash (entry hash % 128, which holds (hash % 128) % 4)
# vv-kinds: vp_vdpa
# vv-vp_vdpa-props: mq=on,rss=on,hash=on,vectors=10
# vv-vp_vdpa-netdev: tap
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

T=hash_report
Q=4
N=64
failed=0
fail() { vv_fail "$T.$1.$VV_DRIVER" "$2" ${DRV_LOG:-}; failed=$((failed + 1)); }

run() {
	device_start rxonly || { R="device did not start"; return 1; }
	# RTE_ETH_RX_OFFLOAD_RSS_HASH is 0x80000.
	driver_start "$(vv_vdev "" "queues=$Q")" --rxq=$Q --txq=$Q --rss-ip \
		--rx-offloads=0x80000 --forward-mode=rxonly ||
		{ R="driver did not start with RTE_ETH_RX_OFFLOAD_RSS_HASH"; return 1; }
	driver_cmd "set verbose 1" 'testpmd> ' 20 || { R="set verbose failed"; return 1; }
	driver_cmd start 'forwarding' || { R="driver start failed"; return 1; }
	# Frames an earlier test left in the tap's queues land first.
	sleep 1
	m=$(_tp_lines drv)
	device_cmd "flows $N" || { R="the peer did not send"; return 1; }
	vv_wait 20 "[ \$(_tp_since drv $m | grep -c 'length=60') -ge $N ]" || true
	driver_cmd stop 'Done' 30 || { R="driver stop failed"; return 1; }
	frames=$(_tp_since drv "$m" | grep 'length=60' || true)
	got=$(echo "$frames" | grep -c 'length=60' || true)
	[ "$got" -eq $N ] || { R="$got of the peer's $N frames arrived"; return 1; }
	hashed=$(echo "$frames" | grep -c ' - RSS hash=0x' || true)
	if [ "$hashed" -eq $N ]; then
		vv_pass "$T.flagged.$VV_DRIVER: all $N frames carry the device's hash"
	else
		fail flagged "$hashed of $N frames carry a hash"
	fi
	# "RSS hash=0x... - RSS queue=0x..." per frame: the hash, and the queue.
	echo "$frames" | sed -n 's/.* - RSS hash=\(0x[0-9a-f]*\) - RSS queue=\(0x[0-9a-f]*\).*/\1 \2/p' \
		> "$VV_OUT/$T.$VV_DRIVER.got"
	awk '{ print $2 }' "$VV_WORK/tap-peer.stats.flows" | sort > "$VV_OUT/$T.want"
	awk '{ print $1 }' "$VV_OUT/$T.$VV_DRIVER.got" | sort > "$VV_OUT/$T.$VV_DRIVER.hashes"
	if cmp -s "$VV_OUT/$T.want" "$VV_OUT/$T.$VV_DRIVER.hashes"; then
		vv_pass "$T.values.$VV_DRIVER: the $N hashes are the Toeplitz hashes of the $N flows"
	else
		fail values "reported hashes differ from the flows' Toeplitz hashes: $(diff "$VV_OUT/$T.want" "$VV_OUT/$T.$VV_DRIVER.hashes" | grep '^[<>]' | head -n 4 | tr '\n' ' ')"
	fi
	off=0 n=0
	while read -r h q; do
		n=$((n + 1))
		[ $(((h % 128) % Q)) -eq $((q)) ] || off=$((off + 1))
	done < "$VV_OUT/$T.$VV_DRIVER.got"
	if [ "$n" -ne $N ]; then
		fail steered "$n of $N frames said which queue they came on"
	elif [ "$off" = 0 ]; then
		vv_pass "$T.steered.$VV_DRIVER: every frame came on the queue the table names for its hash"
	else
		fail steered "$off frames came on another queue than the table names for their hash"
	fi
	driver_stop || { R="driver testpmd did not exit cleanly (rc=$DRV_RC)"; return 1; }
	device_stop || true
}

R=
run || fail setup "$R"
vv_cleanup
[ $failed = 0 ]

#!/bin/sh
# E2E: DPDK's tools attach to a running port as secondary processes, while
# a closed loop of frames runs through it (device testpmd io, "start
# tx_first"; driver testpmd io):
#   proc_info: dpdk-proc-info --stats --xstats shows the port's counters
#              moving (its packets counted); ours also answers
#              --show-port-private (rte_eth_dev_priv_dump);
#   pdump:     dpdk-pdump captures the port's Rx and Tx into pcap files for
#              SECS + 5 (its start included), and both hold frames.
# vv-kinds: vp_vdpa
# vv-secs: 120
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

SECS=${VV_TRAFFIC_SECS:-3}
T=secondary
failed=0

loop_up() {
	device_start io || { R="device did not start"; return 1; }
	driver_start "$(vv_vdev)" --forward-mode=io || { R="driver did not start"; return 1; }
	driver_cmd start 'forwarding' || { R="driver start failed"; return 1; }
	device_cmd "start tx_first 2" 'forwarding' || { R="device start failed"; return 1; }
	sleep 1
}

loop_down() {
	driver_stop || { R="driver testpmd did not exit cleanly (rc=$DRV_RC)"; return 1; }
	device_stop || { R="device teardown failed"; return 1; }
}

# Frames in a pcap file: records after the 24-byte header, each with a
# 16-byte record header giving its captured length.
pcap_frames() {
	python3 - "$1" <<'PY'
import struct, sys
try:
    d = open(sys.argv[1], "rb").read()
except OSError:
    print(0); sys.exit()
n, off = 0, 24
while off + 16 <= len(d):
    incl = struct.unpack_from("<I", d, off + 8)[0]
    off += 16 + incl
    n += 1
print(n)
PY
}

case_proc_info() {
	loop_up || return 1
	# Each option is its own run: proc-info shows only the first it meets.
	driver_secondary 30 dpdk-proc-info -- --stats
	pi_st=$SEC_RC pi_stlog=$SEC_LOG
	driver_secondary 30 dpdk-proc-info -- --xstats
	pi_xs=$SEC_RC pi_xslog=$SEC_LOG
	pi_pv=0 pi_pvlog=
	if [ "$VV_DRIVER" = ours ]; then
		driver_secondary 30 dpdk-proc-info -- --show-port-private
		pi_pv=$SEC_RC pi_pvlog=$SEC_LOG
	fi
	loop_down || return 1
	for _r in "$pi_st:$pi_stlog" "$pi_xs:$pi_xslog" "$pi_pv:$pi_pvlog"; do
		[ "${_r%%:*}" = 0 ] || { R="dpdk-proc-info exited ${_r%%:*}: $(grep -iE 'error|fail|cannot|invalid' "${_r#*:}" | head -n2 | tr '\n' ' ')"; return 1; }
	done
	_rx=$(sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' "$pi_stlog" | head -n1)
	[ "${_rx:-0}" -gt 0 ] || { R="no RX-packets counted in its --stats (log: $pi_stlog)"; return 1; }
	grep -qE '^rx_q0_[a-z_]*packets: [0-9]' "$pi_xslog" || { R="no per-queue xstats in its --xstats (log: $pi_xslog)"; return 1; }
	NOTE="RX-packets $_rx, $(grep -c ': [0-9]' "$pi_xslog") xstats"
	if [ "$VV_DRIVER" = ours ]; then
		grep -q 'rx_q0_kicks' "$pi_xslog" || { R="no rx_q0_kicks in its --xstats"; return 1; }
		grep -q 'bursts: ' "$pi_pvlog" || { R="--show-port-private printed no dump (log: $pi_pvlog)"; return 1; }
		NOTE="$NOTE; private dump: $(grep 'bursts: ' "$pi_pvlog" | head -n1 | sed 's/^ *//')"
	fi
}

case_pdump() {
	loop_up || return 1
	rm -f "$VV_TMP/rx.pcap" "$VV_TMP/tx.pcap"
	# pdump runs until SIGINT; its EAL start takes seconds of that on a
	# loaded machine (once it caught nothing in 3 s).
	driver_secondary $((SECS + 5)) dpdk-pdump -- \
		--pdump "port=0,queue=*,rx-dev=$VV_TMP/rx.pcap,tx-dev=$VV_TMP/tx.pcap"
	loop_down || return 1
	_rxn=$(pcap_frames "$VV_TMP/rx.pcap")
	_txn=$(pcap_frames "$VV_TMP/tx.pcap")
	# timeout's SIGINT is how pdump is told to stop: 124 is expected.
	[ "$SEC_RC" = 0 ] || [ "$SEC_RC" = 124 ] || { R="dpdk-pdump exited $SEC_RC: $(grep -iE 'error|fail|cannot' "$SEC_LOG" | head -n2 | tr '\n' ' ')"; return 1; }
	[ "$_rxn" -gt 0 ] && [ "$_txn" -gt 0 ] || { R="captured $_rxn Rx and $_txn Tx frames (log: $SEC_LOG)"; return 1; }
	NOTE="captured $_rxn Rx and $_txn Tx frames"
}

vv_run_cases proc_info pdump
[ $failed = 0 ]

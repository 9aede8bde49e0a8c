#!/bin/sh
# E2E (guest script): receive-side scaling through the control queue of
# QEMU's virtio-net (rss=on, 4 queue pairs on a tap). The port sends many
# flows (flowgen) and the host-side peer reflects them; QEMU hashes each
# frame it delivers and picks the Rx queue from the table the driver gave
# it (RSS_CONFIG). Each step changes the port's configuration while traffic
# flows, lets frames in flight land, and counts per Rx queue:
#   info      dev_info's reta size, key size and flow types are the device's
#   spread    the default table spreads the flows over all 4 queues
#   reta_one  a table naming queue 2 moves every flow there
#   reta_get  the table reads back as set
#   reta_two  a table naming queues 2 and 3 leaves 0 and 1 without a frame
#   key       a new key reads back, and traffic still lands as the table says
# (testpmd takes 14 table entries per command, each a few seconds here:
# each step changes as few entries as it can.)
# vv-kinds: vp_vdpa
# vv-vp_vdpa-props: mq=on,rss=on,hash=on,vectors=10
# vv-vp_vdpa-netdev: tap
# vv-secs: 150
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

T=rss
Q=4
WIN=${VV_TRAFFIC_SECS:-1}
KEY=0123456789abcdeffedcba98765432100123456789abcdeffedcba98765432100123456789abcdef
failed=0

fail() { vv_fail "$T.$1.$VV_DRIVER" "$2"; failed=$((failed + 1)); }

# Frames each Rx queue got in WIN seconds, after frames in flight landed:
# GOT0..GOT3 and GOT_TXT.
window() {
	sleep 1
	driver_queue_counts $Q || return 1
	_q=0
	while [ $_q -lt $Q ]; do eval "_a$_q=\$DRV_RXQ$_q"; _q=$((_q + 1)); done
	sleep "$WIN"
	driver_queue_counts $Q || return 1
	GOT_TXT= _q=0
	while [ $_q -lt $Q ]; do
		eval "GOT$_q=\$((DRV_RXQ$_q - _a$_q))"
		eval "GOT_TXT=\"\$GOT_TXT q$_q=\$GOT$_q\""
		_q=$((_q + 1))
	done
}

# Programs table entries FIRST, FIRST+STEP, ... with QUEUE. testpmd takes
# at most 128 characters of entries per command.
reta_set() { # QUEUE FIRST STEP
	_i=$2
	while [ $_i -lt "$RETA" ]; do
		_c= _j=0
		while [ $_j -lt 14 ] && [ $_i -lt "$RETA" ]; do
			_c="$_c${_c:+,}($_i,$1)"
			_i=$((_i + $3)) _j=$((_j + 1))
		done
		driver_cmd "port config 0 rss reta $_c" 'testpmd> ' 20 || return 1
		if _tp_since drv "$TP_MARK" | grep -qiE 'fail|error|invalid|bad arg'; then
			vv_err "reta update refused: $(_tp_since drv "$TP_MARK" | grep -iE 'fail|error|invalid|bad arg' | head -n1)"
			return 1
		fi
	done
}

# Which queues must get frames (1) and which none (0), per queue.
expect() { # STEP WANT0 WANT1 WANT2 WANT3
	_step=$1
	shift
	window || { fail "$_step" "cannot read per-queue counts"; return; }
	_q=0
	for _w in "$@"; do
		eval "_g=\$GOT$_q"
		if [ "$_w" = 1 ] && [ "$_g" -eq 0 ]; then
			fail "$_step" "Rx queue $_q got nothing:$GOT_TXT"
			return
		fi
		if [ "$_w" = 0 ] && [ "$_g" -ne 0 ]; then
			fail "$_step" "Rx queue $_q got $_g frames, the table names it for none:$GOT_TXT"
			return
		fi
		_q=$((_q + 1))
	done
	vv_pass "$T.$_step.$VV_DRIVER:$GOT_TXT"
}

run() {
	device_start io || { R="device did not start"; return 1; }
	device_cmd start || { R="device start failed"; return 1; }
	driver_start "$(vv_vdev "" "queues=$Q")" --rxq=$Q --txq=$Q \
		--forward-mode=flowgen || { R="driver did not start"; return 1; }
	driver_cmd "show port info 0" 'testpmd> ' 20 || { R="no port info"; return 1; }
	info=$(_tp_since drv "$TP_MARK")
	RETA=$(echo "$info" | sed -n 's/^Redirection table size: *\([0-9]*\).*/\1/p')
	keysz=$(echo "$info" | sed -n 's/^Hash key size in bytes: *\([0-9]*\).*/\1/p')
	types=$(echo "$info" | sed -n '/^Supported RSS offload flow types:/,/^[A-Z]/p' | tr '\n' ' ')
	case "${RETA:-0} ${keysz:-0} $types" in
	"0 "*|*" 0 "*) R="no RSS in the port's info (table ${RETA:-?}, key ${keysz:-?})"; return 1 ;;
	*ipv4-tcp*ipv6-udp-ex*) vv_pass "$T.info.$VV_DRIVER: table $RETA, key $keysz B, flow types from the device" ;;
	*) fail info "flow types are not the device's nine hash types: $types" ;;
	esac
	driver_cmd start 'forwarding' || { R="driver start failed"; return 1; }

	expect spread 1 1 1 1
	if reta_set 2 0 1; then expect reta_one 0 0 1 0; else fail reta_one "table not taken"; fi

	masks=$(awk -v n="$RETA" 'BEGIN { for (i = 0; i < n; i += 64) printf "%s0xffffffffffffffff", i ? "," : "" }')
	driver_cmd "show port 0 rss reta $RETA ($masks)" 'testpmd> ' 20 || true
	n2=$(_tp_since drv "$TP_MARK" | grep -c 'queue=2' || true)
	if [ "$n2" -eq "$RETA" ]; then
		vv_pass "$T.reta_get.$VV_DRIVER: all $RETA entries read back as queue 2"
	else
		fail reta_get "$n2 of $RETA entries read back as queue 2"
	fi

	if reta_set 3 1 2; then expect reta_two 0 0 1 1; else fail reta_two "table not taken"; fi

	driver_cmd "port config 0 rss-hash-key ipv4 $KEY" 'testpmd> ' 20 || true
	driver_cmd "show port 0 rss-hash key" 'testpmd> ' 20 || true
	got=$(_tp_since drv "$TP_MARK" | tr -d ' \n' | tr 'A-F' 'a-f')
	case $got in
	*"$KEY"*) expect key 0 0 1 1 ;;
	*) fail key "the key did not read back: $(_tp_since drv "$TP_MARK" | tr '\n' ' ')" ;;
	esac

	driver_cmd stop 'Done' 30 || { R="driver stop failed"; return 1; }
	driver_stop || { R="driver testpmd did not exit cleanly (rc=$DRV_RC)"; return 1; }
	device_stop || true
}

R=
run || { vv_fail "$T.setup.$VV_DRIVER" "$R" ${DRV_LOG:-}; failed=$((failed + 1)); }
vv_cleanup
[ $failed = 0 ]

#!/bin/sh
# E2E (guest script): the datapath variants devargs select, each checked for
# payload integrity against a VDUSE echo device, and devargs the port
# reports back:
#   nomrg:     mrg_rxbuf=0 (one mbuf per frame, frames up to 1514 B)
#   noinorder: in_order=0 (out-of-order Tx completion path, 60..9000 B)
#   ring1024:  queue_size=1024, mac=..., speed=25000 (reported as given)
# vv-kinds: vduse
set -eu
. "$(dirname "$0")/check-lib.sh"

rc=0
VV_CHECK_DEVARGS=mrg_rxbuf=0
vv_check_case devargs_nomrg io "" --mode integrity --count 1000 \
	--max-frame 1514 || rc=1
vv_cleanup
VV_CHECK_DEVARGS=in_order=0
vv_check_case devargs_noinorder io "--mbuf-size=10240" --mode integrity \
	--count 1000 || rc=1
vv_cleanup
VV_CHECK_DEVARGS=queue_size=1024,mac=02:00:00:00:00:2a,speed=25000
if vv_check_case devargs_ring1024 io "" --mode integrity --count 500 \
	--max-frame 1514 --queue-size 1024; then
	log="$VV_OUT/vv_check-devargs_ring1024.log"
	if ! grep -q '^port: mac 02:00:00:00:00:2A, Link up at 25 Gbps' "$log"; then
		vv_fail "devargs_report.$VV_DRIVER" "port did not report mac=02:00:00:00:00:2a speed=25000: $(grep '^port:' "$log")"
		rc=1
	else
		vv_pass "devargs_report.$VV_DRIVER: MAC and speed as given"
	fi
else
	rc=1
fi
unset VV_CHECK_DEVARGS
exit $rc

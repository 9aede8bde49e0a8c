#!/bin/sh
# E2E (guest script): surprise removal. QEMU's monitor unplugs the PCI
# function under test (device_del dut) a second into a run that receives
# (peer txonly) and transmits. The port must take its link down with a
# link-state event, stop and close must finish with every mbuf back in the
# pool, and the kernel must then complete the removal, which it holds for
# as long as the vhost-vdpa fd is open. The function is added back for the
# tests after this one.
# vv-kinds: vp_vdpa
set -eu
. "$(dirname "$0")/check-lib.sh"

marker="$VV_OUT/unplugged.$VV_DRIVER"
rm -f "$marker"
# The marker first: whatever the monitor answers, the dut may be gone.
VV_CHECK_DURING='vv_check_running && sleep 1 && touch "$marker" && vm_monitor "device_del dut"'
rc=0
# To the port's own address: with promiscuous off the device drops the rest.
vv_check_case unplug txonly "--eth-peer=0,52:54:00:00:01:01" --mode unplug --timeout 4 || rc=1
if [ -e "$marker" ]; then
	if device_replug; then
		vv_pass "unplug.removed.$VV_DRIVER: the kernel let the function go once the port closed it; added back"
	else
		vv_fail "unplug.removed.$VV_DRIVER" "the unplugged function did not leave, or did not come back"
		rc=1
	fi
fi
vv_cleanup
exit $rc

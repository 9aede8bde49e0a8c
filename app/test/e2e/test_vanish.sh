#!/bin/sh
# E2E (guest script): the device vanishes mid-traffic. The VDUSE device's
# process is killed a second into a run that receives (device txonly) and
# transmits; the driver's stop and close must still finish cleanly and
# every mbuf must return to the pool.
set -eu
. "$(dirname "$0")/check-lib.sh"
# A dead VDUSE device answers nothing; the kernel gives up after this.
VV_VDUSE_MSG_TIMEOUT=2
VV_CHECK_DURING='sleep 2; _tp_kill dev'
vv_check_case vanish txonly "" --mode vanish --timeout 5

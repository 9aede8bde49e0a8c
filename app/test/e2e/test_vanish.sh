#!/bin/sh
# E2E (guest script): the device vanishes mid-traffic. The VDUSE device's
# process is killed a second into a run that receives (device txonly) and
# transmits; nothing may arrive in the run's last second (the device is
# dead by then), the driver's stop and close must still finish cleanly and
# every mbuf must return to the pool.
# vv-kinds: vduse
set -eu
. "$(dirname "$0")/check-lib.sh"
# A dead VDUSE device answers nothing; the kernel gives up after
# msg_timeout. Shortened only once the device is about to die: before that,
# a device slowed down by a busy host must still get its full time. The
# device dies once the port has moved traffic for a while: a fixed delay
# killed it before a slow (sanitizer) build had even opened it.
# (set -eu holds in it: a vhost-user peer has no VDUSE name or sysfs file.)
VV_CHECK_DURING='vv_check_running && sleep 1 && { [ -z "${VV_VDUSE_NAME:-}" ] || echo 2 > "/sys/class/vduse/$VV_VDUSE_NAME/msg_timeout" || true; _tp_kill dev; }'
vv_check_case vanish txonly "" --mode vanish --timeout 5

#!/bin/sh
# E2E (guest script): DPDK memory hot-plugged while the port runs reaches the
# device (frames built in a pool created after start are echoed intact), and
# freeing it again leaves traffic flowing.
set -eu
. "$(dirname "$0")/check-lib.sh"
vv_check_case hotplug io "" --mode hotplug --count 1000

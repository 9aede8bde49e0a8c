#!/bin/sh
# E2E (guest script): rte_eth_dev_stop really stops the device. While the
# VDUSE device floods us (testpmd txonly), no byte of any idle mbuf may change
# after stop returns; start after stop and configure after stop must work.
set -eu
. "$(dirname "$0")/check-lib.sh"
vv_check_case stop txonly "" --mode stop

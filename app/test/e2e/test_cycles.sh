#!/bin/sh
# E2E (guest script): (c) 100 x (probe, configure, start, traffic, stop,
# close) against a VDUSE echo device. Any leaked fd, memzone or mbuf (the
# mempool's in-use count back to 0) fails it.
set -eu
. "$(dirname "$0")/check-lib.sh"
vv_check_case cycles io "" --mode cycles --cycles "${VV_CYCLES:-100}"

#!/bin/sh
# E2E (guest script): (b) payload integrity. A few thousand frames of mixed
# sizes (60 B..9000 B, chained mbufs) go through the driver under test to a
# VDUSE device that echoes them (testpmd io); every byte must come back.
# Also reports the probe-to-link-up time.
set -eu
. "$(dirname "$0")/check-lib.sh"
vv_check_case integrity io "--mbuf-size=10240" --mode integrity \
	--count "${VV_INTEGRITY_COUNT:-3000}" --timeout 200

#!/bin/sh
# E2E (guest script): the driver under test (VV_DRIVER) refuses bad devargs
# and unusable devices cleanly. Each case runs a one-shot driver testpmd that
# must exit non-zero by itself (not by a signal, not hung) and print a
# message. For VV_DRIVER=ours the message must also contain the words below.
# Last, the device must still work for a well-formed driver.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

# ---- what our driver must say (grep -iE), one place to adjust -------------
OURS_MSG_UNKNOWN_KEY='bogus_key'
OURS_MSG_NO_VALUE='queue_size'
OURS_MSG_RANGE='queue_size'
OURS_MSG_MISSING_FILE='No such file'
OURS_MSG_MISSING_DEV='No such file'
OURS_MSG_BUSY='busy'
OURS_MSG_NOT_VDPA='not a vhost-vdpa device'
# For the reference driver, any line of its own (not EAL's or testpmd's
# generic ones) that reads like an error counts as a message.
REF_MSG='error|fail|invalid|cannot|unable|busy|no such|not |refused|unsupported'
# Lines every failed run prints, whoever is at fault: not a driver message.
GENERIC='^EAL: |^testpmd: |^vdev_probe\(\)|Invalid port [0-9]|^ *Cause:|^Port [0-9]|^Configuring Port|^Checking link'

T=bad_args
MISSING_FILE=/nonexistent/vhost-vdpa-0
MISSING_DEV=/dev/vhost-vdpa-9
failed=0

# Runs one case: CASE OURS_PATTERN VDEV.
expect_refusal() {
	name="$T.$1.$VV_DRIVER"
	driver_testpmd "$3"
	reason=
	if [ "$DRV_RC" = 0 ]; then
		reason="testpmd accepted '$3' (exit 0)"
	elif [ "$DRV_RC" = 124 ] || [ "$DRV_RC" = 137 ]; then
		reason="testpmd hung (killed after ${VV_TP_TIMEOUT}s)"
	elif [ "$DRV_RC" -ge 128 ]; then
		reason="testpmd died by signal $((DRV_RC - 128))"
	elif [ "$DRV_RC" = 125 ]; then
		reason="testpmd could not be started"
	elif [ "$VV_DRIVER" = ours ]; then
		grep -qiE -- "$2" "$DRV_LOG" ||
			reason="exit $DRV_RC but no message matching /$2/"
	else
		tr -d '\r' < "$DRV_LOG" | grep -vE "$GENERIC" | grep -qiE -- "$REF_MSG" ||
			reason="exit $DRV_RC but no driver message"
	fi
	if [ -z "$reason" ]; then
		msg=$(tr -d '\r' < "$DRV_LOG" | grep -vE "$GENERIC" | grep -iE -- "$REF_MSG|$2" | head -n1)
		vv_log "$1: exit $DRV_RC: $msg"
		vv_pass "$name"
	else
		vv_fail "$name" "$reason" "$DRV_LOG"
		failed=$((failed + 1))
	fi
}

if ! device_start rxonly; then
	vv_fail "$T.device.$VV_DRIVER" "device did not start"
	vv_cleanup
	exit 1
fi
DEV=$VV_VDPA_DEV

expect_refusal unknown_key "$OURS_MSG_UNKNOWN_KEY" "$(vv_vdev "$DEV" bogus_key=1)"
expect_refusal key_without_value "$OURS_MSG_NO_VALUE" "$(vv_vdev "$DEV" queue_size)"
expect_refusal queue_size_range "$OURS_MSG_RANGE" "$(vv_vdev "$DEV" queue_size=65536)"
expect_refusal missing_file "$OURS_MSG_MISSING_FILE" "$(vv_vdev "$MISSING_FILE")"
expect_refusal missing_device "$OURS_MSG_MISSING_DEV" "$(vv_vdev "$MISSING_DEV")"
expect_refusal not_vhost_vdpa "$OURS_MSG_NOT_VDPA" "$(vv_vdev /dev/null)"

# A second opener while a driver process holds the device.
if driver_start "$(vv_vdev "$DEV")"; then
	holder_log=$DRV_LOG
	expect_refusal busy "$OURS_MSG_BUSY" "$(vv_vdev "$DEV")"
	DRV_LOG=$holder_log
	if ! driver_stop; then
		vv_fail "$T.busy_holder.$VV_DRIVER" "the holding driver did not exit cleanly (rc=$DRV_RC)"
		failed=$((failed + 1))
	fi
else
	vv_fail "$T.busy.$VV_DRIVER" "the first driver (holder) did not start"
	failed=$((failed + 1))
fi

# The refused opens must not have wedged the device.
name="$T.device_still_usable.$VV_DRIVER"
if driver_start "$(vv_vdev "$DEV")" && driver_link_up && driver_stop; then
	vv_pass "$name"
else
	vv_fail "$name" "a well-formed driver no longer comes up"
	failed=$((failed + 1))
fi
device_stop || {
	vv_fail "$T.device_teardown.$VV_DRIVER" "device teardown failed (rc=$DEV_RC)"
	failed=$((failed + 1))
}
vv_cleanup
[ $failed = 0 ]

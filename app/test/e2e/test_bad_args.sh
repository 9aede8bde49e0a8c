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
OURS_MSG_MEMLOCK='ulimit -l unlimited'
OURS_MSG_NOT_BOUND='not vhost_vdpa.*/sys/bus/vdpa/drivers/vhost_vdpa/bind'
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
	# testpmd 22.11 exits 0 after a port that failed to start; say so.
	if [ "$DRV_RC" = 0 ] && grep -q '^Fail to start port' "$DRV_LOG"; then
		DRV_RC="0 (port start failed)"
	fi
	if [ "$DRV_RC" = 0 ]; then
		reason="testpmd accepted '$3' (exit 0)"
	elif [ "$DRV_RC" = 124 ] || [ "$DRV_RC" = 137 ]; then
		reason="testpmd hung (killed after ${VV_TP_TIMEOUT}s)"
	elif [ "${DRV_RC%% *}" -ge 128 ]; then
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

# Devices that pin what the IOTLB maps (vp_vdpa, behind an IOMMU) charge
# it to RLIMIT_MEMLOCK; VDUSE pins nothing.
if [ "$DEVICE_KIND" = vp_vdpa ]; then
	VV_MEMLOCK_KB=1024
	expect_refusal memlock_too_low "$OURS_MSG_MEMLOCK" "$(vv_vdev "$DEV")"
	unset VV_MEMLOCK_KB
fi

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

# path= may name the vdpa device instead of its node.
name="$T.device_by_name.$VV_DRIVER"
if driver_start "$(vv_vdev "$DEVICE_VDPA_NAME")" && driver_link_up && driver_stop; then
	vv_pass "$name: path=$DEVICE_VDPA_NAME"
else
	vv_fail "$name" "path=$DEVICE_VDPA_NAME (the vdpa device's name) did not give a working port"
	failed=$((failed + 1))
	! _tp_alive drv || _tp_quit drv DRV 10
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
# A vdpa device that vhost_vdpa does not hold has no node to open. Unbinding
# waits for the node's users, so only once the traffic side has quit.
if [ "$DEVICE_KIND" = vp_vdpa ]; then
	timeout 20 sh -c 'echo peer > /sys/bus/vdpa/drivers/vhost_vdpa/unbind' || {
		vv_fail "$T.name_not_bound.$VV_DRIVER" "cannot unbind peer from vhost_vdpa"
		failed=$((failed + 1))
	}
	expect_refusal name_not_bound "$OURS_MSG_NOT_BOUND" "$(vv_vdev peer)"
	echo peer > /sys/bus/vdpa/drivers/vhost_vdpa/bind
fi
vv_cleanup
[ $failed = 0 ]

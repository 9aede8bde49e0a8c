# Device provider "vduse" of test-lib.sh (sourced): trixie's DPDK 24.11
# testpmd with a VDUSE net_vhost port, added as a vdpa device and bound to
# vhost_vdpa, which gives /dev/vhost-vdpa-N. Runs in the VM of app/test/vm.

DEVICE_KIND=vduse
VV_VDUSE_NAME=${VV_VDUSE_NAME:-vduse0}
DEVICE_VDPA_NAME=$VV_VDUSE_NAME

device_start() { # MODE [testpmd app args...]
	_mode=$1
	shift
	_tp=$(_dpdk24) || return 1
	if [ -e "/sys/bus/vdpa/devices/$VV_VDUSE_NAME" ] || [ -e "/dev/vduse/$VV_VDUSE_NAME" ] ||
		[ -e "/run/vduse/$VV_VDUSE_NAME" ]; then
		vv_err "$VV_VDUSE_NAME exists already (left over from an earlier test? vv_cleanup removes it)"
		return 1
	fi
	_n=$(_vv_seq)
	DEV_LOG="$VV_OUT/device-$_n.log"
	# The device's forwarding lcore is 1; the driver's is 0.
	_tp_start dev 7 "$DEV_LOG" $_tp -l 0,1 --main-lcore 0 --no-pci \
		--file-prefix "vvdev$_n" -d "$VV_DPDK24_ROOT/plugins" \
		--vdev "net_vhost0,iface=/dev/vduse/$VV_VDUSE_NAME,queues=1" -- \
		-i --nb-cores=1 --nb-ports=1 --forward-mode="$_mode" \
		--total-num-mbufs="$VV_MBUFS" "$@"
	# The VDUSE device appears when the vhost port starts, before the
	# prompt; a prompt without it means the port failed.
	vv_wait 60 "[ -e /dev/vduse/$VV_VDUSE_NAME ] || ! _tp_alive dev || _tp_since dev 0 | grep -q 'testpmd> '" || true
	if [ ! -e "/dev/vduse/$VV_VDUSE_NAME" ]; then
		vv_err "device testpmd did not create /dev/vduse/$VV_VDUSE_NAME (log: $DEV_LOG)"
		tail -n 15 "$DEV_LOG" | tr -d '\r' >&2
		return 1
	fi
	_tp_wait_ready dev 60 || return 1
	# vdpa dev add fails with EINVAL until the device has set up its vrings.
	vv_wait 30 "vdpa dev add name $VV_VDUSE_NAME mgmtdev vduse 2>/dev/null" || {
		vv_err "vdpa dev add name $VV_VDUSE_NAME mgmtdev vduse: $(vdpa dev add name $VV_VDUSE_NAME mgmtdev vduse 2>&1)"
		return 1
	}
	_sys=/sys/bus/vdpa/devices/$VV_VDUSE_NAME
	vv_wait 10 "ls -d $_sys/vhost-vdpa-* >/dev/null 2>&1" || true
	_drv=$(basename "$(readlink "$_sys/driver" 2>/dev/null)" 2>/dev/null) || true
	if [ "$_drv" != vhost_vdpa ]; then
		vv_err "$VV_VDUSE_NAME is bound to '${_drv:-nothing}', not vhost_vdpa (was virtio_vdpa loaded?)"
		return 1
	fi
	# A device message waits msg_timeout (default 30 s) for an answer; a
	# device process that died mid-test then costs that on every message.
	echo "${VV_VDUSE_MSG_TIMEOUT:-10}" > "/sys/class/vduse/$VV_VDUSE_NAME/msg_timeout" 2>/dev/null || true
	VV_VDPA_DEV=/dev/$(basename "$(ls -d "$_sys"/vhost-vdpa-* | head -n1)")
	vv_wait 10 "[ -c $VV_VDPA_DEV ]" || { vv_err "$VV_VDPA_DEV did not appear"; return 1; }
	vv_log "device up: $VV_VDPA_DEV (testpmd $_mode, log $DEV_LOG)"
}

# The driver must have closed the vhost-vdpa device: vdpa dev del waits for
# its users. The VDUSE device must be deleted before its process exits.
device_stop() {
	_rc=0
	DEV_RC=
	device_stats || _rc=1
	if [ -e "/sys/bus/vdpa/devices/$VV_VDUSE_NAME" ]; then
		timeout 30 vdpa dev del "$VV_VDUSE_NAME" || {
			vv_err "vdpa dev del $VV_VDUSE_NAME failed or hung (a driver still holding $VV_VDPA_DEV?)"
			_rc=1
		}
	fi
	_tp_quit dev DEV 30
	[ "$DEV_RC" = 0 ] || { vv_err "device testpmd exited $DEV_RC (log: $DEV_LOG)"; _rc=1; }
	return $_rc
}

# Destroys a VDUSE device whose process is gone. Such a device outlives its
# process until VDUSE_DESTROY_DEV (there is no tool for it; python3 comes
# with the host's /usr). _IOW(0x81, 0x03, char[256]) = 0x41008103.
_vv_vduse_destroy() { # NAME
	python3 -c 'import fcntl, os, sys
fd = os.open("/dev/vduse/control", os.O_RDWR)
fcntl.ioctl(fd, 0x41008103, sys.argv[1].encode().ljust(256, b"\0"))' "$1"
}

device_cleanup() {
	# Without its process, each message of a VDUSE device (a driver's reset
	# at close, vdpa dev del) waits out msg_timeout, 30 s by default, before
	# the kernel gives up. Shorten it before killing anything.
	_cl=/sys/class/vduse/$VV_VDUSE_NAME
	[ -w "$_cl/msg_timeout" ] && echo 1 > "$_cl/msg_timeout"
	_vv_kill_started
	if [ -e "/sys/bus/vdpa/devices/$VV_VDUSE_NAME" ]; then
		timeout 60 vdpa dev del "$VV_VDUSE_NAME" 2>/dev/null || true
	fi
	if [ -e "/dev/vduse/$VV_VDUSE_NAME" ]; then
		vv_wait 5 "_vv_vduse_destroy $VV_VDUSE_NAME 2>/dev/null" ||
			vv_err "cannot destroy the VDUSE device $VV_VDUSE_NAME: $(_vv_vduse_destroy "$VV_VDUSE_NAME" 2>&1 | tail -n1)"
	fi
	# DPDK's reconnection log: with it and no device, the next device
	# process fails ("Failed to start driver for /dev/vduse/...").
	[ -e "/dev/vduse/$VV_VDUSE_NAME" ] || rm -f "/run/vduse/$VV_VDUSE_NAME"
	return 0
}

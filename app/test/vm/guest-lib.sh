# Functions for guest scripts run by run.sh (sourced; POSIX sh).
#
# Device side: trixie's DPDK 24.11 testpmd with a VDUSE net_vhost port, added
# as a vdpa device and bound to vhost_vdpa, which gives /dev/vhost-vdpa-N.
# Driver side: the host's DPDK 22.11 testpmd with the driver under test
# (VV_DRIVER=ref: DPDK's net_virtio_user; VV_DRIVER=ours: our plugin).
#
#   vduse_device_start MODE [testpmd args]  device up, forwarding NOT started;
#                                           sets VV_VDPA_DEV (/dev/vhost-vdpa-N)
#   vduse_device_cmd CMD [PATTERN [SECS]]   send a testpmd command (and wait)
#   vduse_device_stats                      stop forwarding, read port stats:
#                                           sets DEV_RX DEV_TX DEV_RX_MISSED
#                                           DEV_RX_NOMBUF DEV_TX_DROPPED
#   vduse_device_stop                       stats, vdpa dev del, quit; DEV_RC
#   vv_vdev [PATH] [DEVARGS]                the vdev string for VV_DRIVER
#   driver_testpmd VDEV [testpmd args]      one-shot driver run, stdin closed;
#                                           sets DRV_RC DRV_LOG, returns 0
#   driver_start VDEV [testpmd args]        interactive driver (same args)
#   driver_cmd CMD [PATTERN [SECS]]         as vduse_device_cmd
#   driver_link_up                          true if port 0 reports link up
#   driver_stats                            as vduse_device_stats, DRV_*
#   driver_stop                             stats, quit; sets DRV_RC
#   vv_cleanup                              kill what this lib started, drop
#                                           the vdpa device and DPDK run files
#   vv_pass NAME / vv_fail NAME REASON [LOG...]  report a result (+ log tails)
#
# Both sides share two vCPUs: each forwards on its own lcore (device on 1,
# driver on 0) with --nb-cores=1, as two busy-polling lcores on one CPU
# would starve each other.

VV_DRIVER=${VV_DRIVER:-ref}
VV_OUT=${VV_OUT:-${VV_WORK:-/tmp}/logs}
VV_TMP=${VV_TMP:-/tmp/vv-lib}
VV_DPDK24_ROOT=${VV_DPDK24_ROOT:-}
VV_PLUGIN=${VV_PLUGIN:-${VV_BUILD_DIR:-./build}/drivers/librte_net_virtio_vdpa.so}
VV_MBUFS=${VV_MBUFS:-8192}
# Seconds a one-shot driver run may take before it counts as hung.
VV_TP_TIMEOUT=${VV_TP_TIMEOUT:-60}
mkdir -p "$VV_OUT" "$VV_TMP"
# A session that died must not kill the script when a command is written to
# its fifo; the write fails with EPIPE and the liveness checks report it.
trap '' PIPE

vv_now() { cut -d' ' -f1 /proc/uptime; }
vv_log() { echo "  [$(vv_now)] $*"; }
vv_err() { echo "  [$(vv_now)] ERROR: $*" >&2; }

# Shell-quotes one word.
_vv_q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

_vv_seq() {
	_vv_n=$(($(cat "$VV_TMP/seq" 2>/dev/null || echo 0) + 1))
	echo $_vv_n > "$VV_TMP/seq"
	echo $_vv_n
}

# Polls a shell condition every 0.2 s for up to SECS seconds.
vv_wait() { # SECS CONDITION...
	_vv_end=$(($(cut -d. -f1 /proc/uptime) + $1))
	shift
	while ! eval "$*"; do
		[ "$(cut -d. -f1 /proc/uptime)" -lt $_vv_end ] || return 1
		sleep 0.2
	done
}

# ---- interactive testpmd sessions ------------------------------------------
# A session runs testpmd -i under script(1): the pty makes testpmd's stdout
# line-buffered, so its answers can be read while it runs. Commands go in
# through a fifo held open on a fixed fd (dev: 7, drv: 8) so testpmd never
# sees EOF between commands. Per session S: S_PID (script's pid), S_LOG.

_tp_start() { # S FD LOG CMD...
	_s=$1 _fd=$2 _log=$3
	shift 3
	_fifo="$VV_TMP/$_s.in"
	rm -f "$_fifo" "$_log"
	mkfifo "$_fifo"
	_cmd=exec
	for _a in "$@"; do _cmd="$_cmd $(_vv_q "$_a")"; done
	# -e: script exits with testpmd's status. Other sessions' fds are
	# closed so a session's fifo has exactly one writer: this shell.
	script -q -f -e -c "$_cmd" "$_log" < "$_fifo" > /dev/null 2>&1 7>&- 8>&- &
	eval "${_s}_PID=$!"
	echo $! >> "$VV_TMP/pids"
	eval "exec $_fd>\"\$_fifo\""
	eval "${_s}_LOG=\$_log ${_s}_FD=\$_fd"
}

_tp_alive() { eval "kill -0 \"\$${1}_PID\"" 2>/dev/null; }

# Lines of the log from line N+1 on, without the pty's CRs.
_tp_since() { eval "tail -n +$(($2 + 1)) \"\$${1}_LOG\"" | tr -d '\r'; }
_tp_lines() { eval "wc -l < \"\$${1}_LOG\"" 2>/dev/null || echo 0; }

# Sends a command; with PATTERN, waits until a line written after the command
# matches it (extended regex). Sets TP_MARK to the log line before the
# command, for parsing the answer with _tp_since.
_tp_cmd() { # S CMD [PATTERN [SECS]]
	_s=$1
	_tp_alive "$_s" || { vv_err "$_s testpmd is not running (log: $(eval echo \$${_s}_LOG))"; return 1; }
	TP_MARK=$(_tp_lines "$_s")
	[ -z "${VV_DEBUG:-}" ] || vv_log "$_s> $2"
	eval "printf '%s\n' \"\$2\" >&\$${_s}_FD" || { vv_err "cannot write to $_s testpmd"; return 1; }
	[ -n "${3:-}" ] || return 0
	vv_wait "${4:-30}" "_tp_since $_s $TP_MARK | grep -qE $(_vv_q "$3") || ! _tp_alive $_s"
	if _tp_since "$_s" "$TP_MARK" | grep -qE "$3"; then
		[ -z "${VV_DEBUG:-}" ] || vv_log "$_s: answered"
		return 0
	fi
	vv_err "$_s testpmd: no /$3/ after '$2'"
	return 1
}

# testpmd prints the prompt once initialisation is over.
_tp_wait_ready() { # S SECS
	vv_wait "$2" "_tp_since $1 0 | grep -q 'testpmd> ' || ! _tp_alive $1" || true
	_tp_since "$1" 0 | grep -q 'testpmd> ' && return 0
	if _tp_alive "$1"; then
		vv_err "$1 testpmd not ready after $2 s"
	else
		vv_err "$1 testpmd exited during start-up"
	fi
	return 1
}

# Parses the NIC statistics answered after TP_MARK into PREFIX_* variables.
_tp_parse_stats() { # S PREFIX
	_st=$(_tp_since "$1" "$TP_MARK")
	_v() { echo "$_st" | sed -n "s/.*$1: *\([0-9][0-9]*\).*/\1/p" | tail -n1; }
	eval "${2}_RX=$(_v RX-packets) ${2}_TX=$(_v TX-packets)"
	eval "${2}_RX_MISSED=$(_v RX-missed) ${2}_RX_NOMBUF=$(_v RX-nombuf)"
	eval "${2}_RX_ERR=$(_v RX-errors) ${2}_TX_ERR=$(_v TX-errors)"
}

# stop; show port stats 0 -> PREFIX_*. The forwarding engine's TX-dropped
# (packets the port refused) comes from the stop report.
_tp_final_stats() { # S PREFIX
	_tp_cmd "$1" stop 'Done\.|not started' 30 || return 1
	_drop=$(_tp_since "$1" "$TP_MARK" | sed -n 's/.*TX-dropped: *\([0-9]*\).*/\1/p' | tail -n1)
	eval "${2}_TX_DROPPED=${_drop:-0}"
	_tp_cmd "$1" "show port stats 0" '^ *#{20,} *$' 30 || return 1
	_tp_parse_stats "$1" "$2"
}

# quit, then wait; kills it after SECS. Sets PREFIX_RC (>= 128: signal).
_tp_quit() { # S PREFIX SECS
	_tp_alive "$1" && _tp_cmd "$1" quit
	vv_wait "$3" "! _tp_alive $1" || {
		vv_err "$1 testpmd did not quit within $3 s; killing it"
		_tp_kill "$1"
	}
	eval "wait \$${1}_PID" && _r=0 || _r=$?
	eval "${2}_RC=$_r"
	# The fd number must be literal in the redirection, hence two evals.
	eval "_f=\$${1}_FD"
	eval "exec $_f>&-"
}

_tp_kill() {
	eval "_p=\$${1}_PID"
	# script(1)'s child is testpmd itself (exec), listed in /proc.
	for _c in $(cat /proc/$_p/task/*/children 2>/dev/null) $_p; do
		kill -TERM "$_c" 2>/dev/null || true
	done
	vv_wait 5 "! kill -0 $_p 2>/dev/null" && return 0
	for _c in $(cat /proc/$_p/task/*/children 2>/dev/null) $_p; do
		kill -KILL "$_c" 2>/dev/null || true
	done
}

# ---- device side ----------------------------------------------------------------
VV_VDUSE_NAME=${VV_VDUSE_NAME:-vduse0}

_dpdk24() {
	[ -n "$VV_DPDK24_ROOT" ] && [ -e "$VV_DPDK24_ROOT/.complete" ] || {
		vv_err "DPDK 24.11 root missing (VV_DPDK24_ROOT=$VV_DPDK24_ROOT); run app/test/vm/fetch.sh"
		return 1
	}
	_l="$VV_DPDK24_ROOT/usr/lib/x86_64-linux-gnu"
	# Trixie's own loader and libraries, with the guest's /dev and /run.
	echo "$_l/ld-linux-x86-64.so.2 --inhibit-cache --library-path $_l $VV_DPDK24_ROOT/usr/bin/dpdk-testpmd"
}

vduse_device_start() { # MODE [testpmd app args...]
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

vduse_device_cmd() { _tp_cmd dev "$@"; }

vduse_device_stats() {
	DEV_RX= DEV_TX= DEV_RX_MISSED= DEV_RX_NOMBUF= DEV_TX_DROPPED=
	_tp_final_stats dev DEV
}

# The driver must have closed the vhost-vdpa device: vdpa dev del waits for
# its users. The VDUSE device must be deleted before its process exits.
vduse_device_stop() {
	_rc=0
	DEV_RC=
	vduse_device_stats || _rc=1
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

# ---- driver side ------------------------------------------------------------------
# The vdev of the driver under test on PATH (default: the device started by
# vduse_device_start), plus extra devargs.
vv_vdev() { # [PATH] [DEVARGS]
	_p=${1:-${VV_VDPA_DEV:-/dev/vhost-vdpa-0}}
	case $VV_DRIVER in
	ref)
		case ",${2:-}" in
		*,queues=*) echo "net_virtio_user0,path=$_p,$2" ;;
		*) echo "net_virtio_user0,path=$_p,queues=1${2:+,$2}" ;;
		esac
		;;
	ours) echo "net_virtio_vdpa0,path=$_p${2:+,$2}" ;;
	*) vv_err "VV_DRIVER must be ours or ref, not '$VV_DRIVER'"; return 1 ;;
	esac
}

# EAL options the driver under test needs. DPDK 22.11's virtio_user puts VAs
# in the rings but maps PAs in IOVA-as-PA mode, so it runs as VA.
_vv_driver_eal() {
	case $VV_DRIVER in
	ref) echo "--iova-mode=va ${VV_EAL_EXTRA:-}" ;;
	ours)
		[ -f "$VV_PLUGIN" ] || {
			vv_err "plugin $VV_PLUGIN not built (set VV_PLUGIN or build with meson/ninja)"
			return 1
		}
		echo "-d $VV_PLUGIN ${VV_EAL_EXTRA:-}"
		;;
	*) vv_err "VV_DRIVER must be ours or ref, not '$VV_DRIVER'"; return 1 ;;
	esac
}

# --nb-ports=1: testpmd 22.11 carries on with zero ports when the vdev fails
# to probe (EAL only logs "Bus (vdev) probe failed"); this makes it exit 1.
_vv_driver_cmd() { # N VDEV
	_eal=$(_vv_driver_eal) || return 1
	echo "dpdk-testpmd -l 0,1 --main-lcore 1 --no-pci --file-prefix vvdrv$1 $_eal --vdev $2 -- --nb-cores=1 --nb-ports=1 --total-num-mbufs=$VV_MBUFS"
}

driver_testpmd() { # VDEV [testpmd app args...]
	_n=$(_vv_seq)
	DRV_LOG="$VV_OUT/driver-$_n.log"
	DRV_RC=
	_c=$(_vv_driver_cmd "$_n" "$1") || { DRV_RC=125; return 0; }
	shift
	timeout -k 5 "$VV_TP_TIMEOUT" $_c "$@" < /dev/null > "$DRV_LOG" 2>&1 7>&- 8>&- &
	echo $! >> "$VV_TMP/pids"
	wait $! && DRV_RC=0 || DRV_RC=$?
	return 0
}

driver_start() { # VDEV [testpmd app args...]
	_n=$(_vv_seq)
	DRV_LOG="$VV_OUT/driver-$_n.log"
	_c=$(_vv_driver_cmd "$_n" "$1") || return 1
	shift
	_tp_start drv 8 "$DRV_LOG" $_c -i "$@"
	_tp_wait_ready drv 60 || {
		tail -n 15 "$DRV_LOG" | tr -d '\r' >&2
		return 1
	}
}

driver_cmd() { _tp_cmd drv "$@"; }

driver_link_up() {
	_tp_cmd drv "show port info 0" 'Link status: ' 30 &&
		_tp_since drv "$TP_MARK" | grep -q 'Link status: up'
}

driver_stats() {
	DRV_RX= DRV_TX= DRV_RX_MISSED= DRV_RX_NOMBUF= DRV_TX_DROPPED=
	_tp_final_stats drv DRV
}

driver_stop() {
	_rc=0
	DRV_RC=
	driver_stats || _rc=1
	_tp_quit drv DRV 30
	[ "$DRV_RC" = 0 ] || { vv_err "driver testpmd exited $DRV_RC (log: $DRV_LOG)"; _rc=1; }
	return $_rc
}

# ---- housekeeping ---------------------------------------------------------------
# Destroys a VDUSE device whose process is gone. Such a device outlives its
# process until VDUSE_DESTROY_DEV (there is no tool for it; python3 comes
# with the host's /usr). _IOW(0x81, 0x03, char[256]) = 0x41008103.
_vv_vduse_destroy() { # NAME
	python3 -c 'import fcntl, os, sys
fd = os.open("/dev/vduse/control", os.O_RDWR)
fcntl.ioctl(fd, 0x41008103, sys.argv[1].encode().ljust(256, b"\0"))' "$1"
}

# Kills every process this lib started, and their children, and closes
# the sessions' fifos.
_vv_kill_started() {
	for _p in $(cat "$VV_TMP/pids" 2>/dev/null); do
		for _c in $(cat /proc/$_p/task/*/children 2>/dev/null) $_p; do
			kill -KILL "$_c" 2>/dev/null || true
		done
	done
	: > "$VV_TMP/pids"
	exec 7>&- 8>&-
}

vv_cleanup() {
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
	rm -rf /var/run/dpdk/vvdev* /var/run/dpdk/vvdrv* /dev/hugepages/vvdev* /dev/hugepages/vvdrv*
	return 0
}

vv_pass() { echo "PASS $1"; }

# Prints the tails of LOGs (default: the last device and driver logs).
vv_fail() { # NAME REASON [LOG...]
	echo "FAIL $1: $2"
	shift 2
	[ $# -gt 0 ] || set -- ${DEV_LOG:-} ${DRV_LOG:-}
	for _l in "$@"; do
		[ -f "$_l" ] || continue
		echo "  ---- last lines of $_l"
		tail -n 12 "$_l" | tr -d '\r' | sed 's/^/  | /'
	done
}

# Another device side (app/test/vhost-user/peer-lib.sh) replaces the VDUSE
# functions above, so the same test scripts run against it.
[ -z "${VV_DEVICE_LIB:-}" ] || . "$VV_DEVICE_LIB"

# The one library of the test and bench scripts (sourced; POSIX sh): testpmd
# sessions, the driver under test, results, and the device under test
# through one of the providers beside this file, chosen by VV_DEVICE:
#
#   vduse       device-vduse.sh: DPDK 24.11's vhost library as a VDUSE device,
#               bound to vhost_vdpa (in the VM of app/test/vm, VV_DEVICE=vduse)
#   vp_vdpa     device-vp_vdpa.sh: QEMU's virtio-net PCI function through
#               vp_vdpa, with a traffic peer on a second function on the same
#               QEMU hub (in the VM booted with VV_DEVICE=vp_vdpa)
#   vhost_user  device-vhost_user.sh: DPDK 22.11's net_vhost as a vhost-user
#               peer on this host; the device path is its socket
#
# Every provider gives the same interface:
#   device_start MODE [testpmd args]  device up, traffic side NOT forwarding;
#                                     sets VV_VDPA_DEV (the path for path=)
#   device_cmd CMD [PATTERN [SECS]]   send a testpmd command to the traffic
#                                     side (and wait for PATTERN)
#   device_stats                      stop forwarding, read its port stats:
#                                     sets DEV_RX DEV_TX DEV_RX_MISSED
#                                     DEV_RX_NOMBUF DEV_TX_DROPPED
#   device_stop                       stats, tear down; sets DEV_RC
#   device_cleanup                    what vv_cleanup adds for this kind
# and DEVICE_KIND, its name in results, DEVICE_VDPA_NAME, the vdpa name of
# the device under test (empty for vhost_user), and DEVICE_LOSS_PCT, the
# share of frames the device may drop (unset: none).
#
# Driver side and results (here):
#   vv_vdev [PATH] [DEVARGS]                the vdev string for VV_DRIVER
#                                           (VV_RING=packed: packed rings)
#   driver_testpmd VDEV [testpmd args]      one-shot driver run, stdin closed;
#                                           sets DRV_RC DRV_LOG, returns 0;
#                                           VV_MEMLOCK_KB: its memlock limit
#   driver_start VDEV [testpmd args]        interactive driver (same args);
#                                           VV_DRIVER_WRAP: a command to run
#                                           it under (strace ...)
#   driver_cmd CMD [PATTERN [SECS]]         as device_cmd
#   driver_link_up                          true if port 0 reports link up
#   driver_rx_in SECS                       frames port 0 received in SECS
#                                           (forwarding on): DRV_RX_IN
#   driver_stats                            as device_stats, DRV_*
#   driver_queue_counts N                   per-queue packets of port 0 (its
#                                           xstats): DRV_RXQ0.. DRV_TXQ0..
#   rx_step NAME SECS none|some CMD...      runs driver commands, then reports
#                                           whether port 0 received frames in
#                                           SECS as expected (a filter test)
#   filter_step NAME none|some CMD...       rx_step as "$T.NAME.$VV_DRIVER"
#                                           over $WIN, counting into $failed
#   driver_stop                             stats, quit; sets DRV_RC
#   vv_example NAME                         path of DPDK's example NAME
#   driver_app_start APP VDEV READY [ARGS]  an app (l3fwd...) as the driver
#                                           side, waiting for READY in DRV_LOG
#   driver_app_cpu                          its CPU time so far, in ticks
#   driver_secondary SECS TOOL [EAL] -- [ARGS]  a secondary process of the
#                                           driver_start session; SEC_LOG SEC_RC
#   driver_app_stop                         SIGINT, wait; sets DRV_RC
#   vv_cleanup                              kill what this lib started, and
#                                           the provider's device_cleanup
#   vv_pass NAME / vv_fail NAME REASON [LOG...]  report a result (+ log tails)
#   vv_run_cases C...                       case_C each, reported as
#                                           $T.C.$VV_DRIVER (NOTE or R)
#
# Both sides share two vCPUs: each forwards on its own lcore (device on 1,
# driver on 0) with --nb-cores=1, as two busy-polling lcores on one CPU
# would starve each other.

# A sourced POSIX script cannot tell its own path: the project's is VV_SRC
# (set in the VM and by the runners), else the caller sits one folder below
# app/test or app/.
VV_LIB_DIR=${VV_SRC:+$VV_SRC/app/test/lib}
[ -n "$VV_LIB_DIR" ] && [ -f "$VV_LIB_DIR/test-lib.sh" ] ||
	VV_LIB_DIR=$(cd "$(dirname "$0")/../lib" 2>/dev/null && pwd) ||
	VV_LIB_DIR=$(cd "$(dirname "$0")/../test/lib" 2>/dev/null && pwd)
VV_DEVICE=${VV_DEVICE:-vduse}
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

# Polls a shell condition every 0.1 s for up to SECS seconds.
vv_wait() { # SECS CONDITION...
	_vv_end=$(($(cut -d. -f1 /proc/uptime) + $1))
	shift
	while ! eval "$*"; do
		[ "$(cut -d. -f1 /proc/uptime)" -lt $_vv_end ] || return 1
		sleep 0.1
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
	# script(1) runs the command with $SHELL -c: the user's shell may quote
	# differently.
	SHELL=/bin/sh script -q -f -e -c "$_cmd" "$_log" < "$_fifo" > /dev/null 2>&1 7>&- 8>&- &
	eval "${_s}_PID=$!"
	echo $! >> "$VV_TMP/pids"
	eval "exec $_fd>\"\$_fifo\""
	eval "${_s}_LOG=\$_log ${_s}_FD=\$_fd"
}

_tp_alive() { eval "kill -0 \"\$${1}_PID\"" 2>/dev/null; }

# Lines of the log from line N+1 on, without the pty's CRs.
_tp_since() { eval "tail -n +$(($2 + 1)) \"\$${1}_LOG\"" | tr -d '\r'; }
# Counts the unterminated last line too (the prompt a command is echoed
# on), so what follows a mark is the answer, not the prompt before it.
_tp_lines() { eval "awk 'END { print NR }' \"\$${1}_LOG\"" 2>/dev/null || echo 0; }

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

# The command that runs trixie's DPDK 24.11 testpmd (fetch.sh's root).
_dpdk24() {
	[ -n "$VV_DPDK24_ROOT" ] && [ -e "$VV_DPDK24_ROOT/.complete" ] || {
		vv_err "DPDK 24.11 root missing (VV_DPDK24_ROOT=$VV_DPDK24_ROOT); run app/test/vm/fetch.sh"
		return 1
	}
	_l="$VV_DPDK24_ROOT/usr/lib/x86_64-linux-gnu"
	# Trixie's own loader and libraries, with the guest's /dev and /run.
	echo "$_l/ld-linux-x86-64.so.2 --inhibit-cache --library-path $_l $VV_DPDK24_ROOT/usr/bin/dpdk-testpmd"
}

# ---- device side: the traffic side's session, whatever the provider ----------
device_cmd() { _tp_cmd dev "$@"; }

device_stats() {
	DEV_RX= DEV_TX= DEV_RX_MISSED= DEV_RX_NOMBUF= DEV_TX_DROPPED=
	_tp_final_stats dev DEV
}

# Reads a session's final stats and quits it; sets PREFIX_RC.
_tp_session_stop() { # S PREFIX WHAT (for messages)
	_rc=0
	eval "${2}_RC="
	"$1_stats" || _rc=1
	_tp_quit "$1" "$2" 30
	eval "_r=\$${2}_RC _l=\$${2}_LOG"
	[ "$_r" = 0 ] || { vv_err "$3 testpmd exited $_r (log: $_l)"; _rc=1; }
	return $_rc
}

_dev_session_stop() { _tp_session_stop dev DEV "$1"; }
dev_stats() { device_stats; }

# ---- driver side ------------------------------------------------------------------
# The vdev of the driver under test on PATH (default: the device started by
# device_start), plus extra devargs.
# VV_RING=packed adds packed_vq=1 for either driver, unless DEVARGS say.
vv_vdev() { # [PATH] [DEVARGS]
	_p=${1:-${VV_VDPA_DEV:-/dev/vhost-vdpa-0}}
	_a=${2:-}
	case ",$_a" in
	*,packed_vq=*) ;;
	*) if [ "${VV_RING:-split}" = packed ]; then _a="packed_vq=1${_a:+,$_a}"; fi ;;
	esac
	case $VV_DRIVER in
	ref)
		case ",$_a" in
		*,queues=*) echo "net_virtio_user0,path=$_p,$_a" ;;
		*) echo "net_virtio_user0,path=$_p,queues=1${_a:+,$_a}" ;;
		esac
		;;
	ours) echo "net_virtio_vdpa0,path=$_p${_a:+,$_a}" ;;
	*) vv_err "VV_DRIVER must be ours or ref, not '$VV_DRIVER'"; return 1 ;;
	esac
}

# EAL options the driver under test needs. DPDK 22.11's virtio_user puts VAs
# in the rings but maps PAs in IOVA-as-PA mode, so it runs as VA; a provider
# may add what else the reference needs on its kind (VV_REF_EAL).
_vv_driver_eal() {
	case $VV_DRIVER in
	ref) echo "--iova-mode=va ${VV_REF_EAL:-} ${VV_EAL_EXTRA:-}" ;;
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
# A sanitizer build of our plugin in Debian's (uninstrumented) testpmd: the
# ASan runtime must be loaded first, and testpmd's own allocations are not
# ours to check for leaks.
# PRELOAD: more libraries to preload, after the ASan runtime.
_vv_sanitizer_env() { # [PRELOAD]
	_asan=
	[ "$VV_DRIVER" != ours ] ||
		_asan=$(ldd "$VV_PLUGIN" 2>/dev/null | sed -n 's/.*libasan[^ ]* => \([^ ]*\).*/\1/p' | head -n1)
	if [ -z "$_asan" ]; then
		[ -z "${1:-}" ] || echo "env LD_PRELOAD=$1"
		return 0
	fi
	echo "env LD_PRELOAD=$_asan${1:+:$1} ASAN_OPTIONS=${VV_ASAN_OPTIONS:+$VV_ASAN_OPTIONS:}detect_leaks=0 UBSAN_OPTIONS=${VV_UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
}

# VV_DRIVER_WRAP, if set, runs the driver's testpmd under it (strace ...).
_vv_driver_cmd() { # N VDEV
	_eal=$(_vv_driver_eal) || return 1
	_san=$(_vv_sanitizer_env)
	echo "${_san:+$_san }${VV_DRIVER_WRAP:+$VV_DRIVER_WRAP }dpdk-testpmd -l 0,1 --main-lcore 1 --no-pci --file-prefix vvdrv$1 $_eal --vdev $2 -- --nb-cores=1 --nb-ports=1 --total-num-mbufs=$VV_MBUFS"
}

# VV_MEMLOCK_KB, if set, is the run's RLIMIT_MEMLOCK.
driver_testpmd() { # VDEV [testpmd app args...]
	_n=$(_vv_seq)
	DRV_LOG="$VV_OUT/driver-$_n.log"
	DRV_RC=
	_c=$(_vv_driver_cmd "$_n" "$1") || { DRV_RC=125; return 0; }
	shift
	[ -z "${VV_MEMLOCK_KB:-}" ] || _c="prlimit --memlock=$((VV_MEMLOCK_KB * 1024)) -- $_c"
	timeout -k 5 "$VV_TP_TIMEOUT" $_c "$@" < /dev/null > "$DRV_LOG" 2>&1 7>&- 8>&- &
	echo $! >> "$VV_TMP/pids"
	wait $! && DRV_RC=0 || DRV_RC=$?
	return 0
}

driver_start() { # VDEV [testpmd app args...]
	_n=$(_vv_seq)
	DRV_LOG="$VV_OUT/driver-$_n.log"
	DRV_PREFIX="vvdrv$_n"
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

# Frames the running driver port received over SECS seconds: sets DRV_RX_IN
# (empty if the stats could not be read). A difference of two readings, as
# a reset races with the datapath's counting.
driver_rx_in() { # SECS
	DRV_RX_IN=
	driver_cmd "show port stats 0" '^ *#{20,} *$' 10 || return 1
	_tp_parse_stats drv _RXIN
	_rx0=$_RXIN_RX
	sleep "$1"
	driver_cmd "show port stats 0" '^ *#{20,} *$' 10 || return 1
	_tp_parse_stats drv _RXIN
	[ -n "$_rx0" ] && [ -n "$_RXIN_RX" ] && DRV_RX_IN=$((_RXIN_RX - _rx0))
}

driver_stats() {
	DRV_RX= DRV_TX= DRV_RX_MISSED= DRV_RX_NOMBUF= DRV_TX_DROPPED=
	_tp_final_stats drv DRV
}

drv_stats() { driver_stats; }

# Runs driver commands, lets frames in flight land, and counts what the
# device lets through in SECS: EXPECT is none or some. Prints PASS or FAIL.
rx_step() { # NAME SECS EXPECT CMD...
	_name=$1 _win=$2 _want=$3 _m=$(_tp_lines drv)
	shift 3
	for _c in "$@"; do
		driver_cmd "$_c" 'testpmd> ' 20 || { vv_fail "$_name" "command '$_c' failed"; return 1; }
	done
	sleep 0.2
	if ! driver_rx_in "$_win" || [ -z "$DRV_RX_IN" ]; then
		vv_fail "$_name" "cannot read the port's Rx counter"
		return 1
	fi
	_bad=$(_tp_since drv "$_m" | grep -iE 'error|fail|not supported' | grep -v 'errors: ' | tail -n1)
	case $_want in
	none) [ "$DRV_RX_IN" -eq 0 ] && { vv_pass "$_name: the device dropped every frame"; return 0; }
		_why="the device let $DRV_RX_IN frames through in $_win s" ;;
	some) [ "$DRV_RX_IN" -gt 0 ] && { vv_pass "$_name: $DRV_RX_IN frames passed in $_win s"; return 0; }
		_why="no frame passed in $_win s" ;;
	esac
	vv_fail "$_name" "$_why after '$*'${_bad:+ (port said: $_bad)}"
	return 1
}

# One step of a filter test: rx_step named "$T.NAME.$VV_DRIVER" over the
# test's window $WIN; a failure adds one to the test's $failed.
filter_step() { # NAME EXPECT CMD...
	_fsn=$1
	shift
	rx_step "$T.$_fsn.$VV_DRIVER" "$WIN" "$@" || failed=$((failed + 1))
}

driver_queue_counts() { # NQUEUES
	driver_cmd "show port xstats 0" 'testpmd> ' 10 || return 1
	# One pass: a shell loop of seds costs seconds in a busy TCG guest.
	_set=$(_tp_since drv "$TP_MARK" | awk -v n="$1" '
		/^(rx|tx)_q[0-9]+_packets:/ {
			split($1, f, "_"); q = substr(f[2], 2) + 0
			if (q < n) v[toupper(f[1]) "Q" q] = $2
		}
		END {
			for (q = 0; q < n; q++)
				for (d = 0; d < 2; d++) {
					k = (d ? "TX" : "RX") "Q" q
					if (!(k in v)) { print "_missing=" k; exit }
					printf "DRV_%s=%s ", k, v[k]
				}
		}')
	_missing=
	eval "$_set"
	[ -z "$_missing" ] || { vv_err "no ${_missing} packets in port 0's xstats"; return 1; }
}
driver_stop() { _tp_session_stop drv DRV driver; }

# DPDK's example applications (l2fwd, l3fwd, ...), unmodified, built from
# the installed DPDK's source by app/test/apps/build-examples.sh; the
# runners build them on the host and export the folder.
vv_example() { # NAME -> the binary's path
	_d=${VV_EXAMPLES_DIR:-}
	[ -n "$_d" ] || _d=$(sh "$VV_LIB_DIR/../apps/build-examples.sh") || return 1
	[ -x "$_d/dpdk-$1" ] || { vv_err "no dpdk-$1 in $_d (app/test/apps/build-examples.sh builds it)"; return 1; }
	echo "$_d/dpdk-$1"
}

# A DPDK application as the driver side, in the driver's pty session (its
# output line by line in DRV_LOG), on lcore 0 with the EAL options of the
# driver under test; APP ARGS follow EAL's --. Waits for READY (regex).
driver_app_start() { # APP VDEV READY [APP ARGS...]
	_n=$(_vv_seq)
	DRV_LOG="$VV_OUT/driver-$_n.log"
	_eal=$(_vv_driver_eal) || return 1
	_san=$(_vv_sanitizer_env)
	_app=$1 _vdev=$2 _ready=$3
	shift 3
	# shellcheck disable=SC2086
	_tp_start drv 8 "$DRV_LOG" $_san $_app -l 0 --no-pci \
		--file-prefix "vvdrv$_n" $_eal --vdev "$_vdev" -- "$@"
	vv_wait 60 "_tp_since drv 0 | grep -qE $(_vv_q "$_ready") || ! _tp_alive drv" || true
	_tp_since drv 0 | grep -qE "$_ready" && return 0
	vv_err "${_app##*/}: no /$_ready/ $(_tp_alive drv && echo 'after 60 s' || echo 'before it exited') (log: $DRV_LOG)"
	return 1
}

# A DPDK tool as a secondary process of the running driver session
# (dpdk-proc-info, dpdk-pdump: each adds --proc-type=secondary itself), with
# the driver's plugin; its output in SEC_LOG, its status in SEC_RC. It is
# killed with SIGINT after SECS (pdump runs until then).
driver_secondary() { # SECS TOOL [EAL args] -- [tool args]
	_n=$(_vv_seq)
	SEC_LOG="$VV_OUT/secondary-$_n.log"
	_secs=$1 _tool=$2
	shift 2
	_p=
	[ "$VV_DRIVER" = ours ] && _p="-d $VV_PLUGIN"
	# Debian's testpmd links a mempool driver (dpaa) directly, so its
	# mempool ops table is in another order than a tool's that loads them
	# all as plugins, and a pool the tool makes (pdump's) names other ops
	# in the primary. Preloading what the primary links keeps them alike.
	_pre=$(ldd "$(command -v dpdk-testpmd)" 2>/dev/null |
		awk '/librte_mempool_/ { printf "%s%s", (n++ ? ":" : ""), $3 }')
	_san=$(_vv_sanitizer_env "$_pre")
	# shellcheck disable=SC2086
	timeout -s INT -k 5 "$_secs" $_san $_tool --file-prefix "$DRV_PREFIX" \
		--no-pci $_p "$@" < /dev/null > "$SEC_LOG" 2>&1 7>&- 8>&- &
	echo $! >> "$VV_TMP/pids"
	wait $! && SEC_RC=0 || SEC_RC=$?
	return 0
}

# CPU time the driver app used so far, in clock ticks (user + system).
driver_app_cpu() {
	for _c in $(cat /proc/$drv_PID/task/*/children 2>/dev/null); do
		sed 's/.*) //' "/proc/$_c/stat" | awk '{ print $12 + $13 }'
		return 0
	done
	return 1
}

# Stops it as a user does, with SIGINT (the examples close their ports on
# it), and waits; kills it after 20 s. Sets DRV_RC (>= 128: a signal).
driver_app_stop() {
	for _c in $(cat /proc/$drv_PID/task/*/children 2>/dev/null); do
		kill -INT "$_c" 2>/dev/null || true
	done
	vv_wait 20 "! _tp_alive drv" || {
		vv_err "the driver app did not exit within 20 s of SIGINT; killing it"
		_tp_kill drv
	}
	wait "$drv_PID" && DRV_RC=0 || DRV_RC=$?
	exec 8>&-
}

# ---- housekeeping ---------------------------------------------------------------
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
	device_cleanup
	rm -rf /var/run/dpdk/vvdev* /var/run/dpdk/vvdrv* /dev/hugepages/vvdev* /dev/hugepages/vvdrv*
	return 0
}

vv_pass() { echo "PASS $1"; }

# Runs case_C for each C, each reported as "$T.C.$VV_DRIVER" with the
# case's NOTE (pass) or R (fail), and cleans up after each; counts the
# failures into $failed.
vv_run_cases() { # C...
	for _case in "$@"; do
		R= NOTE=
		if "case_$_case"; then
			vv_pass "$T.$_case.$VV_DRIVER${NOTE:+: $NOTE}"
		else
			vv_fail "$T.$_case.$VV_DRIVER" "$R"
			failed=$((failed + 1))
		fi
		vv_cleanup
	done
}

# Prints the tails of LOGs (default: the last device and driver logs).
vv_fail() { # NAME REASON [LOG...]
	echo "FAIL $1: $2"
	shift 2
	[ $# -gt 0 ] || set -- ${DEV_LOG:-} ${DRV_LOG:-}
	for _l in "$@"; do
		[ -f "$_l" ] || continue
		echo "  ---- last lines of $_l"
		# awk ends every line, a pty log's unterminated prompt too: a result
		# line printed next must start a line of its own.
		tail -n 12 "$_l" | tr -d '\r' | awk '{ print "  | " $0 }'
	done
}

case $VV_DEVICE in
vduse|vp_vdpa|vhost_user) . "$VV_LIB_DIR/device-$VV_DEVICE.sh" ;;
*) vv_err "VV_DEVICE must be vduse, vp_vdpa or vhost_user, not '$VV_DEVICE'"; return 1 ;;
esac

#!/bin/bash
# Side-by-side vhost-user benchmark: our driver and DPDK 22.11's
# net_virtio_user, each against the same peer (Debian's testpmd with a
# net_vhost server port, in its own process), on the same two CPUs, in one
# run. Rates come from testpmd's counters at the receiver; the cost figure
# is instructions per packet in each driver's Rx and Tx burst functions,
# counted by callgrind over a fixed packet count (app/bench/vu_burst_cost).
# See doc/performance.md for the method and how to read the numbers.
#
#   app/bench/vu-bench.sh [--reps N] [--secs S] [--warmup S] [--out DIR]
#       [--json FILE] [--cases LIST] [--paths LIST] [--sizes LIST]
#       [--ring N] [--burst N] [--loop-fwd io|macswap] [--loop-inflight N]
#       [--no-cost] [--cost-packets N] [--cost-sizes LIST] [--cost-reps N]
#       [--idle-wait S] [--retries N] [--build-dir DIR] [--smoke]
#
# Cases: tx (driver txonly -> peer rxonly), rx (peer txonly -> driver
# rxonly), loop (driver io <-> peer io or macswap). Paths: default
# (mrg_rxbuf=1,in_order=1), inorder (mrg_rxbuf=0,in_order=1), nomrg
# (mrg_rxbuf=0,in_order=0), and the same on packed rings (packed_vq=1):
# packed, packed_inorder, packed_nomrg; mrg (mrg_rxbuf=1,in_order=0) on
# request.
#
# Either slot can be pointed at another driver, so the harness can be
# checked before our vhost-user backend exists:
#   VU_OURS_VDEV=net_virtio_user0 VU_OURS_EAL= app/bench/vu-bench.sh ...
#   (or --ours-as-ref, which sets exactly that)
# VU_REF_VDEV/VU_REF_EAL do the same for the reference slot.
set -u

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$SRC/app/bench

reps=5
secs=3
warmup=1
out=
json=
build=$SRC/build
cases="tx rx loop"
paths="default inorder nomrg packed packed_inorder packed_nomrg"
sizes="64 1518"
ring=256
burst=32
loop_fwd=io
loop_inflight=4
cost=1
cost_packets=100000
cost_warmup=4096
cost_sizes=64
cost_reps=1
smoke=0
ours_as_ref=0
mbufs=8192
idle_wait=300
retries=2
# Share of their two CPUs the testpmd pair must get during the window for
# the run to count as undisturbed.
min_cpu=0.9

usage() {
	sed -n '/^#   app\/bench/,/--smoke\]$/p' "$0" | sed 's/^# *//' >&2
	exit 2
}

# --smoke sets defaults that the other options may still override.
for a in "$@"; do
	[ "$a" = --smoke ] && smoke=1
done
if [ $smoke = 1 ]; then
	# Proves every case moves packets and nothing crashes, in well under
	# a minute; numbers from it mean nothing.
	reps=1
	secs=1
	warmup=0.5
	paths="default packed"
	sizes=64
	cost_packets=20000
	# CI runs it between other suites; waiting for quiet CPUs buys nothing
	# when the numbers are not compared.
	idle_wait=0
	retries=0
fi

need_arg() { [ $# -ge 2 ] || { echo "vu-bench: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
	case $1 in
	--reps|--secs|--warmup|--out|--json|--cases|--paths|--sizes|--ring|\
	--burst|--loop-fwd|--loop-inflight|--cost-packets|--cost-sizes|\
	--cost-reps|--build-dir|--idle-wait|--retries)
		need_arg "$@" ;;
	esac
	case $1 in
	--reps) reps=$2; shift 2 ;;
	--secs) secs=$2; shift 2 ;;
	--warmup) warmup=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--json) json=$2; shift 2 ;;
	--cases) cases=$2; shift 2 ;;
	--paths) paths=$2; shift 2 ;;
	--sizes) sizes=$2; shift 2 ;;
	--ring) ring=$2; shift 2 ;;
	--burst) burst=$2; shift 2 ;;
	--loop-fwd) loop_fwd=$2; shift 2 ;;
	--loop-inflight) loop_inflight=$2; shift 2 ;;
	--no-cost) cost=0; shift ;;
	--cost-packets) cost_packets=$2; shift 2 ;;
	--cost-sizes) cost_sizes=$2; shift 2 ;;
	--cost-reps) cost_reps=$2; shift 2 ;;
	--build-dir) build=$2; shift 2 ;;
	--idle-wait) idle_wait=$2; shift 2 ;;
	--retries) retries=$2; shift 2 ;;
	--smoke) smoke=1; shift ;;
	--ours-as-ref) ours_as_ref=1; shift ;;
	-h|--help) usage ;;
	*) echo "vu-bench: unknown option $1" >&2; usage ;;
	esac
done

# A comma is as good as a space in the lists.
cases=${cases//,/ } paths=${paths//,/ } sizes=${sizes//,/ } cost_sizes=${cost_sizes//,/ }

is_uint() { case $1 in ''|*[!0-9]*) return 1 ;; esac; }
is_secs() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
for v in "reps:$reps" "ring:$ring" "burst:$burst" "loop-inflight:$loop_inflight" \
	"cost-packets:$cost_packets" "cost-reps:$cost_reps" "idle-wait:$idle_wait" "retries:$retries"; do
	is_uint "${v#*:}" || { echo "vu-bench: --${v%%:*} wants a whole number" >&2; exit 2; }
done
is_secs "$secs" && is_secs "$warmup" || { echo "vu-bench: --secs/--warmup want seconds" >&2; exit 2; }
[ "$reps" -ge 1 ] || { echo "vu-bench: --reps must be >= 1" >&2; exit 2; }
for c in $cases; do
	case $c in tx|rx|loop) ;; *) echo "vu-bench: unknown case '$c' (tx rx loop)" >&2; exit 2 ;; esac
done
for p in $paths; do
	case $p in default|inorder|nomrg|mrg|packed|packed_inorder|packed_nomrg) ;;
	*) echo "vu-bench: unknown path '$p' (default inorder nomrg mrg packed packed_inorder packed_nomrg)" >&2; exit 2 ;;
	esac
done
for s in $sizes $cost_sizes; do
	# Without mergeable buffers a frame must fit one 2 KiB mbuf with its
	# virtio-net header: 1518 is the largest size every path takes.
	is_uint "$s" && [ "$s" -ge 60 ] && [ "$s" -le 1518 ] ||
		{ echo "vu-bench: frame size '$s' out of 60..1518" >&2; exit 2; }
done
case $loop_fwd in io|macswap) ;; *) echo "vu-bench: --loop-fwd io or macswap" >&2; exit 2 ;; esac

# ---- the two slots -------------------------------------------------------------
PLUGIN=$build/drivers/librte_net_virtio_vdpa.so
COST_APP=$build/app/bench/vu_burst_cost
if [ $ours_as_ref = 1 ]; then
	VU_OURS_VDEV=net_virtio_user0
	VU_OURS_EAL=
fi
OURS_VDEV=${VU_OURS_VDEV:-net_virtio_vdpa0}
OURS_EAL=${VU_OURS_EAL-"-d $PLUGIN"}
REF_VDEV=${VU_REF_VDEV:-net_virtio_user0}
REF_EAL=${VU_REF_EAL-}

slot_vdev() { [ "$1" = ours ] && echo "$OURS_VDEV" || echo "$REF_VDEV"; }
slot_eal() { [ "$1" = ours ] && echo "$OURS_EAL" || echo "$REF_EAL"; }

# Both drivers get the same devargs, spelled out, so neither runs on a
# default the other does not share.
path_args() {
	case $1 in
	default) echo "mrg_rxbuf=1,in_order=1" ;;
	inorder) echo "mrg_rxbuf=0,in_order=1" ;;
	nomrg) echo "mrg_rxbuf=0,in_order=0" ;;
	mrg) echo "mrg_rxbuf=1,in_order=0" ;;
	packed) echo "packed_vq=1,mrg_rxbuf=1,in_order=1" ;;
	packed_inorder) echo "packed_vq=1,mrg_rxbuf=0,in_order=1" ;;
	packed_nomrg) echo "packed_vq=1,mrg_rxbuf=0,in_order=0" ;;
	esac
}

vdev_for() { # SLOT PATH SOCK
	echo "$(slot_vdev "$1"),path=$3,queues=1,queue_size=$ring,$(path_args "$2")"
}

# ---- scratch, results, cleanup -----------------------------------------------------
stamp=$(date +%Y%m%d-%H%M%S)
[ -n "$out" ] || out=$build/vu-bench/$stamp
mkdir -p "$out/logs" || exit 1
out=$(cd "$out" && pwd)
[ -n "$json" ] || json=$out/vu-bench.json
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vu-bench.XXXXXX") || exit 1
# The x keeps one run's prefix from being the start of another's
# (pid 12 vs pid 123).
PFX=vub$$x
RUNS=$out/runs.tsv
: > "$RUNS"
PIDS=()
PEER_PID='' DRV_PID=''

kill_tree() { # PID SIGNAL
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		kill_tree "$c" "$2"
	done
	kill -"$2" "$1" 2>/dev/null
}

reap_all() {
	local p
	for p in "${PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null && kill_tree "$p" TERM
	done
	sleep 0.2
	for p in "${PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null && { sleep 1; kill_tree "$p" KILL; }
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	PIDS=()
	exec 7>&- 8>&-
	# Files a process left behind: with --single-file-segments EAL never
	# unlinks its hugepage file, which would leak the pool dry over a run.
	rm -rf /var/run/dpdk/"$PFX"* /dev/hugepages/"$PFX"* 2>/dev/null
	rm -f "$WORK"/*.sock "$WORK"/*.in
}

cleanup() {
	trap - EXIT INT TERM
	reap_all
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "vu-bench: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM
# A testpmd that died makes writes to its fifo fail; we notice that through
# the liveness checks instead of dying of SIGPIPE.
trap '' PIPE

# ---- helpers ----------------------------------------------------------------------
now_us() { NOW=${EPOCHREALTIME/./}; }
log() { printf '%s\n' "$*"; }
err() { printf 'vu-bench: %s\n' "$*" >&2; }

# ---- interactive testpmd sessions -------------------------------------------
# The test library's (app/test/lib/test-lib.sh): testpmd -i under script(1),
# commands through a fifo held open on fd 7 (the peer: session "dev",
# device_cmd) or 8 (the driver: session "drv", driver_cmd). Its scratch
# files stay in this run's WORK.
VV_TMP=$WORK/lib VV_OUT=$WORK/lib VV_DEVICE=vhost_user VV_SRC=$SRC
. "$SRC/app/test/lib/test-lib.sh"

sess_of() { [ "$1" = peer ] && echo dev || echo drv; }

sess_start() { # peer|drv LOG CMD...
	local s=$1 log=$2
	shift 2
	if [ "$s" = peer ]; then
		_tp_start dev 7 "$log" "$@"
		PEER_PID=$dev_PID PEER_LOG=$dev_LOG
		PIDS+=("$dev_PID")
	else
		_tp_start drv 8 "$log" "$@"
		DRV_PID=$drv_PID DRV_LOG=$drv_LOG
		PIDS+=("$drv_PID")
	fi
}

sess_alive() { _tp_alive "$(sess_of "$1")"; }
sess_ready() { _tp_wait_ready "$(sess_of "$1")" "$2" 2>/dev/null; }

# "show port stats 0" -> ST_RX ST_RXPPS. testpmd computes the
# pps itself from the counters and its own clock at the moment it read
# them, over the interval since the previous show: no shell latency in it.
sess_stats() { # peer|drv
	local s st
	s=$(sess_of "$1")
	_tp_cmd "$s" "show port stats 0" '^ *#{20,} *$' 20 2>/dev/null || return 1
	st=$(_tp_since "$s" "$TP_MARK")
	v() { echo "$st" | sed -n "s/.*$1: *\([0-9][0-9]*\).*/\1/p" | tail -n1; }
	ST_RX=$(v RX-packets) ST_RXPPS=$(v Rx-pps)
	[ -n "$ST_RX" ] && [ -n "$ST_RXPPS" ]
}

# quit, bounded; sets QUIT_RC (>= 128: killed by a signal).
sess_quit() { # peer|drv SECS
	_tp_quit "$(sess_of "$1")" QUIT "$2"
}

# Why a process died or did nothing, from its log: the first complaint
# is the cause, the later ones are EAL unwinding.
log_reason() { # LOG
	local l t
	t=$(tr -d '\r' < "$1" 2>/dev/null | grep -av '^==[0-9]*==')
	l=$(echo "$t" | grep -aE 'PANIC|Segmentation|Aborted' | head -n1)
	[ -n "$l" ] || l=$(echo "$t" | grep -aiE 'error|fail|cannot|refus|invalid|unknown' |
		grep -avE 'TX-errors|RX-errors|Unregistering with invalid|Error - exiting|EAL init failed|ignore$' |
		head -n1)
	echo "${l:-see logs/$(basename "$1")}"
}

keep_logs() { # RUNID LOG...
	local f
	shift
	for f in "$@"; do
		[ -f "$f" ] && tr -d '\r' < "$f" > "$out/logs/$(basename "$f")"
	done
}

# ---- machine set-up ---------------------------------------------------------------
setup_hugepages() {
	local total
	total=$(awk '/^HugePages_Total/ { print $2 }' /proc/meminfo)
	if [ "${total:-0}" -lt 512 ]; then
		echo 512 > /proc/sys/vm/nr_hugepages 2>/dev/null ||
			err "cannot reserve hugepages (need root): $(cat /proc/sys/vm/nr_hugepages) reserved"
	fi
	if ! grep -qs '^[^ ]* /dev/hugepages hugetlbfs' /proc/mounts; then
		mkdir -p /dev/hugepages
		mount -t hugetlbfs none /dev/hugepages || err "cannot mount hugetlbfs at /dev/hugepages"
	fi
	local free
	free=$(awk '/^HugePages_Free/ { print $2 }' /proc/meminfo)
	[ "${free:-0}" -ge 64 ] ||
		err "warning: only ${free:-0} free hugepages; each testpmd here needs about 20 (40 MiB)"
	log "hugepages: $(awk '/^HugePages_Free/ { f = $2 } /^HugePages_Total/ { t = $2 } END { print f "/" t }' /proc/meminfo) free (2 MiB)"
}

# Another CPU-heavy job (a VM test suite, a build, someone's DPDK app) on
# a 2-core machine halves what we measure. Wait for it, within reason.
BUSY_RUNS=0
# Called only between runs, when none of ours is left, so any match is
# someone else's. (pgrep -x refuses patterns longer than 15 characters.)
busy_procs() {
	local f c p
	for f in /proc/[0-9]*/comm; do
		read -r c < "$f" 2>/dev/null || continue
		case $c in
		qemu-system-*|ninja|cc1|dpdk-*|vv_check|vu_burst_cost|*grind-amd64*|memcheck-amd64*)
			p=${f#/proc/}
			p=${p%/comm}
			# A killed process nobody has reaped yet uses no CPU.
			[ "$(sed 's/^.*) \(.\).*/\1/' /proc/"$p"/stat 2>/dev/null)" = Z ] && continue
			echo "$p:$(tr '\0' ' ' < /proc/"$p"/cmdline 2>/dev/null | cut -c1-60)"
			;;
		esac
	done
}

# CPU time (clock ticks) the two testpmd processes have used: each has one
# busy-polling lcore, so over a window of W seconds they should use close
# to 2 W. Less means another process or the hypervisor took CPU from them
# during the measurement, whatever its name.
cpu_ticks() {
	local p c t=0
	for p in "$PEER_PID" "$DRV_PID"; do
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
			# Fields 14 and 15 (utime, stime); comm is "(dpdk-testpmd)".
			# shellcheck disable=SC2046 # the fields are words on purpose
			set -- $(sed 's/^.*) //' /proc/"$c"/stat 2>/dev/null)
			[ $# -ge 13 ] && t=$((t + ${12} + ${13}))
		done
	done
	echo $t
}
wait_idle() {
	local b waited=0
	b=$(busy_procs)
	[ -n "$b" ] || { RUN_BUSY=0; return 0; }
	if [ "$idle_wait" = 0 ]; then
		RUN_BUSY=1
		return 0
	fi
	log "  waiting (up to ${idle_wait}s) for other CPU users: $(echo "$b" | head -n2 | tr '\n' ' ')"
	while [ -n "$b" ] && [ $waited -lt "$idle_wait" ]; do
		sleep 10
		waited=$((waited + 10))
		b=$(busy_procs)
	done
	if [ -n "$b" ]; then
		log "  still busy after ${idle_wait}s; measuring anyway (marked disturbed in the JSON)"
		RUN_BUSY=1
	else
		RUN_BUSY=0
	fi
}

# ---- one rate run ------------------------------------------------------------------------
N=0
TESTPMD=${VU_TESTPMD:-dpdk-testpmd}

# Peer: the vhost-user server; its forwarding lcore is 1 (main lcore 0),
# the driver's is 0 (main lcore 1). Two busy-polling lcores on one CPU would
# starve each other.
start_peer() { # MODE SIZE SOCK LOG
	sess_start peer "$4" "$TESTPMD" -l 0,1 --main-lcore 0 --no-pci \
		--file-prefix "${PFX}p$N" --single-file-segments \
		--vdev "net_vhost0,iface=$3,queues=1" -- \
		-i --nb-cores=1 --nb-ports=1 --rxq=1 --txq=1 --rxd="$ring" --txd="$ring" \
		--burst="$burst" --txpkts="$2" --total-num-mbufs="$mbufs" --forward-mode="$1"
	sess_ready peer 30
}

# Run results: RES_STATUS ok|fail, RES_REASON, RES_PPS, RES_PKTS, RES_WIN.
run_rate() { # CASE PATH SIZE SLOT
	local c=$1 p=$2 size=$3 slot=$4 sock pmode dmode recv id
	N=$((N + 1))
	id="rate-$N-$c-$p-$size-$slot"
	sock=$WORK/$N.sock
	RES_STATUS=fail RES_REASON='' RES_PPS=0 RES_PKTS=0 RES_WIN=0 RES_CPU=0
	case $c in
	tx) pmode=rxonly dmode=txonly recv=peer ;;
	rx) pmode=txonly dmode=rxonly recv=drv ;;
	loop) pmode=$loop_fwd dmode=io recv=drv ;;
	esac
	if ! start_peer "$pmode" "$size" "$sock" "$WORK/$id.peer.log"; then
		RES_REASON="peer testpmd did not start: $(log_reason "$PEER_LOG")"
		keep_logs "$id" "$PEER_LOG"
		reap_all
		return
	fi
	# shellcheck disable=SC2046 # the EAL extras are words on purpose
	sess_start drv "$WORK/$id.drv.log" "$TESTPMD" -l 0,1 --main-lcore 1 --no-pci \
		--file-prefix "${PFX}d$N" --single-file-segments $(slot_eal "$slot") \
		--log-level=pmd.net.virtio.init:info \
		--vdev "$(vdev_for "$slot" "$p" "$sock")" -- \
		-i --nb-cores=1 --nb-ports=1 --rxq=1 --txq=1 --rxd="$ring" --txd="$ring" \
		--burst="$burst" --txpkts="$size" --total-num-mbufs="$mbufs" --forward-mode="$dmode"
	if ! sess_ready drv 30; then
		RES_REASON="driver testpmd did not start (no traffic): $(log_reason "$DRV_LOG")"
		keep_logs "$id" "$PEER_LOG" "$DRV_LOG"
		reap_all
		return
	fi
	local ok=1
	case $c in
	tx) device_cmd start 'Press enter|forwarding|testpmd> ' 10 && driver_cmd start 'forwarding' 10 || ok=0 ;;
	rx) driver_cmd start 'forwarding' 10 && device_cmd start 'forwarding' 10 || ok=0 ;;
	# A burst per in-flight slot seeds the loop; io forwarding then keeps
	# that many packets circling.
	loop) device_cmd start 'forwarding' 10 && driver_cmd "start tx_first $loop_inflight" 'forwarding' 10 || ok=0 ;;
	esac
	if [ $ok = 1 ]; then
		sleep "$warmup"
		local rx0 t0 t1 c0 c1
		if sess_stats $recv; then
			rx0=$ST_RX
			now_us; t0=$NOW
			c0=$(cpu_ticks)
			sleep "$secs"
			c1=$(cpu_ticks)
			if sess_stats $recv; then
				now_us; t1=$NOW
				RES_PKTS=$((ST_RX - rx0))
				RES_PPS=$ST_RXPPS
				RES_WIN=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
				RES_CPU=$(awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v s="$secs" \
					'BEGIN { printf "%.2f", c / hz / (2 * s) }')
			else
				ok=0
			fi
		else
			ok=0
		fi
	fi
	# Who died? Checked before quitting, which would hide a crash behind
	# the quit's own exit status.
	local drv_dead=0 peer_dead=0
	sess_alive drv || drv_dead=1
	sess_alive peer || peer_dead=1
	sess_quit drv 15
	local drc=$QUIT_RC
	sess_quit peer 15
	local prc=$QUIT_RC
	if [ $drv_dead = 1 ] || [ "$drc" != 0 ]; then
		RES_REASON="driver testpmd $( [ "$drc" -ge 128 ] && echo "crashed (signal $((drc - 128)))" || echo "exited $drc"): $(log_reason "$DRV_LOG")"
	elif [ $peer_dead = 1 ] || [ "$prc" != 0 ]; then
		RES_REASON="peer testpmd $( [ "$prc" -ge 128 ] && echo "crashed (signal $((prc - 128)))" || echo "exited $prc"): $(log_reason "$PEER_LOG")"
	elif [ $ok = 0 ]; then
		RES_REASON="testpmd did not answer (start/stats)"
	elif [ "$RES_PKTS" -le 0 ]; then
		RES_REASON="no traffic: 0 packets at the $( [ $recv = peer ] && echo peer || echo driver) in ${RES_WIN}s"
	else
		RES_STATUS=ok
	fi
	[ $RES_STATUS = ok ] || keep_logs "$id" "$PEER_LOG" "$DRV_LOG"
	reap_all
}

# ---- one cost run ------------------------------------------------------------------------
# The peer floods (rx) or drains (tx) a vu_burst_cost process that runs
# under callgrind with collection only inside vu_cost_rx/vu_cost_tx.
# --no-huge: valgrind and hugetlbfs do not mix, and EAL backs --no-huge
# memory with a memfd, which vhost-user can share.
run_cost() { # DIR PATH SIZE SLOT
	local dir=$1 p=$2 size=$3 slot=$4 sock pmode id cg vpid rc
	N=$((N + 1))
	id="cost-$N-$dir-$p-$size-$slot"
	sock=$WORK/$N.sock
	RES_CG=logs/$id.callgrind
	cg=$out/$RES_CG
	RES_STATUS=fail RES_REASON='' RES_LINE='' RES_PATHLOG=''
	[ "$dir" = rx ] && pmode=txonly || pmode=rxonly
	if ! start_peer "$pmode" "$size" "$sock" "$WORK/$id.peer.log" ||
		! device_cmd start 'forwarding' 10; then
		RES_REASON="peer testpmd did not start: $(log_reason "$PEER_LOG")"
		keep_logs "$id" "$PEER_LOG"
		reap_all
		return
	fi
	local alog=$WORK/$id.app.log
	# shellcheck disable=SC2046
	timeout -k 5 $((60 + cost_packets / 1000)) valgrind --tool=callgrind \
		--toggle-collect="vu_cost_$dir" --compress-strings=no --compress-pos=no \
		--callgrind-out-file="$cg" \
		"$COST_APP" -l 0 --no-pci --no-huge -m 512 --file-prefix "${PFX}c$N" \
		$(slot_eal "$slot") --log-level=pmd.net.virtio.init:info \
		--vdev "$(vdev_for "$slot" "$p" "$sock")" -- \
		--mode "$dir" --packets "$cost_packets" --warmup "$cost_warmup" \
		--size "$size" --ring "$ring" --burst "$burst" --timeout 40 \
		< /dev/null > "$alog" 2>&1 &
	vpid=$!
	PIDS+=("$vpid")
	wait $vpid
	rc=$?
	local peer_dead=0
	sess_alive peer || peer_dead=1
	sess_quit peer 15
	RES_LINE=$(grep -a '^vu-cost: mode=' "$alog" | tail -n1)
	# Which burst function ran, as the reference names it in its log.
	RES_PATHLOG=$(grep -aoE 'using [a-z ]+ (Rx|Tx) path' "$alog" | tr '\n' ';')
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		RES_REASON="timed out: $(grep -a 'vu-cost: timeout' "$alog" | tail -n1)"
	elif [ $rc -ge 128 ]; then
		RES_REASON="crashed (signal $((rc - 128))): $(log_reason "$alog")"
	elif [ $rc != 0 ]; then
		RES_REASON="exited $rc: $(log_reason "$alog")"
	elif [ $peer_dead = 1 ] || [ "$QUIT_RC" != 0 ]; then
		RES_REASON="peer testpmd died or exited $QUIT_RC: $(log_reason "$PEER_LOG")"
	elif [ -z "$RES_LINE" ] || [ ! -s "$cg" ]; then
		RES_REASON="no result line or callgrind output"
	else
		RES_STATUS=ok
	fi
	keep_logs "$id" "$alog"
	[ $RES_STATUS = ok ] || keep_logs "$id" "$PEER_LOG"
	reap_all
}

# ---- main -----------------------------------------------------------------------------
# A fresh machine has none of it yet: the same setup as the test command.
"$SRC/devtools/install-deps.sh" || { err "installing dependencies failed"; exit 1; }
if [ ! -e "$build/build.ninja" ]; then
	meson setup "$build" > /dev/null || { err "meson setup $build failed"; exit 1; }
fi
ninja -C "$build" > /dev/null || { err "ninja -C $build failed"; exit 1; }
command -v "$TESTPMD" > /dev/null || { err "$TESTPMD not found (apt-get install dpdk)"; exit 1; }
command -v python3 > /dev/null || { err "python3 not found"; exit 1; }
command -v script > /dev/null || { err "script(1) not found (util-linux)"; exit 1; }
if [ $cost = 1 ]; then
	command -v valgrind > /dev/null || { err "valgrind not found; use --no-cost"; exit 1; }
	[ -x "$COST_APP" ] || { err "$COST_APP not built (ninja -C $build)"; exit 1; }
fi
case " $OURS_EAL " in
*" -d "*) [ -f "$PLUGIN" ] || err "warning: plugin $PLUGIN not built; every ours run will fail" ;;
esac

slots_note="ours=$OURS_VDEV${OURS_EAL:+ ($OURS_EAL)}, ref=$REF_VDEV${REF_EAL:+ ($REF_EAL)}"
log "vu-bench: $slots_note"
[ "$OURS_VDEV" = "$REF_VDEV" ] && [ "$OURS_EAL" = "$REF_EAL" ] &&
	log "vu-bench: NOTE both slots run the same driver: a harness check, not a comparison"
setup_hugepages

nrates=0
for c in $cases; do for p in $paths; do for s in $sizes; do nrates=$((nrates + 2)); done; done; done
nrates=$((nrates * reps))
# The smoke test proves the callgrind tooling works on both ring layouts.
cpaths=$paths
ncost=0
if [ $cost = 1 ]; then
	for p in $cpaths; do for s in $cost_sizes; do ncost=$((ncost + 4)); done; done
	ncost=$((ncost * cost_reps))
fi
log "vu-bench: $nrates rate runs (${secs}s each after ${warmup}s warm-up), $ncost callgrind runs; results in $out"

cat > "$out/params.json" <<EOF
{"reps": $reps, "secs": $secs, "warmup": $warmup, "ring": $ring, "burst": $burst,
 "loop_fwd": "$loop_fwd", "loop_inflight": $loop_inflight, "mbufs": $mbufs,
 "cost_packets": $cost_packets, "cost_warmup": $cost_warmup, "smoke": $smoke,
 "ours_vdev": "$OURS_VDEV", "ours_eal": "$OURS_EAL", "ref_vdev": "$REF_VDEV", "ref_eal": "$REF_EAL",
 "date": "$(date -Iseconds)", "kernel": "$(uname -r)",
 "cpu": "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1 | tr -d '"\\')",
 "cpus": $(nproc), "dpdk": "$(pkg-config --modversion libdpdk 2>/dev/null || dpkg-query -W -f='${Version}' dpdk 2>/dev/null)",
 "git": "$(git -C "$SRC" describe --always --dirty 2>/dev/null)",
 "peer": "dpdk-testpmd net_vhost0 (vhost-user server), forwarding lcore 1",
 "driver_lcores": "dpdk-testpmd -l 0,1 --main-lcore 1 (forwarding on lcore 0)"}
EOF

pass=0
fail=0
report_run() { # NAME
	if [ $RES_STATUS = ok ]; then
		pass=$((pass + 1))
		[ $smoke = 1 ] && echo "PASS vu-bench.$1"
	else
		fail=$((fail + 1))
		[ $smoke = 1 ] && echo "FAIL vu-bench.$1: $RES_REASON"
	fi
	return 0
}

i=0
for rep in $(seq 1 "$reps"); do
	# Alternating the order cancels a first-or-second-in-the-pair bias
	# (thermal, page cache, the other process's leftovers).
	order="ours ref"
	[ $((rep % 2)) = 0 ] && order="ref ours"
	for c in $cases; do for p in $paths; do for s in $sizes; do
		for slot in $order; do
			i=$((i + 1))
			tries=0
			while :; do
				wait_idle
				run_rate "$c" "$p" "$s" "$slot"
				disturbed=$RUN_BUSY
				[ $RES_STATUS = ok ] && awk -v c="$RES_CPU" -v m="$min_cpu" 'BEGIN { exit !(c < m) }' &&
					disturbed=1
				[ "$disturbed" = 1 ] && [ $RES_STATUS = ok ] && [ $tries -lt "$retries" ] || break
				tries=$((tries + 1))
				log "  $c $p ${s}B $slot: disturbed (testpmd got ${RES_CPU} of its 2 CPUs, $RES_PPS pps); measuring again"
			done
			[ "$disturbed" = 1 ] && BUSY_RUNS=$((BUSY_RUNS + 1))
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' rate "$c" "$p" "$s" "$slot" \
				"$rep" "$RES_STATUS" "$RES_PPS" "$RES_PKTS" "$RES_WIN" "$RES_CPU" "$disturbed" \
				"$RES_REASON" >> "$RUNS"
			if [ $RES_STATUS = ok ]; then
				res=$(awk -v p="$RES_PPS" -v c="$RES_CPU" -v d="$disturbed" \
					'BEGIN { printf "%.3f Mpps (cpu %.2f%s)", p / 1e6, c, d == 1 ? ", DISTURBED" : "" }')
			else
				res="FAILED ($RES_REASON)"
			fi
			printf '[%3d/%d] rep %d/%d %-4s %-7s %4sB %-4s %s\n' $i $nrates "$rep" "$reps" \
				"$c" "$p" "$s" "$slot" "$res"
			report_run "$c.$p.$s.$slot"
		done
	done; done; done
done

if [ $cost = 1 ]; then
	i=0
	for crep in $(seq 1 "$cost_reps"); do
		order="ours ref"
		[ $((crep % 2)) = 0 ] && order="ref ours"
		for p in $cpaths; do for s in $cost_sizes; do for dir in rx tx; do
			for slot in $order; do
				i=$((i + 1))
				wait_idle
				run_cost "$dir" "$p" "$s" "$slot"
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' cost "$dir" "$p" "$s" "$slot" \
					"$crep" "$RES_STATUS" "$RES_CG" "$RES_LINE" "$RES_PATHLOG" "$RES_REASON" >> "$RUNS"
				if [ $RES_STATUS = ok ]; then
					ir=$(python3 "$BENCH/vu-bench-report.py" --ir "$out/$RES_CG" "$RES_LINE" "$RES_PATHLOG")
				else
					ir="FAILED ($RES_REASON)"
				fi
				printf '[%3d/%d] cost %-2s %-7s %4sB %-4s %s\n' $i $ncost "$dir" "$p" "$s" "$slot" "$ir"
				report_run "cost-$dir.$p.$s.$slot"
			done
		done; done; done
	done
fi

python3 "$BENCH/vu-bench-report.py" --runs "$RUNS" --params "$out/params.json" \
	--json "$json" --svg "$out/vu-bench.svg" || fail=$((fail + 1))
[ "$BUSY_RUNS" = 0 ] || log "vu-bench: $BUSY_RUNS rate runs were disturbed by other CPU users (kept, flagged in the JSON)"
log "vu-bench: $pass runs ok, $fail failed"
[ $fail = 0 ]

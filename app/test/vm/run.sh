#!/bin/sh
# Boots the test VM (qemu TCG, Debian's 6.12 kernel with vDPA/VDUSE) and runs
# one guest script in it; exits with that script's exit code.
#
# Usage: run.sh [--build-dir DIR] [--timeout S] [--work-dir DIR] [--quiet]
#               GUEST_SCRIPT [ARGS...]
#   --build-dir DIR  meson build dir, visible in the guest at the same path
#                    (default ./build); exported as VV_BUILD_DIR
#   --timeout S      give up after S seconds of wall time (default 600)
#   --work-dir DIR   per-run dir shared read-write (results, console.log);
#                    kept. Default: a temporary dir, removed on success.
#   --quiet          do not stream the console; print its tail on failure
# Every VV_* variable of the caller is exported to the guest script, as are
# VV_WORK, VV_CACHE, VV_SRC and VV_DPDK24_ROOT. The guest sees the host's /usr,
# the project, the build dir, the cache and the work dir at their host paths.
# Device kind (VV_DEVICE): vduse (default; the guest script creates the
# device) or vp_vdpa: a q35 machine with QEMU's emulated VT-d IOMMU and two
# virtio-net PCI functions on one QEMU hub, both for vp_vdpa.ko:
#   0000:01:00.0  the device under test, behind a hot-plug capable root port
#                 (VV_DUT_PROPS: more virtio-net-pci properties, e.g.
#                 packed=on,mq=on,vectors=10)
#   0000:00:10.0  the traffic peer's device (VV_PEER_PROPS, default
#                 ctrl_vq=off)
#   VV_IOMMU_AW   the IOMMU's address width (aw-bits, default 48)
#   VV_DUT_NETDEV hub (default): the dut and the peer's function share the
#                 hub; a hubport is single-queue and carries no virtio-net
#                 header. tap: the dut sits on a multi_queue tap
#                 (VV_TAP_QUEUES, default 4) in a network namespace made for
#                 this run, with no address; its peer is tap-peer.py on the
#                 host side, which reflects every frame (counts in
#                 $VV_WORK/tap-peer.stats, mode in $VV_WORK/tap-peer.mode).
# QEMU's monitor (QMP) is the guest's virtio-serial port vv.monitor (set_link,
# device_del; vm_monitor in app/test/lib/device-vp_vdpa.sh).
# Tuning: VV_TCG_THREAD=single (slower, immune to the boot Oops below),
# VV_BOOT_TRIES (default 3), VV_KERNEL_ARGS (extra kernel command line).
# Exit status: the script's; 125 when the VM failed (message says why).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
CACHE=${VIRTIO_VDPA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtio-vdpa-pmd}
VM="$CACHE/vm"

die() {
	echo "run.sh: $*" >&2
	exit 125
}

usage() {
	sed -n '/^# Usage:/,/^[^#]/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
	exit 125
}

VV_DEVICE=${VV_DEVICE:-vduse}
export VV_DEVICE
build_dir=./build
timeout_s=600
work=
quiet=0
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) [ $# -ge 2 ] || usage; build_dir=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift 2 ;;
	--work-dir) [ $# -ge 2 ] || usage; work=$2; shift 2 ;;
	--quiet) quiet=1; shift ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) echo "run.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
script=$1
shift
[ -r "$script" ] || die "guest script $script not found"
script=$(cd "$(dirname "$script")" && pwd)/$(basename "$script")
case $timeout_s in ''|*[!0-9]*) die "--timeout wants seconds, got '$timeout_s'" ;; esac

command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 missing; run devtools/install-deps.sh"
"$HERE/fetch.sh" || die "fetch.sh failed (see above)"
initrd=$("$HERE/assemble-guest.sh") || die "assemble-guest.sh failed (see above)"
CACHE=$(cd "$CACHE" && pwd -P)
VM="$CACHE/vm"

# EAL refuses a plugin when the file or any folder above it is
# world-writable (e.g. under /tmp), and the device side loads its plugins
# from the cache.
ww_ancestor() {
	p=$(readlink -f "$1")
	while :; do
		[ -n "$(find "$p" -maxdepth 0 -perm -0002 2>/dev/null)" ] && { echo "$p"; return 0; }
		[ "$p" = / ] && return 0
		p=$(dirname "$p")
	done
}
ww=$(ww_ancestor "$VM/dpdk24-root/plugins/$(ls "$VM/dpdk24-root/plugins" | head -n1)")
[ -z "$ww" ] ||
	die "$ww is world-writable, so DPDK will not load the device's plugins from the cache $CACHE; set VIRTIO_VDPA_CACHE to a folder outside it"

if [ -d "$build_dir" ]; then
	build_dir=$(cd "$build_dir" && pwd -P)
else
	case $build_dir in /*) ;; *) build_dir=$(pwd -P)/${build_dir#./} ;; esac
	echo "run.sh: note: build dir $build_dir does not exist; not shared" >&2
fi

keep_work=1
if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/vv-vm.XXXXXX")
	keep_work=0
fi
mkdir -p "$work"
work=$(cd "$work" && pwd -P)
rm -f "$work/rc" "$work/init-failed"
log="$work/console.log"

for p in "$work" "$SRC" "$build_dir" "$CACHE" "$script"; do
	case $p in *[[:space:]]*) die "path '$p' has white space; the guest cannot mount it" ;; esac
done

# Shares: one per dir that is not already inside another read-only share.
# The work dir is read-write and shared separately (vv_work= tells /init).
shares=$(mktemp)
netns=
tap_peer=
cleanup() {
	rm -f "$shares"
	[ -z "$tap_peer" ] || kill "$tap_peer" 2>/dev/null || true
	[ -z "$netns" ] || ip netns del "$netns" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 125' INT TERM
add_share() { # path mode
	[ -d "$1" ] || return 0
	while read -r _t p _m; do
		case $1/ in "$p"/*) return 0 ;; esac
	done < "$shares"
	n=$(($(wc -l < "$shares") + 1))
	echo "vv$n $1 $2" >> "$shares"
}
add_share /usr ro
add_share "$SRC" ro
add_share "$build_dir" ro
add_share "${VV_ASAN_BUILD_DIR:-}" ro
add_share "$CACHE" ro
add_share "$(dirname "$script")" ro

q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
# What the guest keeps of Debian's PMD folder (init.sh says why): the
# plugins the tests load (net_pcap: dpdk-pdump's capture), and what they
# and the apps link from there.
pmds=/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0
pmds_plugins=$(cd "$pmds" 2>/dev/null && ls librte_mempool_ring.so* \
	librte_mempool_stack.so* librte_bus_vdev.so* librte_net_virtio.so* \
	librte_net_pcap.so* 2>/dev/null)
pmds_keep=$( { echo "$pmds_plugins"
	for f in /usr/bin/dpdk-testpmd $(echo "$pmds_plugins" | sed "s#^#$pmds/#") \
		$(find "$build_dir/app" "$build_dir/examples" -type f -perm -u+x 2>/dev/null); do
		ldd "$f" 2>/dev/null
	done | sed -n "s#.* => $pmds/\([^ ]*\) .*#\1#p"; } | sort -u | tr '\n' ' ')
# page-per-vq: each queue's doorbell gets a page of its own, which is what
# mapping it through the vhost-vdpa fd needs. iommu_platform: without it
# QEMU reads our ring addresses as guest-physical.
vnet="virtio-net-pci,disable-legacy=on,iommu_platform=on,page-per-vq=on"
# The device under test, as the guest adds it back after unplugging it.
dut_qdev="$vnet,bus=rp0,netdev=hdut,id=dut,mac=52:54:00:00:01:01${VV_DUT_PROPS:+,$VV_DUT_PROPS}"
{
	echo "VV_SHARES=$(q "$(sort -k2 "$shares")")"
	echo "VV_SCRIPT=$(q "$script")"
	for kv in "VV_WORK=$work" "VV_CACHE=$CACHE" "VV_SRC=$SRC" \
		"VV_BUILD_DIR=$build_dir" "VV_DPDK24_ROOT=$VM/dpdk24-root" \
		"VV_PMDS_KEEP=$pmds_keep" "VV_DUT_QDEV=$dut_qdev" \
		"VV_VP_VDPA_KO=$VM/vp_vdpa/vp_vdpa.ko"; do
		echo "export ${kv%%=*}=$(q "${kv#*=}")"
	done
	env | grep -E '^VV_[A-Za-z0-9_]*=' | grep -vE '^VV_(WORK|CACHE|SRC|BUILD_DIR|DPDK24_ROOT|VP_VDPA_KO|PMDS_KEEP|DUT_QDEV|SHARES|SCRIPT)=' |
		while IFS='=' read -r k v; do echo "export $k=$(q "$v")"; done
	printf 'set --'
	for a in "$@"; do printf ' %s' "$(q "$a")"; done
	echo
} > "$work/guest-env.sh"

# init_on_alloc=0: Debian's default zeroes every page at allocation, which
# costs ~4 s of TCG time for the hugepage pool at boot.
# qboot (when present) reaches the kernel sooner than SeaBIOS.
bios=
[ -e /usr/share/qemu/qboot.rom ] && [ "$VV_DEVICE" = vduse ] && bios="-bios /usr/share/qemu/qboot.rom"
kargs="console=ttyS0 quiet panic=-1 init_on_alloc=0 ${VV_KERNEL_ARGS:-} vv_work=$work"
display=-nographic
case $VV_DEVICE in
vduse) machine= ;;
vp_vdpa)
	[ -e "$VM/vp_vdpa/vp_vdpa.ko" ] || die "no vp_vdpa.ko in $VM/vp_vdpa; run $HERE/fetch.sh"
	# The IOMMU must be able to enforce cache coherency, or vhost-vdpa
	# cannot take the device's DMA domain (open fails with errno 524).
	# The guest reaches QEMU's QMP monitor through a virtio-serial port (no tty,
	# so no echo to loop back): QEMU connects that port's chardev to its
	# own monitor socket.
	mon="$work/monitor.sock"
	rm -f "$mon"
	dut_netdev="hubport,id=hdut,hubid=0"
	case ${VV_DUT_NETDEV:-hub} in
	hub) ;;
	tap)
		tapq=${VV_TAP_QUEUES:-4}
		case $tapq in ''|*[!0-9]*|0) die "VV_TAP_QUEUES wants a queue count, got '$tapq'" ;; esac
		command -v ip >/dev/null || die "ip (iproute2) missing; run devtools/install-deps.sh"
		netns=vv-tap-$$
		ip netns add "$netns" || die "cannot make network namespace $netns (root needed)"
		# No address and no IPv6: the peer alone puts frames on this wire.
		ip netns exec "$netns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 ||
			die "cannot turn IPv6 off in $netns"
		ip -n "$netns" tuntap add dev vvtap0 mode tap multi_queue ||
			die "cannot make a multi_queue tap in $netns"
		ip -n "$netns" link set vvtap0 mtu 9216 up || die "cannot bring vvtap0 up"
		echo reflect > "$work/tap-peer.mode"
		rm -f "$work/tap-peer.stats"
		ip netns exec "$netns" python3 "$HERE/tap-peer.py" vvtap0 \
			"$work/tap-peer.stats" "$work/tap-peer.mode" 2> "$work/tap-peer.log" &
		tap_peer=$!
		dut_netdev="tap,id=hdut,ifname=vvtap0,script=no,downscript=no,vhost=off,queues=$tapq"
		;;
	*) die "VV_DUT_NETDEV must be hub or tap, not '$VV_DUT_NETDEV'" ;;
	esac
	machine="-machine q35 -device intel-iommu,snoop-control=on,intremap=off,aw-bits=${VV_IOMMU_AW:-48}
		-netdev $dut_netdev -netdev hubport,id=hpeer,hubid=0
		-device pcie-root-port,id=rp0,slot=1,chassis=1
		-device $dut_qdev
		-device $vnet,bus=pcie.0,addr=0x10,netdev=hpeer,id=peer,mac=52:54:00:00:02:02,${VV_PEER_PROPS:-ctrl_vq=off}
		-chardev socket,id=monsrv,path=$mon,server=on,wait=off -mon chardev=monsrv,mode=control
		-chardev socket,id=monguest,path=$mon,reconnect=1
		-device virtio-serial-pci -device virtserialport,chardev=monguest,name=vv.monitor"
	kargs="$kargs intel_iommu=on"
	# -nographic would put QEMU's default monitor on the console; the
	# monitor is the guest's here.
	display="-display none -serial stdio"
	;;
*) die "VV_DEVICE must be vduse or vp_vdpa, not '$VV_DEVICE'" ;;
esac
case "$work${VV_DUT_PROPS:-}${VV_PEER_PROPS:-}" in *[[:space:]]*) die "white space in the work dir or the device properties" ;; esac
# shellcheck disable=SC2086
set -- $bios -accel tcg,thread=${VV_TCG_THREAD:-multi} -cpu max -smp 2 -m 3072 $display -no-reboot \
	-nic none $machine -kernel "$VM/kernel/vmlinuz" -initrd "$initrd" \
	-append "$kargs"
while read -r tag path mode; do
	ro=
	[ "$mode" = ro ] && ro=,readonly=on
	set -- "$@" -virtfs "local,path=$path,mount_tag=$tag,security_model=none$ro"
done < "$shares"
set -- "$@" -virtfs "local,path=$work,mount_tag=vvwork,security_model=none"

# The serial console ends lines with CR LF, and the firmware clears the
# screen with escape sequences; the log and the terminal get plain lines.
clean() { tr -d '\r' | sed -u 's/\x1bc/\n/g; s/\x1b\[[0-9;?]*[A-Za-z]//g'; }
in_netns=
[ -z "$netns" ] || in_netns="ip netns exec $netns"
qemu() {
	# shellcheck disable=SC2086
	timeout -k 10 "$timeout_s" $in_netns qemu-system-x86_64 "$@" < /dev/null 2>&1 &&
		echo 0 > "$work/qemu.rc" || echo $? > "$work/qemu.rc"
}
boot_vm() {
	rm -f "$work/qemu.rc"
	if [ $quiet = 1 ]; then
		qemu "$@" | clean > "$log"
	else
		qemu "$@" | clean | tee "$log"
	fi
}
panic_line() { grep -a -m1 -E 'Oops|Kernel panic|BUG:' "$log" | sed 's/^\[ *[0-9.]*\] //'; }

# Bookworm's qemu 7.2 with multi-threaded TCG now and then runs a stale
# translation of kernel code the other vCPU just patched (text_poke), and
# the guest dies with "Oops: int3", nearly always during boot. Nothing ran
# yet then, so booting again is safe. VV_TCG_THREAD=single avoids it at
# the cost of speed (both vCPUs on one host thread).
tries=${VV_BOOT_TRIES:-3}
attempt=1
start=$(date +%s)
while :; do
	rm -f "$work/rc" "$work/init-failed"
	boot_vm "$@"
	if [ ! -e "$work/rc" ] && ! grep -aq 'since boot: running' "$log" &&
		[ -n "$(panic_line)" ] && [ $attempt -lt "$tries" ]; then
		cp "$log" "$work/console.panic$attempt.log"
		echo "run.sh: guest kernel died during boot ($(panic_line)); booting again ($((attempt + 1))/$tries)" >&2
		attempt=$((attempt + 1))
		continue
	fi
	break
done
end=$(date +%s)
# The tap's peer writes into the work dir: stop it before that goes.
if [ -n "$tap_peer" ]; then
	kill "$tap_peer" 2>/dev/null || true
	wait "$tap_peer" 2>/dev/null || true
	tap_peer=
fi
boot=$(sed -n 's/.*vm-init: \([0-9.]*\)s since boot.*/\1/p' "$log" | head -n1)
echo "run.sh: wall time $((end - start))s, guest script started ${boot:-?}s after kernel start" >&2

fail_tail() {
	echo "run.sh: $*" >&2
	if [ $quiet = 1 ]; then
		echo "---- last lines of $log ----" >&2
		tail -n 40 "$log" >&2
	fi
	echo "run.sh: work dir kept: $work" >&2
	exit 125
}
if [ -e "$work/rc" ]; then
	rc=$(cat "$work/rc")
	if [ "$rc" != 0 ] && [ $quiet = 1 ]; then
		echo "---- last lines of $log ----" >&2
		tail -n 40 "$log" >&2
	fi
	if [ "$rc" = 0 ] && [ $keep_work = 0 ]; then
		rm -rf "$work"
	elif [ "$rc" != 0 ]; then
		echo "run.sh: guest script exited $rc; work dir kept: $work" >&2
	fi
	exit "$rc"
fi
[ -e "$work/init-failed" ] && fail_tail "guest /init failed: $(cat "$work/init-failed")"
qemu_rc=$(cat "$work/qemu.rc" 2>/dev/null || echo '?')
case $qemu_rc in 124|137)
	fail_tail "timed out after ${timeout_s}s (raise --timeout, or see $log for a hang)" ;;
esac
[ -n "$(panic_line)" ] &&
	fail_tail "the guest kernel died: $(panic_line) (see $log)"
fail_tail "the guest stopped before the script finished (qemu exit $qemu_rc: boot failure or qemu error; see $log)"

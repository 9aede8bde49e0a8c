#!/bin/sh
# Runs the end-to-end tests in the test VM (app/test/vm) on each device kind,
# all tests and drivers that share a device personality in one boot, and
# prints "N passed, N failed" last.
#
# Usage: run-e2e.sh [--driver ours|ref|both] [--device vduse|vp_vdpa|both]
#                   [--build-dir DIR] [--asan-build-dir DIR --asan TEST,...]
#                   [--ring split|packed] [--timeout S] [--work-dir DIR]
#                   [TEST...]
#   --driver     ours: our plugin (VV_PLUGIN, default
#                DIR/drivers/librte_net_virtio_vdpa.so); ref: DPDK 22.11's
#                net_virtio_user; both (default)
#   --device     vduse: DPDK 24.11's vhost library as a VDUSE device;
#                vp_vdpa: QEMU's virtio-net PCI model through vp_vdpa; both
#                (default)
#   --build-dir  meson build dir (default ./build)
#   --asan-build-dir, --asan
#                an ASan/UBSan build dir, and the tests whose 'ours' run
#                uses it (its plugin and its vv_check, with VV_ASAN_OPTIONS
#                and VV_UBSAN_OPTIONS) instead of --build-dir's: each test
#                still runs once per driver, in the same boot
#   --ring       split (default) or packed: packed_vq=1 for either driver
#                (VV_RING=packed) on a device with packed=on; only vp_vdpa
#                offers packed rings (DPDK 24.11's VDUSE device does not),
#                and results are named vp_vdpa-packed/...
#   --timeout    seconds for the whole VM run (default: 240 per driver)
#   --work-dir   keep logs there (default: a temporary dir, kept on failure)
#   TEST         names of app/test/e2e/test_NAME.sh (default: all)
# A test says in its header which kinds it runs on ("# vv-kinds: vduse",
# default both) and the vp_vdpa device personality it needs
# ("# vv-vp_vdpa-props: packed=on,...", QEMU virtio-net-pci properties),
# and its guest time per driver if more than 70 s ("# vv-secs: 150"),
# and its netdev ("# vv-vp_vdpa-netdev: tap" for a multi-queue tap with the
# peer on the host; default: the hub shared with the in-guest peer).
# A reference failure listed in ref-known-failures.txt counts as XFAIL,
# not as a failure; the summary shows where the reference fails and we pass.
# Exit status: 0 if every test passed.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
VM="$HERE/../vm"

die() {
	echo "run-e2e.sh: $*" >&2
	exit 2
}
usage() {
	sed -n '/^# Usage:/,/^[^#]/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
	exit 2
}

driver=both
device=both
build_dir=./build
asan_dir=
asan_tests=
timeout_s=
work=
ring=split
while [ $# -gt 0 ]; do
	case $1 in
	--driver) [ $# -ge 2 ] || usage; driver=$2; shift 2 ;;
	--device) [ $# -ge 2 ] || usage; device=$2; shift 2 ;;
	--build-dir) [ $# -ge 2 ] || usage; build_dir=$2; shift 2 ;;
	--asan-build-dir) [ $# -ge 2 ] || usage; asan_dir=$2; shift 2 ;;
	--asan) [ $# -ge 2 ] || usage; asan_tests=$(echo "$2" | tr ',' ' '); shift 2 ;;
	--timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift 2 ;;
	--ring) [ $# -ge 2 ] || usage; ring=$2; shift 2 ;;
	--work-dir) [ $# -ge 2 ] || usage; work=$2; shift 2 ;;
	-h|--help) usage ;;
	-*) echo "run-e2e.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
case $driver in
both) drivers="ref ours" ;;
ours|ref) drivers=$driver ;;
*) die "--driver takes ours, ref or both, not '$driver'" ;;
esac
case $device in
both) kinds="vduse vp_vdpa" ;;
vduse|vp_vdpa) kinds=$device ;;
*) die "--device takes vduse, vp_vdpa or both, not '$device'" ;;
esac
case $ring in
split) ;;
packed)
	case " $kinds " in *" vp_vdpa "*) ;; *) die "--ring packed: only --device vp_vdpa offers packed rings" ;; esac
	kinds=vp_vdpa
	export VV_RING=packed
	;;
*) die "--ring takes split or packed, not '$ring'" ;;
esac
# How results are named: the device kind, and the ring layout unless split.
label_of() { # KIND
	if [ "$ring" = split ]; then echo "$1"; else echo "$1-$ring"; fi
}

if [ $# -eq 0 ]; then
	for f in "$HERE"/test_*.sh; do
		n=${f##*/test_}
		set -- "$@" "${n%.sh}"
	done
fi
tests=
for t in "$@"; do
	t=${t##*/}
	t=${t#test_}
	t=${t%.sh}
	[ -f "$HERE/test_$t.sh" ] || die "no test '$t' (expected $HERE/test_$t.sh)"
	tests="$tests $t"
done

case $build_dir in /*) ;; *) build_dir=$(pwd)/${build_dir#./} ;; esac
export VV_PLUGIN="${VV_PLUGIN:-$build_dir/drivers/librte_net_virtio_vdpa.so}"
# DPDK's example apps, built on the host once per DPDK version (the guest
# sees the cache); a build failure shows in the tests that need them.
VV_EXAMPLES_DIR=$(sh "$HERE/../apps/build-examples.sh") || VV_EXAMPLES_DIR=/nonexistent
export VV_EXAMPLES_DIR
if [ -n "$asan_tests" ]; then
	[ -n "$asan_dir" ] || die "--asan needs --asan-build-dir"
	asan_dir=$(cd "$asan_dir" 2>/dev/null && pwd) || die "no ASan build dir"
	[ -f "$asan_dir/drivers/librte_net_virtio_vdpa.so" ] ||
		die "no plugin in $asan_dir/drivers; build it first"
	for t in $asan_tests; do
		[ -f "$HERE/test_$t.sh" ] || die "--asan: no test '$t'"
	done
	# The guest runs the ASan build's plugin and vv_check for these.
	export VV_ASAN_BUILD_DIR="$asan_dir"
fi
# The pair a test's run is in the guest: ours+asan for an ASan build's run.
pair_of() { # DRIVER TEST
	if [ "$1" = ours ]; then
		case " $asan_tests " in *" $2 "*) echo "ours+asan:$2"; return ;; esac
	fi
	echo "$1:$2"
}

keep=1
if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/vv-e2e.XXXXXX")
	keep=0
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
summary="$work/summary.txt"
: > "$summary"

# EAL refuses a plugin when the file or a folder above it is world-writable.
ww_ancestor() {
	p=$(readlink -f "$1")
	while :; do
		[ -n "$(find "$p" -maxdepth 0 -perm -0002 2>/dev/null)" ] && { echo "$p"; return 0; }
		[ "$p" = / ] && return 0
		p=$(dirname "$p")
	done
}

# A plugin that cannot load fails the 'ours' tests here, without a boot.
plugin_problem=
if [ ! -f "$VV_PLUGIN" ]; then
	plugin_problem="plugin $VV_PLUGIN not built (meson setup build && ninja -C build, or set VV_PLUGIN)"
elif [ -n "$(ww_ancestor "$VV_PLUGIN")" ]; then
	plugin_problem="$(ww_ancestor "$VV_PLUGIN") is world-writable, so EAL will not load $VV_PLUGIN; build outside it"
fi
# What a test declares in its header (empty: not declared).
declared() { # TEST KEY
	sed -n "s/^# vv-$2: *//p" "$HERE/test_$1.sh" | head -n1
}

ndrivers=0
for d in $drivers; do
	if [ "$d" = ours ] && [ -n "$plugin_problem" ]; then
		for k in $kinds; do
			for t in $tests; do
				echo "FAIL $(label_of "$k")/$t.ours: $plugin_problem" | tee -a "$summary"
			done
		done
		continue
	fi
	ndrivers=$((ndrivers + 1))
done
[ "$plugin_problem" = "" ] || drivers=$(echo "$drivers" | sed 's/ours//')

# One VM boot per device kind and personality, in the order first seen.
groups="$work/groups"
: > "$groups"
for k in $kinds; do
	for t in $tests; do
		tk=$(declared "$t" kinds)
		case " ${tk:-vduse vp_vdpa} " in *" $k "*) ;; *) continue ;; esac
		props= net=
		if [ "$k" = vp_vdpa ]; then
			props=$(declared "$t" vp_vdpa-props)
			net=$(declared "$t" vp_vdpa-netdev)
			[ "$ring" = split ] || props="packed=on${props:+,$props}"
		fi
		for d in $drivers; do
			echo "$k ${props:--}@${net:-hub} $(pair_of "$d" "$t")" >> "$groups"
		done
	done
done

start=$(date +%s)
timings=
n=0
for key in $(awk '{ print $1 "|" $2 }' "$groups" | awk '!seen[$0]++'); do
	k=${key%%|*}
	pn=${key#*|}
	props=${pn%@*}
	net=${pn##*@}
	[ "$props" = - ] && props=
	pairs=$(awk -v k="$k" -v p="$pn" '$1 == k && $2 == p { print $3 }' "$groups" | tr '\n' ' ')
	n=$((n + 1))
	vmw="$work/vm$n-$k"
	npairs=$(echo $pairs | wc -w)
	# About 70 s of guest time per test and driver unless the test says
	# otherwise ("# vv-secs: N"), with a floor.
	budget=120
	for p in $pairs; do
		s=$(declared "${p#*:}" secs)
		budget=$((budget + ${s:-70}))
	done
	t_s=${timeout_s:-$budget}
	echo "=== e2e on $k${props:+ ($props)}$([ "$net" = hub ] || echo " on a $net"): $npairs runs, work dir $vmw"
	vm_rc=0
	t0=$(date +%s)
	VV_DEVICE=$k VV_DUT_PROPS=$props VV_DUT_NETDEV=$net "$VM/run.sh" --build-dir "$build_dir" \
		--timeout "$t_s" --work-dir "$vmw" "$HERE/guest-batch.sh" $pairs || vm_rc=$?
	results="$vmw/results.txt"
	[ -f "$results" ] || : > "$results"
	label=$(label_of "$k")
	grep -E '^(PASS|FAIL) ' "$results" | sed "s#^\(PASS\|FAIL\) #\1 $label/#" >> "$summary" || true
	for p in $pairs; do
		id="${p#*:}.${p%%[:+]*}"
		grep -q "^DONE $id " "$results" ||
			echo "FAIL $label/$id: did not run to the end (VM run exited $vm_rc; console: $vmw/console.log)" |
			tee -a "$summary"
	done
	timings="$timings$label: $(awk '/^DONE/ { printf "%s %ss, ", $2, $4 }' "$results")wall $(($(date +%s) - t0))s; "
done
end=$(date +%s)
echo
echo "e2e timings (guest clock): ${timings}total wall time $((end - start))s"

# Known reference failures: "KIND RESULT-PREFIX WHY" per line; our ids
# begin with the kind already.
. "$HERE/../lib/known-failures.sh"
e2e_key() { echo "$1"; }
vv_xfail_known "$summary" "$HERE/ref-known-failures.txt" e2e_key

passed=$(grep -c '^PASS ' "$summary" || true)
failed=$(grep -c '^FAIL ' "$summary" || true)
if [ "$failed" -gt 0 ]; then
	echo "failures:"
	grep '^FAIL ' "$summary" | sed 's/^/  /'
	echo "logs: $work"
elif [ $keep = 0 ]; then
	rm -rf "$work"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]

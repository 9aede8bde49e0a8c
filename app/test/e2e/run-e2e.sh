#!/bin/sh
# Runs the end-to-end tests in the test VM (app/test/vm), all selected tests
# and drivers in one boot, and prints "N passed, N failed" last.
#
# Usage: run-e2e.sh [--driver ours|ref|both] [--build-dir DIR] [--timeout S]
#                   [--work-dir DIR] [TEST...]
#   --driver     ours: our plugin (VV_PLUGIN, default
#                DIR/drivers/librte_net_virtio_vdpa.so); ref: DPDK 22.11's
#                net_virtio_user; both (default)
#   --build-dir  meson build dir (default ./build)
#   --timeout    seconds for the whole VM run (default: 240 per driver)
#   --work-dir   keep logs there (default: a temporary dir, kept on failure)
#   TEST         names of app/test/e2e/test_NAME.sh (default: all)
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
build_dir=./build
timeout_s=
work=
while [ $# -gt 0 ]; do
	case $1 in
	--driver) [ $# -ge 2 ] || usage; driver=$2; shift 2 ;;
	--build-dir) [ $# -ge 2 ] || usage; build_dir=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift 2 ;;
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
pairs=
ndrivers=0
for d in $drivers; do
	if [ "$d" = ours ] && [ -n "$plugin_problem" ]; then
		for t in $tests; do
			echo "FAIL $t.ours: $plugin_problem" | tee -a "$summary"
		done
		continue
	fi
	ndrivers=$((ndrivers + 1))
	for t in $tests; do pairs="$pairs $d:$t"; done
done

vm_rc=0
if [ -n "$pairs" ]; then
	[ -n "$timeout_s" ] || timeout_s=$((240 * ndrivers))
	start=$(date +%s)
	"$VM/run.sh" --build-dir "$build_dir" --timeout "$timeout_s" --work-dir "$work/vm" \
		"$HERE/guest-batch.sh" $pairs || vm_rc=$?
	end=$(date +%s)
	results="$work/vm/results.txt"
	[ -f "$results" ] || : > "$results"
	grep -E '^(PASS|FAIL) ' "$results" >> "$summary" || true
	for p in $pairs; do
		id="${p#*:}.${p%%:*}"
		grep -q "^DONE $id " "$results" ||
			echo "FAIL $id: did not run to the end (VM run exited $vm_rc; console: $work/vm/console.log)" |
			tee -a "$summary"
	done
	echo
	echo "e2e timings (guest clock): $(awk '/^DONE/ { printf "%s %ss, ", $2, $4 }' "$results")VM wall time $((end - start))s"
fi

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

#!/bin/sh
# Runs the vhost-user tests on this host, no VM needed: the peer is DPDK
# 22.11's own vhost library (Debian's dpdk-testpmd with a net_vhost port),
# the driver under test ours or DPDK's net_virtio_user as the reference.
# The e2e scripts written for the VDUSE device run unchanged here through
# app/test/lib/device-vhost_user.sh; the tests in this folder cover what only vhost-user has
# (reconnect, server mode, socket paths). Prints "N passed, N failed" last.
#
# Usage: run-vu-tests.sh [--driver ours|ref|both] [--build-dir DIR]
#                        [--ring split|packed] [--work-dir DIR] [TEST...]
#   --ring  split (default), or packed: packed_vq=1 for either driver
#           (VV_RING=packed), results named packed/...
#   TEST  app/test/vhost-user/test_TEST.sh or app/test/e2e/test_TEST.sh
#         (default: every test below for ours, the shared ones for ref)
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
E2E=$(cd "$HERE/../e2e" && pwd)
# For both drivers; the rest only for ours (net_virtio_user 22.11 has no
# client reconnect, and its messages are not ours to check).
SHARED="txrx_counts integrity cycles stop hotplug vanish mq dpdk_apps ring_sizes secondary csum"
OWN="reconnect reconnect_server bad_paths"

usage() {
	sed -n '/^# Usage:/,/^[^#]/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
	exit 2
}

driver=both
build_dir=./build
work=
ring=split
while [ $# -gt 0 ]; do
	case $1 in
	--driver) [ $# -ge 2 ] || usage; driver=$2; shift 2 ;;
	--build-dir) [ $# -ge 2 ] || usage; build_dir=$2; shift 2 ;;
	--work-dir) [ $# -ge 2 ] || usage; work=$2; shift 2 ;;
	--ring) [ $# -ge 2 ] || usage; ring=$2; shift 2 ;;
	-h|--help) usage ;;
	-*) echo "run-vu-tests.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
case $driver in
both) drivers="ref ours" ;;
ours|ref) drivers=$driver ;;
*) echo "run-vu-tests.sh: --driver takes ours, ref or both" >&2; exit 2 ;;
esac
case $ring in
split) prefix= ;;
packed) prefix=packed/; export VV_RING=packed ;;
*) echo "run-vu-tests.sh: --ring takes split or packed" >&2; exit 2 ;;
esac
case $build_dir in /*) ;; *) build_dir=$(pwd)/${build_dir#./} ;; esac

script_of() {
	if [ -f "$HERE/test_$1.sh" ]; then
		echo "$HERE/test_$1.sh"
	elif [ -f "$E2E/test_$1.sh" ]; then
		echo "$E2E/test_$1.sh"
	else
		echo "run-vu-tests.sh: no test '$1'" >&2
		exit 2
	fi
}

# DPDK processes here take their memory from 2 MiB hugepages.
if [ "$(cat /proc/sys/vm/nr_hugepages)" -lt 1024 ]; then
	echo 1024 > /proc/sys/vm/nr_hugepages
fi
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages 2>/dev/null || grep -q ' /dev/hugepages ' /proc/mounts ||
	mount -t hugetlbfs none /dev/hugepages

keep=1
if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/vv-vu.XXXXXX")
	keep=0
fi
mkdir -p "$work"
summary="$work/summary.txt"
: > "$summary"

export VV_DEVICE=vhost_user
export VV_SRC="$(cd "$HERE/../../.." && pwd)"
export VV_BUILD_DIR="$build_dir"
export VV_PLUGIN="${VV_PLUGIN:-$build_dir/drivers/librte_net_virtio_vdpa.so}"
export VV_TMP="$work/tmp"
# DPDK's example apps, built once per DPDK version; a build failure shows
# in the tests that need them.
VV_EXAMPLES_DIR=$(sh "$HERE/../apps/build-examples.sh") || VV_EXAMPLES_DIR=/nonexistent
export VV_EXAMPLES_DIR
start=$(date +%s)
for drv in $drivers; do
	if [ $# -gt 0 ]; then
		tests="$*"
	elif [ "$drv" = ours ]; then
		tests="$SHARED $OWN"
	else
		tests="$SHARED"
	fi
	for t in $tests; do
		s=$(script_of "$t")
		id="$prefix$t.$drv"
		out="$work/$id.out"
		mkdir -p "${out%/*}"
		echo "==== $id"
		t0=$(date +%s)
		VV_DRIVER=$drv VV_OUT="$work/logs/$id" timeout -k 10 600 sh "$s" \
			> "$out" 2>&1 && rc=0 || rc=$?
		[ -z "$prefix" ] || sed -i "s#^\(PASS\|FAIL\) #\1 $prefix#" "$out"
		cat "$out"
		grep -E '^(PASS|FAIL) ' "$out" >> "$summary" || true
		if [ $rc != 0 ] && ! grep -q '^FAIL ' "$out"; then
			echo "FAIL $id: exited $rc without reporting a failure" | tee -a "$summary"
		elif ! grep -qE '^(PASS|FAIL) ' "$out"; then
			echo "FAIL $id: reported no result" | tee -a "$summary"
		fi
		echo "==== $id: exit $rc, $(($(date +%s) - t0))s"
	done
done
# Whatever a timed-out test left running must not outlive the run.
VV_OUT="$work/logs" sh -c '. "$1"; vv_cleanup' sh "$HERE/../lib/test-lib.sh" || true

# The reference's known failures (app/test/e2e/ref-known-failures.txt, kind
# vhost_user), split and packed alike.
. "$HERE/../lib/known-failures.sh"
vu_key() { echo "vhost_user/${1#packed/}"; }
vv_xfail_known "$summary" "$E2E/ref-known-failures.txt" vu_key

passed=$(grep -c '^PASS ' "$summary" || true)
failed=$(grep -c '^FAIL ' "$summary" || true)
echo
echo "vhost-user tests: $(($(date +%s) - start))s"
if [ "$failed" -gt 0 ]; then
	echo "failures:"
	grep '^FAIL ' "$summary" | sed 's/^/  /'
	echo "logs: $work"
elif [ $keep = 0 ]; then
	rm -rf "$work"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]

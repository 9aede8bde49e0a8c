#!/bin/sh
# Sets up everything this project needs on a Debian 12 machine and runs the
# whole test suite: unit tests (normal and ASan/UBSan builds), the vhost-user
# tests on this host against DPDK's vhost library, and the real-kernel
# end-to-end tests in the VM (VDUSE and vp_vdpa), for our driver (its
# ASan/UBSan build in the cases of E2E_ASAN below) and for DPDK's
# net_virtio_user as the reference. Ends with "N passed, N failed".
#
#   devtools/run-tests.sh [--no-e2e] [--no-vu] [--no-asan]
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"
e2e=1
vu=1
asan=1
for a in "$@"; do
	case $a in
	--no-e2e) e2e=0 ;;
	--no-vu) vu=0 ;;
	--no-asan) asan=0 ;;
	*) echo "usage: $0 [--no-e2e] [--no-vu] [--no-asan]" >&2; exit 2 ;;
	esac
done

passed=0
failed=0
stage_fail=""

note() {
	printf '\n=== %s\n' "$*"
}

# Adds the counts of a `meson test` run (its "Ok:" and "Fail:" lines).
count_meson() {
	ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$1" | tail -n1)
	bad=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$1" | tail -n1)
	to=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$1" | tail -n1)
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${bad:-0} + ${to:-0}))
}

# Adds the PASS/FAIL lines of a script's output.
count_lines() {
	passed=$((passed + $(grep -c '^PASS ' "$1" || true)))
	failed=$((failed + $(grep -c '^FAIL ' "$1" || true)))
}

# Adds the counts of a runner's closing "N passed, N failed" line; a runner
# that died before printing it counts as one failure.
count_summary() {
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n1)
	if [ -n "$line" ]; then
		passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
		failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
	else
		failed=$((failed + 1))
	fi
}

build() {
	dir=$1
	shift
	if [ ! -e "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir"
}

note "installing dependencies"
"$SRC/devtools/install-deps.sh"

note "building (build/)"
build build

log=$(mktemp)
trap 'rm -f "$log"' EXIT

note "unit and integration tests"
if meson test -C build --suite unit --suite integration --print-errorlogs >"$log" 2>&1; then :; else
	stage_fail="$stage_fail unit"
fi
cat "$log"
count_meson "$log"

note "install and link through pkg-config"
if app/test/install/test-pkgconfig.sh build >"$log" 2>&1; then :; else
	stage_fail="$stage_fail pkgconfig"
fi
cat "$log"
count_lines "$log"

if [ $asan = 1 ]; then
	note "unit and integration tests under ASan/UBSan (build-asan/)"
	build build-asan -Db_sanitize=address,undefined -Db_lundef=false
	if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --suite unit --suite integration --print-errorlogs \
		>"$log" 2>&1; then :; else
		stage_fail="$stage_fail asan"
	fi
	cat "$log"
	count_meson "$log"
fi

if [ $vu = 1 ]; then
	note "vhost-user tests on this host (DPDK's vhost library as the peer)"
	if "$SRC/app/test/vhost-user/run-vu-tests.sh" --driver both --build-dir build \
		2>&1 | tee "$log"; then :; else
		stage_fail="$stage_fail vhost-user"
	fi
	count_summary "$log"
fi

# On packed rings every test runs for ours; the reference runs the tests
# that move packets through its packed ring. Its other results there are
# the split run's known failures again (ref-known-failures.txt).
VU_PACKED_REF="txrx_counts integrity cycles stop hotplug vanish mq"
if [ $vu = 1 ]; then
	note "vhost-user tests with packed rings (packed_vq=1, both drivers)"
	for d in ours ref; do
		list=
		[ $d = ours ] || list=$VU_PACKED_REF
		# shellcheck disable=SC2086
		if "$SRC/app/test/vhost-user/run-vu-tests.sh" --driver $d --ring packed \
			--build-dir build $list 2>&1 | tee "$log"; then :; else
			stage_fail="$stage_fail vhost-user-packed-$d"
		fi
		count_summary "$log"
	done
fi

if [ $vu = 1 ]; then
	# Only that the benchmark still runs: no rate or ratio is asserted.
	note "benchmark smoke run (app/bench/vu-bench.sh --smoke)"
	if "$SRC/app/bench/vu-bench.sh" --smoke --build-dir build \
		--out "$SRC/build/vu-bench/smoke" >"$log" 2>&1; then :; else
		stage_fail="$stage_fail bench-smoke"
	fi
	cat "$log"
	count_lines "$log"
fi

if [ $vu = 1 ] && [ $asan = 1 ]; then
	note "our driver under ASan/UBSan against the vhost-user peer"
	if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$SRC/app/test/vhost-user/run-vu-tests.sh" --driver ours \
		--build-dir build-asan integrity cycles stop hotplug vanish csum dpdk_apps secondary \
		reconnect reconnect_server 2>&1 | tee "$log"; then :; else
		stage_fail="$stage_fail vhost-user-asan"
	fi
	count_summary "$log"
	if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$SRC/app/test/vhost-user/run-vu-tests.sh" --driver ours --ring packed \
		--build-dir build-asan integrity cycles reconnect 2>&1 | tee "$log"; then :; else
		stage_fail="$stage_fail vhost-user-packed-asan"
	fi
	count_summary "$log"
fi

# Every e2e case runs once per driver, in the same VM boots; our driver's
# run of each case below uses the ASan/UBSan build. The plain build's own
# e2e runs are txrx_counts, bad_args, devargs_paths, ring_sizes and
# secondary, beside every vhost-user test above (secondary runs under ASan
# there: in the VM an ASan primary's memory can sit where its secondary
# cannot map it, "Cannot reserve ... at requested address").
E2E_ASAN="integrity,cycles,stop,hotplug,vanish,ctrl_filters,link_events,doorbells,multi_queue,rss,announce,vlan_filter,unplug,hash_report,dpdk_apps,dpdk_apps_tap"
if [ $e2e = 1 ]; then
	note "end-to-end tests on real vhost-vdpa devices (qemu VM: VDUSE, and vp_vdpa over QEMU virtio-net)"
	set --
	[ $asan = 0 ] || set -- --asan-build-dir build-asan --asan "$E2E_ASAN"
	if VV_ASAN_OPTIONS=detect_leaks=1 \
		VV_UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$SRC/app/test/e2e/run-e2e.sh" --driver both --build-dir build "$@" \
		2>&1 | tee "$log"; then :; else
		stage_fail="$stage_fail e2e"
	fi
	count_summary "$log"
fi

# Every vp_vdpa case again on packed rings (QEMU's virtio-net with
# packed=on), ours only: DPDK 22.11's virtio_user cannot start a packed ring
# there (it sends SET_VRING_BASE 0x8000, which vp_vdpa refuses). VDUSE
# (DPDK 24.11's device) offers no packed rings.
E2E_PACKED_ASAN="integrity,cycles,stop,ctrl_filters,unplug"
if [ $e2e = 1 ]; then
	note "end-to-end tests with packed rings on vp_vdpa (QEMU virtio-net, packed=on)"
	set --
	[ $asan = 0 ] || set -- --asan-build-dir build-asan --asan "$E2E_PACKED_ASAN"
	if VV_ASAN_OPTIONS=detect_leaks=1 \
		VV_UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$SRC/app/test/e2e/run-e2e.sh" --ring packed --device vp_vdpa \
		--driver ours --build-dir build "$@" \
		2>&1 | tee "$log"; then :; else
		stage_fail="$stage_fail e2e-packed"
	fi
	count_summary "$log"
fi

[ -z "$stage_fail" ] || echo "failed stages:$stage_fail"
echo "$passed passed, $failed failed"
[ $failed = 0 ] && [ -z "$stage_fail" ]

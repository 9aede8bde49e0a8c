#!/bin/sh
# The main job: forward traffic through net_virtio_vdpa over a real
# /dev/vhost-vdpa-N and print live packet rates.
#
# Where the host has a vhost-vdpa device (vDPA hardware bound to vhost_vdpa),
# examples/virtio_vdpa_fwd runs on it directly. Otherwise the embedded VM
# (qemu TCG, Debian's 6.12 kernel) provides one: a VDUSE virtio-net device,
# implemented by DPDK 24.11's vhost library, generates traffic (testpmd
# flowgen) and our driver, in virtio_vdpa_fwd, sends every frame back.
#
#   devtools/run-demo.sh [--duration S] [--device /dev/vhost-vdpa-N]
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
duration=10
device=
while [ $# -gt 0 ]; do
	case $1 in
	--duration) duration=$2; shift 2 ;;
	--device) device=$2; shift 2 ;;
	*) echo "usage: $0 [--duration S] [--device /dev/vhost-vdpa-N]" >&2; exit 2 ;;
	esac
done

"$SRC/devtools/install-deps.sh"
cd "$SRC"
[ -e build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

[ -n "$device" ] || device=$(ls /dev/vhost-vdpa-* 2>/dev/null | head -n1 || true)
if [ -n "$device" ]; then
	log="$SRC/build/virtio_vdpa_fwd.log"
	echo "forwarding on $device for ${duration}s; driver log: $log"
	grep -q hugetlbfs /proc/mounts || {
		echo 512 > /proc/sys/vm/nr_hugepages
		mkdir -p /dev/hugepages
		mount -t hugetlbfs none /dev/hugepages
	}
	ulimit -l unlimited 2>/dev/null || echo "warning: cannot raise the memlock limit; mapping may fail" >&2
	exec "$SRC/build/examples/virtio_vdpa_fwd" -l 0 --no-pci \
		--vdev "net_virtio_vdpa0,path=$device" -- \
		--duration "$duration" --log-file "$log"
fi

work="$SRC/build/demo"
rm -rf "$work"
echo "no vhost-vdpa device on this host: booting the test VM (VDUSE device inside)"
echo "VM console follows; the driver log will be in $work/logs/"
VV_DURATION=$duration exec "$SRC/app/test/vm/run.sh" --build-dir build \
	--timeout $((duration + 240)) --work-dir "$work" \
	"$SRC/devtools/demo-guest.sh"

#!/bin/sh
# Guest side of run-demo.sh: a VDUSE device generating traffic (DPDK 24.11
# testpmd flowgen, which also drains what comes back), and our driver
# forwarding every frame back in examples/virtio_vdpa_fwd.
set -eu
. "$VV_SRC/app/test/lib/test-lib.sh"
VV_DRIVER=ours

log="$VV_OUT/virtio_vdpa_fwd.log"
device_start flowgen || exit 1
device_cmd start 'forwarding' || exit 1
echo "driver log (EAL and net_virtio_vdpa): $log"
rc=0
"$VV_BUILD_DIR/examples/virtio_vdpa_fwd" -l 0 --no-pci --file-prefix vvdrvfwd \
	--vdev "$(vv_vdev)" -- \
	--duration "${VV_DURATION:-10}" --log-file "$log" || rc=$?
device_stop || true
echo "device side: sent $DEV_TX, received back $DEV_RX"
[ $rc = 0 ] || { echo "virtio_vdpa_fwd failed ($rc); last lines of $log:"; tail -n 20 "$log"; }
exit $rc

#!/bin/sh
# E2E: test_dpdk_apps.sh on QEMU's virtio-net with a tap netdev, which
# offers CSUM, GUEST_CSUM and the TSO features (a hub offers none): the
# apps' Rx checksum offloads then use the device's GUEST_CSUM, where on the
# hub they fall back to software. The host's tap peer reflects the loop.
# vv-kinds: vp_vdpa
# vv-vp_vdpa-netdev: tap
# vv-secs: 120
VV_APPS_T=dpdk_apps_tap
export VV_APPS_T
. "$(dirname "$0")/test_dpdk_apps.sh"

#!/bin/sh
# Installs every host package the build, the tests and the VM harness need.
# Idempotent: a second run only checks. Debian 12 (bookworm) is the target.
set -eu

PKGS="dpdk dpdk-dev libdpdk-dev meson ninja-build pkg-config gcc libnuma-dev
libcmocka-dev qemu-system-x86 busybox-static xz-utils cpio kmod python3
dpkg-dev util-linux iproute2 binutils bsdutils valgrind make patch strace"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done

# Source packages (DPDK's driver-SDK headers) need a deb-src entry. Derive it
# from the machine's own deb entries so no mirror name lives in this project.
SRC_LIST=/etc/apt/sources.list.d/virtio-vdpa-pmd-src.sources
need_update=0
if [ ! -e "$SRC_LIST" ] && [ -e /etc/apt/sources.list.d/debian.sources ]; then
	sed 's/^Types: deb$/Types: deb-src/' \
		/etc/apt/sources.list.d/debian.sources > "$SRC_LIST"
	need_update=1
elif [ ! -e "$SRC_LIST" ] && [ -e /etc/apt/sources.list ]; then
	grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' \
		> /etc/apt/sources.list.d/virtio-vdpa-pmd-src.list
	: > "$SRC_LIST"
	need_update=1
fi

if [ -n "$missing" ] || [ $need_update = 1 ]; then
	[ "$(id -u)" = 0 ] || {
		echo "install-deps: need root to install:$missing" >&2
		exit 1
	}
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	[ -z "$missing" ] || apt-get install -y -q --no-install-recommends $missing
fi

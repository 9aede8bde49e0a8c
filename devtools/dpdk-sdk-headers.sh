#!/bin/sh
# Prints an include folder holding DPDK's four driver-SDK headers for the
# installed DPDK. Debian's libdpdk-dev ships without them; they are internal
# APIs with no ABI promise, so they must come from the source of the exact
# installed version. Used by meson at setup; never writes into the project.
#
# Usage: dpdk-sdk-headers.sh             the include folder
#        dpdk-sdk-headers.sh --tarball   the source tarball of the installed
#                                        DPDK (fetched into the cache once),
#                                        for what else needs its source
set -eu
mode=${1:-headers}

HEADERS="ethdev_driver.h ethdev_vdev.h bus_vdev_driver.h dev_driver.h"
SRC_PATHS="lib/ethdev/ethdev_driver.h lib/ethdev/ethdev_vdev.h
drivers/bus/vdev/bus_vdev_driver.h lib/eal/include/dev_driver.h"

die() {
	echo "dpdk-sdk-headers: $*" >&2
	exit 1
}

incdir=$(pkg-config --variable=includedir libdpdk 2>/dev/null || true)
for d in "$incdir/dpdk" "$incdir"; do
	[ -n "$incdir" ] && [ "$mode" = headers ] || break
	ok=1
	for h in $HEADERS; do [ -e "$d/$h" ] || ok=0; done
	if [ $ok = 1 ]; then echo "$d"; exit 0; fi
done

version=$(pkg-config --modversion libdpdk 2>/dev/null) ||
	die "libdpdk not found by pkg-config; run devtools/install-deps.sh"
pkgver=$(dpkg-query -W -f='${Version}' libdpdk-dev 2>/dev/null) ||
	die "DPDK $version has no driver-SDK headers and is not Debian's libdpdk-dev; rebuild DPDK with -Denable_driver_sdk=true"

cache=${VIRTIO_VDPA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtio-vdpa-pmd}
out="$cache/dpdk-sdk-$pkgver/include"
if [ "$mode" = headers ] && [ -e "$out/.complete" ]; then echo "$out"; exit 0; fi

work="$cache/dpdk-src-$pkgver"
mkdir -p "$work"
if ! ls "$work"/dpdk_*.orig.tar.* >/dev/null 2>&1; then
	(cd "$work" && apt-get source --download-only -q "dpdk=$pkgver" >&2) ||
		die "cannot fetch the source of dpdk=$pkgver (the installed libdpdk-dev). Run devtools/install-deps.sh (it adds a deb-src entry), or align libdpdk-dev with a version the mirror still has: apt-get install libdpdk-dev"
fi
tarball=$(ls "$work"/dpdk_*.orig.tar.* | head -n1)
srcver=$(basename "$tarball" | sed 's/^dpdk_\(.*\)\.orig\.tar\..*/\1/')
[ "$srcver" = "$version" ] ||
	die "source $srcver does not match installed DPDK $version; delete $work and rerun, or reinstall libdpdk-dev"
if [ "$mode" = --tarball ]; then echo "$tarball"; exit 0; fi

mkdir -p "$out"
top=$(tar tf "$tarball" | head -n1 | cut -d/ -f1)
members=""
for p in $SRC_PATHS; do members="$members $top/$p"; done
tar xf "$tarball" -C "$out" --strip-components=1 $members ||
	die "$tarball lacks the driver-SDK headers"
for p in $SRC_PATHS; do mv "$out/$p" "$out/"; done
rm -rf "$out/lib" "$out/drivers"
touch "$out/.complete"
echo "$out"

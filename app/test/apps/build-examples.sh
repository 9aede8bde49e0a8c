#!/bin/sh
# Builds DPDK's own example applications, unmodified, from the source of the
# installed DPDK (the tarball the build fetched for the driver-SDK headers),
# against the installed libdpdk, and prints the folder holding them.
# Built once per DPDK version into the cache; nothing is written into the
# project.
#
# Usage: build-examples.sh [EXAMPLE...]   (default: l2fwd l3fwd l3fwd-power)
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
examples=${*:-l2fwd l3fwd l3fwd-power}

die() {
	echo "build-examples: $*" >&2
	exit 1
}

tarball=$(sh "$SRC/devtools/dpdk-sdk-headers.sh" --tarball) ||
	die "no DPDK source (see the message above)"
pkgver=$(dpkg-query -W -f='${Version}' libdpdk-dev)
cache=${VIRTIO_VDPA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtio-vdpa-pmd}
out="$cache/dpdk-examples-$pkgver"
bin="$out/bin"
mkdir -p "$bin"
top=$(tar tf "$tarball" | head -n1 | cut -d/ -f1)
for e in $examples; do
	[ -x "$bin/dpdk-$e" ] && continue
	rm -rf "$out/src/$e"
	mkdir -p "$out/src"
	tar xf "$tarball" -C "$out/src" --strip-components=2 \
		"$top/examples/$e" "$top/examples/common" ||
		die "$tarball has no examples/$e"
	make -s -C "$out/src/$e" > "$out/src/$e.build.log" 2>&1 ||
		die "examples/$e did not build against the installed DPDK (log: $out/src/$e.build.log)"
	cp "$out/src/$e/build/$e-shared" "$bin/dpdk-$e"
done
echo "$bin"

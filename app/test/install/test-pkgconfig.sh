#!/bin/sh
# Installs the build into a scratch DESTDIR and links an app against the
# driver with nothing but `pkg-config --libs` (shared, then static). Each link
# must find our driver without -d.
#   test-pkgconfig.sh BUILD_DIR
set -eu

build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

meson install -C "$build" --destdir "$dest" --quiet >/dev/null
pc=$(find "$dest" -name libdpdk-net-virtio-vdpa.pc | head -n1)
[ -n "$pc" ] || { echo "FAIL pkgconfig: no .pc installed"; exit 1; }
# Point the copied .pc at the DESTDIR; libdpdk's own .pc stays as it is.
prefix=$(sed -n 's/^prefix=//p' "$pc")
sed -i "s#^prefix=.*#prefix=$dest$prefix#" "$pc"
export PKG_CONFIG_PATH="$(dirname "$pc")"

rc=0
for mode in shared static; do
	libs=$(pkg-config --libs libdpdk-net-virtio-vdpa)
	cflags=$(pkg-config --cflags libdpdk-net-virtio-vdpa)
	libdir=$(pkg-config --variable=libdir libdpdk-net-virtio-vdpa)
	if [ $mode = static ]; then
		# A PMD archive must be linked whole: nothing references its
		# constructors. DPDK itself stays shared here.
		libs="-L$libdir -Wl,--whole-archive -l:librte_net_virtio_vdpa.a -Wl,--no-whole-archive $(pkg-config --libs libdpdk) -lrte_bus_vdev"
	fi
	if ! cc -o "$dest/app-$mode" "$here/link_app.c" $cflags $libs \
		-DALLOW_EXPERIMENTAL_API 2>"$dest/cc.log"; then
		cat "$dest/cc.log"
		echo "FAIL pkgconfig-$mode: link failed"
		rc=1
		continue
	fi
	out=$(LD_LIBRARY_PATH="$libdir" "$dest/app-$mode" --no-pci --no-huge \
		-m 64 --file-prefix "vvpc$$" --log-level=lib.eal:error 2>&1) &&
		echo "$out" | grep -q "virtio_vdpa: /nonexistent/vhost-vdpa-9 does not exist" &&
		echo "PASS pkgconfig-$mode" || {
		echo "$out"
		echo "FAIL pkgconfig-$mode: the driver was not linked in"
		rc=1
	}
done
exit $rc

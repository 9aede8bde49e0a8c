#!/bin/sh
# Builds the test VM's initramfs: static busybox (for /init only), the kernel
# modules fetch.sh kept, and init.sh as /init. Everything else (shell, tools,
# DPDK 22.11, the project's builds) comes from the host over 9p at run time,
# so the image stays small and never goes stale when host packages change.
# Rebuilds only when an input changes. Prints the image's path.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${VIRTIO_VDPA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtio-vdpa-pmd}
VM="$CACHE/vm"
OUT="$VM/initrd.cpio"
BUSYBOX=/bin/busybox

die() {
	echo "assemble-guest.sh: $*" >&2
	exit 1
}

[ -e "$VM/kernel/.complete" ] && [ -e "$VM/kernel/modules/order" ] ||
	die "no kernel in $VM/kernel; run $HERE/fetch.sh first (or fetch.sh --refresh)"
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing; run devtools/install-deps.sh (busybox-static)"
# ldd fails on a static binary.
! ldd "$BUSYBOX" >/dev/null 2>&1 ||
	die "$BUSYBOX is not static (the initramfs has no libc until /usr is mounted); install busybox-static"
command -v cpio >/dev/null || die "cpio missing; run devtools/install-deps.sh"

# The guest reaches the host's programs through bin -> usr/bin etc., which
# matches the host only on a merged-/usr system (Debian 12's default).
for d in bin sbin lib lib64; do
	[ -L "/$d" ] || [ ! -e "/$d" ] ||
		die "/$d is not a symlink into /usr; the VM shares only /usr. Install the 'usrmerge' package to convert the host"
done

sum=$( {
	sha256sum "$BUSYBOX" "$HERE/init.sh" "$0" "$VM/kernel/modules/order"
	for m in $(cat "$VM/kernel/modules/order"); do
		sha256sum "$VM/kernel/modules/$m.ko"
	done
} | sha256sum | cut -d' ' -f1)
if [ -e "$OUT" ] && [ "$(cat "$OUT.sum" 2>/dev/null)" = "$sum" ]; then
	echo "$OUT"
	exit 0
fi

tmp="$VM/initrd.tmp"
rm -rf "$tmp"
mkdir -p "$tmp/root"
r="$tmp/root"
mkdir -p "$r/bbin" "$r/modules" "$r/usr" "$r/proc" "$r/sys" "$r/dev" "$r/run" \
	"$r/tmp" "$r/root" "$r/etc" "$r/var" "$r/mnt"
cp "$BUSYBOX" "$r/bbin/busybox"
for a in $("$BUSYBOX" --list); do
	[ "$a" = busybox ] || ln -s busybox "$r/bbin/$a"
done
for d in bin sbin lib lib64; do
	ln -s "usr/$d" "$r/$d"
done
# EAL keeps its runtime files under /var/run.
ln -s ../run "$r/var/run"
ln -s /proc/self/mounts "$r/etc/mtab"
echo "root:x:0:0:root:/root:/bin/sh" > "$r/etc/passwd"
echo "root:x:0:" > "$r/etc/group"
# fetch.sh lists the modules in load order (built-in ones are left out).
cp "$VM/kernel/modules/order" "$r/modules/order"
for m in $(cat "$r/modules/order"); do
	cp "$VM/kernel/modules/$m.ko" "$r/modules/"
done
cp "$HERE/init.sh" "$r/init"
chmod 755 "$r/init"

# Uncompressed: the kernel unpacks it faster under TCG than it inflates gzip.
(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$tmp/initrd.cpio"
mv "$tmp/initrd.cpio" "$OUT"
echo "$sum" > "$OUT.sum"
rm -rf "$tmp"
echo "$OUT"

#!/bin/sh
# Fetches what the test VM needs and that the host cannot provide:
#  - Debian's 6.12 kernel (the host's 6.1 has no vDPA), its vmlinuz and the
#    vDPA/VDUSE/9p modules;
#  - Debian trixie's DPDK 24.11 (VDUSE support needs >= 23.07) as the device
#    side, unpacked into its own root so it never touches the host;
#  - vp_vdpa.ko, which Debian does not build: compiled out of tree from the
#    linux-source and linux-headers packages of the kernel's own version,
#    with the test-only patches in vp_vdpa/ (each says why).
# Everything lands in the cache; a stamp makes a second run instant.
# Usage: fetch.sh [--refresh]   (--refresh: fetch again, e.g. for a newer kernel)
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${VIRTIO_VDPA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtio-vdpa-pmd}
VM="$CACHE/vm"
# Keyed by this script and the patches: a cache laid out by another version
# of them is completed, not trusted.
STAMP="$VM/.fetch-complete"
STAMP_KEY=$(cat "$0" "$HERE"/vp_vdpa/*.patch | sha256sum | cut -c1-16)
# Modules in load order (each after its dependencies). netfs and 9p* carry the
# shares that bring host binaries and results in and out of the guest.
MODULES="irqbypass vhost_iotlb vhost vdpa vduse vhost_vdpa netfs 9pnet 9pnet_virtio 9p"
# Device side: testpmd (in trixie's dpdk-dev) and the plugins it needs for
# --no-pci --vdev net_vhost0 (the VDUSE device) and net_virtio_user0 (the
# traffic peer on a vp_vdpa function), run with -d <root>/plugins.
# libgcc-s1 is dlopened by glibc at thread exit.
DPDK24_PKGS="dpdk-dev librte-net-vhost25 librte-net-virtio25 librte-bus-vdev25 librte-mempool-ring25 libgcc-s1"
DPDK24_PLUGINS="librte_net_vhost librte_net_virtio librte_bus_vdev librte_mempool_ring"
ARCH_LIBDIR=usr/lib/x86_64-linux-gnu

die() {
	echo "fetch.sh: $*" >&2
	exit 1
}
log() { echo "fetch.sh: $*" >&2; }

[ "${1:-}" = --refresh ] && rm -f "$STAMP" "$VM/dpdk24-root/.complete" "$VM/vp_vdpa/.complete"
[ "$(head -n1 "$STAMP" 2>/dev/null)" = "$STAMP_KEY" ] && exit 0

for t in apt-get apt-cache dpkg-deb readelf xz flock make gcc patch tar; do
	command -v $t >/dev/null 2>&1 ||
		die "'$t' is missing; run devtools/install-deps.sh"
done

mkdir -p "$VM"
exec 9>"$VM/.fetch.lock"
flock 9
# Another run may have finished it while we waited.
[ "$(head -n1 "$STAMP" 2>/dev/null)" = "$STAMP_KEY" ] && exit 0

# Private apt state: the host's lists, status and caches stay as they are.
APT_DIR="$VM/apt"
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/etc"
APT_PRIV="-o Dir::Cache=$APT_DIR/cache -o APT::Sandbox::User=root"

# ---- kernel -----------------------------------------------------------------
fetch_kernel() {
	kdir="$VM/kernel"
	pkg=$(apt-cache $APT_PRIV search --names-only \
		'^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
		cut -d' ' -f1 | sort -V | tail -n1)
	[ -n "$pkg" ] ||
		die "no linux-image-6.12.*+deb12-amd64-unsigned in the host's apt lists; run 'apt-get update' (bookworm-security or bookworm-backports carries it)"
	kver=${pkg#linux-image-}
	kver=${kver%-unsigned}
	if [ -e "$kdir/.complete" ] && [ "$(cat "$kdir/.complete")" = "$kver" ] &&
		[ -e "$kdir/modules/order" ]; then
		return 0
	fi
	log "downloading $pkg"
	tmp="$VM/kernel.tmp"
	rm -rf "$tmp" "$kdir"
	mkdir -p "$tmp/deb" "$tmp/x"
	(cd "$tmp/deb" && apt-get $APT_PRIV download -q "$pkg" >&2) ||
		die "apt-get download $pkg failed (mirror reachable? 'apt-get update' recent?)"
	dpkg-deb -x "$tmp"/deb/*.deb "$tmp/x"
	mkdir -p "$tmp/out/modules"
	: > "$tmp/out/modules/order"
	cp "$tmp/x/boot/vmlinuz-$kver" "$tmp/out/vmlinuz"
	cp "$tmp/x/boot/config-$kver" "$tmp/out/config"
	for m in $MODULES; do
		f=$(find "$tmp/x/lib/modules/$kver" -name "$m.ko*" | head -n1)
		if [ -z "$f" ]; then
			# Built in (=y) needs no module; anything else is a real gap.
			sym=$(modsym "$m")
			grep -q "^$sym=y" "$tmp/out/config" ||
				die "$pkg has neither module $m nor $sym=y"
			continue
		fi
		case $f in
		*.xz) xz -dc "$f" > "$tmp/out/modules/$m.ko" ;;
		*) cp "$f" "$tmp/out/modules/$m.ko" ;;
		esac
		# The guest's insmod order (assemble-guest.sh copies it).
		echo "$m" >> "$tmp/out/modules/order"
	done
	echo "$kver" > "$tmp/out/.complete"
	pkg_version "$pkg" > "$tmp/out/.pkgversion"
	mv "$tmp/out" "$kdir"
	rm -rf "$tmp"
}

# The Debian version of a package (e.g. 6.12.117-1~deb12u1), newest first.
pkg_version() {
	apt-cache $APT_PRIV show "$1" 2>/dev/null | sed -n 's/^Version: //p' |
		sort -V | tail -n1
}

# ---- vp_vdpa.ko ----------------------------------------------------------------
# Debian's kernel has CONFIG_VP_VDPA off, but everything it needs on. The
# module is built from the source of the very version the VM boots, against
# that version's headers; an unsigned module loads (no MODULE_SIG_FORCE).
fetch_vp_vdpa() {
	kver=$(cat "$VM/kernel/.complete")
	out="$VM/vp_vdpa"
	patches=$(ls "$HERE"/vp_vdpa/*.patch 2>/dev/null | sort)
	want="$kver $(cat $patches /dev/null | sha256sum | cut -c1-16)"
	[ -e "$out/.complete" ] && [ "$(cat "$out/.complete")" = "$want" ] &&
		[ -e "$out/vp_vdpa.ko" ] && return 0
	pver=$(cat "$VM/kernel/.pkgversion" 2>/dev/null || true)
	[ -n "$pver" ] || pver=$(pkg_version "linux-image-$kver-unsigned")
	[ -n "$pver" ] ||
		die "cannot tell the package version of linux-image-$kver-unsigned; run 'apt-get update', or fetch.sh --refresh for a kernel the mirror still has"
	kbase=${kver%-amd64}
	src_pkg=linux-source-$(echo "$kver" | cut -d. -f1,2)
	tmp="$VM/vp_vdpa.tmp"
	rm -rf "$tmp"
	mkdir -p "$tmp/deb" "$tmp/root" "$tmp/mod"
	log "downloading linux-source and headers $pver for vp_vdpa.ko"
	(cd "$tmp/deb" && apt-get $APT_PRIV download -q "$src_pkg=$pver" \
		"linux-headers-$kver=$pver" "linux-headers-$kbase-common=$pver" \
		"linux-kbuild-$kbase=$pver" > "$tmp/download.log" 2>&1) ||
		die "apt-get download of $src_pkg, linux-headers-$kver and linux-kbuild-$kbase at $pver failed: $(tail -n2 "$tmp/download.log")"
	for d in "$tmp"/deb/*.deb; do dpkg-deb -x "$d" "$tmp/root"; done
	hdr="$tmp/root/usr/src/linux-headers-$kver"
	# The arch headers include the common ones by their installed path.
	sed -i "s#^include /usr/src/#include $tmp/root/usr/src/#" "$hdr/Makefile"
	tar -xJf "$tmp/root/usr/src/$src_pkg.tar.xz" -C "$tmp" \
		"$src_pkg/drivers/vdpa/virtio_pci/vp_vdpa.c" ||
		die "vp_vdpa.c is missing from $src_pkg $pver"
	mkdir -p "$tmp/tree/drivers/vdpa/virtio_pci"
	cp "$tmp/$src_pkg/drivers/vdpa/virtio_pci/vp_vdpa.c" "$tmp/tree/drivers/vdpa/virtio_pci/"
	for p in $patches; do
		(cd "$tmp/tree" && patch -p1 -s < "$p") ||
			die "patch $(basename "$p") does not apply to vp_vdpa.c of $pver"
	done
	cp "$tmp/tree/drivers/vdpa/virtio_pci/vp_vdpa.c" "$tmp/mod/"
	echo 'obj-m := vp_vdpa.o' > "$tmp/mod/Kbuild"
	# pahole is not needed: no BTF for an out-of-tree test module.
	make -C "$hdr" M="$tmp/mod" CONFIG_DEBUG_INFO_BTF_MODULES= modules \
		> "$tmp/build.log" 2>&1 ||
		die "building vp_vdpa.ko failed: $(grep -m3 -E 'error|Error' "$tmp/build.log")"
	rm -rf "$out"
	mkdir -p "$out"
	cp "$tmp/mod/vp_vdpa.ko" "$tmp/mod/vp_vdpa.c" "$out/"
	echo "$want" > "$out/.complete"
	rm -rf "$tmp"
	log "vp_vdpa.ko built for $kver ($pver)"
}

# Config symbol of a module, to tell "built in" from "missing".
modsym() {
	case $1 in
	irqbypass) echo CONFIG_IRQ_BYPASS_MANAGER ;;
	vduse) echo CONFIG_VDPA_USER ;;
	netfs) echo CONFIG_NETFS_SUPPORT ;;
	9pnet) echo CONFIG_NET_9P ;;
	9pnet_virtio) echo CONFIG_NET_9P_VIRTIO ;;
	9p) echo CONFIG_9P_FS ;;
	*) echo "CONFIG_$(echo "$1" | tr a-z A-Z)" ;;
	esac
}

# ---- DPDK 24.11 from trixie ---------------------------------------------------
# apt source entries for trixie, derived from the machine's own mirror entries.
write_trixie_sources() {
	host=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$host" ] || die "cannot read VERSION_CODENAME from /etc/os-release"
	if [ -e /etc/apt/sources.list.d/debian.sources ]; then
		awk -v old="$host" -v new=trixie \
			'/^Suites:/ { gsub(old, new) } /^Types:/ { $0 = "Types: deb" } { print }' \
			/etc/apt/sources.list.d/debian.sources > "$APT_DIR/etc/trixie.sources"
		echo "$APT_DIR/etc/trixie.sources"
	elif [ -e /etc/apt/sources.list ]; then
		grep -E '^deb ' /etc/apt/sources.list | sed "s/ $host/ trixie/" \
			> "$APT_DIR/etc/trixie.list"
		echo "$APT_DIR/etc/trixie.list"
	else
		die "no /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list to derive a trixie entry from"
	fi
}

trixie_apt() {
	cmd=$1
	shift
	$cmd $APT_PRIV -q -o Dir::Etc::SourceList="$TRIXIE_SRC" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
		-o Dir::State::Lists="$APT_DIR/lists" -o Dir::State::status=/dev/null \
		"$@"
}

# Prints the sonames in DT_NEEDED of an ELF file.
needed() {
	readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
}

# Where the root's loader would find a soname (none: empty).
resolve() {
	for d in "$R/$ARCH_LIBDIR" "$R/lib/x86_64-linux-gnu" "$R/usr/lib64" "$R/lib64"; do
		[ -e "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 0
}

# Walks DT_NEEDED from the roots. Prints "soname owner-package" for each
# soname nothing in the root provides yet.
missing_sonames() {
	seen="$WORK/seen"
	: > "$seen"
	queue="$WORK/queue"
	printf '%s\n' "$@" > "$queue"
	while [ -s "$queue" ]; do
		f=$(head -n1 "$queue")
		sed -i 1d "$queue"
		real=$(readlink -f "$f")
		grep -qxF "$real" "$seen" && continue
		echo "$real" >> "$seen"
		for so in $(needed "$real"); do
			p=$(resolve "$so")
			if [ -n "$p" ]; then
				echo "$p" >> "$queue"
			else
				echo "$so $(owner "$real")"
			fi
		done
	done | sort -u
}

# Package that unpacked a file into the root (from the per-package lists).
owner() {
	rel=${1#"$R"/}
	grep -lxF -e "./$rel" -e "./${rel#usr/}" "$WORK"/files/* 2>/dev/null |
		head -n1 | sed 's|.*/||'
}

# Unpacks a downloaded .deb into the root and records its file list.
unpack() {
	dpkg-deb -x "$1" "$R"
	dpkg-deb -c "$1" | awk '{ print $6 }' | sed 's|/$||' > "$WORK/files/$2"
}

pkg_of_deb() { dpkg-deb -f "$1" Package; }

# Depends of a package, first alternative, no versions or arch qualifiers.
depends_of() {
	dpkg-deb -f "$WORK/debs/$1"_*.deb Pre-Depends Depends 2>/dev/null |
		sed 's/^[A-Za-z-]*: //' | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:.*//; s/ //g' |
		grep -v '^$' || true
}

# Drops virtual packages (no candidate): apt-get download would fail on them.
downloadable() {
	[ $# -gt 0 ] || return 0
	trixie_apt apt-cache policy "$@" 2>/dev/null | awk '
		/^[^ ]/ { name = $1; sub(/:$/, "", name) }
		/^  Candidate:/ && $2 != "(none)" { print name }'
}

download() {
	(cd "$WORK/debs" && trixie_apt apt-get download "$@" > "$WORK/download.log" 2>&1) ||
		die "apt-get download from trixie failed for: $* ($(tail -n3 "$WORK/download.log"))"
}

fetch_dpdk24() {
	out="$VM/dpdk24-root"
	# A root made for fewer plugins is made again.
	[ "$(cat "$out/.complete" 2>/dev/null)" = "$DPDK24_PLUGINS" ] && return 0
	TRIXIE_SRC=$(write_trixie_sources)
	log "updating private trixie package lists"
	trixie_apt apt-get update >&2 ||
		die "apt-get update for trixie failed; is the mirror reachable and debian-archive-keyring recent (needs the trixie key)?"
	WORK="$VM/dpdk24.tmp"
	R="$WORK/root"
	rm -rf "$WORK" "$out"
	mkdir -p "$WORK/debs" "$WORK/files" "$R"
	# Canonical, so paths from readlink -f still start with $R.
	R=$(readlink -f "$R")
	log "downloading DPDK 24.11 from trixie"
	download $DPDK24_PKGS
	for d in "$WORK"/debs/*.deb; do unpack "$d" "$(pkg_of_deb "$d")"; done

	# Keep only the device side's plugins; EAL loads every file in the folder.
	pmds=$(ls -d "$R/$ARCH_LIBDIR"/dpdk/pmds-* 2>/dev/null | head -n1)
	[ -n "$pmds" ] || die "trixie's DPDK has no plugin folder under $ARCH_LIBDIR/dpdk"
	roots="$R/usr/bin/dpdk-testpmd $R/$ARCH_LIBDIR/libgcc_s.so.1"
	for p in $DPDK24_PLUGINS; do
		f=$(ls "$pmds/$p.so"* 2>/dev/null | head -n1)
		[ -n "$f" ] || die "plugin $p missing from $pmds"
		roots="$roots $f"
	done

	# Follow DT_NEEDED rather than package Depends: Depends drags in udev,
	# systemd and passwd that nothing loads. Shared-library Depends are what
	# dpkg-shlibdeps derived from DT_NEEDED, so a missing soname is provided
	# by one of the Depends of the package that needs it.
	tried=" "
	while :; do
		miss=$(missing_sonames $roots)
		[ -z "$miss" ] && break
		owners=$(echo "$miss" | awk '{ print $2 }' | sort -u)
		cands=""
		for o in $owners; do
			[ -n "$o" ] || die "cannot tell which package needs: $miss"
			for d in $(depends_of "$o"); do
				case "$tried" in *" $d "*) continue ;; esac
				[ -e "$WORK/files/$d" ] && continue
				tried="$tried$d "
				cands="$cands $d"
			done
		done
		cands=$(downloadable $cands)
		[ -z "$cands" ] || download $cands
		echo "$miss" | awk '{ print $1 }' > "$WORK/miss"
		kept=0
		# Earlier rounds' downloads count too: a package unneeded then may
		# provide a soname that a newly unpacked library needs.
		for d in "$WORK"/debs/*.deb; do
			p=$(pkg_of_deb "$d")
			[ -e "$WORK/files/$p" ] && continue
			# Keep a package only if it ships one of the missing sonames.
			if dpkg-deb -c "$d" | awk '{ print $6 }' | sed 's|.*/||' |
				grep -qxF -f "$WORK/miss"; then
				unpack "$d" "$p"
				kept=1
			fi
		done
		[ $kept = 1 ] ||
			die "no Depends provides:$(echo "$miss" | awk '{ printf " %s (needed by %s)", $1, $2 }')"
	done

	# EAL loads every file of its plugin folder. Trixie's pmds-25.0 holds the
	# real driver libraries that testpmd links to, so it stays whole; the
	# device side gets a folder of its own with just the plugins it needs.
	mkdir -p "$R/plugins"
	for p in $DPDK24_PLUGINS; do
		# EAL takes only names ending in .so or .so.<ABI> (e.g. .so.25.0).
		f=$(cd "$pmds" && ls "$p".so.*.* | sort | tail -n1)
		ln -s "../${pmds#"$R"/}/$f" "$R/plugins/$f"
	done

	# Cross-check with trixie's own loader, as the guest will run it.
	ldso="$R/$ARCH_LIBDIR/ld-linux-x86-64.so.2"
	[ -e "$ldso" ] || die "trixie's libc6 did not provide $ARCH_LIBDIR/ld-linux-x86-64.so.2"
	for f in $roots "$R"/plugins/*; do
		if ! "$ldso" --inhibit-cache --library-path "$R/$ARCH_LIBDIR" \
			--list "$f" > "$WORK/ldlist" 2>&1 || grep -q 'not found' "$WORK/ldlist"; then
			die "trixie root incomplete for $f: $(grep -E 'not found|error' "$WORK/ldlist" | tr '\n' ' ')"
		fi
	done

	ls "$WORK/files" | grep -v '\.rejected$' > "$R/.packages"
	trixie_apt apt-cache show dpdk-dev | sed -n 's/^Version: //p' | head -n1 > "$R/.version"
	echo "$DPDK24_PLUGINS" > "$R/.complete"
	mv "$R" "$out"
	rm -rf "$WORK"
	log "DPDK $(cat "$out/.version") root: $(wc -l < "$out/.packages") packages, $(du -sh "$out" | cut -f1)"
}

fetch_kernel
fetch_vp_vdpa
fetch_dpdk24
printf '%s\nkernel=%s dpdk24=%s vp_vdpa=%s\n' "$STAMP_KEY" "$(cat "$VM/kernel/.complete")" \
	"$(cat "$VM/dpdk24-root/.version")" "$(cat "$VM/vp_vdpa/.complete")" > "$STAMP"
log "ready: $(tail -n1 "$STAMP")"

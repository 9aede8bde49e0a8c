#!/bbin/sh
# /init of the test VM (busybox sh). Brings up what DPDK and vhost-vdpa need,
# mounts the host's shares at the same absolute paths as on the host, runs
# the guest script and powers off. The kernel passes vv_work=<dir> from the
# command line as an environment variable.
PATH=/bbin
export PATH

say() { echo "vm-init: $*"; }
halt() {
	sync
	poweroff -f
	echo o > /proc/sysrq-trigger
	sleep 10
}
fail() {
	say "FATAL: $*"
	[ -d /.vvwork ] && echo "$*" > /.vvwork/init-failed
	halt
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/hugepages
mount -t devpts -o ptmxmode=666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
chmod 1777 /tmp

# insmod, not modprobe: there is no modules.dep. The order file lists each
# module after its dependencies. virtio_vdpa is deliberately absent: a new
# vdpa device binds to the first vdpa bus driver registered, and it must be
# vhost_vdpa.
for m in $(cat /modules/order); do
	insmod "/modules/$m.ko" || fail "insmod $m failed"
done

# DPDK's memory must be MAP_SHARED and file-backed to reach a VDUSE device;
# hugetlbfs gives that. A test's testpmd takes ~17 x 2 MiB pages; 512 leave
# room for bigger pools and still fit in 3 GiB (vv_hugepages=N overrides).
echo "${vv_hugepages:-512}" > /proc/sys/vm/nr_hugepages
mount -t hugetlbfs -o pagesize=2M none /dev/hugepages
ulimit -l unlimited

[ -n "${vv_work:-}" ] || fail "no vv_work=<dir> on the kernel command line"
opts=trans=virtio,version=9p2000.L,msize=262144
# The work share goes to /.vvwork first, and to its host path only after the
# other shares: it may lie inside one of them (e.g. under the project).
mkdir -p /.vvwork
mount -t 9p -o "$opts,cache=none" vvwork /.vvwork || fail "cannot mount the work share"
[ -r /.vvwork/guest-env.sh ] || fail "guest-env.sh missing from the work share"
# Defines VV_SHARES ("tag path ro|rw" lines, parents first), VV_SCRIPT, the
# script's arguments (set --) and the VV_* variables of the caller.
. /.vvwork/guest-env.sh

echo "$VV_SHARES" | while read -r tag path mode; do
	[ -n "$tag" ] || continue
	# Read-only shares do not change while the guest runs: let it cache them.
	case $mode in
	ro) o="$opts,cache=loose,ro" ;;
	*) o="$opts,cache=none" ;;
	esac
	mkdir -p "$path" 2>/dev/null
	mount -t 9p -o "$o" "$tag" "$path" || fail "cannot mount share $tag at $path"
done
mkdir -p "$vv_work" 2>/dev/null
mount -o bind /.vvwork "$vv_work" || fail "cannot bind the work share to $vv_work"

[ -x /usr/bin/env ] || fail "the host's /usr did not mount"

# Debian's EAL loads every PMD in its plugin folder (about 130) at each
# start, which costs seconds per testpmd under TCG and 9p. The tests need
# the virtio, vdev bus and mempool plugins and what the apps link; the
# folder is replaced by one holding only those (vv_all_pmds=1 keeps all).
pmds=/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0
if [ -d "$pmds" ] && [ "${vv_all_pmds:-0}" = 0 ]; then
	# Not under /run: EAL refuses plugins below a world-writable folder.
	mkdir -p /.vvpmds/all /.vvpmds/keep
	chmod 755 /.vvpmds /.vvpmds/all /.vvpmds/keep
	mount --bind "$pmds" /.vvpmds/all || fail "cannot bind $pmds"
	# VV_PMDS_KEEP: the plugins and what links them (run.sh's ldd).
	for f in ${VV_PMDS_KEEP:-}; do
		ln -sf "/.vvpmds/all/$f" "/.vvpmds/keep/$f"
	done
	[ -z "${VV_PMDS_KEEP:-}" ] ||
		mount --bind /.vvpmds/keep "$pmds" || fail "cannot bind /.vvpmds/keep over $pmds"
fi
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/bbin
HOME=/root
export PATH HOME
mkdir -p /root
cd "$vv_work" || fail "cannot cd to $vv_work"

say "$(cut -d" " -f1 /proc/uptime)s since boot: running $VV_SCRIPT $*"
/bin/sh "$VV_SCRIPT" "$@"
echo $? > "$vv_work/rc"
halt

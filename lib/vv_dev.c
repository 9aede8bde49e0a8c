/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vv_ctrl.h"
#include "vv_dev.h"
#include "vv_dev_internal.h"
#include "vv_log.h"
#include "vv_sys.h"

#define VV_MEMMAP_MAX_OPS 64

static void
dev_close_fds(struct vv_dev *d)
{
	unsigned int i;

	for (i = 0; i < VV_MAX_VRINGS; i++) {
		if (d->doorbell[i] != NULL)
			vv_sys->munmap(d->doorbell[i], d->doorbell_len[i]);
		d->doorbell[i] = NULL;
		if (d->kick_fd[i] >= 0)
			vv_sys->close(d->kick_fd[i]);
		if (d->call_fd[i] >= 0)
			vv_sys->close(d->call_fd[i]);
		d->kick_fd[i] = -1;
		d->call_fd[i] = -1;
	}
	if (d->ctrl_kick_fd >= 0)
		vv_sys->close(d->ctrl_kick_fd);
	if (d->ctrl_call_fd >= 0)
		vv_sys->close(d->ctrl_call_fd);
	d->ctrl_kick_fd = -1;
	d->ctrl_call_fd = -1;
}

const char *vv_sysfs_root = "/sys";

/*
 * A path without a slash may be a vDPA device's name (as `vdpa dev show`
 * lists it): its vhost-vdpa node is the child vhost-vdpa-N in sysfs.
 * Returns 1 with d->path replaced, 0 when no such device exists, or an
 * error with the fix logged when it exists but is not bound to vhost_vdpa.
 */
static int
dev_resolve_vdpa_name(struct vv_dev *d)
{
	char dir[512], drv[600], *base;
	struct dirent *e;
	ssize_t n;
	DIR *dp;

	if (strchr(d->path, '/') != NULL || d->server)
		return 0;
	snprintf(dir, sizeof(dir), "%s/bus/vdpa/devices/%s", vv_sysfs_root,
		 d->path);
	dp = opendir(dir);
	if (dp == NULL)
		return 0;
	while ((e = readdir(dp)) != NULL) {
		if (strncmp(e->d_name, "vhost-vdpa-", 11) != 0)
			continue;
		VV_INFO("vDPA device %s is /dev/%s", d->path, e->d_name);
		snprintf(d->path, sizeof(d->path), "/dev/%.200s", e->d_name);
		closedir(dp);
		return 1;
	}
	closedir(dp);
	snprintf(drv, sizeof(drv), "%s/driver", dir);
	n = readlink(drv, dir, sizeof(dir) - 1);
	if (n <= 0) {
		VV_ERR("vDPA device %s is bound to no driver, not vhost_vdpa, so it has no /dev/vhost-vdpa-N: modprobe vhost_vdpa; echo %s > /sys/bus/vdpa/drivers/vhost_vdpa/bind",
		       d->path, d->path);
		return -ENODEV;
	}
	dir[n] = '\0';
	base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	VV_ERR("vDPA device %s is bound to %s, not vhost_vdpa, so it has no /dev/vhost-vdpa-N: modprobe vhost_vdpa; echo %s > /sys/bus/vdpa/drivers/%s/unbind; echo %s > /sys/bus/vdpa/drivers/vhost_vdpa/bind",
	       d->path, base, d->path, base, d->path);
	return -ENODEV;
}

static int
dev_pick_backend(struct vv_dev *d)
{
	struct stat st;
	int ret;

	/* The path says which backend; a guess would give misleading errors. */
	if (d->server) {
		if (vv_sys->stat(d->path, &st) == 0 && S_ISCHR(st.st_mode)) {
			VV_ERR("server=1 is for vhost-user sockets, but %s is a character device; drop server=1",
			       d->path);
			return -EINVAL;
		}
		d->ops = &vv_backend_vhost_user;
		return 0;
	}
	ret = dev_resolve_vdpa_name(d);
	if (ret < 0)
		return ret;
	if (vv_sys->stat(d->path, &st) < 0) {
		int err = errno;

		if (err == ENOENT)
			VV_ERR("%s does not exist: give the /dev/vhost-vdpa-N or the name of a vDPA device bound to vhost_vdpa (vdpa dev add name <dev> mgmtdev <parent>; modprobe vhost_vdpa), the socket of a running vhost-user backend, or server=1 to create that socket",
			       d->path);
		else
			VV_ERR("cannot stat %s: %s", d->path, strerror(err));
		return -err;
	}
	if (S_ISCHR(st.st_mode)) {
		d->ops = &vv_backend_vdpa;
		d->node_rdev = st.st_rdev;
		return 0;
	}
	if (S_ISSOCK(st.st_mode)) {
		d->ops = &vv_backend_vhost_user;
		return 0;
	}
	VV_ERR("%s is neither a vhost-vdpa character device nor a vhost-user socket; give path=/dev/vhost-vdpa-N or the socket of a vhost-user backend",
	       d->path);
	return -ENODEV;
}

int
vv_dev_open(struct vv_dev *d, const struct vv_dev_params *p)
{
	char buf[512];
	int ret;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	memset(d->kick_fd, -1, sizeof(d->kick_fd));
	memset(d->call_fd, -1, sizeof(d->call_fd));
	d->ctrl_kick_fd = -1;
	d->ctrl_call_fd = -1;
	d->config_fd = -1;
	vv_memmap_init(&d->memmap);
	if (p->path == NULL || p->path[0] == '\0') {
		VV_ERR("no device path given: pass path=/dev/vhost-vdpa-N");
		return -EINVAL;
	}
	if (strlen(p->path) >= sizeof(d->path)) {
		VV_ERR("path is longer than %zu characters", sizeof(d->path) - 1);
		return -ENAMETOOLONG;
	}
	if (p->queue_pairs == 0 || p->queue_pairs > VV_MAX_QUEUE_PAIRS) {
		VV_ERR("queues=%u is out of range 1..%u", p->queue_pairs,
		       VV_MAX_QUEUE_PAIRS);
		return -EINVAL;
	}
	strcpy(d->path, p->path);
	d->server = p->server;
	d->queue_pairs = p->queue_pairs;
	d->queue_size = p->queue_size;
	d->wish = p->wish;
	d->wish.mq = p->queue_pairs > 1;

	ret = dev_pick_backend(d);
	if (ret < 0)
		return ret;
	d->wish.mq_by_enable = vv_dev_peer_can_leave(d);
	ret = d->ops->open(d);
	if (ret < 0)
		return ret;
	vv_dev_read_net_config(d);
	if ((d->ops->caps & VV_CAP_CONFIG_IRQ) && d->info.has_status) {
		d->config_fd = vv_sys->eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (d->config_fd < 0)
			VV_WARN("%s: no eventfd for config interrupts (%s); link changes are seen only when the link is queried",
				d->path, strerror(errno));
	}
	VV_INFO("%s: %s device features %s", d->path, d->ops->name,
		vv_features_format(d->info.device_features, buf, sizeof(buf)));
	ret = vv_dev_check_limits(d);
	if (ret == 0)
		ret = vv_features_negotiate(d->info.device_features, &d->wish,
					    &d->features);
	if (ret < 0) {
		d->ops->close(d);
		if (d->config_fd >= 0)
			vv_sys->close(d->config_fd);
		d->config_fd = -1;
		return ret;
	}
	VV_INFO("%s: driver features %s", d->path,
		vv_features_format(d->features, buf, sizeof(buf)));
	return 0;
}

void
vv_dev_close(struct vv_dev *d)
{
	if (d->ops == NULL)
		return;
	if (d->fd >= 0)
		d->ops->set_status(d, 0);
	d->ops->close(d);
	d->fd = -1;
	dev_close_fds(d);
	if (d->config_fd >= 0)
		vv_sys->close(d->config_fd);
	d->config_fd = -1;
	vv_memmap_clear(&d->memmap);
	d->ops = NULL;
	d->started = false;
	d->mapped = false;
}

/*
 * The kernel pins what the IOTLB maps (vp_vdpa and other devices behind a
 * platform IOMMU) and counts it against RLIMIT_MEMLOCK. Too low a limit
 * shows as ENOMEM, and on some kernels and devices as EFAULT.
 */
static void
memlock_hint(const struct vv_dev *d, int err)
{
	struct rlimit rl;
	uint64_t total = 0;
	unsigned int i;

	if (err != -ENOMEM && err != -EFAULT)
		return;
	for (i = 0; i < d->memmap.n; i++)
		total += d->memmap.regions[i].len;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (err == -ENOMEM || total > rl.rlim_cur))
		VV_ERR("the kernel pins all mapped memory (%llu MiB) against RLIMIT_MEMLOCK (%llu MiB): raise the memlock limit (ulimit -l unlimited, or LimitMEMLOCK=infinity in a systemd unit)",
		       (unsigned long long)(total >> 20),
		       (unsigned long long)(rl.rlim_cur >> 20));
}

static int
dev_mem_check_range(const struct vv_dev *d, uint64_t addr, uint64_t len)
{
	if (addr < d->info.iova_first || addr + len - 1 > d->info.iova_last) {
		VV_ERR("memory 0x%llx-0x%llx lies outside the IOVA range 0x%llx-0x%llx of %s; the device cannot reach it",
		       (unsigned long long)addr,
		       (unsigned long long)(addr + len - 1),
		       (unsigned long long)d->info.iova_first,
		       (unsigned long long)d->info.iova_last, d->path);
		return -ERANGE;
	}
	return 0;
}

static int
dev_mem_apply(struct vv_dev *d, const struct vv_memmap_op *ops, int n)
{
	int ret;

	if (n <= 0 || !d->mapped)
		return n < 0 ? n : 0;
	ret = d->ops->mem_apply(d, ops, (unsigned int)n);
	memlock_hint(d, ret);
	return ret;
}

int
vv_dev_mem_add(struct vv_dev *d, uint64_t addr, uint64_t len)
{
	return vv_dev_mem_add_fd(d, addr, len, -1, 0);
}

int
vv_dev_mem_add_fd(struct vv_dev *d, uint64_t addr, uint64_t len, int fd,
		  uint64_t fd_offset)
{
	struct vv_memmap_op ops[VV_MEMMAP_MAX_OPS];
	int n;

	if (len == 0 || addr + len < addr) {
		VV_ERR("memory 0x%llx+0x%llx is empty or wraps around",
		       (unsigned long long)addr, (unsigned long long)len);
		return -EINVAL;
	}
	n = dev_mem_check_range(d, addr, len);
	if (n < 0)
		return n;
	n = vv_memmap_add_fd(&d->memmap, addr, len, fd, fd_offset, ops,
			     VV_MEMMAP_MAX_OPS);
	if (n == -EEXIST)
		VV_ERR("memory 0x%llx+0x%llx overlaps a range already mapped",
		       (unsigned long long)addr, (unsigned long long)len);
	return dev_mem_apply(d, ops, n);
}

int
vv_dev_mem_remove(struct vv_dev *d, uint64_t addr, uint64_t len)
{
	struct vv_memmap_op ops[VV_MEMMAP_MAX_OPS];
	int n;

	n = vv_memmap_remove(&d->memmap, addr, len, ops, VV_MEMMAP_MAX_OPS);
	return dev_mem_apply(d, ops, n);
}

static int
dev_set_status_checked(struct vv_dev *d, uint8_t status, const char *step)
{
	uint8_t got = 0;
	int ret;

	ret = d->ops->set_status(d, status);
	if (ret < 0) {
		VV_ERR("%s: the %s device refused status %s (0x%x)", d->path,
		       d->ops->name, step, status);
		return ret;
	}
	ret = d->ops->get_status(d, &got);
	if (ret < 0) {
		VV_ERR("%s: cannot read back status %s: %s", d->path, step,
		       strerror(-ret));
		return ret;
	}
	if (got != status) {
		VV_ERR("%s: status %s not taken (wrote 0x%x, read 0x%x)%s",
		       d->path, step, status, got,
		       (status & VIRTIO_CONFIG_S_FEATURES_OK) ?
		       "; the device rejected the negotiated features" : "");
		return -EIO;
	}
	return 0;
}

static int
dev_reset(struct vv_dev *d)
{
	struct timespec ts = { 0, 1000 * 1000 };
	uint8_t got = 0xff;
	int ret, i;

	ret = d->ops->set_status(d, 0);
	if (ret < 0) {
		VV_ERR("%s: the %s device refused the reset: %s", d->path,
		       d->ops->name, strerror(-ret));
		return ret;
	}
	/* Reset completes when the device reads back 0 (virtio 1.x 2.1.2). */
	for (i = 0; i < 3000; i++) {
		ret = d->ops->get_status(d, &got);
		if (ret < 0) {
			VV_ERR("%s: cannot read the status during reset: %s",
			       d->path, strerror(-ret));
			return ret;
		}
		if (got == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	VV_ERR("%s: the %s device did not complete its reset within 3 s (status 0x%x)",
	       d->path, d->ops->name, got);
	return -ETIMEDOUT;
}

static int
dev_eventfds(struct vv_dev *d, unsigned int nr_vrings)
{
	unsigned int i;

	for (i = 0; i < nr_vrings; i++) {
		if (d->kick_fd[i] < 0)
			d->kick_fd[i] = vv_sys->eventfd(0, EFD_NONBLOCK |
							EFD_CLOEXEC);
		if (d->call_fd[i] < 0)
			d->call_fd[i] = vv_sys->eventfd(0, EFD_NONBLOCK |
							EFD_CLOEXEC);
		if (d->kick_fd[i] < 0 || d->call_fd[i] < 0) {
			int err = errno;

			VV_ERR("eventfd for vring %u: %s", i, strerror(err));
			return -err;
		}
	}
	return 0;
}

int
vv_dev_vrings_up(struct vv_dev *d)
{
	unsigned int i;
	int ret;

	for (i = 0; i < d->nr_vrings; i++) {
		ret = d->ops->vring_setup(d, i, &d->vrings[i], d->kick_fd[i],
					  d->call_fd[i]);
		if (ret == 0)
			ret = d->ops->vring_enable(d, i, true);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * Maps each vring's notification page once: a kick is then a store, not
 * a write() system call. The first refusal is the device's answer for all.
 */
static void
dev_doorbells_map(struct vv_dev *d)
{
	unsigned int i;

	if (!(d->ops->caps & VV_CAP_DOORBELL))
		return;
	for (i = 0; i < d->nr_vrings; i++) {
		if (d->doorbell[i] != NULL)
			continue;
		d->doorbell[i] = d->ops->map_doorbell(d, i, &d->doorbell_len[i]);
		if (d->doorbell[i] == NULL)
			return;
	}
	VV_INFO("%s: doorbells mapped for %u vrings: a kick is one store",
		d->path, d->nr_vrings);
}

void
vv_vring_addr_of(const struct vv_ring *r, struct vv_vring_addr *a)
{
	a->size = vv_ring_size(r);
	a->base = vv_ring_base_fresh(r);
	vv_ring_areas(r, &a->desc, &a->avail, &a->used);
	a->ring = r;
}

int
vv_dev_start(struct vv_dev *d, const struct vv_vring_addr *vrings,
	     unsigned int nr_vrings)
{
	uint8_t status = 0;
	int ret;

	if (d->removed) {
		VV_ERR("%s: the %s device was removed; close the port and probe it again once the device is back",
		       d->path, d->ops->name);
		return -ENODEV;
	}
	if (nr_vrings == 0 || nr_vrings > 2u * d->queue_pairs) {
		VV_ERR("%s: %u vrings requested, the device was opened for %u",
		       d->path, nr_vrings, 2u * d->queue_pairs);
		return -EINVAL;
	}
	d->started = false;
	d->mapped = false;
	ret = dev_eventfds(d, nr_vrings);
	if (ret < 0)
		return ret;
	memcpy(d->vrings, vrings, sizeof(vrings[0]) * nr_vrings);
	d->nr_vrings = nr_vrings;
	/*
	 * A vhost-user peer that is away gets the rings when it returns; the
	 * memory table is checked now (with no peer, that is all it does), so
	 * a table that can never be sent fails the start, not every return.
	 */
	if (vv_dev_peer_away(d)) {
		ret = d->ops->mem_replace(d);
		if (ret < 0)
			return ret;
		goto wait_peer;
	}
	ret = dev_reset(d);
	if (ret < 0)
		goto fail;
	status = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	ret = dev_set_status_checked(d, status, "ACKNOWLEDGE");
	if (ret < 0)
		goto fail;
	status |= VIRTIO_CONFIG_S_DRIVER;
	ret = dev_set_status_checked(d, status, "DRIVER");
	if (ret < 0)
		goto fail;
	ret = d->ops->set_features(d, vv_dev_features_in_use(d));
	if (ret < 0)
		goto fail;
	status |= VIRTIO_CONFIG_S_FEATURES_OK;
	ret = dev_set_status_checked(d, status, "FEATURES_OK");
	if (ret < 0)
		goto fail;

	ret = d->ops->mem_replace(d);
	if (ret < 0) {
		memlock_hint(d, ret);
		goto fail;
	}
	d->mapped = true;

	ret = vv_dev_vrings_up(d);
	if (ret == 0)
		ret = vv_dev_ctrl_up(d);
	if (ret < 0)
		goto fail;
	vv_dev_config_irq_up(d);
	dev_doorbells_map(d);
	status |= VIRTIO_CONFIG_S_DRIVER_OK;
	ret = dev_set_status_checked(d, status, "DRIVER_OK");
	if (ret < 0)
		goto fail;
	d->ctrl_live = vv_dev_has_ctrl(d);
	ret = vv_dev_ctrl_steering(d, (uint16_t)(nr_vrings / 2));
	if (ret < 0)
		goto fail;
	d->started = true;
	d->link_was_up = vv_dev_link_up(d);
	return 0;
fail:
	d->ctrl_live = false;
	if (vv_dev_peer_away(d)) {
		/* Nothing holds our memory, so there is nothing to reset. */
		VV_ERR("%s: the vhost-user peer %s during the start, so the port did not start; start it again once the peer is back (a link-state event tells)",
		       d->path, ret == -ETIMEDOUT ? "stopped answering" :
		       "went away");
		d->mapped = false;
		return ret == -ETIMEDOUT ? ret : -ENOTCONN;
	}
	/* vhost-vdpa refuses a status that drops bits: add FAILED to them. */
	if (d->ops->get_status(d, &status) == 0)
		d->ops->set_status(d, status | VIRTIO_CONFIG_S_FAILED);
	dev_reset(d);
	d->mapped = false;
	return ret;
wait_peer:
	VV_WARN("%s: the vhost-user peer is not connected; the port stays down until it is",
		d->path);
	d->mapped = true;
	d->started = true;
	return 0;
}

int
vv_dev_stop(struct vv_dev *d)
{
	int ret;

	d->suspended = false;
	if (!d->started)
		return 0;
	d->started = false;
	d->ctrl_live = false;
	if (d->ops->suspend != NULL) {
		ret = d->ops->suspend(d);
		if (ret == 0)
			d->suspended = true;
		else if (ret != -ENOTSUP)
			VV_WARN("%s: the %s device refused to suspend (%s); stopping it by reset alone",
				d->path, d->ops->name, strerror(-ret));
	}
	ret = dev_reset(d);
	if (ret < 0)
		VV_ERR("%s: the %s device did not confirm the reset at stop",
		       d->path, d->ops->name);
	return ret;
}

uint64_t
vv_dev_features_in_use(const struct vv_dev *d)
{
	uint64_t f = d->features;

	if (!d->vlan_filter)
		f &= ~VV_BIT(VIRTIO_NET_F_CTRL_VLAN);
	if (!d->hash_report)
		f &= ~VV_BIT(VIRTIO_NET_F_HASH_REPORT);
	return f & ~(VV_OFFLOAD_FEATURES & ~d->offloads_wanted);
}

bool
vv_dev_needs_mem_fds(const struct vv_dev *d)
{
	return d->ops != NULL && (d->ops->caps & VV_CAP_MEM_BY_FD);
}

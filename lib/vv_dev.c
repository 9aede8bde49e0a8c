/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vv_ctrl.h"
#include "vv_dev.h"
#include "vv_log.h"
#include "vv_sys.h"

#define VV_MEMMAP_MAX_OPS 64

static void
dev_close_fds(struct vv_dev *d)
{
	unsigned int i;

	for (i = 0; i < VV_MAX_VRINGS; i++) {
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

static int
dev_pick_backend(struct vv_dev *d)
{
	struct stat st;

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
	if (vv_sys->stat(d->path, &st) < 0) {
		int err = errno;

		if (err == ENOENT)
			VV_ERR("%s does not exist: give the /dev/vhost-vdpa-N of a vDPA device bound to vhost_vdpa (vdpa dev add name <dev> mgmtdev <parent>; modprobe vhost_vdpa), the socket of a running vhost-user backend, or server=1 to create that socket",
			       d->path);
		else
			VV_ERR("cannot stat %s: %s", d->path, strerror(err));
		return -err;
	}
	if (S_ISCHR(st.st_mode)) {
		d->ops = &vv_backend_vdpa;
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

static int
dev_check_limits(struct vv_dev *d)
{
	const struct vv_dev_info *in = &d->info;
	unsigned int need = 2u * d->queue_pairs;

	if (in->max_vrings != 0 && in->max_vrings < need) {
		VV_ERR("%s has %u virtqueues, queues=%u needs %u; use queues=%u",
		       d->path, in->max_vrings, d->queue_pairs, need,
		       in->max_vrings / 2);
		return -EINVAL;
	}
	if (d->queue_pairs > 1 &&
	    !(in->device_features & VV_BIT(VIRTIO_NET_F_MQ))) {
		VV_ERR("%s offers one queue pair (no VIRTIO_NET_F_MQ); use queues=1",
		       d->path);
		return -EINVAL;
	}
	if (d->queue_pairs > 1 && in->max_queue_pairs != 0 &&
	    d->queue_pairs > in->max_queue_pairs) {
		VV_ERR("%s offers %u queue pairs (max_virtqueue_pairs); use queues=%u or less",
		       d->path, in->max_queue_pairs, in->max_queue_pairs);
		return -EINVAL;
	}
	if (in->max_ring_size != 0 && d->queue_size > in->max_ring_size) {
		VV_ERR("queue_size=%u exceeds the maximum ring size %u of %s; use queue_size=%u or less",
		       d->queue_size, in->max_ring_size, d->path,
		       in->max_ring_size);
		return -EINVAL;
	}
	return 0;
}

static void
dev_read_net_config(struct vv_dev *d)
{
	struct vv_dev_info *in = &d->info;
	uint64_t f = in->device_features;
	struct virtio_net_config cfg;
	uint32_t len = sizeof(cfg);
	int ret;

	memset(&cfg, 0, sizeof(cfg));
	if (in->config_size != 0 && in->config_size < len)
		len = in->config_size;
	/* 0: unknown, as for vhost-user, which has no config space. */
	in->max_queue_pairs = 0;
	ret = d->ops->read_config(d, 0, &cfg, len);
	if (ret == -ENOTSUP)
		return;
	in->max_queue_pairs = 1;
	if (ret < 0) {
		VV_WARN("%s: config space unreadable; using defaults", d->path);
		return;
	}
	if ((f & VV_BIT(VIRTIO_NET_F_MAC)) && len >= 6) {
		memcpy(in->mac, cfg.mac, sizeof(in->mac));
		in->has_mac = true;
	}
	in->has_status = (f & VV_BIT(VIRTIO_NET_F_STATUS)) &&
		len >= offsetof(struct virtio_net_config, max_virtqueue_pairs);
	if ((f & VV_BIT(VIRTIO_NET_F_MQ)) &&
	    len >= offsetof(struct virtio_net_config, mtu))
		in->max_queue_pairs = cfg.max_virtqueue_pairs ?
			cfg.max_virtqueue_pairs : 1;
	if ((f & VV_BIT(VIRTIO_NET_F_MTU)) &&
	    len >= offsetof(struct virtio_net_config, speed)) {
		in->mtu = cfg.mtu;
		in->has_mtu = true;
	}
	if ((f & VV_BIT(VIRTIO_NET_F_SPEED_DUPLEX)) &&
	    len >= offsetof(struct virtio_net_config, duplex) &&
	    cfg.speed != 0 && cfg.speed != UINT32_MAX) {
		in->speed = cfg.speed;
		in->has_speed = true;
	}
}

int
vv_dev_open(struct vv_dev *d, const struct vv_dev_params *p)
{
	char buf[512];
	int ret;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->listen_fd = -1;
	memset(d->kick_fd, -1, sizeof(d->kick_fd));
	memset(d->call_fd, -1, sizeof(d->call_fd));
	d->ctrl_kick_fd = -1;
	d->ctrl_call_fd = -1;
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
	d->wish.mq_by_enable = d->ops->peer_alive != NULL;
	ret = d->ops->open(d);
	if (ret < 0)
		return ret;
	dev_read_net_config(d);
	VV_INFO("%s: device features %s", d->path,
		vv_features_format(d->info.device_features, buf, sizeof(buf)));
	ret = dev_check_limits(d);
	if (ret == 0)
		ret = vv_features_negotiate(d->info.device_features, &d->wish,
					    &d->features);
	if (ret < 0) {
		d->ops->close(d);
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
	vv_memmap_clear(&d->memmap);
	d->ops = NULL;
	d->started = false;
	d->mapped = false;
}

static void
memlock_hint(const struct vv_dev *d)
{
	struct rlimit rl;
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < d->memmap.n; i++)
		total += d->memmap.regions[i].len;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
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
	if (ret == -ENOMEM)
		memlock_hint(d);
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
		VV_ERR("%s: the device refused status %s (0x%x)", d->path,
		       step, status);
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
		VV_ERR("%s: reset refused: %s", d->path, strerror(-ret));
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
	VV_ERR("%s did not complete reset within 3 s (status 0x%x)", d->path,
	       got);
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

/* Hands every recorded vring to the device and enables it. */
static int
dev_vrings_up(struct vv_dev *d)
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

bool
vv_dev_has_ctrl(const struct vv_dev *d)
{
	return (d->features & VV_BIT(VIRTIO_NET_F_CTRL_VQ)) != 0;
}

void
vv_dev_set_ctrl_mem(struct vv_dev *d, void *shm, void *priv)
{
	d->ctrl_shm = shm;
	d->ctrl_priv = priv;
}

/* The control queue comes after every data queue the device can have. */
static unsigned int
dev_ctrl_index(const struct vv_dev *d)
{
	if (d->features & VV_BIT(VIRTIO_NET_F_MQ))
		return 2u * d->info.max_queue_pairs;
	return 2;
}

static int
dev_ctrl_up(struct vv_dev *d)
{
	unsigned int idx = dev_ctrl_index(d);
	struct vv_vring_addr a;
	int ret;

	d->ctrl_live = false;
	if (!vv_dev_has_ctrl(d))
		return 0;
	if (d->ctrl_shm == NULL || d->ctrl_priv == NULL) {
		VV_ERR("%s: CTRL_VQ is negotiated but no memory was given for the control queue",
		       d->path);
		return -EINVAL;
	}
	if (d->info.max_vrings != 0 && idx >= d->info.max_vrings) {
		VV_ERR("%s: the control queue would be virtqueue %u, but the device has %u virtqueues",
		       d->path, idx, d->info.max_vrings);
		return -EINVAL;
	}
	ret = vv_ctrl_init(&d->ctrl, d->ctrl_shm, d->ctrl_priv);
	if (ret < 0)
		return ret;
	if (d->ctrl_kick_fd < 0)
		d->ctrl_kick_fd = vv_sys->eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->ctrl_call_fd < 0)
		d->ctrl_call_fd = vv_sys->eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->ctrl_kick_fd < 0 || d->ctrl_call_fd < 0) {
		int err = errno;

		VV_ERR("eventfd for the control queue: %s", strerror(err));
		return -err;
	}
	a.size = d->ctrl.ring.size;
	a.base = 0;
	a.desc = (uint64_t)(uintptr_t)d->ctrl.ring.desc;
	a.avail = (uint64_t)(uintptr_t)d->ctrl.ring.avail;
	a.used = (uint64_t)(uintptr_t)d->ctrl.ring.used;
	ret = d->ops->vring_setup(d, idx, &a, d->ctrl_kick_fd, d->ctrl_call_fd);
	if (ret == 0)
		ret = d->ops->vring_enable(d, idx, true);
	return ret;
}

static int
dev_ctrl_cmd(struct vv_dev *d, uint8_t cls, uint8_t cmd, const void *data,
	     uint16_t len, const char *what)
{
	int ret = vv_ctrl_send(&d->ctrl, d->ctrl_kick_fd, cls, cmd, data, len,
			       vv_ctrl_timeout_ms);

	if (ret == -EIO)
		VV_ERR("%s: the device refused %s", d->path, what);
	else if (ret == -ETIMEDOUT)
		VV_ERR("%s: the device did not answer %s on its control queue within %u ms; it looks hung (restart the port to try again)",
		       d->path, what, vv_ctrl_timeout_ms);
	else if (ret == -EBUSY)
		VV_ERR("%s: cannot send %s: an earlier control command was never answered; restart the port",
		       d->path, what);
	else if (ret < 0)
		VV_ERR("%s: %s failed on the control queue: %s", d->path, what,
		       strerror(-ret));
	return ret;
}

int
vv_dev_ctrl_rx(struct vv_dev *d, uint8_t cmd, bool on)
{
	uint8_t val = on ? 1 : 0;

	if (!(d->features & VV_BIT(VIRTIO_NET_F_CTRL_RX)))
		return -ENOTSUP;
	if (!d->ctrl_live)
		return 0;
	return dev_ctrl_cmd(d, VIRTIO_NET_CTRL_RX, cmd, &val, sizeof(val),
			    cmd == VIRTIO_NET_CTRL_RX_PROMISC ?
			    (on ? "promiscuous mode on" : "promiscuous mode off") :
			    (on ? "all-multicast on" : "all-multicast off"));
}

int
vv_dev_ctrl_mac(struct vv_dev *d, const uint8_t mac[6])
{
	if (!(d->features & VV_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR)))
		return -ENOTSUP;
	if (!d->ctrl_live)
		return 0;
	return dev_ctrl_cmd(d, VIRTIO_NET_CTRL_MAC,
			    VIRTIO_NET_CTRL_MAC_ADDR_SET, mac, 6,
			    "the MAC address");
}

/* The device serves one pair until told otherwise (virtio 1.1 5.1.6.5.5). */
static int
dev_ctrl_pairs(struct vv_dev *d, uint16_t pairs)
{
	struct virtio_net_ctrl_mq mq = { .virtqueue_pairs = pairs };
	char what[64];

	if (!d->ctrl_live || !(d->features & VV_BIT(VIRTIO_NET_F_MQ)))
		return 0;
	snprintf(what, sizeof(what), "%u queue pairs (VQ_PAIRS_SET)", pairs);
	return dev_ctrl_cmd(d, VIRTIO_NET_CTRL_MQ,
			    VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &mq, sizeof(mq),
			    what);
}

static bool
dev_peer_away(const struct vv_dev *d)
{
	return d->ops->peer_alive != NULL && d->fd < 0;
}

int
vv_dev_start(struct vv_dev *d, const struct vv_vring_addr *vrings,
	     unsigned int nr_vrings)
{
	uint8_t status = 0;
	int ret;

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
	if (dev_peer_away(d)) {
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
	ret = d->ops->set_features(d, d->features);
	if (ret < 0)
		goto fail;
	status |= VIRTIO_CONFIG_S_FEATURES_OK;
	ret = dev_set_status_checked(d, status, "FEATURES_OK");
	if (ret < 0)
		goto fail;

	ret = d->ops->mem_replace(d);
	if (ret < 0) {
		if (ret == -ENOMEM)
			memlock_hint(d);
		goto fail;
	}
	d->mapped = true;

	ret = dev_vrings_up(d);
	if (ret == 0)
		ret = dev_ctrl_up(d);
	if (ret < 0)
		goto fail;
	status |= VIRTIO_CONFIG_S_DRIVER_OK;
	ret = dev_set_status_checked(d, status, "DRIVER_OK");
	if (ret < 0)
		goto fail;
	d->ctrl_live = vv_dev_has_ctrl(d);
	ret = dev_ctrl_pairs(d, (uint16_t)(nr_vrings / 2));
	if (ret < 0)
		goto fail;
	d->started = true;
	return 0;
fail:
	d->ctrl_live = false;
	if (dev_peer_away(d))
		goto wait_peer;
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

	if (!d->started)
		return 0;
	d->started = false;
	d->ctrl_live = false;
	ret = dev_reset(d);
	if (ret < 0)
		VV_ERR("%s: the device did not confirm the reset at stop",
		       d->path);
	return ret;
}

bool
vv_dev_link_up(struct vv_dev *d)
{
	uint16_t status = 0;

	if (dev_peer_away(d))
		return false;
	if (!d->info.has_status)
		return true;
	if (d->ops->read_config(d, offsetof(struct virtio_net_config, status),
				&status, sizeof(status)) < 0)
		return false;
	return (status & VIRTIO_NET_S_LINK_UP) != 0;
}

bool
vv_dev_needs_mem_fds(const struct vv_dev *d)
{
	return d->ops != NULL && d->ops->shares_memory_by_fd;
}

/* How long a peer that failed its return waits before the next try. */
#define VV_PEER_BACKOFF_MS 5000

/*
 * Gives a returning peer the device as it stands. Each ring resumes from
 * the used index in its memory: what the old peer completed stays done,
 * what it had taken but not completed is offered again.
 */
static int
dev_resume(struct vv_dev *d)
{
	uint8_t status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		VIRTIO_CONFIG_S_FEATURES_OK;
	unsigned int i;
	int ret;

	for (i = 0; i < d->nr_vrings; i++) {
		const struct vring_used *used =
			(const void *)(uintptr_t)d->vrings[i].used;

		d->vrings[i].base = __atomic_load_n(&used->idx,
						    __ATOMIC_ACQUIRE);
	}
	ret = d->ops->set_status(d, status);
	if (ret == 0)
		ret = d->ops->set_features(d, d->features);
	if (ret == 0)
		ret = d->ops->mem_replace(d);
	if (ret == 0)
		ret = dev_vrings_up(d);
	if (ret == 0)
		ret = d->ops->set_status(d, status | VIRTIO_CONFIG_S_DRIVER_OK);
	return ret;
}

enum vv_peer_event
vv_dev_peer_poll(struct vv_dev *d)
{
	uint64_t missing;
	int ret;

	if (d->ops == NULL || d->ops->peer_alive == NULL)
		return VV_PEER_UP;
	if (d->fd >= 0) {
		if (d->ops->peer_alive(d))
			return VV_PEER_UP;
		VV_WARN("%s: the vhost-user peer went away; the link is down until it returns",
			d->path);
		d->ops->disconnect(d);
		return VV_PEER_LOST;
	}
	if (vv_now_ms() < d->peer_retry_ms)
		return VV_PEER_DOWN;
	ret = d->ops->reconnect(d);
	if (ret < 0) {
		/* A peer that is there but hung costs a timeout per try. */
		if (ret != -EAGAIN)
			d->peer_retry_ms = vv_now_ms() + VV_PEER_BACKOFF_MS;
		return VV_PEER_DOWN;
	}
	missing = d->features & ~d->info.device_features;
	if (missing != 0) {
		char buf[256];

		VV_ERR("%s: the returning vhost-user peer lacks features in use (%s); close the port and probe it again to negotiate with it",
		       d->path, vv_features_format(missing, buf, sizeof(buf)));
		d->ops->disconnect(d);
		d->peer_retry_ms = vv_now_ms() + VV_PEER_BACKOFF_MS;
		return VV_PEER_DOWN;
	}
	if (d->started) {
		ret = dev_resume(d);
		if (ret < 0) {
			VV_ERR("%s: the returning vhost-user peer refused the device setup (%s); retrying",
			       d->path, strerror(-ret));
			d->ops->disconnect(d);
			d->peer_retry_ms = vv_now_ms() + VV_PEER_BACKOFF_MS;
			return VV_PEER_DOWN;
		}
	}
	VV_INFO("%s: the vhost-user peer is back%s", d->path,
		d->started ? "; traffic resumes" : "");
	return VV_PEER_BACK;
}

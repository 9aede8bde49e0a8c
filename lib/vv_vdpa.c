/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-vdpa backend: the /dev/vhost-vdpa-N ioctls and the IOTLB messages
 * written to the same fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_ids.h>

#include "vv_dev.h"
#include "vv_iotlb.h"
#include "vv_log.h"
#include "vv_sys.h"

#define VDPA_BACKEND_WANTED (VV_BIT(VHOST_BACKEND_F_IOTLB_MSG_V2) | \
			     VV_BIT(VHOST_BACKEND_F_IOTLB_BATCH) | \
			     VV_BIT(VHOST_BACKEND_F_SUSPEND))

/* One wrapper for every ioctl: logs the request and the kernel's answer. */
static int
vdpa_ioctl_named(struct vv_dev *d, unsigned long req, const char *name,
		 void *arg)
{
	int err;

	if (vv_sys->ioctl(d->fd, req, arg) == 0) {
		VV_DEBUG("%s: %s ok", d->path, name);
		return 0;
	}
	err = errno;
	VV_DEBUG("%s: %s failed: %s", d->path, name, strerror(err));
	return -err;
}

#define vdpa_ioctl(d, req, arg) vdpa_ioctl_named(d, req, #req, arg)

/* What this backend keeps per device, behind vv_dev's backend pointer. */
struct vdpa_state {
	/*
	 * The node's entry in sysfs, which the kernel removes the moment the
	 * device is unplugged, although our fd keeps working until closed;
	 * empty where sysfs does not show it.
	 */
	char sys_node[128];
};

static inline struct vdpa_state *
vdpa_of(const struct vv_dev *d)
{
	return d->backend;
}

/* Logs a failed ioctl at error level with what the user should do. */
static int
vdpa_fail(struct vv_dev *d, const char *what, int ret, const char *fix)
{
	VV_ERR("%s: %s failed: %s%s%s", d->path, what, strerror(-ret),
	       fix ? "; " : "", fix ? fix : "");
	return ret;
}

static int
vdpa_open_fd(struct vv_dev *d)
{
	int fd = vv_sys->open(d->path, O_RDWR | O_CLOEXEC);
	int err;

	if (fd >= 0) {
		d->fd = fd;
		return 0;
	}
	err = errno;
	switch (err) {
	case EBUSY:
		VV_ERR("%s is busy: another process (a DPDK app, QEMU) has it open and vhost-vdpa allows one opener; stop that process (fuser -v %s shows it)",
		       d->path, d->path);
		break;
	case EACCES:
	case EPERM:
		VV_ERR("permission denied opening %s: run as root or give this user read/write access to the device node",
		       d->path);
		break;
	case EIO:
	case ETIMEDOUT:
		VV_ERR("%s: the vDPA device did not complete the reset that opening it sends (%s); its parent driver or, for VDUSE, its device process is hung or gone",
		       d->path, strerror(err));
		break;
	case ENOENT:
	case ENXIO:
	case ENODEV:
		VV_ERR("%s has gone away (%s): check that the vDPA device still exists (vdpa dev show)",
		       d->path, strerror(err));
		break;
	default:
		VV_ERR("cannot open %s: %s", d->path, strerror(err));
	}
	return -err;
}

static int
vdpa_identify(struct vv_dev *d)
{
	uint32_t id = 0;
	int ret;

	ret = vdpa_ioctl(d, VHOST_VDPA_GET_DEVICE_ID, &id);
	if (ret == -ENOTTY || ret == -EINVAL)
		return vdpa_fail(d, "VHOST_VDPA_GET_DEVICE_ID", ret,
				 "this is not a vhost-vdpa device node; give path=/dev/vhost-vdpa-N of a vDPA device bound to vhost_vdpa");
	if (ret < 0)
		return vdpa_fail(d, "VHOST_VDPA_GET_DEVICE_ID", ret, NULL);
	if (id != VIRTIO_ID_NET) {
		VV_ERR("%s is a virtio device of type %u, not a network device (%u); pick the vhost-vdpa node of a virtio-net vDPA device (vdpa dev show)",
		       d->path, id, VIRTIO_ID_NET);
		return -ENODEV;
	}
	return 0;
}

static int
vdpa_backend_features(struct vv_dev *d)
{
	uint64_t offered = 0, acked;
	int ret;

	ret = vdpa_ioctl(d, VHOST_GET_BACKEND_FEATURES, &offered);
	if (ret < 0)
		return vdpa_fail(d, "VHOST_GET_BACKEND_FEATURES", ret,
				 "the kernel is too old for vhost-vdpa IOTLB v2 messages (Linux >= 5.8 needed)");
	if (!(offered & VV_BIT(VHOST_BACKEND_F_IOTLB_MSG_V2))) {
		VV_ERR("%s does not offer VHOST_BACKEND_F_IOTLB_MSG_V2; a newer kernel is needed",
		       d->path);
		return -ENOTSUP;
	}
	acked = offered & VDPA_BACKEND_WANTED;
	ret = vdpa_ioctl(d, VHOST_SET_BACKEND_FEATURES, &acked);
	if (ret < 0)
		return vdpa_fail(d, "VHOST_SET_BACKEND_FEATURES", ret, NULL);
	d->backend_features = acked;
	return 0;
}

static void
vdpa_limits(struct vv_dev *d)
{
	struct vhost_vdpa_iova_range range = { 0, 0 };
	uint32_t vqs = 0, cfg_size = 0;
	uint16_t num = 0;
	int ret;

	/* Older kernels lack these queries; then the limits stay unknown. */
	ret = vdpa_ioctl(d, VHOST_VDPA_GET_VQS_COUNT, &vqs);
	d->info.max_vrings = ret == 0 ? vqs : 0;
	ret = vdpa_ioctl(d, VHOST_VDPA_GET_VRING_NUM, &num);
	d->info.max_ring_size = ret == 0 ? num : 0;
	ret = vdpa_ioctl(d, VHOST_VDPA_GET_CONFIG_SIZE, &cfg_size);
	d->info.config_size = ret == 0 ? cfg_size : 0;
	ret = vdpa_ioctl(d, VHOST_VDPA_GET_IOVA_RANGE, &range);
	if (ret == 0 && range.last > range.first) {
		d->info.iova_first = range.first;
		d->info.iova_last = range.last;
	} else {
		d->info.iova_first = 0;
		d->info.iova_last = UINT64_MAX;
	}
}

static void
vdpa_close(struct vv_dev *d)
{
	if (d->fd >= 0)
		vv_sys->close(d->fd);
	d->fd = -1;
	free(d->backend);
	d->backend = NULL;
}

/*
 * Finds the sysfs entry of the opened node (/sys/dev/char/MAJ:MIN), so
 * that vdpa_present can tell when the device is unplugged.
 */
static void
vdpa_watch_setup(struct vv_dev *d)
{
	struct vdpa_state *v = vdpa_of(d);
	struct stat st;

	v->sys_node[0] = '\0';
	if (d->node_rdev == 0)
		return;
	snprintf(v->sys_node, sizeof(v->sys_node), "%s/dev/char/%u:%u",
		 vv_sysfs_root, major(d->node_rdev), minor(d->node_rdev));
	if (vv_sys->stat(v->sys_node, &st) < 0) {
		VV_INFO("%s: %s is not there (%s), so an unplugged device goes unnoticed: its port keeps link up until it is stopped and closed",
			d->path, v->sys_node, strerror(errno));
		v->sys_node[0] = '\0';
	}
}

static bool
vdpa_present(struct vv_dev *d)
{
	struct vdpa_state *v = vdpa_of(d);
	struct stat st;

	if (v == NULL || v->sys_node[0] == '\0')
		return true;
	return vv_sys->stat(v->sys_node, &st) == 0 || errno != ENOENT;
}

static int
vdpa_open(struct vv_dev *d)
{
	int ret;

	d->backend = calloc(1, sizeof(struct vdpa_state));
	if (d->backend == NULL) {
		VV_ERR("%s: out of memory for the vhost-vdpa state", d->path);
		return -ENOMEM;
	}
	ret = vdpa_open_fd(d);
	if (ret < 0)
		goto fail;
	ret = vdpa_identify(d);
	if (ret < 0)
		goto fail;
	ret = vdpa_ioctl(d, VHOST_SET_OWNER, NULL);
	if (ret < 0) {
		vdpa_fail(d, "VHOST_SET_OWNER", ret,
			  "another process owns the device");
		goto fail;
	}
	ret = vdpa_ioctl(d, VHOST_GET_FEATURES, &d->info.device_features);
	if (ret < 0) {
		vdpa_fail(d, "VHOST_GET_FEATURES", ret, NULL);
		goto fail;
	}
	ret = vdpa_backend_features(d);
	if (ret < 0)
		goto fail;
	vdpa_limits(d);
	vdpa_watch_setup(d);
	return 0;
fail:
	vdpa_close(d);
	return ret;
}

static int
vdpa_set_status(struct vv_dev *d, uint8_t status)
{
	return vdpa_ioctl(d, VHOST_VDPA_SET_STATUS, &status);
}

static int
vdpa_get_status(struct vv_dev *d, uint8_t *status)
{
	return vdpa_ioctl(d, VHOST_VDPA_GET_STATUS, status);
}

static int
vdpa_suspend(struct vv_dev *d)
{
	int ret;

	if (!(d->backend_features & VV_BIT(VHOST_BACKEND_F_SUSPEND)))
		return -ENOTSUP;
	ret = vdpa_ioctl(d, VHOST_VDPA_SUSPEND, NULL);
	return ret == -EOPNOTSUPP ? -ENOTSUP : ret;
}

static int
vdpa_set_features(struct vv_dev *d, uint64_t features)
{
	int ret = vdpa_ioctl(d, VHOST_SET_FEATURES, &features);

	if (ret < 0)
		return vdpa_fail(d, "VHOST_SET_FEATURES", ret, NULL);
	return 0;
}

static int
vdpa_read_config(struct vv_dev *d, uint32_t off, void *buf, uint32_t len)
{
	struct {
		struct vhost_vdpa_config hdr;
		uint8_t data[256];
	} cfg;
	int ret;

	if (len > sizeof(cfg.data))
		return -EINVAL;
	cfg.hdr.off = off;
	cfg.hdr.len = len;
	ret = vdpa_ioctl(d, VHOST_VDPA_GET_CONFIG, &cfg);
	if (ret < 0)
		return ret;
	memcpy(buf, cfg.hdr.buf, len);
	return 0;
}

static int
vdpa_write_msgs(struct vv_dev *d, const struct vhost_msg_v2 *msgs,
		unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		ssize_t w = vv_sys->write(d->fd, &msgs[i], sizeof(msgs[i]));
		int err = errno;

		if (w == (ssize_t)sizeof(msgs[i]))
			continue;
		if (w >= 0)
			err = EIO;
		return vv_iotlb_explain(d->path, &msgs[i], -err);
	}
	return 0;
}

static int
vdpa_mem_apply(struct vv_dev *d, const struct vv_memmap_op *ops,
	       unsigned int n)
{
	struct vhost_msg_v2 msgs[VV_IOTLB_MAX_MSGS];
	int count;

	count = vv_iotlb_build(ops, n, d->backend_features, msgs,
			       VV_IOTLB_MAX_MSGS);
	if (count < 0)
		return count;
	return vdpa_write_msgs(d, msgs, (unsigned int)count);
}

static int
vdpa_mem_replace(struct vv_dev *d)
{
	struct vhost_msg_v2 *msgs;
	unsigned int max = d->memmap.n + 3;
	int count, ret;

	msgs = calloc(max, sizeof(*msgs));
	if (msgs == NULL)
		return -ENOMEM;
	count = vv_iotlb_build_replace(&d->memmap, d->info.iova_first,
				       d->info.iova_last, d->backend_features,
				       msgs, max);
	ret = count < 0 ? count : vdpa_write_msgs(d, msgs, (unsigned int)count);
	free(msgs);
	return ret;
}

static int
vdpa_vring_setup(struct vv_dev *d, unsigned int idx,
		 const struct vv_vring_addr *a, int kick_fd, int call_fd)
{
	struct vhost_vring_state num = { .index = idx, .num = a->size };
	struct vhost_vring_state base = { .index = idx, .num = a->base };
	struct vhost_vring_addr addr = {
		.index = idx,
		.desc_user_addr = a->desc,
		.avail_user_addr = a->avail,
		.used_user_addr = a->used,
	};
	struct vhost_vring_file kick = { .index = idx, .fd = kick_fd };
	struct vhost_vring_file call = { .index = idx, .fd = call_fd };
	int ret;

	ret = vdpa_ioctl(d, VHOST_SET_VRING_NUM, &num);
	if (ret < 0)
		return vdpa_fail(d, "VHOST_SET_VRING_NUM", ret,
				 "the device refused the ring size; try a smaller queue_size");
	ret = vdpa_ioctl(d, VHOST_SET_VRING_BASE, &base);
	if (ret < 0)
		return vdpa_fail(d, "VHOST_SET_VRING_BASE", ret, NULL);
	ret = vdpa_ioctl(d, VHOST_SET_VRING_ADDR, &addr);
	if (ret < 0)
		return vdpa_fail(d, "VHOST_SET_VRING_ADDR", ret, NULL);
	ret = vdpa_ioctl(d, VHOST_SET_VRING_KICK, &kick);
	if (ret < 0)
		return vdpa_fail(d, "VHOST_SET_VRING_KICK", ret, NULL);
	ret = vdpa_ioctl(d, VHOST_SET_VRING_CALL, &call);
	if (ret < 0)
		return vdpa_fail(d, "VHOST_SET_VRING_CALL", ret, NULL);
	return 0;
}

static int
vdpa_vring_enable(struct vv_dev *d, unsigned int idx, bool on)
{
	struct vhost_vring_state s = { .index = idx, .num = on ? 1 : 0 };
	int ret = vdpa_ioctl(d, VHOST_VDPA_SET_VRING_ENABLE, &s);

	if (ret < 0)
		return vdpa_fail(d, "VHOST_VDPA_SET_VRING_ENABLE", ret, NULL);
	return 0;
}

static int
vdpa_set_config_call(struct vv_dev *d, int fd)
{
	int ret = vdpa_ioctl(d, VHOST_VDPA_SET_CONFIG_CALL, &fd);

	if (ret < 0)
		return vdpa_fail(d, "VHOST_VDPA_SET_CONFIG_CALL", ret, NULL);
	return 0;
}

/*
 * vhost-vdpa maps vring idx's notification area at offset idx pages of the
 * device fd, when the device has one of exactly a page (drivers/vhost/
 * vdpa.c); VDUSE has none.
 */
static void *
vdpa_map_doorbell(struct vv_dev *d, unsigned int idx, size_t *len)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	p = vv_sys->mmap(NULL, (size_t)page, PROT_WRITE, MAP_SHARED, d->fd,
			 (off_t)idx * page);
	if (p == MAP_FAILED) {
		VV_INFO("%s: no doorbell page for vring %u (%s); kicks go through the eventfd",
			d->path, idx, strerror(errno));
		return NULL;
	}
	*len = (size_t)page;
	return p;
}

const struct vv_backend_ops vv_backend_vdpa = {
	.name = "vhost-vdpa",
	.caps = VV_CAP_CONFIG_IRQ | VV_CAP_DOORBELL | VV_CAP_REMOVABLE,
	.open = vdpa_open,
	.close = vdpa_close,
	.set_status = vdpa_set_status,
	.get_status = vdpa_get_status,
	.suspend = vdpa_suspend,
	.set_features = vdpa_set_features,
	.read_config = vdpa_read_config,
	.mem_apply = vdpa_mem_apply,
	.mem_replace = vdpa_mem_replace,
	.vring_setup = vdpa_vring_setup,
	.vring_enable = vdpa_vring_enable,
	.set_config_call = vdpa_set_config_call,
	.map_doorbell = vdpa_map_doorbell,
	.present = vdpa_present,
};

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device's config space and limits: what open reads from it, what the
 * parameters are checked against, the link state and config interrupts.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <linux/virtio_net.h>

#include "vv_dev.h"
#include "vv_dev_internal.h"
#include "vv_log.h"
#include "vv_sys.h"

int
vv_dev_check_limits(struct vv_dev *d)
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

void
vv_dev_read_net_config(struct vv_dev *d)
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
		VV_WARN("%s: the %s config space is unreadable; using defaults",
			d->path, d->ops->name);
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
	if ((f & VV_BIT(VIRTIO_NET_F_RSS)) &&
	    len >= offsetof(struct virtio_net_config, supported_hash_types) +
	    sizeof(cfg.supported_hash_types)) {
		in->has_rss = true;
		in->rss_max_key_size = cfg.rss_max_key_size;
		in->rss_max_reta_len = cfg.rss_max_indirection_table_length;
		in->rss_hash_types = cfg.supported_hash_types;
	}
}

/* A reset forgot the config eventfd; without it only polling sees links. */
void
vv_dev_config_irq_up(struct vv_dev *d)
{
	if (d->config_fd < 0)
		return;
	if (d->ops->set_config_call(d, d->config_fd) < 0)
		VV_WARN("%s: the %s device takes no config interrupt; link changes are seen only when the link is queried",
			d->path, d->ops->name);
}

int
vv_dev_config_fd(const struct vv_dev *d)
{
	return d->config_fd;
}

unsigned int
vv_dev_config_event(struct vv_dev *d, bool *link_up)
{
	uint16_t status = 0;
	uint64_t n;
	unsigned int ev = 0;
	bool up;

	while (d->config_fd >= 0 &&
	       vv_sys->read(d->config_fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		;
	up = vv_dev_link_up(d);
	if (up != d->link_was_up)
		ev |= VV_CONFIG_LINK_CHANGED;
	d->link_was_up = up;
	if (d->started && d->info.has_status &&
	    (d->features & VV_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE)) &&
	    d->ops->read_config(d, offsetof(struct virtio_net_config, status),
				&status, sizeof(status)) == 0 &&
	    (status & VIRTIO_NET_S_ANNOUNCE))
		ev |= VV_CONFIG_ANNOUNCE;
	*link_up = up;
	return ev;
}

bool
vv_dev_link_up(struct vv_dev *d)
{
	uint16_t status = 0;

	if (vv_dev_peer_away(d) || d->removed)
		return false;
	if (!d->info.has_status)
		return true;
	if (d->ops->read_config(d, offsetof(struct virtio_net_config, status),
				&status, sizeof(status)) < 0)
		return false;
	return (status & VIRTIO_NET_S_LINK_UP) != 0;
}

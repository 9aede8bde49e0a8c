/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device's lifecycle after open: a vhost-user peer that leaves and
 * returns, and a vhost-vdpa device that is unplugged.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "vv_dev.h"
#include "vv_dev_internal.h"
#include "vv_log.h"
#include "vv_sys.h"

/* How long a peer that failed its return waits before the next try. */
#define VV_PEER_BACKOFF_MS 5000

/*
 * Kicks every vring once: a peer that waits for kicks would otherwise not
 * look at what was posted while it was away until the next burst's kick.
 */
static void
dev_kick_all(struct vv_dev *d)
{
	const uint64_t one = 1;
	unsigned int i;

	for (i = 0; i < d->nr_vrings; i++)
		if (d->kick_fd[i] >= 0 &&
		    vv_sys->write(d->kick_fd[i], &one, sizeof(one)) < 0)
			VV_DEBUG("%s: kick of vring %u after the peer's return: %s",
				 d->path, i, strerror(errno));
}

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

	for (i = 0; i < d->nr_vrings; i++)
		d->vrings[i].base = vv_ring_base_resume(d->vrings[i].ring);
	ret = d->ops->set_status(d, status);
	if (ret == 0)
		ret = d->ops->set_features(d, vv_dev_features_in_use(d));
	if (ret == 0)
		ret = d->ops->mem_replace(d);
	if (ret == 0)
		ret = vv_dev_vrings_up(d);
	if (ret == 0)
		ret = d->ops->set_status(d, status | VIRTIO_CONFIG_S_DRIVER_OK);
	if (ret == 0)
		dev_kick_all(d);
	return ret;
}

static enum vv_watch_event
dev_watch_removal(struct vv_dev *d)
{
	if (d->removed)
		return VV_WATCH_DOWN;
	if (d->fd < 0 || d->ops->present(d))
		return VV_WATCH_UP;
	d->removed = true;
	VV_ERR("%s: the %s device was removed (unplugged, or deleted with vdpa dev del); the link is down for good: stop and close the port, and probe it again once the device is back",
	       d->path, d->ops->name);
	return VV_WATCH_LOST;
}

enum vv_watch_event
vv_dev_watch(struct vv_dev *d)
{
	uint64_t missing;
	int ret;

	if (d->ops == NULL)
		return VV_WATCH_UP;
	if (d->ops->caps & VV_CAP_REMOVABLE)
		return dev_watch_removal(d);
	if (!vv_dev_peer_can_leave(d))
		return VV_WATCH_UP;
	if (d->fd >= 0) {
		if (d->ops->peer_alive(d))
			return VV_WATCH_UP;
		VV_WARN("%s: the vhost-user peer went away; the link is down until it returns",
			d->path);
		d->ops->disconnect(d);
		return VV_WATCH_LOST;
	}
	if (vv_now_ms() < d->peer_retry_ms)
		return VV_WATCH_DOWN;
	ret = d->ops->reconnect(d);
	if (ret < 0) {
		/* A peer that is there but hung costs a timeout per try. */
		if (ret != -EAGAIN)
			d->peer_retry_ms = vv_now_ms() + VV_PEER_BACKOFF_MS;
		return VV_WATCH_DOWN;
	}
	missing = d->features & ~d->info.device_features;
	if (missing != 0) {
		char buf[256];

		VV_ERR("%s: the returning vhost-user peer lacks features in use (%s); close the port and probe it again to negotiate with it",
		       d->path, vv_features_format(missing, buf, sizeof(buf)));
		d->ops->disconnect(d);
		d->peer_retry_ms = vv_now_ms() + VV_PEER_BACKOFF_MS;
		return VV_WATCH_DOWN;
	}
	if (d->started) {
		ret = dev_resume(d);
		if (ret < 0) {
			VV_ERR("%s: the returning vhost-user peer refused the device setup (%s); retrying",
			       d->path, strerror(-ret));
			d->ops->disconnect(d);
			d->peer_retry_ms = vv_now_ms() + VV_PEER_BACKOFF_MS;
			return VV_WATCH_DOWN;
		}
	}
	VV_INFO("%s: the vhost-user peer is back%s", d->path,
		d->started ? "; traffic resumes" : "");
	return VV_WATCH_BACK;
}

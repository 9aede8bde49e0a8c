/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-net control commands (virtio 1.1 5.1.6.5) through the device's
 * control queue: receive filters, addresses, VLANs, queue pairs and the
 * link announcement. Never on the datapath.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>

#include <linux/virtio_net.h>

#include "vv_ctrl.h"
#include "vv_dev.h"
#include "vv_dev_internal.h"
#include "vv_log.h"
#include "vv_sys.h"

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

int
vv_dev_ctrl_up(struct vv_dev *d)
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
	ret = vv_ctrl_init(&d->ctrl, d->ctrl_shm, d->ctrl_priv,
			   (d->features & VV_BIT(VIRTIO_RING_F_EVENT_IDX)) != 0);
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
int
vv_dev_ctrl_pairs(struct vv_dev *d, uint16_t pairs)
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

/*
 * The whole receive address table in one command: unicast entries, then
 * multicast ones, each as a 32-bit count followed by the addresses.
 */
int
vv_dev_ctrl_mac_table(struct vv_dev *d, const uint8_t (*uc)[6],
		      unsigned int n_uc, const uint8_t (*mc)[6],
		      unsigned int n_mc)
{
	uint8_t buf[2 * sizeof(uint32_t) + 2 * VV_MAC_TABLE_MAX * 6];
	uint32_t n;
	size_t off = 0;

	if (!(d->features & VV_BIT(VIRTIO_NET_F_CTRL_RX)))
		return -ENOTSUP;
	if (n_uc > VV_MAC_TABLE_MAX || n_mc > VV_MAC_TABLE_MAX) {
		VV_ERR("%s: at most %u unicast and %u multicast addresses fit the device's filter table (asked for %u and %u)",
		       d->path, VV_MAC_TABLE_MAX, VV_MAC_TABLE_MAX, n_uc,
		       n_mc);
		return -ENOSPC;
	}
	if (!d->ctrl_live)
		return 0;
	n = n_uc;
	memcpy(buf + off, &n, sizeof(n));
	off += sizeof(n);
	if (n_uc > 0)
		memcpy(buf + off, uc, 6 * n_uc);
	off += 6 * n_uc;
	n = n_mc;
	memcpy(buf + off, &n, sizeof(n));
	off += sizeof(n);
	if (n_mc > 0)
		memcpy(buf + off, mc, 6 * n_mc);
	off += 6 * n_mc;
	return dev_ctrl_cmd(d, VIRTIO_NET_CTRL_MAC,
			    VIRTIO_NET_CTRL_MAC_TABLE_SET, buf, (uint16_t)off,
			    "the receive address table (MAC_TABLE_SET)");
}

int
vv_dev_ctrl_vlan(struct vv_dev *d, uint16_t vid, bool add)
{
	char what[48];

	if (!(d->features & VV_BIT(VIRTIO_NET_F_CTRL_VLAN)))
		return -ENOTSUP;
	if (vid >= 4096)
		return -EINVAL;
	if (!d->ctrl_live || !d->vlan_filter)
		return 0;
	snprintf(what, sizeof(what), "VLAN %u %s the filter", vid,
		 add ? "into" : "out of");
	return dev_ctrl_cmd(d, VIRTIO_NET_CTRL_VLAN,
			    add ? VIRTIO_NET_CTRL_VLAN_ADD :
			    VIRTIO_NET_CTRL_VLAN_DEL, &vid, sizeof(vid), what);
}

int
vv_dev_ctrl_announce_ack(struct vv_dev *d)
{
	if (!(d->features & VV_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE)))
		return -ENOTSUP;
	if (!d->ctrl_live)
		return 0;
	return dev_ctrl_cmd(d, VIRTIO_NET_CTRL_ANNOUNCE,
			    VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0,
			    "the link announcement's acknowledgement");
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-net control commands (virtio 1.1 5.1.6.5) through the device's
 * control queue: receive filters, addresses, VLANs, queue pairs and the
 * link announcement. Never on the datapath.
 */
#include <endian.h>
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
			   (d->features & VV_BIT(VIRTIO_F_RING_PACKED)) != 0,
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
	vv_vring_addr_of(&d->ctrl.ring, &a);
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
		VV_ERR("%s: the %s device refused %s", d->path, d->ops->name,
		       what);
	else if (ret == -ETIMEDOUT)
		VV_ERR("%s: the %s device did not answer %s on its control queue within %u ms; it looks hung (restart the port to try again)",
		       d->path, d->ops->name, what, vv_ctrl_timeout_ms);
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

static bool
rss_conf_fits(const struct vv_dev *d, const struct vv_rss_conf *r,
	      uint16_t pairs)
{
	const struct vv_dev_info *in = &d->info;
	unsigned int i;

	if (!r->on)
		return true;
	if (r->hash_types & ~in->rss_hash_types) {
		VV_ERR("%s: RSS hash types 0x%x are not among those the device supports (0x%x)",
		       d->path, r->hash_types & ~in->rss_hash_types,
		       in->rss_hash_types);
		return false;
	}
	if (r->key_len == 0 || r->key_len > in->rss_max_key_size ||
	    r->key_len > VV_RSS_KEY_MAX) {
		VV_ERR("%s: an RSS key of %u bytes; the device takes 1 to %u",
		       d->path, r->key_len, in->rss_max_key_size);
		return false;
	}
	if (r->reta_len == 0 || (r->reta_len & (r->reta_len - 1)) ||
	    r->reta_len > in->rss_max_reta_len ||
	    r->reta_len > VV_RSS_RETA_MAX) {
		VV_ERR("%s: an RSS indirection table of %u entries; the device takes a power of two up to %u",
		       d->path, r->reta_len, in->rss_max_reta_len);
		return false;
	}
	for (i = 0; i < r->reta_len; i++) {
		if (r->reta[i] >= pairs) {
			VV_ERR("%s: RSS indirection entry %u names queue %u, but the port has %u queue pairs",
			       d->path, i, r->reta[i], pairs);
			return false;
		}
	}
	return true;
}

/* The command's layout: the table and the key sit between fixed fields. */
static int
dev_ctrl_rss(struct vv_dev *d, uint16_t pairs)
{
	const struct vv_rss_conf *r = &d->rss;
	uint8_t buf[VV_CTRL_DATA_MAX];
	uint32_t v32;
	uint16_t v16, i;
	size_t off = 0;
	char what[80];

	/* Every field is little-endian (virtio 1.1 5.1.6.5.7.1). */
	v32 = htole32(r->hash_types);
	memcpy(buf + off, &v32, sizeof(v32));
	off += sizeof(v32);
	v16 = htole16((uint16_t)(r->reta_len - 1));
	memcpy(buf + off, &v16, sizeof(v16));
	off += sizeof(v16);
	v16 = 0;	/* unclassified_queue */
	memcpy(buf + off, &v16, sizeof(v16));
	off += sizeof(v16);
	for (i = 0; i < r->reta_len; i++) {
		v16 = htole16(r->reta[i]);
		memcpy(buf + off, &v16, sizeof(v16));
		off += sizeof(v16);
	}
	v16 = htole16(pairs);	/* max_tx_vq */
	memcpy(buf + off, &v16, sizeof(v16));
	off += sizeof(v16);
	buf[off++] = r->key_len;
	memcpy(buf + off, r->key, r->key_len);
	off += r->key_len;
	snprintf(what, sizeof(what),
		 "RSS over %u queue pairs (RSS_CONFIG, %u-entry table)", pairs,
		 r->reta_len);
	return dev_ctrl_cmd(d, VIRTIO_NET_CTRL_MQ,
			    VIRTIO_NET_CTRL_MQ_RSS_CONFIG, buf, (uint16_t)off,
			    what);
}

int
vv_dev_ctrl_steering(struct vv_dev *d, uint16_t pairs)
{
	if (d->rss.on && (d->features & VV_BIT(VIRTIO_NET_F_RSS)) &&
	    d->ctrl_live)
		return dev_ctrl_rss(d, pairs);
	return vv_dev_ctrl_pairs(d, pairs);
}

int
vv_dev_rss_set(struct vv_dev *d, const struct vv_rss_conf *rss)
{
	uint16_t pairs = d->started ? (uint16_t)(d->nr_vrings / 2) :
		d->queue_pairs;
	struct vv_rss_conf old = d->rss;
	int ret;

	if (!(d->features & VV_BIT(VIRTIO_NET_F_RSS)) || !d->info.has_rss)
		return -ENOTSUP;
	if (!rss_conf_fits(d, rss, pairs))
		return -EINVAL;
	d->rss = *rss;
	if (!d->started || !d->ctrl_live)
		return 0;
	ret = vv_dev_ctrl_steering(d, pairs);
	if (ret < 0) {
		/*
		 * A device that refuses a configuration may have dropped the
		 * one before it too (QEMU turns RSS off): give it back, so
		 * what the port reports is what the device does.
		 */
		d->rss = old;
		vv_dev_ctrl_steering(d, pairs);
	}
	return ret;
}

/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>

#include "vv_features.h"
#include "vv_log.h"

uint64_t
vv_features_supported(void)
{
	return VV_BIT(VIRTIO_F_VERSION_1) |
		VV_BIT(VIRTIO_F_ACCESS_PLATFORM) |
		VV_BIT(VIRTIO_F_IN_ORDER) |
		VV_BIT(VIRTIO_F_RING_PACKED) |
		VV_BIT(VIRTIO_F_ANY_LAYOUT) |
		VV_BIT(VIRTIO_RING_F_EVENT_IDX) |
		VV_BIT(VIRTIO_NET_F_MRG_RXBUF) |
		VV_BIT(VIRTIO_NET_F_MAC) |
		VV_BIT(VIRTIO_NET_F_STATUS) |
		VV_BIT(VIRTIO_NET_F_MTU) |
		VV_BIT(VIRTIO_NET_F_SPEED_DUPLEX) |
		VV_OFFLOAD_FEATURES;
}

int
vv_features_negotiate(uint64_t device, const struct vv_feature_wish *wish,
		      uint64_t *driver)
{
	uint64_t f = device & vv_features_supported();

	if (!(device & VV_BIT(VIRTIO_F_VERSION_1))) {
		VV_ERR("device does not offer VIRTIO_F_VERSION_1; legacy virtio devices are not supported");
		return -ENOTSUP;
	}
	if (!wish->packed_vq)
		f &= ~VV_BIT(VIRTIO_F_RING_PACKED);
	else if (!(device & VV_BIT(VIRTIO_F_RING_PACKED))) {
		VV_ERR("packed_vq=1, but the device does not offer VIRTIO_F_RING_PACKED; use packed_vq=0 (split rings)");
		return -ENOTSUP;
	}
	if (!wish->mrg_rxbuf)
		f &= ~VV_BIT(VIRTIO_NET_F_MRG_RXBUF);
	else if (!(device & VV_BIT(VIRTIO_NET_F_MRG_RXBUF)))
		VV_INFO("device lacks VIRTIO_NET_F_MRG_RXBUF; frames are limited to one Rx buffer");
	if (!wish->in_order)
		f &= ~VV_BIT(VIRTIO_F_IN_ORDER);
	/* The spec makes each segmentation feature need its checksum one. */
	if (!(f & VV_BIT(VIRTIO_NET_F_CSUM)))
		f &= ~(VV_BIT(VIRTIO_NET_F_HOST_TSO4) |
		       VV_BIT(VIRTIO_NET_F_HOST_TSO6));
	if (!(f & VV_BIT(VIRTIO_NET_F_GUEST_CSUM)) ||
	    !(f & VV_BIT(VIRTIO_NET_F_MRG_RXBUF)))
		f &= ~(VV_BIT(VIRTIO_NET_F_GUEST_TSO4) |
		       VV_BIT(VIRTIO_NET_F_GUEST_TSO6));
	if (wish->ctrl_vq && !wish->mq_by_enable &&
	    (device & VV_BIT(VIRTIO_NET_F_CTRL_VQ)))
		f |= device & (VV_BIT(VIRTIO_NET_F_CTRL_VQ) |
			       VV_BIT(VIRTIO_NET_F_CTRL_RX) |
			       VV_BIT(VIRTIO_NET_F_CTRL_VLAN) |
			       VV_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
			       VV_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE));
	if (wish->mq) {
		if (!(device & VV_BIT(VIRTIO_NET_F_MQ))) {
			VV_ERR("more than one queue pair needs VIRTIO_NET_F_MQ, which the device does not offer; use queues=1");
			return -ENOTSUP;
		}
		/* Only the control queue tells such a device the pair count. */
		if (!wish->mq_by_enable && !(f & VV_BIT(VIRTIO_NET_F_CTRL_VQ))) {
			VV_ERR("more than one queue pair needs the device's control queue (VIRTIO_NET_F_CTRL_VQ), which it does not offer; use queues=1");
			return -ENOTSUP;
		}
		f |= VV_BIT(VIRTIO_NET_F_MQ);
		/* Steering the app can program; it needs the control queue. */
		if (f & VV_BIT(VIRTIO_NET_F_CTRL_VQ))
			f |= device & VV_BIT(VIRTIO_NET_F_RSS);
		/* Reports the hash of the types RSS_CONFIG names. */
		if (f & VV_BIT(VIRTIO_NET_F_RSS))
			f |= device & VV_BIT(VIRTIO_NET_F_HASH_REPORT);
	}
	*driver = f;
	return 0;
}

size_t
vv_net_hdr_size(uint64_t features)
{
	if (features & VV_BIT(VIRTIO_NET_F_HASH_REPORT))
		return sizeof(struct virtio_net_hdr_v1_hash);
	if (features & (VV_BIT(VIRTIO_F_VERSION_1) |
			VV_BIT(VIRTIO_NET_F_MRG_RXBUF)))
		return sizeof(struct virtio_net_hdr_mrg_rxbuf);
	return sizeof(struct virtio_net_hdr);
}

static const char *const vv_feature_names[64] = {
	[VIRTIO_NET_F_CSUM] = "CSUM",
	[VIRTIO_NET_F_GUEST_CSUM] = "GUEST_CSUM",
	[VIRTIO_NET_F_CTRL_GUEST_OFFLOADS] = "CTRL_GUEST_OFFLOADS",
	[VIRTIO_NET_F_MTU] = "MTU",
	[VIRTIO_NET_F_MAC] = "MAC",
	[VIRTIO_NET_F_GSO] = "GSO",
	[VIRTIO_NET_F_GUEST_TSO4] = "GUEST_TSO4",
	[VIRTIO_NET_F_GUEST_TSO6] = "GUEST_TSO6",
	[VIRTIO_NET_F_GUEST_ECN] = "GUEST_ECN",
	[VIRTIO_NET_F_GUEST_UFO] = "GUEST_UFO",
	[VIRTIO_NET_F_HOST_TSO4] = "HOST_TSO4",
	[VIRTIO_NET_F_HOST_TSO6] = "HOST_TSO6",
	[VIRTIO_NET_F_HOST_ECN] = "HOST_ECN",
	[VIRTIO_NET_F_HOST_UFO] = "HOST_UFO",
	[VIRTIO_NET_F_MRG_RXBUF] = "MRG_RXBUF",
	[VIRTIO_NET_F_STATUS] = "STATUS",
	[VIRTIO_NET_F_CTRL_VQ] = "CTRL_VQ",
	[VIRTIO_NET_F_CTRL_RX] = "CTRL_RX",
	[VIRTIO_NET_F_CTRL_VLAN] = "CTRL_VLAN",
	[VIRTIO_NET_F_GUEST_ANNOUNCE] = "GUEST_ANNOUNCE",
	[VIRTIO_NET_F_MQ] = "MQ",
	[VIRTIO_NET_F_CTRL_MAC_ADDR] = "CTRL_MAC_ADDR",
	[VIRTIO_F_NOTIFY_ON_EMPTY] = "NOTIFY_ON_EMPTY",
	[VIRTIO_F_ANY_LAYOUT] = "ANY_LAYOUT",
	[VIRTIO_RING_F_INDIRECT_DESC] = "INDIRECT_DESC",
	[VIRTIO_RING_F_EVENT_IDX] = "EVENT_IDX",
	[VIRTIO_F_VERSION_1] = "VERSION_1",
	[VIRTIO_F_ACCESS_PLATFORM] = "ACCESS_PLATFORM",
	[VIRTIO_F_RING_PACKED] = "RING_PACKED",
	[VIRTIO_F_IN_ORDER] = "IN_ORDER",
	[VIRTIO_F_ORDER_PLATFORM] = "ORDER_PLATFORM",
	[VIRTIO_F_SR_IOV] = "SR_IOV",
	[38] = "NOTIFICATION_DATA",
	[VIRTIO_NET_F_HASH_REPORT] = "HASH_REPORT",
	[VIRTIO_NET_F_RSS] = "RSS",
	[VIRTIO_NET_F_SPEED_DUPLEX] = "SPEED_DUPLEX",
};

const char *
vv_feature_name(unsigned int bit)
{
	if (bit >= 64 || vv_feature_names[bit] == NULL)
		return NULL;
	return vv_feature_names[bit];
}

char *
vv_features_format(uint64_t features, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int bit;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (bit = 0; bit < 64 && off < len; bit++) {
		const char *name;
		int n;

		if (!(features & VV_BIT(bit)))
			continue;
		name = vv_feature_name(bit);
		if (name != NULL)
			n = snprintf(buf + off, len - off, "%s%s",
				     off ? "|" : "", name);
		else
			n = snprintf(buf + off, len - off, "%sbit%u",
				     off ? "|" : "", bit);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

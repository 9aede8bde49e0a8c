/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_FEATURES_H
#define VV_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#define VV_BIT(b) (1ULL << (b))

/*
 * The checksum and segmentation offloads: negotiated at open as far as the
 * device offers them (segmentation only with its checksum, and GUEST_TSO
 * only with mergeable buffers, which large frames need), then used per
 * start only as far as the app asks.
 */
#define VV_OFFLOAD_FEATURES (VV_BIT(VIRTIO_NET_F_CSUM) | \
			     VV_BIT(VIRTIO_NET_F_GUEST_CSUM) | \
			     VV_BIT(VIRTIO_NET_F_HOST_TSO4) | \
			     VV_BIT(VIRTIO_NET_F_HOST_TSO6) | \
			     VV_BIT(VIRTIO_NET_F_GUEST_TSO4) | \
			     VV_BIT(VIRTIO_NET_F_GUEST_TSO6))

/* What the user asked for through devargs; the device may still refuse. */
struct vv_feature_wish {
	bool mrg_rxbuf;
	bool in_order;
	bool packed_vq;
	bool mq;
	/*
	 * The backend runs as many queue pairs as the driver enables
	 * (vhost-user: the control queue stays with the driver, as with
	 * QEMU), so MQ needs no control queue of the device's.
	 */
	bool mq_by_enable;
	/*
	 * The caller can give the device a control queue (vhost-vdpa): take
	 * CTRL_VQ, and with it CTRL_RX, CTRL_VLAN, CTRL_MAC_ADDR and
	 * GUEST_ANNOUNCE, when offered.
	 */
	bool ctrl_vq;
};

/* Every feature bit this driver implements. */
uint64_t vv_features_supported(void);

/*
 * Chooses the driver features from what the device offers and the user
 * wants. Returns 0, or a negative errno with the reason logged when the
 * device lacks something mandatory or the wish cannot be met.
 */
int vv_features_negotiate(uint64_t device, const struct vv_feature_wish *wish,
			  uint64_t *driver);

/* Size of struct virtio_net_hdr as the negotiated features lay it out. */
size_t vv_net_hdr_size(uint64_t features);

const char *vv_feature_name(unsigned int bit);

/* Writes "NAME|NAME|bitN" into buf; returns buf. */
char *vv_features_format(uint64_t features, char *buf, size_t len);

#endif

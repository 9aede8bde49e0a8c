/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTIO_VDPA_RSS_H
#define VIRTIO_VDPA_RSS_H

/*
 * Receive-side scaling in ethdev terms, on the device's VIRTIO_NET_F_RSS:
 * the limits in dev_info, the port's configuration, and the rss/reta ops.
 */

#include <ethdev_driver.h>

#include "virtio_vdpa_private.h"

/* True when the device steers by a hash the app can program. */
bool virtio_vdpa_rss_capable(const struct virtio_vdpa_private *p);

/* reta_size, hash_key_size and flow_type_rss_offloads from the device. */
void virtio_vdpa_rss_info(const struct virtio_vdpa_private *p,
			  struct rte_eth_dev_info *info);

/*
 * At dev_configure: RSS on when the app asks for it (mq_mode with RSS and a
 * non-zero rss_hf), with its key or ours and a table spreading over every
 * Rx queue; off otherwise, and the device steers as it likes.
 */
int virtio_vdpa_rss_configure(struct rte_eth_dev *eth);

int virtio_vdpa_rss_hash_update(struct rte_eth_dev *eth,
				struct rte_eth_rss_conf *conf);
int virtio_vdpa_rss_hash_conf_get(struct rte_eth_dev *eth,
				  struct rte_eth_rss_conf *conf);
int virtio_vdpa_reta_update(struct rte_eth_dev *eth,
			    struct rte_eth_rss_reta_entry64 *reta,
			    uint16_t reta_size);
int virtio_vdpa_reta_query(struct rte_eth_dev *eth,
			   struct rte_eth_rss_reta_entry64 *reta,
			   uint16_t reta_size);

#endif

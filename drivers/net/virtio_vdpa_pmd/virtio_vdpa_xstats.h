/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTIO_VDPA_XSTATS_H
#define VIRTIO_VDPA_XSTATS_H

#include <ethdev_driver.h>

/*
 * The port's extended stats, per queue, beside what ethdev fills from the
 * basic stats (rx_qN_packets, _bytes, _errors; tx_qN_packets, _bytes).
 */
int virtio_vdpa_xstats_get_names(struct rte_eth_dev *eth,
				 struct rte_eth_xstat_name *names,
				 unsigned int size);
int virtio_vdpa_xstats_get(struct rte_eth_dev *eth, struct rte_eth_xstat *xs,
			   unsigned int n);
int virtio_vdpa_xstats_get_names_by_id(struct rte_eth_dev *eth,
				       const uint64_t *ids,
				       struct rte_eth_xstat_name *names,
				       unsigned int size);
int virtio_vdpa_xstats_get_by_id(struct rte_eth_dev *eth, const uint64_t *ids,
				 uint64_t *values, unsigned int n);

#endif

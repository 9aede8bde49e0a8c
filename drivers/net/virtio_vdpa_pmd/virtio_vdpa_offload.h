/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTIO_VDPA_OFFLOAD_H
#define VIRTIO_VDPA_OFFLOAD_H

/*
 * Per-frame offload work, done only by the bursts chosen when the app asked
 * for an offload: the device's part through the virtio-net header, the rest
 * (what virtio has no bit for, or the device lacks) in software.
 */

#include <stdint.h>

#include <linux/virtio_net.h>

#include <rte_mbuf.h>

/* What a queue's offload bursts do (the app's choice, and the device's). */
#define VV_RX_OFFL_PTYPE	(1u << 0)	/* set packet_type */
#define VV_RX_OFFL_IPV4_CKSUM	(1u << 1)	/* check it in software */
#define VV_RX_OFFL_L4_CKSUM	(1u << 2)	/* TCP and UDP */
#define VV_RX_OFFL_DEV_CKSUM	(1u << 3)	/* GUEST_CSUM: the header tells */
#define VV_RX_OFFL_VLAN_STRIP	(1u << 4)
#define VV_RX_OFFL_LRO		(1u << 5)	/* GUEST_TSO4/6 */

#define VV_TX_OFFL_DEV_CSUM	(1u << 0)	/* CSUM: NEEDS_CSUM */
#define VV_TX_OFFL_DEV_TSO4	(1u << 1)	/* HOST_TSO4 */
#define VV_TX_OFFL_DEV_TSO6	(1u << 2)	/* HOST_TSO6 */

/* The mbuf flags that ask a Tx burst for work. */
#define VV_TX_OFFL_MBUF_FLAGS (RTE_MBUF_F_TX_VLAN | RTE_MBUF_F_TX_IP_CKSUM | \
			       RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG)

/*
 * Sets packet_type and the Rx offload flags of frame m, whose virtio-net
 * header is h, as the queue's offl says.
 */
void virtio_vdpa_rx_offload(struct rte_mbuf *m,
			    const struct virtio_net_hdr *h, unsigned int offl);

/*
 * Does the software part of what m's flags ask for (VLAN insertion, the
 * IPv4 header checksum, L4 checksums the device cannot do) and fills h with
 * the device's part. Only once the frame is sure to be posted: the work
 * changes the frame. Returns 0, or -1 when the frame cannot be done (it is
 * then dropped).
 */
int virtio_vdpa_tx_offload(struct rte_mbuf *m, struct virtio_net_hdr *h,
			   unsigned int offl);

/*
 * rte_eth_tx_prepare's work for one frame: puts the pseudo-header sum in
 * the L4 checksum field that a checksum or TSO request needs, as the
 * device (NEEDS_CSUM) and the software sum both start from it. Returns 0,
 * or a negative errno for a frame this queue cannot do.
 */
int virtio_vdpa_tx_offload_prepare(struct rte_mbuf *m, unsigned int offl);

/* The packet types the Rx parse reports, RTE_PTYPE_UNKNOWN-terminated. */
const uint32_t *virtio_vdpa_ptypes(void);

#endif

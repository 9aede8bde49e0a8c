/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTIO_VDPA_RXTX_H
#define VIRTIO_VDPA_RXTX_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>

#include "vv_ring.h"

/* Frames by size: <64, 64-127, 128-255, ... 2048-4095, >=4096 bytes. */
#define VV_SIZE_BINS 8

struct virtio_vdpa_queue_stats {
	uint64_t packets;
	uint64_t bytes;
	/* frames dropped (Tx: too many segments); bad entries are bad_used */
	uint64_t errors;
	uint64_t nombuf;	/* Rx refills that found the pool empty */
	uint64_t intr_enables;	/* Rx: rx_intr_enable calls */
	uint64_t size_bins[VV_SIZE_BINS];
};

/* Branch-free: the bin is floor(log2(len)) - 5, clamped. */
static __rte_always_inline void
virtio_vdpa_stats_size(struct virtio_vdpa_queue_stats *s, uint32_t len)
{
	unsigned int b = 26u - (unsigned int)__builtin_clz(len | 32u);

	s->size_bins[b < VV_SIZE_BINS ? b : VV_SIZE_BINS - 1]++;
}

/*
 * How a queue tells the device it has work: one store to the vring's mapped
 * doorbell, or else a write() to its kick eventfd.
 */
struct virtio_vdpa_notifier {
	volatile uint16_t *doorbell;
	uint16_t vring;		/* the value a doorbell store carries */
	int fd;
	uint64_t kicks;
};

struct virtio_vdpa_rxq {
	struct vv_ring ring;
	struct rte_mbuf **sw_ring;	/* mbuf posted at each descriptor */
	struct rte_mempool *mp;
	/* data_off, refcnt, nb_segs and port of a fresh mbuf, in one store */
	uint64_t mbuf_rearm;
	uint32_t post_len;	/* bytes the device may write per buffer */
	uint16_t hdr_size;
	bool mergeable;
	uint16_t offl;		/* VV_RX_OFFL_*: what the offload bursts do */
	uint16_t port_id;
	uint16_t queue_id;
	uint16_t refill_thresh;
	struct virtio_vdpa_notifier notify;
	struct virtio_vdpa_queue_stats stats;
	const struct rte_memzone *mz;	/* shared ring memory */
	void *priv;			/* ring bookkeeping */
};

struct virtio_vdpa_txq {
	struct vv_ring ring;
	struct rte_mbuf **sw_ring;	/* mbuf chain at each head */
	/*
	 * Zeroed headers for mbufs whose headroom we may not write; the
	 * device reads hdr_size bytes of each.
	 */
	struct virtio_net_hdr_v1_hash *hdrs;
	uint16_t hdr_size;
	uint16_t offl;		/* VV_TX_OFFL_*: what the device does */
	uint16_t queue_id;
	uint16_t reclaim_thresh;
	bool fast_free;		/* RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE */
	/*
	 * Set by the control thread: the next burst of this queue sends a
	 * RARP from announce_mac (the link announcement) and clears it. Only
	 * the lcore that owns the queue may post, and the frame comes from
	 * the pool of that burst's first mbuf, so fast free stays one pool.
	 */
	uint8_t announce;
	struct rte_ether_addr announce_mac;
	struct virtio_vdpa_notifier notify;
	struct virtio_vdpa_queue_stats stats;
	const struct rte_memzone *mz;
	void *priv;
};

/*
 * The bursts for a ring layout, header and offloads, chosen at every start
 * from what was negotiated and asked for: HASH_REPORT's header (struct
 * virtio_net_hdr_v1_hash) makes Rx put the device's hash in the mbuf; the
 * offload bursts do what the queue's offl says, and the others not one
 * instruction of it.
 */
struct virtio_vdpa_bursts {
	eth_rx_burst_t rx;
	eth_tx_burst_t tx;
};

struct virtio_vdpa_bursts virtio_vdpa_bursts_for(bool packed, bool hash,
						 bool rx_offl, bool tx_offl);

/* Sets up what every refill of q writes into its mbufs. */
void virtio_vdpa_rxq_prepare(struct virtio_vdpa_rxq *q);

/*
 * Fills every free descriptor with a fresh mbuf and publishes them, without
 * kicking: the caller kicks once the device runs. -ENOMEM if the pool ran
 * dry.
 */
int virtio_vdpa_rxq_fill(struct virtio_vdpa_rxq *q);

/*
 * Frees every mbuf still posted and lays the ring out fresh; only once the
 * device is reset. A burst called after that finds nothing in flight.
 */
void virtio_vdpa_rxq_drain(struct virtio_vdpa_rxq *q);
void virtio_vdpa_txq_drain(struct virtio_vdpa_txq *q);

/*
 * Rings the doorbell, and counts it, if the device wants to hear of what
 * was just published (the layout's needs_kick decides).
 */
void virtio_vdpa_kick(struct vv_ring *r, struct virtio_vdpa_notifier *n);

/* The ethdev queue status calls (rte_eth_rx_queue_count and friends). */
uint32_t virtio_vdpa_rx_queue_count(void *rx_queue);
int virtio_vdpa_rx_descriptor_status(void *rx_queue, uint16_t offset);
int virtio_vdpa_tx_descriptor_status(void *tx_queue, uint16_t offset);
uint16_t virtio_vdpa_tx_prepare(void *tx_queue, struct rte_mbuf **pkts,
				uint16_t n);

#endif

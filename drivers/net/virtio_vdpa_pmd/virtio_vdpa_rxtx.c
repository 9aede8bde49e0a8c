/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <rte_arp.h>
#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "virtio_vdpa_offload.h"
#include "virtio_vdpa_rxtx.h"

#define VV_RX_REFILL_BATCH 64
#define VV_TX_FREE_BATCH 64

static inline void
notify(struct virtio_vdpa_notifier *n)
{
	static const uint64_t one = 1;

	n->kicks++;
	if (n->doorbell != NULL) {
		*n->doorbell = n->vring;
		return;
	}
	/* A full eventfd only means a kick is already pending. */
	if (write(n->fd, &one, sizeof(one)) < 0)
		return;
}

/* needs_kick fences: what was published is visible before the store. */
static __rte_always_inline void
ring_kick(struct vv_ring *r, struct virtio_vdpa_notifier *n, const bool packed)
{
	if (packed ? vv_packed_needs_kick(&r->packed) :
	    vv_split_needs_kick(&r->split))
		notify(n);
}

static __rte_always_inline void
ring_publish(struct vv_ring *r, const bool packed)
{
	if (packed)
		vv_packed_avail_publish(&r->packed);
	else
		vv_split_avail_publish(&r->split);
}

static __rte_always_inline uint16_t
ring_num_free(const struct vv_ring *r, const bool packed)
{
	return packed ? r->packed.num_free : r->split.num_free;
}

static __rte_always_inline uint16_t
ring_in_flight(const struct vv_ring *r, const bool packed)
{
	return packed ? vv_packed_in_flight(&r->packed) :
		r->split.size - r->split.num_free;
}

void
virtio_vdpa_kick(struct vv_ring *r, struct virtio_vdpa_notifier *n)
{
	if (r->is_packed)
		ring_kick(r, n, true);
	else
		ring_kick(r, n, false);
}

/*
 * len, flags and next in one store: the line is written for addr anyway,
 * and next means nothing without VRING_DESC_F_NEXT.
 */
static inline void
desc_set_len_flags(struct vring_desc *d, uint32_t len, uint16_t flags)
{
	uint64_t v = len | (uint64_t)flags << 32;

	RTE_BUILD_BUG_ON(offsetof(struct vring_desc, flags) !=
			 offsetof(struct vring_desc, len) + 4);
	RTE_BUILD_BUG_ON(offsetof(struct vring_desc, next) !=
			 offsetof(struct vring_desc, len) + 6);
	memcpy((char *)d + offsetof(struct vring_desc, len), &v, sizeof(v));
}

void
virtio_vdpa_rxq_prepare(struct virtio_vdpa_rxq *q)
{
	struct rte_mbuf mb;

	/* The four fields a refill sets share one 8-byte word (rearm_data). */
	RTE_BUILD_BUG_ON(offsetof(struct rte_mbuf, data_off) !=
			 offsetof(struct rte_mbuf, rearm_data));
	RTE_BUILD_BUG_ON(offsetof(struct rte_mbuf, port) + sizeof(mb.port) -
			 offsetof(struct rte_mbuf, rearm_data) > 8);
	memset(&mb, 0, sizeof(mb));
	mb.data_off = RTE_PKTMBUF_HEADROOM;
	mb.nb_segs = 1;
	mb.port = q->port_id;
	rte_mbuf_refcnt_set(&mb, 1);
	memcpy(&q->mbuf_rearm,
	       (const char *)&mb + offsetof(struct rte_mbuf, rearm_data),
	       sizeof(q->mbuf_rearm));
	q->post_len = rte_pktmbuf_data_room_size(q->mp) -
		RTE_PKTMBUF_HEADROOM + q->hdr_size;
}

/*
 * An mbuf straight from the pool has next NULL and nb_segs 1 (the pool's
 * invariant): setting the rest of rte_pktmbuf_reset's fields here, and the
 * lengths at receive, never touches its second cache line.
 */
static __rte_always_inline void
rxq_post(struct virtio_vdpa_rxq *q, struct rte_mbuf *m, const bool packed,
	 const bool fixed)
{
	/* The header lands in headroom so the frame starts at data_off. */
	uint64_t addr = (uint64_t)(uintptr_t)m->buf_addr + RTE_PKTMBUF_HEADROOM -
		q->hdr_size;
	uint16_t id;

	memcpy((char *)m + offsetof(struct rte_mbuf, rearm_data),
	       &q->mbuf_rearm, sizeof(q->mbuf_rearm));
	if (packed) {
		struct vv_packed_ring *r = &q->ring.packed;

		id = fixed ? vv_packed_fixed_post(r) :
			(uint16_t)vv_packed_id_alloc(r, 1, q->post_len);
		vv_packed_desc_put(r, id, addr, q->post_len, true, false);
	} else if (fixed) {
		struct vring_desc *d;

		id = vv_split_fixed_post(&q->ring.split);
		d = &q->ring.split.desc[id];
		d->addr = addr;
		desc_set_len_flags(d, q->post_len, VRING_DESC_F_WRITE);
	} else {
		struct vv_split_ring *r = &q->ring.split;
		struct vring_desc *d;

		id = vv_split_take_one(r, q->post_len);
		d = &r->desc[id];
		d->addr = addr;
		desc_set_len_flags(d, q->post_len, VRING_DESC_F_WRITE);
		vv_split_avail_push(r, id);
	}
	q->sw_ring[id] = m;
}

/* Posts a fresh mbuf in every free descriptor, as far as the pool lasts. */
static __rte_always_inline unsigned int
rxq_post_free(struct virtio_vdpa_rxq *q, const bool packed, const bool fixed)
{
	struct rte_mbuf *mbufs[VV_RX_REFILL_BATCH];
	unsigned int total = 0;

	while (ring_num_free(&q->ring, packed) > 0) {
		unsigned int n = RTE_MIN(ring_num_free(&q->ring, packed),
					 (uint16_t)VV_RX_REFILL_BATCH), i;

		if (unlikely(rte_mempool_get_bulk(q->mp, (void **)mbufs,
						  n) != 0)) {
			q->stats.nombuf += n;
			break;
		}
		for (i = 0; i < n; i++)
			rxq_post(q, mbufs[i], packed, fixed);
		total += n;
	}
	return total;
}

static __rte_always_inline void
rxq_refill(struct virtio_vdpa_rxq *q, const bool packed, const bool fixed)
{
	if (rxq_post_free(q, packed, fixed) > 0) {
		ring_publish(&q->ring, packed);
		ring_kick(&q->ring, &q->notify, packed);
	}
}

int
virtio_vdpa_rxq_fill(struct virtio_vdpa_rxq *q)
{
	bool packed = q->ring.is_packed;
	unsigned int n;

	/*
	 * No kick decision: the device is not running yet, and with
	 * EVENT_IDX a decision closes the window over these buffers, so the
	 * kick after DRIVER_OK would find nothing left to kick for.
	 */
	if (packed)
		n = q->ring.packed.in_order ? rxq_post_free(q, true, true) :
			rxq_post_free(q, true, false);
	else if (q->ring.split.in_order)
		n = rxq_post_free(q, false, true);
	else
		n = rxq_post_free(q, false, false);
	if (n > 0)
		ring_publish(&q->ring, packed);
	return ring_num_free(&q->ring, packed) == 0 ? 0 : -ENOMEM;
}

/*
 * The next used entry, each field read once. Split rings know how many
 * entries are pending; packed rings ask the descriptor. `fixed`: an
 * IN_ORDER ring, whose entries are checked against their slot.
 */
static __rte_always_inline enum vv_used
rx_read(const struct virtio_vdpa_rxq *q, uint16_t pending, uint16_t *id,
	uint32_t *len, const bool packed, const bool fixed)
{
	if (packed && fixed)
		return vv_packed_fixed_read(&q->ring.packed, id, len,
					    q->post_len);
	if (packed)
		return vv_packed_used_read(&q->ring.packed, id, len);
	if (pending == 0)
		return VV_USED_NONE;
	if (fixed)
		return vv_split_fixed_read(&q->ring.split, id, len,
					   q->post_len);
	return vv_split_used_read(&q->ring.split, id, len);
}

/* Consumes the entry just read for id, and returns its slot and mbuf. */
static __rte_always_inline struct rte_mbuf *
rx_take(struct virtio_vdpa_rxq *q, uint16_t id, const bool packed,
	const bool fixed)
{
	struct rte_mbuf *m = q->sw_ring[id];

	q->sw_ring[id] = NULL;
	if (packed && fixed) {
		vv_packed_fixed_take(&q->ring.packed);
	} else if (packed) {
		vv_packed_used_take(&q->ring.packed, id);
	} else if (fixed) {
		vv_split_fixed_take(&q->ring.split);
	} else {
		vv_split_used_skip(&q->ring.split);
		vv_split_put_one(&q->ring.split, id);
	}
	return m;
}

/*
 * Drops the entry just read: one naming no buffer only moves the ring on
 * (bad_used); one with a bad length, or too short for a frame, gives its
 * slot back and its mbuf to the pool.
 */
static __rte_noinline void
rx_drop(struct virtio_vdpa_rxq *q, enum vv_used u, uint16_t id,
	const bool packed, const bool fixed)
{
	if (u == VV_USED_BAD_ID) {
		if (packed)
			vv_packed_used_reject(&q->ring.packed);
		else
			vv_split_used_reject(&q->ring.split);
		return;
	}
	rte_pktmbuf_free(rx_take(q, id, packed, fixed));
	if (u == VV_USED_BAD_LEN)
		(*vv_ring_bad_used(&q->ring))++;
	else
		q->stats.errors++;
}

/* True once n used entries are there, counting the one just read. */
static __rte_always_inline bool
rx_ready(const struct virtio_vdpa_rxq *q, uint16_t pending, uint16_t n,
	 const bool packed)
{
	if (packed)
		return vv_packed_used_ready(&q->ring.packed, n - 1);
	return pending >= n;
}

/* The hash the device steered the frame by, from its header. */
static inline void
rx_hash(struct rte_mbuf *m, const void *hdr)
{
	const struct virtio_net_hdr_v1_hash *h = hdr;

	if (h->hash_report != VIRTIO_NET_HASH_REPORT_NONE) {
		m->hash.rss = rte_le_to_cpu_32(h->hash_value);
		m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
	}
}

/* An mbuf as the first (or only) buffer of a frame of `len` bytes. */
static __rte_always_inline void
rx_complete(struct rte_mbuf *m, uint32_t len, const void *hdr,
	    const bool hash)
{
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	m->ol_flags = 0;
	m->packet_type = 0;
	if (hash)
		rx_hash(m, hdr);
}

/*
 * A frame in `nbufs` buffers (mergeable Rx), all of them published. The
 * first, id with len, was read and checked by the caller and is used as
 * read: a device rewriting its entry meanwhile changes nothing. Returns
 * the chain, or NULL when the frame is dropped.
 */
static __rte_always_inline struct rte_mbuf *
rx_merge(struct virtio_vdpa_rxq *q, uint16_t id, uint32_t len, uint16_t nbufs,
	 uint16_t *pending, const bool packed, const bool fixed,
	 const bool hash)
{
	uint16_t hdr_size = q->hdr_size, i;
	struct rte_mbuf *head, *prev, *m;
	void *hdr;
	bool bad = false;

	head = rx_take(q, id, packed, fixed);
	(*pending)--;
	hdr = (char *)head->buf_addr + RTE_PKTMBUF_HEADROOM - hdr_size;
	rx_complete(head, len - hdr_size, hdr, hash);
	prev = head;
	for (i = 1; i < nbufs; i++) {
		enum vv_used u = rx_read(q, *pending, &id, &len, packed, fixed);

		/* A hole before the last buffer: the device broke its own frame. */
		if (unlikely(u == VV_USED_NONE)) {
			bad = true;
			break;
		}
		if (unlikely(u != VV_USED_OK)) {
			/* Keep consuming: the rest belongs to this frame. */
			rx_drop(q, u, id, packed, fixed);
			(*pending)--;
			bad = true;
			continue;
		}
		m = rx_take(q, id, packed, fixed);
		(*pending)--;
		/* Only the first buffer carries the header. */
		m->data_off = RTE_PKTMBUF_HEADROOM - hdr_size;
		m->data_len = (uint16_t)len;
		prev->next = m;
		prev = m;
		head->pkt_len += len;
		head->nb_segs++;
	}
	if (unlikely(bad)) {
		rte_pktmbuf_free(head);
		q->stats.errors++;
		return NULL;
	}
	return head;
}

/*
 * One body, eight bursts: `packed`, `hash` and `offl` are constants in
 * each, so a burst carries not one instruction of the layout, header or
 * offload work it is not for. Rx has a second body for IN_ORDER rings
 * (`fixed`), picked per call by one branch on the ring.
 */
static __rte_always_inline uint16_t
rx_body(struct virtio_vdpa_rxq *q, struct rte_mbuf **pkts, uint16_t nb_pkts,
	const bool packed, const bool fixed, const bool hash, const bool offl)
{
	uint16_t pending = packed ? 0 : fixed ?
		vv_split_fixed_pending(&q->ring.split) :
		vv_split_used_pending(&q->ring.split);
	uint16_t nb_rx = 0, hdr_size = q->hdr_size;
	uint64_t bytes = 0;

	while (nb_rx < nb_pkts) {
		struct rte_mbuf *m;
		enum vv_used u;
		uint32_t len;
		uint16_t id = 0;
		void *hdr;

		u = rx_read(q, pending, &id, &len, packed, fixed);
		if (u == VV_USED_NONE)
			break;
		/* Not one byte of Ethernet is no frame. */
		if (unlikely(u != VV_USED_OK || len <= hdr_size)) {
			rx_drop(q, u, id, packed, fixed);
			pending--;
			continue;
		}
		m = q->sw_ring[id];
		if (!packed && pending > 1)
			rte_prefetch0(q->sw_ring[fixed ?
				vv_split_fixed_hint(&q->ring.split, 1) :
				vv_split_used_hint(&q->ring.split, 1)]);
		hdr = (char *)m->buf_addr + RTE_PKTMBUF_HEADROOM - hdr_size;
		if (q->mergeable) {
			uint16_t nbufs =
				((const struct virtio_net_hdr_mrg_rxbuf *)hdr)
					->num_buffers;

			if (unlikely(nbufs > 1)) {
				/* More than we posted is a lie, not a wait. */
				if (nbufs > ring_in_flight(&q->ring, packed)) {
					rx_drop(q, VV_USED_OK, id, packed,
						fixed);
					pending--;
					continue;
				}
				if (!rx_ready(q, pending, nbufs, packed))
					break;
				m = rx_merge(q, id, len, nbufs, &pending,
					     packed, fixed, hash);
				if (m != NULL) {
					bytes += m->pkt_len;
					virtio_vdpa_stats_size(&q->stats,
							       m->pkt_len);
					if (offl)
						virtio_vdpa_rx_offload(m, hdr,
								       q->offl);
					pkts[nb_rx++] = m;
				}
				continue;
			}
		}
		rx_take(q, id, packed, fixed);
		pending--;
		rx_complete(m, len - hdr_size, hdr, hash);
		bytes += len - hdr_size;
		virtio_vdpa_stats_size(&q->stats, len - hdr_size);
		if (offl)
			virtio_vdpa_rx_offload(m, hdr, q->offl);
		pkts[nb_rx++] = m;
	}
	q->stats.packets += nb_rx;
	q->stats.bytes += bytes;
	if (ring_num_free(&q->ring, packed) >= q->refill_thresh)
		rxq_refill(q, packed, fixed);
	return nb_rx;
}

static __rte_always_inline uint16_t
rx_burst(void *rx_queue, struct rte_mbuf **pkts, uint16_t nb_pkts,
	 const bool packed, const bool hash, const bool offl)
{
	struct virtio_vdpa_rxq *q = rx_queue;

	if (packed && q->ring.packed.in_order)
		return rx_body(q, pkts, nb_pkts, true, true, hash, offl);
	if (packed)
		return rx_body(q, pkts, nb_pkts, true, false, hash, offl);
	if (q->ring.split.in_order)
		return rx_body(q, pkts, nb_pkts, false, true, hash, offl);
	return rx_body(q, pkts, nb_pkts, false, false, hash, offl);
}

static inline void
txq_complete(struct virtio_vdpa_txq *q, uint16_t id, struct rte_mbuf **done,
	     unsigned int *nb_done)
{
	done[(*nb_done)++] = q->sw_ring[id];
	q->sw_ring[id] = NULL;
}

/*
 * With MBUF_FAST_FREE the app promised one pool and refcnt 1: a lone
 * segment goes straight back to the pool, without rte_pktmbuf_free's
 * checks or a look at its second cache line.
 */
static inline void
txq_free(const struct virtio_vdpa_txq *q, struct rte_mbuf **done,
	 unsigned int n)
{
	unsigned int i, k = 0;

	if (!q->fast_free) {
		rte_pktmbuf_free_bulk(done, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if (likely(done[i]->nb_segs == 1))
			done[k++] = done[i];
		else
			rte_pktmbuf_free(done[i]);
	}
	if (k > 0)
		rte_mempool_put_bulk(done[0]->pool, (void **)done, k);
}

/* Frees what is collected once the batch could overflow. */
static inline void
txq_free_batch(const struct virtio_vdpa_txq *q, struct rte_mbuf **done,
	       unsigned int *nb_done)
{
	if (*nb_done >= VV_TX_FREE_BATCH - 1) {
		txq_free(q, done, *nb_done);
		*nb_done = 0;
	}
}

/*
 * IN_ORDER completions come as one used entry per batch: its id names the
 * batch's last chain, and the used index moves on by the batch's size.
 * Returns the used entries consumed, 0 when the device has not yet
 * published the whole batch it names.
 */
static inline uint16_t
txq_complete_inorder(struct virtio_vdpa_txq *q, uint16_t pending,
		     struct rte_mbuf **done, unsigned int *nb_done)
{
	struct vv_split_ring *r = &q->ring.split;
	bool last = false;
	uint32_t len;
	int id, n, h;

	id = vv_split_used_peek(r, &len);
	/* A batch of one, as DPDK's vhost completes: no count to make. */
	if (likely(id >= 0 && vv_split_inorder_is_next(r, (uint16_t)id))) {
		vv_split_inorder_next(r, (uint16_t)id, &last);
		txq_complete(q, (uint16_t)id, done, nb_done);
		vv_split_chain_free(r, (uint16_t)id);
		vv_split_used_skip(r);
		return 1;
	}
	n = id < 0 ? -1 : vv_split_inorder_batch(r, (uint16_t)id);
	if (unlikely(n < 0)) {
		vv_split_used_reject(r);
		return 1;
	}
	if (unlikely(n > pending))
		return 0;
	while ((h = vv_split_inorder_next(r, (uint16_t)id, &last)) >= 0) {
		txq_complete(q, (uint16_t)h, done, nb_done);
		vv_split_chain_free(r, (uint16_t)h);
		txq_free_batch(q, done, nb_done);
	}
	vv_split_used_advance(r, (uint16_t)n);
	return (uint16_t)n;
}

static void
txq_reclaim_split(struct virtio_vdpa_txq *q)
{
	struct vv_split_ring *r = &q->ring.split;
	uint16_t pending = vv_split_used_pending(r);
	struct rte_mbuf *done[VV_TX_FREE_BATCH];
	unsigned int nb_done = 0;

	if (r->in_order && vv_split_inorder_all_done(r, pending)) {
		uint16_t n;

		for (n = 0; n < pending; n++) {
			uint16_t h = vv_split_inorder_take(r);

			txq_complete(q, h, done, &nb_done);
			vv_split_chain_free(r, h);
			txq_free_batch(q, done, &nb_done);
		}
		vv_split_used_advance(r, pending);
		pending = 0;
	}
	while (pending > 0) {
		if (r->in_order) {
			uint16_t n = txq_complete_inorder(q, pending, done,
							  &nb_done);

			if (n == 0)
				break;
			pending -= n;
		} else {
			uint32_t len;
			int id = vv_split_used_pop(r, &len);

			pending--;
			/* Counted in bad_used; the entry is ignored. */
			if (likely(id >= 0)) {
				txq_complete(q, (uint16_t)id, done, &nb_done);
				vv_split_chain_free(r, (uint16_t)id);
			}
		}
		txq_free_batch(q, done, &nb_done);
	}
	if (nb_done > 0)
		txq_free(q, done, nb_done);
}

static void
txq_reclaim_packed(struct virtio_vdpa_txq *q)
{
	struct vv_packed_ring *r = &q->ring.packed;
	struct rte_mbuf *done[VV_TX_FREE_BATCH];
	unsigned int nb_done = 0;
	enum vv_used u;
	uint32_t len;
	uint16_t id = 0;

	/* Tx buffers take any length back: only the id can be wrong. */
	while ((u = vv_packed_used_read(r, &id, &len)) != VV_USED_NONE) {
		if (r->in_order) {
			/*
			 * In order, a bad id still completes the oldest
			 * chain: the device is done with it, whatever it
			 * wrote, and the slot comes back.
			 */
			int n = u == VV_USED_BAD_ID ? -1 :
				vv_packed_inorder_batch(r, id);

			if (n < 0) {
				r->bad_used++;
				n = 1;
			}
			while (n-- > 0) {
				txq_complete(q, vv_packed_inorder_take(r),
					     done, &nb_done);
				txq_free_batch(q, done, &nb_done);
			}
			continue;
		}
		if (unlikely(u == VV_USED_BAD_ID)) {
			vv_packed_used_reject(r);
			continue;
		}
		vv_packed_used_take(r, id);
		txq_complete(q, id, done, &nb_done);
		txq_free_batch(q, done, &nb_done);
	}
	if (nb_done > 0)
		txq_free(q, done, nb_done);
}

static __rte_always_inline void
txq_reclaim(struct virtio_vdpa_txq *q, const bool packed)
{
	if (packed)
		txq_reclaim_packed(q);
	else
		txq_reclaim_split(q);
}

static inline bool
tx_header_in_headroom(const struct rte_mbuf *m, uint16_t hdr_size)
{
	return rte_pktmbuf_headroom(m) >= hdr_size && RTE_MBUF_DIRECT(m) &&
		rte_mbuf_refcnt_read(m) == 1;
}

static __rte_always_inline void
tx_clear_header(void *hdr, const bool hash)
{
	static const uint8_t zero[sizeof(struct virtio_net_hdr_mrg_rxbuf)];
	uint64_t head;
	uint32_t tail;

	/*
	 * Headroom usually holds zeros already; a store would dirty the line.
	 * The header sits 12 bytes before the data, so only 4-byte aligned:
	 * memcpy gives the same unaligned loads without undefined behaviour.
	 */
	memcpy(&head, hdr, sizeof(head));
	memcpy(&tail, (uint8_t *)hdr + sizeof(head), sizeof(tail));
	if ((head | tail) != 0)
		memcpy(hdr, zero, sizeof(zero));
	/* The hash fields (HASH_REPORT) are the device's to write on Rx. */
	if (hash)
		memset((uint8_t *)hdr + sizeof(zero), 0,
		       sizeof(struct virtio_net_hdr_v1_hash) - sizeof(zero));
}

/*
 * The header of a frame with offload work (nh), or of one without (NULL):
 * num_buffers stays 0, as the spec wants of a driver.
 */
static __rte_always_inline void
tx_put_header(void *hdr, const struct virtio_net_hdr *nh, const bool hash)
{
	if (nh == NULL) {
		tx_clear_header(hdr, hash);
		return;
	}
	memcpy(hdr, nh, sizeof(*nh));
	memset((uint8_t *)hdr + sizeof(*nh), 0,
	       (hash ? sizeof(struct virtio_net_hdr_v1_hash) :
		sizeof(struct virtio_net_hdr_mrg_rxbuf)) - sizeof(*nh));
}

/* Posts a frame in one descriptor, its header in headroom. */
static __rte_always_inline void
tx_post_one(struct virtio_vdpa_txq *q, struct rte_mbuf *m, void *hdr,
	    uint32_t len, const bool packed)
{
	uint64_t addr = (uint64_t)(uintptr_t)hdr;
	uint16_t id;

	/* Devices report 0 bytes for Tx buffers; some report more. */
	if (packed) {
		struct vv_packed_ring *r = &q->ring.packed;

		id = (uint16_t)vv_packed_id_alloc(r, 1, UINT32_MAX);
		vv_packed_desc_put(r, id, addr, len, false, false);
	} else {
		struct vv_split_ring *r = &q->ring.split;
		struct vring_desc *d;

		id = vv_split_take_one(r, UINT32_MAX);
		d = &r->desc[id];
		d->addr = addr;
		desc_set_len_flags(d, len, 0);
		vv_split_avail_push(r, id);
	}
	q->sw_ring[id] = m;
}

/*
 * Where the next descriptor of a chain goes: split chains are linked
 * through the ring's private table, packed ones are consecutive slots.
 */
struct tx_chain {
	uint16_t head;
	uint16_t at;		/* split: the descriptor to write next */
};

static __rte_always_inline void
tx_chain_put(struct virtio_vdpa_txq *q, struct tx_chain *c, uint64_t addr,
	     uint32_t len, bool more, const bool packed)
{
	if (packed) {
		vv_packed_desc_put(&q->ring.packed, c->head, addr, len, false,
				   more);
		return;
	}
	q->ring.split.desc[c->at].addr = addr;
	q->ring.split.desc[c->at].len = len;
	c->at = vv_split_chain_next(&q->ring.split, c->at);
}

/*
 * Posts a frame in ndesc descriptors: header first, then each segment. In
 * an offload burst the header table is written every time: its slot may
 * hold an earlier frame's offload header.
 */
static __rte_always_inline void
tx_post_chain(struct virtio_vdpa_txq *q, struct rte_mbuf *m, uint16_t ndesc,
	      bool in_headroom, const struct virtio_net_hdr *nh,
	      const bool packed, const bool hash, const bool offl)
{
	uint16_t hdr_size = q->hdr_size;
	struct rte_mbuf *seg;
	struct tx_chain c;
	int head;

	head = packed ? vv_packed_id_alloc(&q->ring.packed, ndesc, UINT32_MAX) :
		vv_split_chain_alloc(&q->ring.split, ndesc, UINT32_MAX);
	c.head = (uint16_t)head;
	c.at = c.head;
	if (in_headroom) {
		void *hdr = rte_pktmbuf_mtod_offset(m, void *, -(int)hdr_size);

		tx_put_header(hdr, nh, hash);
		tx_chain_put(q, &c, (uint64_t)(uintptr_t)hdr,
			     m->data_len + hdr_size, m->next != NULL, packed);
		seg = m->next;
	} else {
		if (offl)
			tx_put_header(&q->hdrs[c.head], nh, hash);
		tx_chain_put(q, &c, (uint64_t)(uintptr_t)&q->hdrs[c.head],
			     hdr_size, true, packed);
		seg = m;
	}
	for (; seg != NULL; seg = seg->next)
		tx_chain_put(q, &c, rte_pktmbuf_mtod(seg, uint64_t),
			     seg->data_len, seg->next != NULL, packed);
	if (!packed)
		vv_split_avail_push(&q->ring.split, c.head);
	q->sw_ring[c.head] = m;
}

/* A frame no ring of ours can carry is dropped, not left to block the queue. */
static __rte_noinline void
tx_drop(struct virtio_vdpa_txq *q, struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
	q->stats.errors++;
}

/*
 * The offload work of a frame that asks for some, once the ring has room
 * for it in any layout: the work changes the frame, so it must not be
 * redone when the app sends the frame again after a full ring. Returns 1
 * with nh filled, 0 when the ring is full, -1 when the frame is dropped.
 */
static __rte_noinline int
tx_offload_prepare(struct virtio_vdpa_txq *q, struct rte_mbuf *m,
		   struct virtio_net_hdr *nh, const bool packed)
{
	uint32_t worst = (uint32_t)m->nb_segs + 1;

	if (worst > ring_num_free(&q->ring, packed)) {
		txq_reclaim(q, packed);
		if (worst > ring_num_free(&q->ring, packed))
			return 0;
	}
	if (virtio_vdpa_tx_offload(m, nh, q->offl) < 0) {
		tx_drop(q, m);
		return -1;
	}
	return 1;
}

static __rte_always_inline uint16_t
txq_xmit(struct virtio_vdpa_txq *q, struct rte_mbuf **pkts, uint16_t nb_pkts,
	 const bool packed, const bool hash, const bool offl)
{
	struct vv_ring *r = &q->ring;
	uint16_t nb_tx, nb_posted = 0, hdr_size = q->hdr_size;
	uint16_t size = packed ? r->packed.size : r->split.size;
	uint64_t bytes = 0;

	if (ring_num_free(r, packed) < q->reclaim_thresh)
		txq_reclaim(q, packed);

	for (nb_tx = 0; nb_tx < nb_pkts; nb_tx++) {
		struct rte_mbuf *m = pkts[nb_tx];
		struct virtio_net_hdr nh_buf, *nh = NULL;
		bool in_headroom;
		uint32_t ndesc;

		if (offl && (m->ol_flags & VV_TX_OFFL_MBUF_FLAGS)) {
			int ret;

			if (unlikely(m->nb_segs >= size)) {
				tx_drop(q, m);
				continue;
			}
			ret = tx_offload_prepare(q, m, &nh_buf, packed);
			if (ret == 0)
				break;
			if (ret < 0)
				continue;
			nh = &nh_buf;
		}
		in_headroom = tx_header_in_headroom(m, hdr_size);
		/* 32 bits: 65535 segments and a header is no wrap. */
		ndesc = (uint32_t)m->nb_segs + (in_headroom ? 0 : 1);

		/*
		 * One descriptor, header in headroom: the common frame. Its
		 * m->next is not read (the mbuf's second cache line).
		 */
		if (likely(ndesc == 1)) {
			void *hdr = rte_pktmbuf_mtod_offset(m, void *,
							    -(int)hdr_size);

			if (unlikely(ring_num_free(r, packed) == 0)) {
				txq_reclaim(q, packed);
				if (ring_num_free(r, packed) == 0)
					break;
			}
			if (offl)
				tx_put_header(hdr, nh, hash);
			else
				tx_clear_header(hdr, hash);
			tx_post_one(q, m, hdr, m->data_len + hdr_size, packed);
			nb_posted++;
			bytes += m->pkt_len;
			virtio_vdpa_stats_size(&q->stats, m->pkt_len);
			continue;
		}
		if (unlikely(ndesc > size)) {
			tx_drop(q, m);
			continue;
		}
		if (unlikely(ndesc > ring_num_free(r, packed))) {
			txq_reclaim(q, packed);
			if (ndesc > ring_num_free(r, packed))
				break;
		}
		tx_post_chain(q, m, (uint16_t)ndesc, in_headroom, nh, packed,
			      hash, offl);
		nb_posted++;
		bytes += m->pkt_len;
		virtio_vdpa_stats_size(&q->stats, m->pkt_len);
	}
	if (likely(nb_posted > 0)) {
		ring_publish(r, packed);
		ring_kick(r, &q->notify, packed);
		q->stats.packets += nb_posted;
		q->stats.bytes += bytes;
	}
	return nb_tx;
}

/*
 * Built here, on the lcore that owns the queue, from the pool the app
 * sends from. No mbuf or no room: the next burst tries again.
 */
static __rte_noinline void
txq_send_announce(struct virtio_vdpa_txq *q, struct rte_mbuf *like,
		  const bool offl)
{
	bool hash = q->hdr_size == sizeof(struct virtio_net_hdr_v1_hash);
	struct rte_mbuf *m;
	uint16_t sent;

	if (like == NULL)
		return;
	m = rte_net_make_rarp_packet(like->pool, &q->announce_mac);
	if (m == NULL)
		return;
	m->port = like->port;
	/* The offload bursts' header table must stay theirs to write. */
	if (q->ring.is_packed)
		sent = hash ? txq_xmit(q, &m, 1, true, true, offl) :
			txq_xmit(q, &m, 1, true, false, offl);
	else
		sent = hash ? txq_xmit(q, &m, 1, false, true, offl) :
			txq_xmit(q, &m, 1, false, false, offl);
	if (sent == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	__atomic_store_n(&q->announce, 0, __ATOMIC_RELEASE);
}

static __rte_always_inline uint16_t
tx_burst(void *tx_queue, struct rte_mbuf **pkts, uint16_t nb_pkts,
	 const bool packed, const bool hash, const bool offl)
{
	struct virtio_vdpa_txq *q = tx_queue;

	if (unlikely(__atomic_load_n(&q->announce, __ATOMIC_ACQUIRE)))
		txq_send_announce(q, nb_pkts > 0 ? pkts[0] : NULL, offl);
	return txq_xmit(q, pkts, nb_pkts, packed, hash, offl);
}

#define VV_BURSTS(name, packed, hash, offl)				\
static uint16_t								\
recv_##name(void *q, struct rte_mbuf **pkts, uint16_t n)		\
{									\
	return rx_burst(q, pkts, n, packed, hash, offl);		\
}									\
static uint16_t								\
xmit_##name(void *q, struct rte_mbuf **pkts, uint16_t n)		\
{									\
	return tx_burst(q, pkts, n, packed, hash, offl);		\
}

VV_BURSTS(split, false, false, false)
VV_BURSTS(split_hash, false, true, false)
VV_BURSTS(split_offl, false, false, true)
VV_BURSTS(split_hash_offl, false, true, true)
VV_BURSTS(packed, true, false, false)
VV_BURSTS(packed_hash, true, true, false)
VV_BURSTS(packed_offl, true, false, true)
VV_BURSTS(packed_hash_offl, true, true, true)

/* [packed][hash][offl] */
static const eth_rx_burst_t rx_bursts[2][2][2] = {
	{ { recv_split, recv_split_offl },
	  { recv_split_hash, recv_split_hash_offl } },
	{ { recv_packed, recv_packed_offl },
	  { recv_packed_hash, recv_packed_hash_offl } },
};

static const eth_tx_burst_t tx_bursts[2][2][2] = {
	{ { xmit_split, xmit_split_offl },
	  { xmit_split_hash, xmit_split_hash_offl } },
	{ { xmit_packed, xmit_packed_offl },
	  { xmit_packed_hash, xmit_packed_hash_offl } },
};

struct virtio_vdpa_bursts
virtio_vdpa_bursts_for(bool packed, bool hash, bool rx_offl, bool tx_offl)
{
	struct virtio_vdpa_bursts b = {
		.rx = rx_bursts[packed][hash][rx_offl],
		.tx = tx_bursts[packed][hash][tx_offl],
	};

	return b;
}

static void
sw_ring_drain(struct rte_mbuf **sw_ring, uint16_t size)
{
	uint16_t i;

	for (i = 0; i < size; i++) {
		rte_pktmbuf_free(sw_ring[i]);
		sw_ring[i] = NULL;
	}
}

void
virtio_vdpa_rxq_drain(struct virtio_vdpa_rxq *q)
{
	sw_ring_drain(q->sw_ring, vv_ring_size(&q->ring));
	vv_ring_reset(&q->ring);
}

void
virtio_vdpa_txq_drain(struct virtio_vdpa_txq *q)
{
	/* A request the stopped port never served is not for its next run. */
	q->announce = 0;
	sw_ring_drain(q->sw_ring, vv_ring_size(&q->ring));
	vv_ring_reset(&q->ring);
	/* Bursts without offloads trust the header table to hold zeros. */
	memset(q->hdrs, 0, sizeof(q->hdrs[0]) * vv_ring_size(&q->ring));
}

uint32_t
virtio_vdpa_rx_queue_count(void *rx_queue)
{
	const struct virtio_vdpa_rxq *q = rx_queue;

	return vv_ring_used_pending(&q->ring);
}

/* offset 0 is the next buffer the burst takes. */
int
virtio_vdpa_rx_descriptor_status(void *rx_queue, uint16_t offset)
{
	const struct virtio_vdpa_rxq *q = rx_queue;
	bool packed = q->ring.is_packed;

	if (offset >= vv_ring_size(&q->ring))
		return -EINVAL;
	if (offset < vv_ring_used_pending(&q->ring))
		return RTE_ETH_RX_DESC_DONE;
	if (offset < ring_in_flight(&q->ring, packed))
		return RTE_ETH_RX_DESC_AVAIL;
	return RTE_ETH_RX_DESC_UNAVAIL;
}

/*
 * offset 0 is the next descriptor a burst fills: free ones, and those the
 * device completed but a burst has not reclaimed yet, are done.
 */
int
virtio_vdpa_tx_descriptor_status(void *tx_queue, uint16_t offset)
{
	const struct virtio_vdpa_txq *q = tx_queue;
	bool packed = q->ring.is_packed;

	if (offset >= vv_ring_size(&q->ring))
		return -EINVAL;
	if (offset < (uint32_t)ring_num_free(&q->ring, packed) +
	    vv_ring_used_pending(&q->ring))
		return RTE_ETH_TX_DESC_DONE;
	return RTE_ETH_TX_DESC_FULL;
}

/* rte_eth_tx_prepare: stops at the first frame the queue cannot do. */
uint16_t
virtio_vdpa_tx_prepare(void *tx_queue, struct rte_mbuf **pkts, uint16_t n)
{
	const struct virtio_vdpa_txq *q = tx_queue;
	uint16_t i;

	for (i = 0; i < n; i++) {
		int ret = virtio_vdpa_tx_offload_prepare(pkts[i], q->offl);

		if (ret < 0) {
			rte_errno = -ret;
			break;
		}
	}
	return i;
}

/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <rte_arp.h>
#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "virtio_vdpa_rxtx.h"

#define VV_RX_REFILL_BATCH 64
#define VV_TX_FREE_BATCH 64

void
virtio_vdpa_kick(struct vv_split_ring *r, struct virtio_vdpa_notifier *n)
{
	static const uint64_t one = 1;

	/* needs_kick fences: the avail index is visible before the store. */
	if (!vv_split_needs_kick(r))
		return;
	n->kicks++;
	if (n->doorbell != NULL) {
		*n->doorbell = n->vring;
		return;
	}
	/* A full eventfd only means a kick is already pending. */
	if (write(n->fd, &one, sizeof(one)) < 0)
		return;
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
static inline void
rxq_post(struct virtio_vdpa_rxq *q, struct rte_mbuf *m)
{
	struct vv_split_ring *r = &q->ring;
	uint16_t head = vv_split_take_one(r, q->post_len);
	struct vring_desc *d = &r->desc[head];

	memcpy((char *)m + offsetof(struct rte_mbuf, rearm_data),
	       &q->mbuf_rearm, sizeof(q->mbuf_rearm));
	/* The header lands in headroom so the frame starts at data_off. */
	d->addr = (uint64_t)(uintptr_t)m->buf_addr + RTE_PKTMBUF_HEADROOM -
		q->hdr_size;
	desc_set_len_flags(d, q->post_len, VRING_DESC_F_WRITE);
	q->sw_ring[head] = m;
	vv_split_avail_push(r, head);
}

/* Posts a fresh mbuf in every free descriptor, as far as the pool lasts. */
static inline unsigned int
rxq_post_free(struct virtio_vdpa_rxq *q)
{
	struct rte_mbuf *mbufs[VV_RX_REFILL_BATCH];
	unsigned int total = 0;

	while (q->ring.num_free > 0) {
		unsigned int n = RTE_MIN(q->ring.num_free,
					 (uint16_t)VV_RX_REFILL_BATCH), i;

		if (unlikely(rte_mempool_get_bulk(q->mp, (void **)mbufs,
						  n) != 0)) {
			q->stats.nombuf += n;
			break;
		}
		for (i = 0; i < n; i++)
			rxq_post(q, mbufs[i]);
		total += n;
	}
	return total;
}

static inline void
rxq_refill(struct virtio_vdpa_rxq *q)
{
	if (rxq_post_free(q) > 0) {
		vv_split_avail_publish(&q->ring);
		virtio_vdpa_kick(&q->ring, &q->notify);
	}
}

int
virtio_vdpa_rxq_fill(struct virtio_vdpa_rxq *q)
{
	/*
	 * No kick decision: the device is not running yet, and with
	 * EVENT_IDX a decision closes the window over these buffers, so the
	 * kick after DRIVER_OK would find nothing left to kick for.
	 */
	if (rxq_post_free(q) > 0)
		vv_split_avail_publish(&q->ring);
	return q->ring.num_free == 0 ? 0 : -ENOMEM;
}

/* Takes one used entry as an mbuf sized to what the device wrote. */
static inline struct rte_mbuf *
rxq_take(struct virtio_vdpa_rxq *q, uint32_t *len)
{
	int id = vv_split_used_pop(&q->ring, len);
	struct rte_mbuf *m;

	if (unlikely(id < 0))
		return NULL;
	m = q->sw_ring[id];
	q->sw_ring[id] = NULL;
	vv_split_put_one(&q->ring, (uint16_t)id);
	return m;
}

/* Drops the next used entry, which did not validate. */
static void
rxq_drop_one(struct virtio_vdpa_rxq *q)
{
	uint32_t len;
	struct rte_mbuf *m = rxq_take(q, &len);

	/* An invalid entry is counted in bad_used by the pop. */
	if (m != NULL) {
		rte_pktmbuf_free(m);
		q->stats.errors++;
	}
}

/* The hash the device steered the frame by, from its header. */
static inline void
rxq_hash(struct rte_mbuf *m, uint16_t hdr_size)
{
	const struct virtio_net_hdr_v1_hash *h =
		(const void *)((char *)m->buf_addr + RTE_PKTMBUF_HEADROOM -
			       hdr_size);

	if (h->hash_report != VIRTIO_NET_HASH_REPORT_NONE) {
		m->hash.rss = rte_le_to_cpu_32(h->hash_value);
		m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
	}
}

/*
 * A frame in `nbufs` buffers (mergeable Rx), the first one already checked
 * by the caller. Returns the chain, or NULL when the frame is dropped or
 * not complete yet (*wait set: nothing was consumed).
 */
static struct rte_mbuf *
rxq_take_merged(struct virtio_vdpa_rxq *q, uint16_t nbufs, uint16_t *pending,
		bool *wait, const bool hash)
{
	struct vv_split_ring *r = &q->ring;
	struct rte_mbuf *head, *prev, *m;
	uint16_t hdr_size = q->hdr_size, i;
	uint32_t len;
	bool bad = false;

	*wait = false;
	if (nbufs > *pending) {
		/* A count no ring can hold is a lie, not a frame in transit. */
		if (nbufs > r->size) {
			rxq_drop_one(q);
			(*pending)--;
			return NULL;
		}
		*wait = true;
		return NULL;
	}
	head = rxq_take(q, &len);
	(*pending)--;
	head->data_len = (uint16_t)(len - hdr_size);
	head->pkt_len = len - hdr_size;
	head->ol_flags = 0;
	head->packet_type = 0;
	if (hash)
		rxq_hash(head, hdr_size);
	prev = head;
	for (i = 1; i < nbufs; i++) {
		m = rxq_take(q, &len);
		(*pending)--;
		if (unlikely(m == NULL)) {
			/* Keep consuming: the rest belongs to this frame. */
			bad = true;
			continue;
		}
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
 * One body, two bursts: `hash` is a constant in each, so the burst without
 * HASH_REPORT carries not one instruction of it.
 */
static __rte_always_inline uint16_t
rx_burst(void *rx_queue, struct rte_mbuf **pkts, uint16_t nb_pkts,
	 const bool hash)
{
	struct virtio_vdpa_rxq *q = rx_queue;
	struct vv_split_ring *r = &q->ring;
	uint16_t pending = vv_split_used_pending(r);
	uint16_t nb_rx = 0, hdr_size = q->hdr_size;
	uint64_t bytes = 0;

	while (nb_rx < nb_pkts && pending > 0) {
		struct rte_mbuf *m;
		uint32_t len;
		int id;

		id = vv_split_used_peek(r, &len);
		if (unlikely(id < 0 || len < hdr_size)) {
			rxq_drop_one(q);
			pending--;
			continue;
		}
		m = q->sw_ring[id];
		if (pending > 1)
			rte_prefetch0(q->sw_ring[vv_split_used_hint(r, 1)]);
		if (q->mergeable) {
			const struct virtio_net_hdr_mrg_rxbuf *hdr =
				(const void *)((char *)m->buf_addr +
					       RTE_PKTMBUF_HEADROOM - hdr_size);
			uint16_t nbufs = hdr->num_buffers;

			if (unlikely(nbufs > 1)) {
				bool wait;

				m = rxq_take_merged(q, nbufs, &pending, &wait,
						    hash);
				if (wait)
					break;
				if (m != NULL) {
					bytes += m->pkt_len;
					pkts[nb_rx++] = m;
				}
				continue;
			}
		}
		vv_split_used_skip(r);
		q->sw_ring[id] = NULL;
		vv_split_put_one(r, (uint16_t)id);
		pending--;
		m->data_len = (uint16_t)(len - hdr_size);
		m->pkt_len = len - hdr_size;
		m->ol_flags = 0;
		m->packet_type = 0;
		if (hash)
			rxq_hash(m, hdr_size);
		bytes += len - hdr_size;
		pkts[nb_rx++] = m;
	}
	q->stats.packets += nb_rx;
	q->stats.bytes += bytes;
	if (r->num_free >= q->refill_thresh)
		rxq_refill(q);
	return nb_rx;
}

uint16_t
virtio_vdpa_recv_pkts(void *rx_queue, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	return rx_burst(rx_queue, pkts, nb_pkts, false);
}

uint16_t
virtio_vdpa_recv_pkts_hash(void *rx_queue, struct rte_mbuf **pkts,
			   uint16_t nb_pkts)
{
	return rx_burst(rx_queue, pkts, nb_pkts, true);
}

static inline void
txq_complete(struct virtio_vdpa_txq *q, uint16_t head,
	     struct rte_mbuf **done, unsigned int *nb_done)
{
	done[(*nb_done)++] = q->sw_ring[head];
	q->sw_ring[head] = NULL;
	vv_split_chain_free(&q->ring, head);
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
	struct vv_split_ring *r = &q->ring;
	bool last = false;
	uint32_t len;
	int id, n, h;

	id = vv_split_used_peek(r, &len);
	/* A batch of one, as DPDK's vhost completes: no count to make. */
	if (likely(id >= 0 && vv_split_inorder_is_next(r, (uint16_t)id))) {
		vv_split_inorder_next(r, (uint16_t)id, &last);
		txq_complete(q, (uint16_t)id, done, nb_done);
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
		if (*nb_done == VV_TX_FREE_BATCH) {
			txq_free(q, done, *nb_done);
			*nb_done = 0;
		}
	}
	vv_split_used_advance(r, (uint16_t)n);
	return (uint16_t)n;
}

static void
txq_reclaim(struct virtio_vdpa_txq *q)
{
	struct vv_split_ring *r = &q->ring;
	uint16_t pending = vv_split_used_pending(r);
	struct rte_mbuf *done[VV_TX_FREE_BATCH];
	unsigned int nb_done = 0;

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
			if (likely(id >= 0))
				txq_complete(q, (uint16_t)id, done, &nb_done);
		}
		if (nb_done >= VV_TX_FREE_BATCH - 1) {
			txq_free(q, done, nb_done);
			nb_done = 0;
		}
	}
	if (nb_done > 0)
		txq_free(q, done, nb_done);
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

static __rte_always_inline uint16_t
txq_xmit(struct virtio_vdpa_txq *q, struct rte_mbuf **pkts, uint16_t nb_pkts,
	 const bool hash)
{
	struct vv_split_ring *r = &q->ring;
	uint16_t nb_tx, hdr_size = q->hdr_size;
	uint64_t bytes = 0;

	if (r->num_free < q->reclaim_thresh)
		txq_reclaim(q);

	for (nb_tx = 0; nb_tx < nb_pkts; nb_tx++) {
		struct rte_mbuf *m = pkts[nb_tx], *seg;
		bool in_headroom = tx_header_in_headroom(m, hdr_size);
		uint16_t ndesc = m->nb_segs + (in_headroom ? 0 : 1), id;
		struct vring_desc *d;
		int head;

		/*
		 * One descriptor, header in headroom: the common frame. Its
		 * m->next is not read (the mbuf's second cache line).
		 */
		if (likely(ndesc == 1)) {
			void *hdr = rte_pktmbuf_mtod_offset(m, void *,
							    -(int)hdr_size);

			if (unlikely(r->num_free == 0)) {
				txq_reclaim(q);
				if (r->num_free == 0)
					break;
			}
			id = vv_split_take_one(r, UINT32_MAX);
			d = &r->desc[id];
			tx_clear_header(hdr, hash);
			d->addr = (uint64_t)(uintptr_t)hdr;
			desc_set_len_flags(d, m->data_len + hdr_size, 0);
			q->sw_ring[id] = m;
			vv_split_avail_push(r, id);
			bytes += m->pkt_len;
			continue;
		}

		if (unlikely(ndesc > r->num_free)) {
			txq_reclaim(q);
			if (ndesc > r->num_free)
				break;
		}
		/* Devices report 0 bytes for Tx buffers; some report more. */
		head = vv_split_chain_alloc(r, ndesc, UINT32_MAX);
		id = (uint16_t)head;
		d = &r->desc[id];
		if (in_headroom) {
			void *hdr = rte_pktmbuf_mtod_offset(m, void *,
							    -(int)hdr_size);

			tx_clear_header(hdr, hash);
			d->addr = (uint64_t)(uintptr_t)hdr;
			d->len = m->data_len + hdr_size;
			seg = m->next;
		} else {
			d->addr = (uint64_t)(uintptr_t)&q->hdrs[id];
			d->len = hdr_size;
			seg = m;
		}
		for (; seg != NULL; seg = seg->next) {
			id = vv_split_chain_next(r, id);
			d = &r->desc[id];
			d->addr = rte_pktmbuf_mtod(seg, uint64_t);
			d->len = seg->data_len;
		}
		q->sw_ring[head] = m;
		vv_split_avail_push(r, (uint16_t)head);
		bytes += m->pkt_len;
	}
	if (likely(nb_tx > 0)) {
		vv_split_avail_publish(r);
		virtio_vdpa_kick(r, &q->notify);
		q->stats.packets += nb_tx;
		q->stats.bytes += bytes;
	}
	return nb_tx;
}

/*
 * Built here, on the lcore that owns the queue, from the pool the app
 * sends from. No mbuf or no room: the next burst tries again.
 */
static __rte_noinline void
txq_send_announce(struct virtio_vdpa_txq *q, struct rte_mbuf *like)
{
	struct rte_mbuf *m;

	if (like == NULL)
		return;
	m = rte_net_make_rarp_packet(like->pool, &q->announce_mac);
	if (m == NULL)
		return;
	m->port = like->port;
	if (txq_xmit(q, &m, 1,
		     q->hdr_size == sizeof(struct virtio_net_hdr_v1_hash)) == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	__atomic_store_n(&q->announce, 0, __ATOMIC_RELEASE);
}

uint16_t
virtio_vdpa_xmit_pkts(void *tx_queue, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	struct virtio_vdpa_txq *q = tx_queue;

	if (unlikely(__atomic_load_n(&q->announce, __ATOMIC_ACQUIRE)))
		txq_send_announce(q, nb_pkts > 0 ? pkts[0] : NULL);
	return txq_xmit(q, pkts, nb_pkts, false);
}

uint16_t
virtio_vdpa_xmit_pkts_hash(void *tx_queue, struct rte_mbuf **pkts,
			   uint16_t nb_pkts)
{
	struct virtio_vdpa_txq *q = tx_queue;

	if (unlikely(__atomic_load_n(&q->announce, __ATOMIC_ACQUIRE)))
		txq_send_announce(q, nb_pkts > 0 ? pkts[0] : NULL);
	return txq_xmit(q, pkts, nb_pkts, true);
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
	sw_ring_drain(q->sw_ring, q->ring.size);
}

void
virtio_vdpa_txq_drain(struct virtio_vdpa_txq *q)
{
	/* A request the stopped port never served is not for its next run. */
	q->announce = 0;
	sw_ring_drain(q->sw_ring, q->ring.size);
}

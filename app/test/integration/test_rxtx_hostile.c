/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver's Rx and Tx bursts against a device that lies. A small device
 * model in this file serves the rings honestly, then writes used entries a
 * hostile or broken device could write: ids out of range or not in flight,
 * lengths beyond the posted buffer or below the header, num_buffers of 0 or
 * larger than the ring, a frame whose tail never arrives, an index jump.
 * Nothing may crash or corrupt memory (the ASan build runs this too), bad
 * entries are counted, and every mbuf comes back to the pool.
 *
 * Needs EAL for mempools: runs with --no-huge --no-pci, no device.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/virtio_net.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "packed_device_model.h"
#include "virtio_vdpa_rxtx.h"

#define RING 64
#define HDR ((uint16_t)sizeof(struct virtio_net_hdr_mrg_rxbuf))

static struct rte_mempool *pool;

/* The split bursts, as a start with split rings chooses them. */
static uint16_t
rx_burst(void *q, struct rte_mbuf **pkts, uint16_t n)
{
	return virtio_vdpa_bursts_for(false, false, false, false).rx(q, pkts, n);
}

static uint16_t
rx_hash_burst(void *q, struct rte_mbuf **pkts, uint16_t n)
{
	return virtio_vdpa_bursts_for(false, true, false, false).rx(q, pkts, n);
}

static uint16_t
tx_burst(void *q, struct rte_mbuf **pkts, uint16_t n)
{
	return virtio_vdpa_bursts_for(false, false, false, false).tx(q, pkts, n);
}

static uint16_t
tx_hash_burst(void *q, struct rte_mbuf **pkts, uint16_t n)
{
	return virtio_vdpa_bursts_for(false, true, false, false).tx(q, pkts, n);
}

struct fixture {
	void *shm;
	void *priv;
	struct rte_mbuf *sw[RING];
	uint16_t dev_avail;	/* next avail slot the device model reads */
};

static struct fixture fx;

static void
used_put(struct vv_split_ring *r, uint32_t id, uint32_t len)
{
	struct vring_used_elem *e = &r->used->ring[r->used->idx & r->mask];

	e->id = id;
	e->len = len;
	__atomic_store_n(&r->used->idx, (uint16_t)(r->used->idx + 1),
			 __ATOMIC_RELEASE);
}

/* One entry for a batch of n, the index moved on by n (IN_ORDER). */
static void
used_put_batch(struct vv_split_ring *r, uint32_t last, uint16_t n)
{
	struct vring_used_elem *e = &r->used->ring[r->used->idx & r->mask];

	e->id = last;
	e->len = 0;
	__atomic_store_n(&r->used->idx, (uint16_t)(r->used->idx + n),
			 __ATOMIC_RELEASE);
}

/* Takes the next posted Rx buffer: its head id and where its data goes. */
static uint16_t
dev_take(struct vv_split_ring *r, uint8_t **buf, uint32_t *cap)
{
	uint16_t head;

	/* Only what the driver made available: a ring that lost slots shows. */
	assert_true(fx.dev_avail != r->avail->idx);
	head = r->avail->ring[fx.dev_avail++ & r->mask];

	*buf = (uint8_t *)(uintptr_t)r->desc[head].addr;
	*cap = r->desc[head].len;
	return head;
}

/* Delivers one frame of `len` bytes over `nbufs` buffers, honestly. */
static void
dev_rx_frame(struct vv_split_ring *r, uint32_t len, uint16_t nbufs)
{
	uint16_t i;

	for (i = 0; i < nbufs; i++) {
		uint32_t cap, n;
		uint8_t *buf;
		uint16_t head = dev_take(r, &buf, &cap);

		if (i == 0) {
			struct virtio_net_hdr_mrg_rxbuf h = { .num_buffers = nbufs };

			memcpy(buf, &h, HDR);
			n = RTE_MIN(len + HDR, cap);
			memset(buf + HDR, 0x5a, n - HDR);
			len -= n - HDR;
		} else {
			n = RTE_MIN(len, cap);
			memset(buf, 0x5a, n);
			len -= n;
		}
		used_put(r, head, n);
	}
}

/* The header size the queues of the next test use (HASH_REPORT: 20). */
static uint16_t hdr_size = HDR;

static void
rxq_new_flags(struct virtio_vdpa_rxq *q, bool mergeable, unsigned int flags)
{
	memset(q, 0, sizeof(*q));
	memset(&fx, 0, sizeof(fx));
	fx.shm = aligned_alloc(4096, RTE_ALIGN(vv_split_ring_shared_size(RING), 4096));
	fx.priv = malloc(vv_split_ring_priv_size(RING));
	assert_int_equal(vv_ring_init(&q->ring, false, fx.shm, fx.priv, RING,
					    flags), 0);
	/* A polling device: no kicks. */
	q->ring.split.used->flags = VRING_USED_F_NO_NOTIFY;
	q->sw_ring = fx.sw;
	q->mp = pool;
	q->hdr_size = hdr_size;
	q->mergeable = mergeable;
	q->refill_thresh = 1;
	q->notify.fd = -1;
	virtio_vdpa_rxq_prepare(q);
	assert_int_equal(virtio_vdpa_rxq_fill(q), 0);
}

static void
rxq_new(struct virtio_vdpa_rxq *q, bool mergeable)
{
	rxq_new_flags(q, mergeable, 0);
}

static void
rxq_done(struct virtio_vdpa_rxq *q)
{
	virtio_vdpa_rxq_drain(q);
	free(fx.shm);
	free(fx.priv);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

static uint16_t
rx_all(struct virtio_vdpa_rxq *q, uint32_t *bytes)
{
	struct rte_mbuf *pkts[RING];
	uint16_t n = rx_burst(q, pkts, RING), i;

	*bytes = 0;
	for (i = 0; i < n; i++) {
		assert_int_equal(pkts[i]->pkt_len, rte_pktmbuf_pkt_len(pkts[i]));
		*bytes += pkts[i]->pkt_len;
		rte_pktmbuf_free(pkts[i]);
	}
	return n;
}

static void
test_rx_honest(void **state)
{
	struct virtio_vdpa_rxq q;
	uint32_t bytes;
	int lap;

	(void)state;
	rxq_new(&q, true);
	/* Several laps: single-buffer and 5-buffer (9000 B) frames. */
	for (lap = 0; lap < 20; lap++) {
		dev_rx_frame(&q.ring.split, 60, 1);
		dev_rx_frame(&q.ring.split, 9000, 5);
		assert_int_equal(rx_all(&q, &bytes), 2);
		assert_int_equal(bytes, 9060);
	}
	assert_int_equal(q.stats.errors, 0);
	rxq_done(&q);
}

static void
test_rx_bad_ids_and_lengths(void **state)
{
	struct virtio_vdpa_rxq q;
	uint32_t bytes, cap;
	uint8_t *buf;
	uint16_t head;

	(void)state;
	rxq_new(&q, true);
	used_put(&q.ring.split, RING + 5, 100);	/* out of range */
	used_put(&q.ring.split, 0xffffffffu, 100);
	head = dev_take(&q.ring.split, &buf, &cap);
	used_put(&q.ring.split, head, cap + 1);	/* longer than posted */
	head = dev_take(&q.ring.split, &buf, &cap);
	used_put(&q.ring.split, head, HDR - 1);	/* shorter than the header */
	head = dev_take(&q.ring.split, &buf, &cap);
	memset(buf, 0, HDR);
	((struct virtio_net_hdr_mrg_rxbuf *)buf)->num_buffers = 1;
	used_put(&q.ring.split, head, HDR + 60);	/* a good one */
	used_put(&q.ring.split, head, HDR + 60);	/* the same id again */
	assert_int_equal(rx_all(&q, &bytes), 1);
	assert_int_equal(bytes, 60);
	/* Four entries the ring rejects, one frame too short to carry a header. */
	assert_int_equal(q.ring.split.bad_used, 4);
	assert_int_equal(q.stats.errors, 1);
	/* The ring still works afterwards. */
	dev_rx_frame(&q.ring.split, 1000, 1);
	assert_int_equal(rx_all(&q, &bytes), 1);
	rxq_done(&q);
}

static void
test_rx_bad_num_buffers(void **state)
{
	struct virtio_vdpa_rxq q;
	uint32_t bytes, cap;
	uint8_t *buf;
	uint16_t head;

	(void)state;
	rxq_new(&q, true);
	/* num_buffers 0 is taken as 1. */
	head = dev_take(&q.ring.split, &buf, &cap);
	memset(buf, 0, HDR);
	used_put(&q.ring.split, head, HDR + 64);
	assert_int_equal(rx_all(&q, &bytes), 1);
	/* More buffers than the ring holds: dropped, not waited for. */
	head = dev_take(&q.ring.split, &buf, &cap);
	memset(buf, 0, HDR);
	((struct virtio_net_hdr_mrg_rxbuf *)buf)->num_buffers = RING + 1;
	used_put(&q.ring.split, head, HDR + 64);
	assert_int_equal(rx_all(&q, &bytes), 0);
	assert_true(q.stats.errors >= 1);
	/* A 3-buffer frame whose tail has not arrived: wait, then take it. */
	head = dev_take(&q.ring.split, &buf, &cap);
	memset(buf, 0, HDR);
	((struct virtio_net_hdr_mrg_rxbuf *)buf)->num_buffers = 3;
	used_put(&q.ring.split, head, cap);
	assert_int_equal(rx_all(&q, &bytes), 0);
	head = dev_take(&q.ring.split, &buf, &cap);
	used_put(&q.ring.split, head, cap);
	assert_int_equal(rx_all(&q, &bytes), 0);
	head = dev_take(&q.ring.split, &buf, &cap);
	used_put(&q.ring.split, head, 10);
	assert_int_equal(rx_all(&q, &bytes), 1);
	/* A frame whose second buffer is an invalid entry: all dropped. */
	head = dev_take(&q.ring.split, &buf, &cap);
	memset(buf, 0, HDR);
	((struct virtio_net_hdr_mrg_rxbuf *)buf)->num_buffers = 2;
	used_put(&q.ring.split, head, cap);
	used_put(&q.ring.split, RING + 1, 10);
	assert_int_equal(rx_all(&q, &bytes), 0);
	rxq_done(&q);
}

static void
test_rx_index_jump(void **state)
{
	struct virtio_vdpa_rxq q;
	uint32_t bytes;

	(void)state;
	rxq_new(&q, true);
	/* A used index far ahead of what the ring holds is not believed. */
	q.ring.split.used->idx = RING * 3;
	assert_int_equal(rx_all(&q, &bytes), 0);
	rxq_done(&q);
}

/*
 * IN_ORDER split Rx keeps each buffer in its slot's own descriptor: the
 * device finds descriptor s in avail slot s, and every used entry completes
 * the next slot, whatever it names.
 */
static void
test_rx_inorder_honest(void **state)
{
	struct virtio_vdpa_rxq q;
	uint32_t bytes;
	uint16_t slot;
	int lap;

	(void)state;
	rxq_new_flags(&q, true, VV_SPLIT_IN_ORDER);
	for (lap = 0; lap < 40; lap++) {
		dev_rx_frame(&q.ring.split, 60, 1);
		dev_rx_frame(&q.ring.split, 9000, 5);
		assert_int_equal(rx_all(&q, &bytes), 2);
		assert_int_equal(bytes, 9060);
	}
	for (slot = 0; slot < RING; slot++)
		assert_int_equal(q.ring.split.avail->ring[slot], slot);
	assert_int_equal(q.ring.split.num_free, 0);
	assert_int_equal(q.ring.split.bad_used, 0);
	assert_int_equal(q.stats.errors, 0);
	rxq_done(&q);
}

/* The device took the next buffer and says `id` with `len` for it. */
static void
dev_rx_lie(struct vv_split_ring *r, uint32_t id, uint32_t len, uint16_t nbufs)
{
	uint32_t cap;
	uint8_t *buf;
	struct virtio_net_hdr_mrg_rxbuf h = { .num_buffers = nbufs };

	dev_take(r, &buf, &cap);
	memcpy(buf, &h, HDR);
	used_put(r, id, len);
}

static void
test_rx_inorder_hostile(void **state)
{
	struct virtio_vdpa_rxq q;
	struct vv_split_ring *r;
	uint32_t bytes;
	int lap;

	(void)state;
	rxq_new_flags(&q, true, VV_SPLIT_IN_ORDER);
	r = &q.ring.split;
	for (lap = 0; lap < 3 * RING / 8; lap++) {
		uint16_t next = r->used->idx & r->mask;

		dev_rx_lie(r, (next + 1) & r->mask, HDR + 60, 1); /* not its slot */
		dev_rx_lie(r, RING + 5, HDR + 60, 1);		/* out of range */
		dev_rx_lie(r, 0xffffffffu, HDR + 60, 1);
		dev_rx_lie(r, (next + 3) & r->mask, 4096, 1);	/* longer than posted */
		dev_rx_lie(r, (next + 4) & r->mask, HDR, 1);	/* header only */
		dev_rx_lie(r, (next + 5) & r->mask, HDR + 60, RING + 1);
		dev_rx_frame(r, 60, 1);
		dev_rx_frame(r, 3000, 2);
		assert_int_equal(rx_all(&q, &bytes), 2);
		assert_int_equal(bytes, 3060);
		/* Every slot came back, bad or good, and was refilled. */
		assert_int_equal(r->num_free, 0);
	}
	assert_int_equal(r->bad_used, 4 * (3 * RING / 8));
	assert_int_equal(q.stats.errors, 2 * (3 * RING / 8));
	/* An avail entry the device overwrote is set right when reposted. */
	lap = r->used_idx & r->mask;
	r->avail->ring[lap] = (uint16_t)((lap + 1) & r->mask);
	dev_rx_lie(r, (uint32_t)lap, HDR + 60, 1);
	assert_int_equal(rx_all(&q, &bytes), 1);
	assert_int_equal(r->avail->ring[lap], lap);
	/* A frame whose second buffer names another slot: all of it dropped. */
	dev_rx_lie(r, r->used->idx & r->mask, 2048 + HDR, 2);
	dev_rx_lie(r, RING + 1, 10, 1);
	assert_int_equal(rx_all(&q, &bytes), 0);
	/* Completions for buffers never posted are not believed. */
	r->used->idx = (uint16_t)(r->used->idx + RING + 1);
	assert_int_equal(rx_all(&q, &bytes), 0);
	/* Nor, after stop, one for a slot that is empty now. */
	virtio_vdpa_rxq_drain(&q);
	used_put(r, 0, HDR + 60);
	assert_int_equal(rx_all(&q, &bytes), 0);
	rxq_done(&q);
}

static void
txq_new_flags(struct virtio_vdpa_txq *q, unsigned int flags)
{
	memset(q, 0, sizeof(*q));
	memset(&fx, 0, sizeof(fx));
	fx.shm = aligned_alloc(4096, RTE_ALIGN(vv_split_ring_shared_size(RING) +
				      sizeof(q->hdrs[0]) * RING, 4096));
	fx.priv = malloc(vv_split_ring_priv_size(RING));
	assert_int_equal(vv_ring_init(&q->ring, false, fx.shm, fx.priv, RING,
					    flags), 0);
	q->ring.split.used->flags = VRING_USED_F_NO_NOTIFY;
	q->hdrs = (void *)((char *)fx.shm + vv_split_ring_shared_size(RING));
	memset(q->hdrs, 0, sizeof(q->hdrs[0]) * RING);
	q->sw_ring = fx.sw;
	q->hdr_size = hdr_size;
	q->reclaim_thresh = RING;	/* reclaim on every burst */
	q->notify.fd = -1;
}

static void
txq_new(struct virtio_vdpa_txq *q, bool in_order)
{
	txq_new_flags(q, in_order ? VV_SPLIT_IN_ORDER : 0);
}

/* Sends n fresh 60-byte frames through burst; returns how many went. */
static uint16_t
tx_some_with(struct virtio_vdpa_txq *q, uint16_t n,
	     uint16_t (*burst)(void *, struct rte_mbuf **, uint16_t))
{
	struct rte_mbuf *pkts[RING];
	uint16_t i, sent;

	for (i = 0; i < n; i++) {
		pkts[i] = rte_pktmbuf_alloc(pool);
		assert_non_null(pkts[i]);
		rte_pktmbuf_append(pkts[i], 60);
	}
	sent = burst(q, pkts, n);
	for (i = sent; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
	return sent;
}

static uint16_t
tx_some(struct virtio_vdpa_txq *q, uint16_t n)
{
	return tx_some_with(q, n, tx_burst);
}

/* Even after a failed assertion, the next test has 12-byte headers. */
static int
hdr_size_reset(void **state)
{
	(void)state;
	hdr_size = HDR;
	return 0;
}

/*
 * With HASH_REPORT the device writes a 20-byte header: the frame starts
 * after it, and its hash reaches the mbuf unless it reports none.
 */
static void
test_rx_hash_report(void **state)
{
	struct virtio_net_hdr_v1_hash h;
	struct virtio_vdpa_rxq q;
	struct rte_mbuf *pkts[RING];
	uint32_t cap;
	uint8_t *buf;
	uint16_t head, i, n;

	(void)state;
	hdr_size = sizeof(h);
	rxq_new(&q, true);
	for (i = 0; i < 3; i++) {
		head = dev_take(&q.ring.split, &buf, &cap);
		memset(&h, 0, sizeof(h));
		h.hdr.num_buffers = 1;
		h.hash_value = 0x12345670u + i;
		h.hash_report = i == 1 ? VIRTIO_NET_HASH_REPORT_NONE :
			VIRTIO_NET_HASH_REPORT_UDPv4;
		memcpy(buf, &h, sizeof(h));
		memset(buf + sizeof(h), 0x5a, 60);
		used_put(&q.ring.split, head, sizeof(h) + 60);
	}
	n = rx_hash_burst(&q, pkts, RING);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_int_equal(pkts[i]->pkt_len, 60);
		assert_int_equal(pkts[i]->data_len, 60);
		assert_int_equal(*rte_pktmbuf_mtod(pkts[i], uint8_t *), 0x5a);
		if (i == 1) {
			assert_false(pkts[i]->ol_flags & RTE_MBUF_F_RX_RSS_HASH);
		} else {
			assert_true(pkts[i]->ol_flags & RTE_MBUF_F_RX_RSS_HASH);
			assert_int_equal(pkts[i]->hash.rss, 0x12345670u + i);
		}
		rte_pktmbuf_free(pkts[i]);
	}

	/* A frame over two buffers: the hash is in the first one's header. */
	head = dev_take(&q.ring.split, &buf, &cap);
	memset(&h, 0, sizeof(h));
	h.hdr.num_buffers = 2;
	h.hash_value = 0xabcdef01u;
	h.hash_report = VIRTIO_NET_HASH_REPORT_TCPv4;
	memcpy(buf, &h, sizeof(h));
	memset(buf + sizeof(h), 0x5a, cap - sizeof(h));
	used_put(&q.ring.split, head, cap);
	head = dev_take(&q.ring.split, &buf, &cap);
	memset(buf, 0x5a, 100);
	used_put(&q.ring.split, head, 100);
	n = rx_hash_burst(&q, pkts, RING);
	assert_int_equal(n, 1);
	assert_int_equal(pkts[0]->nb_segs, 2);
	assert_true(pkts[0]->ol_flags & RTE_MBUF_F_RX_RSS_HASH);
	assert_int_equal(pkts[0]->hash.rss, 0xabcdef01u);
	assert_int_equal(pkts[0]->pkt_len, cap - sizeof(h) + 100);
	rte_pktmbuf_free(pkts[0]);
	rxq_done(&q);
}

/* The hash fields of a Tx header go out zeroed, whatever headroom held. */
static void
test_tx_hash_header(void **state)
{
	struct virtio_vdpa_txq q;
	struct rte_mbuf *m;
	const uint8_t *h;
	uint16_t head, i;

	(void)state;
	hdr_size = sizeof(struct virtio_net_hdr_v1_hash);
	txq_new(&q, false);
	m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	memset(m->buf_addr, 0xee, m->data_off);
	rte_pktmbuf_append(m, 60);
	assert_int_equal(tx_hash_burst(&q, &m, 1), 1);
	head = q.ring.split.avail->ring[0];
	assert_int_equal(q.ring.split.desc[head].len, 60 + hdr_size);
	h = (const uint8_t *)(uintptr_t)q.ring.split.desc[head].addr;
	for (i = 0; i < hdr_size; i++)
		assert_int_equal(h[i], 0);

	/*
	 * Without room for the header in headroom, each frame gets a slot of
	 * the queue's own headers: hdr_size bytes, apart from its neighbours.
	 */
	for (i = 0; i < 2; i++) {
		m = rte_pktmbuf_alloc(pool);
		assert_non_null(m);
		m->data_off = 8;
		rte_pktmbuf_append(m, 60);
		assert_int_equal(tx_hash_burst(&q, &m, 1), 1);
		head = q.ring.split.avail->ring[1 + i];
		assert_int_equal(q.ring.split.desc[head].len, hdr_size);
		assert_int_equal(q.ring.split.desc[head].addr,
				 (uintptr_t)&q.hdrs[head]);
		assert_true(q.ring.split.desc[head].flags & VRING_DESC_F_NEXT);
	}
	/* The slot type keeps each slot hdr_size bytes from the next. */
	assert_true(sizeof(q.hdrs[0]) >= hdr_size);
	virtio_vdpa_txq_drain(&q);
	free(fx.shm);
	free(fx.priv);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

static void
test_tx_hostile_completions(void **state)
{
	struct virtio_vdpa_txq q;
	uint16_t head;

	(void)state;
	txq_new(&q, false);
	assert_int_equal(tx_some(&q, 8), 8);
	head = q.ring.split.avail->ring[0];
	used_put(&q.ring.split, RING + 3, 0);		/* out of range */
	used_put(&q.ring.split, head, 0);		/* good */
	used_put(&q.ring.split, head, 0);		/* completed twice */
	assert_int_equal(tx_some(&q, 1), 1);	/* reclaims */
	assert_int_equal(q.ring.split.bad_used, 2);
	assert_int_equal(q.ring.split.num_free, RING - 8);
	virtio_vdpa_txq_drain(&q);
	free(fx.shm);
	free(fx.priv);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

static void
test_tx_inorder_batch(void **state)
{
	struct virtio_vdpa_txq q;
	int lap;

	(void)state;
	txq_new(&q, true);
	for (lap = 0; lap < 10; lap++) {
		uint16_t last;

		assert_int_equal(tx_some(&q, 40), 40);
		/*
		 * One used entry for the whole batch, as IN_ORDER allows: at
		 * the batch's first slot, the index moved on by 40 (virtio
		 * 1.1, 2.6.9). The next batch's entry is 40 slots on.
		 */
		last = q.ring.split.avail->ring[(q.ring.split.avail_idx - 1) & q.ring.split.mask];
		used_put_batch(&q.ring.split, last, 40);
		assert_int_equal(tx_some(&q, 0), 0);
		assert_int_equal(q.ring.split.num_free, RING);
		assert_int_equal(rte_mempool_in_use_count(pool), 0);
	}
	/* Batches of one, as DPDK's vhost completes, work the same way. */
	assert_int_equal(tx_some(&q, 3), 3);
	for (lap = 3; lap > 0; lap--)
		used_put(&q.ring.split, q.ring.split.avail->ring[(q.ring.split.avail_idx - lap) &
						     q.ring.split.mask], 0);
	assert_int_equal(tx_some(&q, 0), 0);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);

	/*
	 * An entry naming more chains than the index has moved on: nothing
	 * is freed early; the batch completes once the index catches up.
	 */
	assert_int_equal(tx_some(&q, 10), 10);
	used_put_batch(&q.ring.split,
		       q.ring.split.avail->ring[(q.ring.split.avail_idx - 1) & q.ring.split.mask],
		       1);
	assert_int_equal(tx_some(&q, 0), 0);
	assert_int_equal(rte_mempool_in_use_count(pool), 10);
	__atomic_store_n(&q.ring.split.used->idx, (uint16_t)(q.ring.split.used->idx + 9),
			 __ATOMIC_RELEASE);
	assert_int_equal(tx_some(&q, 0), 0);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
	assert_int_equal(q.ring.split.bad_used, 0);
	assert_int_equal(q.stats.errors, 0);
	free(fx.shm);
	free(fx.priv);
}

/*
 * Reclaim by count believes the used index only as far as chains are in
 * flight, however well the last entry is forged: every slot's head is
 * known after a lap, so a device can name the right one.
 */
static void
test_tx_inorder_count_lie(void **state)
{
	struct virtio_vdpa_txq q;
	struct vv_split_ring *r;
	uint16_t n;

	(void)state;
	txq_new(&q, true);
	r = &q.ring.split;
	for (n = 0; n < 4; n++) {
		assert_int_equal(tx_some(&q, RING / 2), RING / 2);
		used_put_batch(r, r->avail->ring[(r->avail_idx - 1) & r->mask],
			       RING / 2);
	}
	assert_int_equal(tx_some(&q, 8), 8);
	n = 8 + 20;
	r->used->ring[(uint16_t)(r->used->idx + n - 1) & r->mask].id =
		r->slot_head[(uint16_t)(r->inorder_slot + n - 1) & r->mask];
	__atomic_store_n(&r->used->idx, (uint16_t)(r->used->idx + n),
			 __ATOMIC_RELEASE);
	assert_int_equal(tx_some(&q, 0), 0);
	assert_true(rte_mempool_in_use_count(pool) <= 8);
	/* What the ring counts as free and as in flight still add up. */
	assert_int_equal((uint16_t)(r->avail_idx - r->inorder_slot),
			 RING - r->num_free);
	virtio_vdpa_txq_drain(&q);
	free(fx.shm);
	free(fx.priv);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

static void
test_tx_full_ring(void **state)
{
	struct virtio_vdpa_txq q;

	(void)state;
	txq_new(&q, false);
	/* A device that never completes: the ring fills, then refuses. */
	assert_int_equal(tx_some(&q, RING), RING);
	assert_int_equal(tx_some(&q, 4), 0);
	virtio_vdpa_txq_drain(&q);
	free(fx.shm);
	free(fx.priv);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

/* Kicks the eventfd received since the last look: the device's view. */
static uint64_t
kicks_seen(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return 0;
	return n;
}

static void
set_avail_event(struct vv_split_ring *r, uint16_t idx)
{
	__atomic_store_n(vv_split_avail_event(r), idx, __ATOMIC_RELAXED);
}

/*
 * Rx with EVENT_IDX: filling at start publishes without a kick; the kick
 * after start covers those buffers; refills kick only when they carry the
 * slot the device named. The xstat counts exactly the kicks that reached
 * the eventfd.
 */
static void
test_rx_event_idx_kicks(void **state)
{
	struct virtio_vdpa_rxq q;
	uint32_t bytes;
	int fd = eventfd(0, EFD_NONBLOCK);
	uint16_t idx;

	(void)state;
	assert_true(fd >= 0);
	rxq_new_flags(&q, true, VV_SPLIT_EVENT_IDX);
	q.notify.fd = fd;
	assert_int_equal(q.ring.split.avail->idx, RING);
	assert_int_equal(q.notify.kicks, 0);
	assert_int_equal(kicks_seen(fd), 0);
	/* NO_NOTIFY (set by rxq_new) means nothing with EVENT_IDX. */
	virtio_vdpa_kick(&q.ring, &q.notify);	/* eth_dev_start's */
	assert_int_equal(q.notify.kicks, 1);
	assert_int_equal(kicks_seen(fd), 1);

	/* The device wants to hear of slot RING + 2: the third refilled. */
	set_avail_event(&q.ring.split, RING + 2);
	dev_rx_frame(&q.ring.split, 60, 1);
	assert_int_equal(rx_all(&q, &bytes), 1);	/* refills RING */
	assert_int_equal(kicks_seen(fd), 0);
	dev_rx_frame(&q.ring.split, 60, 1);
	dev_rx_frame(&q.ring.split, 60, 1);
	dev_rx_frame(&q.ring.split, 60, 1);
	assert_int_equal(rx_all(&q, &bytes), 3);	/* RING + 1 .. + 3 */
	assert_int_equal(kicks_seen(fd), 1);
	assert_int_equal(q.notify.kicks, 2);
	dev_rx_frame(&q.ring.split, 60, 1);
	assert_int_equal(rx_all(&q, &bytes), 1);
	assert_int_equal(kicks_seen(fd), 0);

	/* Across the u16 wrap, one frame (one refill) at a time. */
	set_avail_event(&q.ring.split, 2);
	while ((idx = q.ring.split.avail_idx) != 5) {
		dev_rx_frame(&q.ring.split, 60, 1);
		assert_int_equal(rx_all(&q, &bytes), 1);
		assert_int_equal(q.ring.split.avail_idx, (uint16_t)(idx + 1));
		/* Only the refill that published slot 2 kicks. */
		assert_int_equal(kicks_seen(fd), idx == 2);
	}
	assert_int_equal(q.notify.kicks, 3);
	assert_int_equal(q.stats.errors, 0);
	rxq_done(&q);
	close(fd);
}

/* Tx: the named slot in the middle of a burst draws one kick, no more. */
static void
test_tx_event_idx_kicks(void **state)
{
	struct virtio_vdpa_txq q;
	int fd = eventfd(0, EFD_NONBLOCK);

	(void)state;
	assert_true(fd >= 0);
	txq_new_flags(&q, VV_SPLIT_EVENT_IDX);
	q.notify.fd = fd;
	set_avail_event(&q.ring.split, 5);
	assert_int_equal(tx_some(&q, 8), 8);		/* 0..7 */
	assert_int_equal(kicks_seen(fd), 1);
	assert_int_equal(tx_some(&q, 8), 8);		/* 8..15 */
	assert_int_equal(kicks_seen(fd), 0);
	set_avail_event(&q.ring.split, 16);
	assert_int_equal(tx_some(&q, 1), 1);		/* 16 */
	assert_int_equal(kicks_seen(fd), 1);
	/* Nothing sent, nothing decided. */
	set_avail_event(&q.ring.split, 17);
	assert_int_equal(tx_some(&q, 0), 0);
	assert_int_equal(kicks_seen(fd), 0);
	assert_int_equal(tx_some(&q, 2), 2);		/* 17, 18 */
	assert_int_equal(kicks_seen(fd), 1);
	assert_int_equal(q.notify.kicks, 3);
	virtio_vdpa_txq_drain(&q);
	free(fx.shm);
	free(fx.priv);
	close(fd);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

/* Without EVENT_IDX the NO_NOTIFY flag decides, and avail_event is unread. */
static void
test_tx_no_notify_kicks(void **state)
{
	struct virtio_vdpa_txq q;
	int fd = eventfd(0, EFD_NONBLOCK);

	(void)state;
	assert_true(fd >= 0);
	txq_new_flags(&q, 0);
	q.notify.fd = fd;
	set_avail_event(&q.ring.split, 2);
	assert_int_equal(tx_some(&q, 4), 4);
	assert_int_equal(kicks_seen(fd), 0);
	q.ring.split.used->flags = 0;
	set_avail_event(&q.ring.split, 100);
	assert_int_equal(tx_some(&q, 4), 4);
	assert_int_equal(tx_some(&q, 4), 4);
	assert_int_equal(kicks_seen(fd), 2);
	assert_int_equal(q.notify.kicks, 2);
	virtio_vdpa_txq_drain(&q);
	free(fx.shm);
	free(fx.priv);
	close(fd);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

/*
 * A link announcement requested of a Tx queue goes out first in its next
 * burst, built from that burst's pool; with no room it waits for a later
 * burst, and nothing leaks either way.
 */
static void
test_tx_announce_request(void **state)
{
	static const struct rte_ether_addr mac = {
		.addr_bytes = { 0x02, 0, 0, 0, 0, 0x42 } };
	const struct rte_ether_hdr *eh;
	struct virtio_vdpa_txq q;
	struct rte_mbuf *m;
	uint16_t head;

	(void)state;
	txq_new(&q, false);
	q.announce_mac = mac;
	q.announce = 1;
	/* An empty burst has no pool to build from: still pending. */
	assert_int_equal(tx_burst(&q, NULL, 0), 0);
	assert_int_equal(q.announce, 1);
	assert_int_equal(tx_some(&q, 1), 1);
	assert_int_equal(q.announce, 0);
	assert_int_equal(q.ring.split.avail->idx, 2);
	head = q.ring.split.avail->ring[0];
	m = fx.sw[head];
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	assert_int_equal(rte_be_to_cpu_16(eh->ether_type), RTE_ETHER_TYPE_RARP);
	assert_memory_equal(&eh->src_addr, &mac, sizeof(mac));
	assert_int_equal(q.stats.packets, 2);

	/* Full ring: the request waits, the frame built for it is freed. */
	assert_int_equal(tx_some(&q, RING - 2), RING - 2);
	q.announce = 1;
	assert_int_equal(tx_some(&q, 1), 0);
	assert_int_equal(q.announce, 1);
	assert_int_equal(rte_mempool_in_use_count(pool), RING);
	used_put(&q.ring.split, head, 0);
	assert_int_equal(tx_some(&q, 1), 0);	/* the RARP took the slot */
	assert_int_equal(q.announce, 0);

	/* A request left at stop does not survive into the next run. */
	q.announce = 1;
	virtio_vdpa_txq_drain(&q);
	assert_int_equal(q.announce, 0);
	free(fx.shm);
	free(fx.priv);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

/*
 * D1: a device that rewrites a used entry between two reads of it. Every
 * access to the ring's page faults and is single-stepped; the entry under
 * test reads honestly twice (its id and its length, once each) and lies
 * from then on: id out of range, length below the header. Before the fix
 * the merged path read the entry a second time and took a NULL mbuf or a
 * wrapped length.
 */
static struct {
	void *page;
	uintptr_t id, len;	/* addresses of the entry's two fields */
	unsigned int reads;
	struct sigaction old_segv;	/* cmocka's, for a real crash */
} lie;

static void
lie_on_fault(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	uintptr_t a = (uintptr_t)si->si_addr;

	/* A fault elsewhere is a real crash: let it be one. */
	if (a - (uintptr_t)lie.page >= 4096) {
		sigaction(sig, &lie.old_segv, NULL);
		return;
	}
	mprotect(lie.page, 4096, PROT_READ | PROT_WRITE);
	if ((a == lie.id || a == lie.len) && lie.reads++ >= 2) {
		*(volatile uint32_t *)lie.id = 0xffff;
		*(volatile uint32_t *)lie.len = 2;
	}
	/* Let the access through, and fault again right after it. */
	uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
}

static void
lie_on_step(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	(void)sig;
	(void)si;
	mprotect(lie.page, 4096, PROT_NONE);
	uc->uc_mcontext.gregs[REG_EFL] &= ~0x100;
}

static void
test_rx_used_rewritten_d1(void **state)
{
	struct sigaction segv = { .sa_sigaction = lie_on_fault,
				  .sa_flags = SA_SIGINFO };
	struct sigaction step = { .sa_sigaction = lie_on_step,
				  .sa_flags = SA_SIGINFO };
	struct sigaction old_step;
	struct virtio_vdpa_rxq q;
	struct rte_mbuf *pkts[RING];
	struct vring_used_elem *e;
	uint16_t n, i;

	(void)state;
	rxq_new(&q, true);
	dev_rx_frame(&q.ring.split, 2000, 2);
	e = &q.ring.split.used->ring[0];
	lie.page = (void *)((uintptr_t)e & ~(uintptr_t)4095);
	lie.id = (uintptr_t)&e->id;
	lie.len = (uintptr_t)&e->len;
	lie.reads = 0;
	assert_int_equal(sigaction(SIGSEGV, &segv, &lie.old_segv), 0);
	assert_int_equal(sigaction(SIGTRAP, &step, &old_step), 0);
	mprotect(lie.page, 4096, PROT_NONE);
	n = rx_burst(&q, pkts, RING);
	mprotect(lie.page, 4096, PROT_READ | PROT_WRITE);
	sigaction(SIGSEGV, &lie.old_segv, NULL);
	sigaction(SIGTRAP, &old_step, NULL);
	/* The entry was read, each field once, and then never again. */
	assert_int_equal(lie.reads, 2);
	assert_int_equal(n, 1);
	assert_int_equal(pkts[0]->pkt_len, 2000);
	assert_int_equal(pkts[0]->nb_segs, 2);
	for (i = 0; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
	rxq_done(&q);
}

/*
 * D2: num_buffers beyond the buffers in flight is a lie, not a frame in
 * transit: before, Rx waited for it for good.
 */
static void
test_rx_num_buffers_beyond_in_flight_d2(void **state)
{
	struct virtio_vdpa_rxq q;
	struct virtio_net_hdr_mrg_rxbuf h = { .num_buffers = RING - 4 };
	uint32_t bytes, cap;
	uint8_t *buf;
	uint16_t head;
	int i;

	(void)state;
	rxq_new(&q, true);
	/* Ten frames taken and not refilled: 54 buffers in flight. */
	q.refill_thresh = RING;
	for (i = 0; i < 10; i++)
		dev_rx_frame(&q.ring.split, 60, 1);
	assert_int_equal(rx_all(&q, &bytes), 10);
	assert_int_equal(q.ring.split.num_free, 10);
	/* 60 buffers claimed: fewer than the ring holds, more than posted. */
	head = dev_take(&q.ring.split, &buf, &cap);
	memcpy(buf, &h, HDR);
	used_put(&q.ring.split, head, HDR + 60);
	dev_rx_frame(&q.ring.split, 60, 1);
	assert_int_equal(rx_all(&q, &bytes), 1);
	assert_int_equal(bytes, 60);
	assert_int_equal(q.stats.errors, 1);
	rxq_done(&q);
}

/*
 * D3: a used entry with a good id and a bad length gives its buffer back.
 * Before, its slot was gone until restart, and a ring's worth stopped Rx.
 */
static void
test_rx_bad_length_returns_slot_d3(void **state)
{
	struct virtio_vdpa_rxq q;
	uint32_t bytes, cap;
	uint8_t *buf;
	int lap, i;

	(void)state;
	rxq_new(&q, false);
	for (lap = 0; lap < 3; lap++) {
		for (i = 0; i < RING; i++) {
			uint16_t head = dev_take(&q.ring.split, &buf, &cap);

			used_put(&q.ring.split, head, cap + 1);
		}
		assert_int_equal(rx_all(&q, &bytes), 0);
		assert_int_equal(q.ring.split.num_free, 0);	/* refilled */
	}
	assert_int_equal(q.ring.split.bad_used, 3 * RING);
	dev_rx_frame(&q.ring.split, 60, 1);
	assert_int_equal(rx_all(&q, &bytes), 1);
	rxq_done(&q);
}

/* A chain of n mbufs of 10 bytes each, its header in headroom. */
static struct rte_mbuf *
chain_of(uint16_t n)
{
	struct rte_mbuf *head = NULL;
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

		assert_non_null(m);
		rte_pktmbuf_append(m, 10);
		if (head == NULL)
			head = m;
		else
			assert_int_equal(rte_pktmbuf_chain(head, m), 0);
	}
	return head;
}

/*
 * D4: a frame with more segments than the ring has descriptors is dropped,
 * not left at the head of the queue for good; nb_segs + 1 descriptors in
 * 16 bits wrapped to 0 for 65535 segments.
 */
static void
test_tx_too_many_segments_d4(void **state)
{
	struct virtio_vdpa_txq q;
	struct rte_mbuf *pkts[2], *m;

	(void)state;
	txq_new(&q, false);
	pkts[0] = chain_of(RING + 6);
	pkts[1] = chain_of(3);
	assert_int_equal(tx_burst(&q, pkts, 2), 2);
	assert_int_equal(q.stats.errors, 1);
	assert_int_equal(q.stats.packets, 1);
	assert_int_equal(q.ring.split.num_free, RING - 3);
	/* No headroom for the header: nb_segs + 1 descriptors. */
	m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	m->data_off = 0;
	m->nb_segs = 65535;
	assert_int_equal(tx_burst(&q, &m, 1), 1);
	assert_int_equal(q.stats.errors, 2);
	assert_int_equal(tx_some(&q, 1), 1);
	virtio_vdpa_txq_drain(&q);
	free(fx.shm);
	free(fx.priv);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

/*
 * D5: a burst after stop meets a used entry the device wrote late. Stop
 * freed every mbuf; before, the burst took the cleared slot for one.
 */
static void
test_burst_after_stop_d5(void **state)
{
	struct virtio_vdpa_rxq rq;
	struct virtio_vdpa_txq tq;
	uint32_t bytes, cap;
	uint8_t *buf;
	uint16_t head;

	(void)state;
	rxq_new(&rq, false);
	head = dev_take(&rq.ring.split, &buf, &cap);
	virtio_vdpa_rxq_drain(&rq);
	used_put(&rq.ring.split, head, HDR + 60);
	assert_int_equal(rx_all(&rq, &bytes), 0);
	rxq_done(&rq);

	txq_new(&tq, false);
	assert_int_equal(tx_some(&tq, 4), 4);
	head = tq.ring.split.avail->ring[0];
	virtio_vdpa_txq_drain(&tq);
	used_put(&tq.ring.split, head, 0);
	assert_int_equal(tx_some(&tq, 1), 1);
	virtio_vdpa_txq_drain(&tq);
	free(fx.shm);
	free(fx.priv);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

/* D6: a used length of exactly the header is no frame. */
static void
test_rx_header_only_d6(void **state)
{
	struct virtio_vdpa_rxq q;
	uint32_t bytes, cap;
	uint8_t *buf;
	uint16_t head;

	(void)state;
	rxq_new(&q, false);
	head = dev_take(&q.ring.split, &buf, &cap);
	used_put(&q.ring.split, head, HDR);
	dev_rx_frame(&q.ring.split, 60, 1);
	assert_int_equal(rx_all(&q, &bytes), 1);
	assert_int_equal(bytes, 60);
	assert_int_equal(q.stats.errors, 1);
	assert_int_equal(q.ring.split.num_free, 0);
	rxq_done(&q);
}

/* ---- the same bursts on packed rings ---------------------------------- */

static struct pdev pd;

static uint16_t
prx_burst(void *q, struct rte_mbuf **pkts, uint16_t n)
{
	return virtio_vdpa_bursts_for(true, false, false, false).rx(q, pkts, n);
}

static uint16_t
ptx_burst(void *q, struct rte_mbuf **pkts, uint16_t n)
{
	return virtio_vdpa_bursts_for(true, false, false, false).tx(q, pkts, n);
}

static void
packed_mem(size_t extra)
{
	fx.shm = aligned_alloc(4096, RTE_ALIGN(vv_ring_shared_size(true, RING) +
					       extra, 4096));
	fx.priv = malloc(vv_ring_priv_size(true, RING));
}

static void
prxq_new_flags(struct virtio_vdpa_rxq *q, bool mergeable, unsigned int flags)
{
	memset(q, 0, sizeof(*q));
	memset(&fx, 0, sizeof(fx));
	packed_mem(0);
	assert_int_equal(vv_ring_init(&q->ring, true, fx.shm, fx.priv, RING,
				      flags), 0);
	/* A polling device: no kicks. */
	q->ring.packed.device_event->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
	pdev_init(&pd, q->ring.packed.desc, RING);
	q->sw_ring = fx.sw;
	q->mp = pool;
	q->hdr_size = HDR;
	q->mergeable = mergeable;
	q->refill_thresh = 1;
	q->notify.fd = -1;
	virtio_vdpa_rxq_prepare(q);
	assert_int_equal(virtio_vdpa_rxq_fill(q), 0);
}

static void
prxq_new(struct virtio_vdpa_rxq *q, bool mergeable)
{
	prxq_new_flags(q, mergeable, 0);
}

/*
 * Delivers a frame of len bytes over nbufs buffers, its header saying
 * num_buffers; returns the first buffer's id.
 */
static uint16_t
pdev_rx_frame(uint32_t len, uint16_t nbufs, uint16_t num_buffers)
{
	uint16_t i, first = 0;

	for (i = 0; i < nbufs; i++) {
		struct pdev_buf b;
		uint8_t *buf;
		uint32_t n;

		assert_true(pdev_take(&pd, &b));
		assert_int_equal(b.ndesc, 1);
		assert_true(b.writable[0]);
		buf = (uint8_t *)(uintptr_t)b.addr[0];
		if (i == 0) {
			struct virtio_net_hdr_mrg_rxbuf h = {
				.num_buffers = num_buffers,
			};

			memcpy(buf, &h, HDR);
			n = RTE_MIN(len + HDR, b.len[0]);
			memset(buf + HDR, 0x5a, n - HDR);
			len -= n - HDR;
		} else {
			n = RTE_MIN(len, b.len[0]);
			memset(buf, 0x5a, n);
			len -= n;
		}
		if (i == 0)
			first = b.id;
		pdev_put_used(&pd, b.id, n, 1);
	}
	return first;
}

static uint16_t
prx_all(struct virtio_vdpa_rxq *q, uint32_t *bytes)
{
	struct rte_mbuf *pkts[RING];
	uint16_t n = prx_burst(q, pkts, RING), i;

	*bytes = 0;
	for (i = 0; i < n; i++) {
		assert_int_equal(pkts[i]->pkt_len, rte_pktmbuf_pkt_len(pkts[i]));
		*bytes += pkts[i]->pkt_len;
		rte_pktmbuf_free(pkts[i]);
	}
	return n;
}

static void
test_packed_rx_honest(void **state)
{
	struct virtio_vdpa_rxq q;
	uint32_t bytes;
	int lap;

	(void)state;
	prxq_new(&q, true);
	/* Enough laps for both wrap counters to flip many times. */
	for (lap = 0; lap < 100; lap++) {
		pdev_rx_frame(60, 1, 1);
		pdev_rx_frame(9000, 5, 5);
		assert_int_equal(prx_all(&q, &bytes), 2);
		assert_int_equal(bytes, 9060);
	}
	assert_int_equal(q.stats.errors, 0);
	assert_int_equal(q.ring.packed.bad_used, 0);
	rxq_done(&q);
}

/* After stop, a late used descriptor names nothing in flight. */
static void
packed_rx_late_after_stop(struct virtio_vdpa_rxq *q)
{
	struct pdev_buf b;
	uint32_t bytes;

	assert_true(pdev_take(&pd, &b));
	virtio_vdpa_rxq_drain(q);
	pdev_init(&pd, q->ring.packed.desc, RING);
	pdev_put_used(&pd, b.id, 100, 1);
	assert_int_equal(prx_all(q, &bytes), 0);
	rxq_done(q);
}

/* IN_ORDER packed Rx: the buffer in slot s has id s, handed back in turn. */
static void
test_packed_rx_inorder_honest(void **state)
{
	struct virtio_vdpa_rxq q;
	uint32_t bytes;
	int lap;

	(void)state;
	prxq_new_flags(&q, true, VV_RING_IN_ORDER);
	for (lap = 0; lap < 100; lap++) {
		uint16_t slot = pd.avail_idx;

		assert_int_equal(pdev_rx_frame(60, 1, 1), slot);
		pdev_rx_frame(9000, 5, 5);
		assert_int_equal(prx_all(&q, &bytes), 2);
		assert_int_equal(bytes, 9060);
	}
	assert_int_equal(q.stats.errors, 0);
	assert_int_equal(q.ring.packed.bad_used, 0);
	assert_int_equal(q.ring.packed.num_free, 0);
	rxq_done(&q);
}

/* The device takes the next buffer and says `id` with `len` for it. */
static void
pdev_rx_lie(uint16_t id, uint32_t len, uint16_t num_buffers)
{
	struct virtio_net_hdr_mrg_rxbuf h = { .num_buffers = num_buffers };
	struct pdev_buf b;

	assert_true(pdev_take(&pd, &b));
	memcpy((void *)(uintptr_t)b.addr[0], &h, HDR);
	pdev_put_used(&pd, id, len, 1);
}

static void
test_packed_rx_inorder_hostile(void **state)
{
	struct virtio_vdpa_rxq q;
	uint32_t bytes;
	int lap;

	(void)state;
	prxq_new_flags(&q, true, VV_RING_IN_ORDER);
	for (lap = 0; lap < 3 * RING / 8; lap++) {
		uint16_t next = pd.avail_idx;

		pdev_rx_lie((next + 1) % RING, HDR + 60, 1);	/* not its slot */
		pdev_rx_lie(RING + 5, HDR + 60, 1);		/* out of range */
		pdev_rx_lie((next + 2) % RING, 4096, 1);	/* longer than posted */
		pdev_rx_lie((next + 3) % RING, HDR, 1);		/* header only */
		pdev_rx_lie((next + 4) % RING, HDR + 60, RING + 1);
		pdev_rx_frame(60, 1, 1);
		pdev_rx_frame(3000, 2, 2);
		assert_int_equal(prx_all(&q, &bytes), 2);
		assert_int_equal(bytes, 3060);
		assert_int_equal(q.ring.packed.num_free, 0);
	}
	assert_int_equal(q.ring.packed.bad_used, 3 * (3 * RING / 8));
	assert_int_equal(q.stats.errors, 2 * (3 * RING / 8));
	packed_rx_late_after_stop(&q);
}

static void
test_packed_rx_hostile(void **state)
{
	struct virtio_vdpa_rxq q;
	struct pdev_buf b;
	uint32_t bytes;
	uint16_t id;
	int i;

	(void)state;
	prxq_new(&q, true);
	/* A buffer claimed twice, then an id out of range: one slot each. */
	q.refill_thresh = RING;
	id = pdev_rx_frame(60, 1, 1);
	pdev_put_used(&pd, id, HDR + 60, 1);
	pdev_put_used(&pd, RING + 5, 100, 1);
	assert_int_equal(prx_all(&q, &bytes), 1);
	assert_int_equal(bytes, 60);
	assert_int_equal(q.ring.packed.bad_used, 2);
	/* Its lies overwrote two buffers it had not read: those are gone. */
	pd.avail_idx = pd.used_idx;
	q.refill_thresh = 1;
	/* Longer than posted, then exactly the header: buffers come back. */
	for (i = 0; i < 3 * RING; i++) {
		assert_true(pdev_take(&pd, &b));
		pdev_put_used(&pd, b.id, i % 2 ? HDR : b.len[0] + 1, 1);
		assert_int_equal(prx_all(&q, &bytes), 0);
	}
	assert_int_equal(q.ring.packed.num_free, 0);	/* all refilled */
	/* num_buffers beyond the buffers in flight: dropped, not awaited. */
	pdev_rx_frame(60, 1, RING + 1);
	pdev_rx_frame(60, 1, 1);
	assert_int_equal(prx_all(&q, &bytes), 1);
	assert_int_equal(bytes, 60);
	packed_rx_late_after_stop(&q);
}

static void
ptxq_new(struct virtio_vdpa_txq *q, unsigned int flags)
{
	memset(q, 0, sizeof(*q));
	memset(&fx, 0, sizeof(fx));
	packed_mem(sizeof(q->hdrs[0]) * RING);
	assert_int_equal(vv_ring_init(&q->ring, true, fx.shm, fx.priv, RING,
				      flags), 0);
	q->ring.packed.device_event->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
	pdev_init(&pd, q->ring.packed.desc, RING);
	q->hdrs = (void *)((char *)fx.shm + vv_ring_shared_size(true, RING));
	memset(q->hdrs, 0, sizeof(q->hdrs[0]) * RING);
	q->sw_ring = fx.sw;
	q->hdr_size = HDR;
	q->reclaim_thresh = RING;
	q->notify.fd = -1;
}

static void
ptxq_done(struct virtio_vdpa_txq *q)
{
	virtio_vdpa_txq_drain(q);
	free(fx.shm);
	free(fx.priv);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

static void
test_packed_tx(void **state)
{
	struct virtio_vdpa_txq q;
	struct rte_mbuf *pkts[3];
	struct pdev_buf b;
	int lap;

	(void)state;
	ptxq_new(&q, 0);
	for (lap = 0; lap < 100; lap++) {
		/* A lone frame, a 3-segment chain, and a frame in a shared mbuf
		 * (its header then takes a descriptor of its own). */
		pkts[0] = chain_of(1);
		pkts[1] = chain_of(3);
		pkts[2] = chain_of(1);
		rte_mbuf_refcnt_update(pkts[2], 1);
		assert_int_equal(ptx_burst(&q, pkts, 3), 3);
		assert_true(pdev_take(&pd, &b));
		assert_int_equal(b.ndesc, 1);
		assert_int_equal(b.len[0], HDR + 10);
		assert_false(b.writable[0]);
		pdev_put_used(&pd, b.id, 0, b.ndesc);
		assert_true(pdev_take(&pd, &b));
		assert_int_equal(b.ndesc, 3);
		pdev_put_used(&pd, b.id, 0, b.ndesc);
		assert_true(pdev_take(&pd, &b));
		assert_int_equal(b.ndesc, 2);
		assert_int_equal(b.len[0], HDR);
		pdev_put_used(&pd, b.id, 0, b.ndesc);
		rte_pktmbuf_free(pkts[2]);	/* our reference */
	}
	/* Reclaimed on the next burst: only that frame's mbufs are in use. */
	pkts[0] = chain_of(1);
	assert_int_equal(ptx_burst(&q, pkts, 1), 1);
	assert_int_equal(q.ring.packed.num_free, RING - 1);
	/* More segments than descriptors: freed and counted, never stuck. */
	pkts[0] = chain_of(RING + 1);
	pkts[1] = chain_of(1);
	assert_int_equal(ptx_burst(&q, pkts, 2), 2);
	assert_int_equal(q.stats.errors, 1);
	/* A full ring refuses, and frees nothing of the caller's. */
	while (q.ring.packed.num_free > 0) {
		pkts[0] = chain_of(1);
		assert_int_equal(ptx_burst(&q, pkts, 1), 1);
	}
	pkts[0] = chain_of(1);
	assert_int_equal(ptx_burst(&q, pkts, 1), 0);
	rte_pktmbuf_free(pkts[0]);
	ptxq_done(&q);
}

static void
test_packed_tx_inorder_batch(void **state)
{
	struct virtio_vdpa_txq q;
	struct rte_mbuf *pkts[8];
	struct pdev_buf b;
	uint16_t last = 0, skip = 0;
	int lap, i;

	(void)state;
	ptxq_new(&q, VV_RING_IN_ORDER);
	for (lap = 0; lap < 60; lap++) {
		for (i = 0; i < 8; i++)
			pkts[i] = chain_of((uint16_t)(1 + i % 2));
		assert_int_equal(ptx_burst(&q, pkts, 8), 8);
		/* DPDK's vhost: one used descriptor for the batch, its last id. */
		skip = 0;
		for (i = 0; i < 8; i++) {
			assert_true(pdev_take(&pd, &b));
			last = b.id;
			skip += b.ndesc;
		}
		pdev_put_used(&pd, last, 0, skip);
	}
	/* A bad id still completes the oldest: no slot lost. */
	pkts[0] = chain_of(1);
	assert_int_equal(ptx_burst(&q, pkts, 1), 1);
	assert_int_equal(q.ring.packed.num_free, RING - 1);
	assert_true(pdev_take(&pd, &b));
	pdev_put_used(&pd, 0xffff, 0, 1);
	pkts[0] = chain_of(1);
	assert_int_equal(ptx_burst(&q, pkts, 1), 1);
	assert_int_equal(q.ring.packed.bad_used, 1);
	assert_int_equal(q.ring.packed.num_free, RING - 1);
	ptxq_done(&q);
}

static void
test_packed_tx_kicks(void **state)
{
	struct virtio_vdpa_txq q;
	int fd = eventfd(0, EFD_NONBLOCK);
	struct vring_packed_desc_event *ev;

	(void)state;
	assert_true(fd >= 0);
	ptxq_new(&q, VV_RING_EVENT_IDX);
	q.notify.fd = fd;
	ev = q.ring.packed.device_event;
	/* The device waits for slot 2 of the first lap. */
	ev->off_wrap = 2 | 0x8000;
	ev->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
	assert_int_equal(tx_some_with(&q, 2, ptx_burst), 2);	/* 0, 1 */
	assert_int_equal(kicks_seen(fd), 0);
	ev->flags = VRING_PACKED_EVENT_FLAG_DESC;
	assert_int_equal(tx_some_with(&q, 2, ptx_burst), 2);	/* 2, 3 */
	assert_int_equal(kicks_seen(fd), 1);
	/* It read on to slot 4 and waits there: publishing 4 kicks... */
	ev->off_wrap = 4 | 0x8000;
	assert_int_equal(tx_some_with(&q, 1, ptx_burst), 1);	/* 4 */
	assert_int_equal(kicks_seen(fd), 1);
	/* A device that read 5 as it came and waits for 6: no kick. */
	ev->off_wrap = 6 | 0x8000;
	assert_int_equal(tx_some_with(&q, 1, ptx_burst), 1);	/* 5 */
	assert_int_equal(kicks_seen(fd), 0);
	ev->flags = VRING_PACKED_EVENT_FLAG_ENABLE;
	assert_int_equal(tx_some_with(&q, 1, ptx_burst), 1);
	assert_int_equal(kicks_seen(fd), 1);
	ev->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
	assert_int_equal(tx_some_with(&q, 1, ptx_burst), 1);
	assert_int_equal(kicks_seen(fd), 0);
	assert_int_equal(q.notify.kicks, 3);
	close(fd);
	ptxq_done(&q);
}

int
main(void)
{
	char *eal_args[] = {
		"test_rxtx_hostile", "--no-huge", "--no-pci", "-m", "64",
		"--no-shconf", "--log-level=lib.eal:error",
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rx_honest),
		cmocka_unit_test(test_rx_bad_ids_and_lengths),
		cmocka_unit_test(test_rx_bad_num_buffers),
		cmocka_unit_test(test_rx_index_jump),
		cmocka_unit_test(test_rx_inorder_honest),
		cmocka_unit_test(test_rx_inorder_hostile),
		cmocka_unit_test_teardown(test_rx_hash_report, hdr_size_reset),
		cmocka_unit_test_teardown(test_tx_hash_header, hdr_size_reset),
		cmocka_unit_test(test_tx_hostile_completions),
		cmocka_unit_test(test_tx_inorder_batch),
		cmocka_unit_test(test_tx_inorder_count_lie),
		cmocka_unit_test(test_tx_full_ring),
		cmocka_unit_test(test_rx_event_idx_kicks),
		cmocka_unit_test(test_tx_event_idx_kicks),
		cmocka_unit_test(test_tx_no_notify_kicks),
		cmocka_unit_test(test_tx_announce_request),
		cmocka_unit_test(test_rx_used_rewritten_d1),
		cmocka_unit_test(test_rx_num_buffers_beyond_in_flight_d2),
		cmocka_unit_test(test_rx_bad_length_returns_slot_d3),
		cmocka_unit_test(test_tx_too_many_segments_d4),
		cmocka_unit_test(test_burst_after_stop_d5),
		cmocka_unit_test(test_rx_header_only_d6),
		cmocka_unit_test(test_packed_rx_honest),
		cmocka_unit_test(test_packed_rx_hostile),
		cmocka_unit_test(test_packed_rx_inorder_honest),
		cmocka_unit_test(test_packed_rx_inorder_hostile),
		cmocka_unit_test(test_packed_tx),
		cmocka_unit_test(test_packed_tx_inorder_batch),
		cmocka_unit_test(test_packed_tx_kicks),
	};

	if (rte_eal_init(RTE_DIM(eal_args), eal_args) < 0)
		return 2;
	pool = rte_pktmbuf_pool_create("hostile", 1023, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		return 2;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

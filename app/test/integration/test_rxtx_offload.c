/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The offload bursts on a split ring, against the spec-side device model:
 * what reaches the device (the virtio-net header's checksum and
 * segmentation fields, checksums done in software, VLAN tags) and what the
 * app gets from a frame the device wrote (packet types, checksum flags
 * from the header or from software, VLAN stripping, LRO). Checksums are
 * checked here by their definition (the one's complement sum over the data
 * is 0xffff), not with the driver's code.
 *
 * Needs EAL for mempools: runs with --no-huge --no-pci, no device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/virtio_net.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "split_device_model.h"
#include "virtio_vdpa_offload.h"
#include "virtio_vdpa_rxtx.h"

#define RING 64
#define HDR ((uint16_t)sizeof(struct virtio_net_hdr_mrg_rxbuf))
#define PAYLOAD 200
#define FRAME_MAX 2048

static struct rte_mempool *pool;

struct fixture {
	void *shm;
	void *priv;
	struct rte_mbuf *sw[RING];
	struct sdev dev;
};

static struct fixture fx;

static void
fixture_new(struct vv_ring *ring, size_t extra)
{
	memset(&fx, 0, sizeof(fx));
	fx.shm = aligned_alloc(4096, RTE_ALIGN(vv_split_ring_shared_size(RING) +
					       extra, 4096));
	fx.priv = malloc(vv_split_ring_priv_size(RING));
	assert_int_equal(vv_ring_init(ring, false, fx.shm, fx.priv, RING, 0),
			 0);
	ring->split.used->flags = VRING_USED_F_NO_NOTIFY;
	sdev_init(&fx.dev, ring->split.desc, ring->split.avail,
		  ring->split.used, RING);
}

static void
fixture_done(void)
{
	free(fx.shm);
	free(fx.priv);
	assert_int_equal(fx.dev.errors, 0);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

/* ---- frames ---------------------------------------------------------------- */

enum l3 { V4, V6 };

/*
 * An Ethernet/IP/TCP-or-UDP frame of PAYLOAD bytes, with valid checksums
 * unless told; lens and offsets in the mbuf as an app sets them.
 */
static void
frame_fill(uint8_t *f, enum l3 l3, uint8_t proto, bool vlan, uint32_t *len)
{
	struct rte_ether_hdr *eth = (void *)f;
	uint32_t off = sizeof(*eth), l4len, i;
	uint8_t *l4;

	memset(f, 0, FRAME_MAX);
	memset(eth->dst_addr.addr_bytes, 0x02, 6);
	memset(eth->src_addr.addr_bytes, 0x04, 6);
	if (vlan) {
		struct rte_vlan_hdr *vh = (void *)(f + off);

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(42);
		vh->eth_proto = rte_cpu_to_be_16(l3 == V4 ? RTE_ETHER_TYPE_IPV4 :
						 RTE_ETHER_TYPE_IPV6);
		off += sizeof(*vh);
	} else {
		eth->ether_type = rte_cpu_to_be_16(l3 == V4 ? RTE_ETHER_TYPE_IPV4 :
						   RTE_ETHER_TYPE_IPV6);
	}
	l4len = (proto == IPPROTO_TCP ? sizeof(struct rte_tcp_hdr) :
		 sizeof(struct rte_udp_hdr)) + PAYLOAD;
	if (l3 == V4) {
		struct rte_ipv4_hdr *ip = (void *)(f + off);

		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + l4len);
		ip->time_to_live = 64;
		ip->next_proto_id = proto;
		ip->src_addr = rte_cpu_to_be_32(0xc6120001);
		ip->dst_addr = rte_cpu_to_be_32(0xc6120002);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		off += sizeof(*ip);
	} else {
		struct rte_ipv6_hdr *ip = (void *)(f + off);

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(l4len);
		ip->proto = proto;
		ip->hop_limits = 64;
		ip->src_addr[15] = 1;
		ip->dst_addr[15] = 2;
		off += sizeof(*ip);
	}
	l4 = f + off;
	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *t = (void *)l4;

		t->src_port = rte_cpu_to_be_16(1000);
		t->dst_port = rte_cpu_to_be_16(2000);
		t->data_off = 5 << 4;
		t->tcp_flags = RTE_TCP_ACK_FLAG;
	} else {
		struct rte_udp_hdr *u = (void *)l4;

		u->src_port = rte_cpu_to_be_16(1000);
		u->dst_port = rte_cpu_to_be_16(2000);
		u->dgram_len = rte_cpu_to_be_16(l4len);
	}
	for (i = l4len - PAYLOAD; i < l4len; i++)
		l4[i] = (uint8_t)(i * 7 + 3);
	*len = off + l4len;
	/* The L4 checksum over the pseudo header, as a sender computes it. */
	if (l3 == V4) {
		const struct rte_ipv4_hdr *ip = (void *)(l4 - sizeof(*ip));
		uint16_t c = rte_ipv4_udptcp_cksum(ip, l4);

		memcpy(l4 + (proto == IPPROTO_TCP ? 16 : 6), &c, 2);
	} else {
		const struct rte_ipv6_hdr *ip = (void *)(l4 - sizeof(*ip));
		uint16_t c = rte_ipv6_udptcp_cksum(ip, l4);

		memcpy(l4 + (proto == IPPROTO_TCP ? 16 : 6), &c, 2);
	}
}

/* The sum over [off, off+len) plus the pseudo header folds to 0xffff. */
static bool
l4_sum_ok(const uint8_t *f, uint32_t l3off, enum l3 l3, uint32_t len)
{
	if (l3 == V4) {
		const struct rte_ipv4_hdr *ip = (const void *)(f + l3off);

		return rte_ipv4_udptcp_cksum_verify(ip, f + l3off + sizeof(*ip)) == 0;
	}
	(void)len;
	return rte_ipv6_udptcp_cksum_verify((const void *)(f + l3off),
					    f + l3off + sizeof(struct rte_ipv6_hdr)) == 0;
}

static bool
ip_sum_ok(const uint8_t *f, uint32_t l3off)
{
	return rte_raw_cksum(f + l3off, sizeof(struct rte_ipv4_hdr)) == 0xffff;
}

/*
 * The frame as an app hands it to Tx with checksum offloads: the L4 field
 * holds the pseudo-header sum (rte_ipv4/6_phdr_cksum), the IPv4 one 0.
 * `split` puts the L4 payload in a second segment.
 */
static struct rte_mbuf *
tx_frame(enum l3 l3, uint8_t proto, uint64_t flags, bool split)
{
	uint8_t f[FRAME_MAX];
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t len, l3len = l3 == V4 ? sizeof(struct rte_ipv4_hdr) :
		sizeof(struct rte_ipv6_hdr);
	uint32_t l4len = proto == IPPROTO_TCP ? sizeof(struct rte_tcp_hdr) :
		sizeof(struct rte_udp_hdr);
	uint32_t l4off = RTE_ETHER_HDR_LEN + l3len, head;
	uint16_t phdr;

	assert_non_null(m);
	frame_fill(f, l3, proto, false, &len);
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = l3len;
	m->l4_len = l4len;
	m->ol_flags = flags | (l3 == V4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6);
	if (flags & RTE_MBUF_F_TX_TCP_SEG)
		m->tso_segsz = 1448;
	if (l3 == V4) {
		struct rte_ipv4_hdr *ip = (void *)(f + RTE_ETHER_HDR_LEN);

		if (flags & RTE_MBUF_F_TX_IP_CKSUM)
			ip->hdr_checksum = 0;
		phdr = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else {
		phdr = rte_ipv6_phdr_cksum((void *)(f + RTE_ETHER_HDR_LEN),
					   m->ol_flags);
	}
	if (flags & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG))
		memcpy(f + l4off + (proto == IPPROTO_TCP ? 16 : 6), &phdr, 2);
	head = split ? l4off + l4len + 10 : len;
	memcpy(rte_pktmbuf_append(m, head), f, head);
	if (split) {
		struct rte_mbuf *t = rte_pktmbuf_alloc(pool);

		assert_non_null(t);
		memcpy(rte_pktmbuf_append(t, len - head), f + head, len - head);
		assert_int_equal(rte_pktmbuf_chain(m, t), 0);
	}
	return m;
}

/* ---- Tx ---------------------------------------------------------------- */

static void
txq_new(struct virtio_vdpa_txq *q, unsigned int offl)
{
	memset(q, 0, sizeof(*q));
	fixture_new(&q->ring, sizeof(q->hdrs[0]) * RING);
	q->hdrs = (void *)((char *)fx.shm + vv_split_ring_shared_size(RING));
	memset(q->hdrs, 0, sizeof(q->hdrs[0]) * RING);
	q->sw_ring = fx.sw;
	q->hdr_size = HDR;
	q->offl = (uint16_t)offl;
	q->reclaim_thresh = RING;
	q->notify.fd = -1;
}

static void
txq_done(struct virtio_vdpa_txq *q)
{
	virtio_vdpa_txq_drain(q);
	fixture_done();
}

static uint16_t
tx(struct virtio_vdpa_txq *q, struct rte_mbuf **m, uint16_t n)
{
	return virtio_vdpa_bursts_for(false, false, false, true).tx(q, m, n);
}

/* What the device read: the header and the frame, gathered. */
struct seen {
	struct virtio_net_hdr_mrg_rxbuf h;
	uint8_t f[FRAME_MAX];
	uint32_t len;
};

static void
dev_read(struct seen *s)
{
	struct sdev_buf b = { 0 };
	uint32_t got = 0;
	uint8_t all[HDR + FRAME_MAX];
	uint16_t i;

	assert_true(sdev_take(&fx.dev, &b));
	for (i = 0; i < b.ndesc; i++) {
		const struct vring_desc *d = &fx.dev.desc[b.ids[i]];

		assert_false(b.writable[i]);
		assert_true(got + d->len <= sizeof(all));
		memcpy(all + got, (const void *)(uintptr_t)d->addr, d->len);
		got += d->len;
	}
	assert_true(got >= HDR);
	memcpy(&s->h, all, HDR);
	s->len = got - HDR;
	memcpy(s->f, all + HDR, s->len);
	sdev_put_used(&fx.dev, b.head, 0);
	sdev_publish(&fx.dev);
}

static void
test_tx_cksum_in_software(void **state)
{
	static const struct { enum l3 l3; uint8_t proto; bool split; } c[] = {
		{ V4, IPPROTO_TCP, false }, { V4, IPPROTO_UDP, false },
		{ V6, IPPROTO_TCP, false }, { V6, IPPROTO_UDP, true },
		{ V4, IPPROTO_TCP, true },
	};
	static const struct virtio_net_hdr_mrg_rxbuf zero;
	struct virtio_vdpa_txq q;
	unsigned int i;
	struct seen s;

	(void)state;
	/* A device without CSUM: the driver sums, the header stays empty. */
	txq_new(&q, 0);
	for (i = 0; i < RTE_DIM(c); i++) {
		uint64_t fl = (c[i].proto == IPPROTO_TCP ?
			       RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM) |
			(c[i].l3 == V4 ? RTE_MBUF_F_TX_IP_CKSUM : 0);
		struct rte_mbuf *m = tx_frame(c[i].l3, c[i].proto, fl,
					      c[i].split);

		assert_int_equal(tx(&q, &m, 1), 1);
		dev_read(&s);
		assert_memory_equal(&s.h, &zero, HDR);
		if (c[i].l3 == V4)
			assert_true(ip_sum_ok(s.f, RTE_ETHER_HDR_LEN));
		assert_true(l4_sum_ok(s.f, RTE_ETHER_HDR_LEN, c[i].l3, s.len));
	}
	assert_int_equal(q.stats.errors, 0);
	txq_done(&q);
}

static void
test_tx_cksum_by_device(void **state)
{
	struct virtio_vdpa_txq q;
	struct rte_mbuf *m;
	uint16_t phdr;
	struct seen s;

	(void)state;
	txq_new(&q, VV_TX_OFFL_DEV_CSUM);
	m = tx_frame(V4, IPPROTO_TCP, RTE_MBUF_F_TX_TCP_CKSUM |
		     RTE_MBUF_F_TX_IP_CKSUM, false);
	memcpy(&phdr, rte_pktmbuf_mtod_offset(m, uint8_t *, 34 + 16), 2);
	assert_int_equal(tx(&q, &m, 1), 1);
	dev_read(&s);
	assert_int_equal(s.h.hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(s.h.hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(s.h.hdr.csum_start, 34);
	assert_int_equal(s.h.hdr.csum_offset, 16);
	assert_int_equal(s.h.num_buffers, 0);
	/* The device sums from csum_start, over the pseudo-header sum. */
	assert_memory_equal(s.f + 34 + 16, &phdr, 2);
	/* IPv4 headers have no virtio bit: done here, always. */
	assert_true(ip_sum_ok(s.f, RTE_ETHER_HDR_LEN));

	m = tx_frame(V6, IPPROTO_UDP, RTE_MBUF_F_TX_UDP_CKSUM, true);
	assert_int_equal(tx(&q, &m, 1), 1);
	dev_read(&s);
	assert_int_equal(s.h.hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(s.h.hdr.csum_start, 54);
	assert_int_equal(s.h.hdr.csum_offset, 6);

	/* A frame after it without offloads gets a clean header again. */
	m = tx_frame(V4, IPPROTO_UDP, 0, true);
	assert_int_equal(tx(&q, &m, 1), 1);
	dev_read(&s);
	assert_int_equal(s.h.hdr.flags, 0);
	assert_int_equal(s.h.hdr.csum_start, 0);
	assert_int_equal(s.h.hdr.csum_offset, 0);
	txq_done(&q);
}

static void
test_tx_tso(void **state)
{
	struct virtio_vdpa_txq q;
	struct rte_mbuf *m;
	struct seen s;

	(void)state;
	txq_new(&q, VV_TX_OFFL_DEV_CSUM | VV_TX_OFFL_DEV_TSO4);
	m = tx_frame(V4, IPPROTO_TCP, RTE_MBUF_F_TX_TCP_SEG |
		     RTE_MBUF_F_TX_IP_CKSUM, true);
	assert_int_equal(tx(&q, &m, 1), 1);
	dev_read(&s);
	assert_int_equal(s.h.hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(s.h.hdr.gso_size, 1448);
	assert_int_equal(s.h.hdr.hdr_len, 14 + 20 + 20);
	assert_int_equal(s.h.hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(s.h.hdr.csum_start, 34);
	assert_int_equal(s.h.hdr.csum_offset, 16);
	/* No HOST_TSO6: an IPv6 TSO frame is dropped and counted, not sent whole. */
	m = tx_frame(V6, IPPROTO_TCP, RTE_MBUF_F_TX_TCP_SEG, false);
	assert_int_equal(tx(&q, &m, 1), 1);
	assert_int_equal(q.stats.errors, 1);
	assert_false(sdev_take(&fx.dev, &(struct sdev_buf){ 0 }));
	txq_done(&q);
}

static void
test_tx_vlan_insert(void **state)
{
	struct virtio_vdpa_txq q;
	struct rte_vlan_hdr vh;
	struct rte_mbuf *m;
	struct seen s;

	(void)state;
	txq_new(&q, 0);
	m = tx_frame(V4, IPPROTO_UDP, RTE_MBUF_F_TX_VLAN |
		     RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM, false);
	m->vlan_tci = 0x0123;
	assert_int_equal(tx(&q, &m, 1), 1);
	dev_read(&s);
	assert_int_equal(((struct rte_ether_hdr *)s.f)->ether_type,
			 rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN));
	memcpy(&vh, s.f + RTE_ETHER_HDR_LEN, sizeof(vh));
	assert_int_equal(rte_be_to_cpu_16(vh.vlan_tci), 0x0123);
	assert_int_equal(rte_be_to_cpu_16(vh.eth_proto), RTE_ETHER_TYPE_IPV4);
	/* The checksums found the headers behind the tag. */
	assert_true(ip_sum_ok(s.f, RTE_ETHER_HDR_LEN + 4));
	assert_true(l4_sum_ok(s.f, RTE_ETHER_HDR_LEN + 4, V4, s.len));
	txq_done(&q);
}

/*
 * A frame refused for a full ring comes back unchanged from the app: its
 * checksum must not be summed twice (the second sum would run over the
 * first's result, not the pseudo header).
 */
static void
test_tx_full_ring_keeps_frame(void **state)
{
	struct virtio_vdpa_txq q;
	struct rte_mbuf *m, *fill[RING];
	struct seen s;
	unsigned int i;

	(void)state;
	txq_new(&q, 0);
	for (i = 0; i < RING; i++)
		fill[i] = tx_frame(V4, IPPROTO_UDP, 0, false);
	assert_int_equal(tx(&q, fill, RING), RING);
	m = tx_frame(V4, IPPROTO_TCP, RTE_MBUF_F_TX_TCP_CKSUM, false);
	assert_int_equal(tx(&q, &m, 1), 0);
	assert_int_equal(tx(&q, &m, 1), 0);
	for (i = 0; i < RING; i++)
		dev_read(&s);
	assert_int_equal(tx(&q, &m, 1), 1);
	dev_read(&s);
	assert_true(l4_sum_ok(s.f, RTE_ETHER_HDR_LEN, V4, s.len));
	txq_done(&q);
}

/* ---- Rx ---------------------------------------------------------------- */

static void
rxq_new(struct virtio_vdpa_rxq *q, unsigned int offl)
{
	memset(q, 0, sizeof(*q));
	fixture_new(&q->ring, 0);
	q->sw_ring = fx.sw;
	q->mp = pool;
	q->hdr_size = HDR;
	q->mergeable = true;
	q->offl = (uint16_t)offl;
	q->refill_thresh = 1;
	q->notify.fd = -1;
	virtio_vdpa_rxq_prepare(q);
	assert_int_equal(virtio_vdpa_rxq_fill(q), 0);
}

static void
rxq_done(struct virtio_vdpa_rxq *q)
{
	virtio_vdpa_rxq_drain(q);
	fixture_done();
}

/* The device delivers frame f with header h; the offload burst takes it. */
static struct rte_mbuf *
rx(struct virtio_vdpa_rxq *q, const struct virtio_net_hdr *h,
   const uint8_t *f, uint32_t len)
{
	struct virtio_net_hdr_mrg_rxbuf mh = { .num_buffers = 1 };
	struct rte_mbuf *m = NULL;
	struct sdev_buf b = { 0 };
	uint8_t *buf;

	mh.hdr = *h;
	assert_true(sdev_take(&fx.dev, &b));
	assert_true(b.writable_len >= HDR + len);
	buf = (uint8_t *)(uintptr_t)fx.dev.desc[b.head].addr;
	memcpy(buf, &mh, HDR);
	memcpy(buf + HDR, f, len);
	sdev_put_used(&fx.dev, b.head, HDR + len);
	sdev_publish(&fx.dev);
	assert_int_equal(virtio_vdpa_bursts_for(false, false, true, false)
			 .rx(q, &m, 1), 1);
	assert_int_equal(m->pkt_len, len - (memcmp(f + 12, "\x81\x00", 2) ||
					    !(q->offl & VV_RX_OFFL_VLAN_STRIP) ?
					    0 : 4));
	return m;
}

#define RX_ALL (VV_RX_OFFL_PTYPE | VV_RX_OFFL_IPV4_CKSUM | VV_RX_OFFL_L4_CKSUM)
#define CK_MASK (RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK)

static void
test_rx_cksum_in_software(void **state)
{
	static const struct virtio_net_hdr none;
	struct virtio_vdpa_rxq q;
	uint8_t f[FRAME_MAX];
	struct rte_mbuf *m;
	uint32_t len;

	(void)state;
	rxq_new(&q, RX_ALL);
	frame_fill(f, V4, IPPROTO_UDP, false, &len);
	m = rx(&q, &none, f, len);
	assert_int_equal(m->ol_flags & CK_MASK, RTE_MBUF_F_RX_IP_CKSUM_GOOD |
			 RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	assert_int_equal(m->packet_type, RTE_PTYPE_L2_ETHER |
			 RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_UDP);
	rte_pktmbuf_free(m);

	f[RTE_ETHER_HDR_LEN + 8]++;	/* TTL: the IPv4 sum breaks */
	m = rx(&q, &none, f, len);
	assert_int_equal(m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK,
			 RTE_MBUF_F_RX_IP_CKSUM_BAD);
	rte_pktmbuf_free(m);

	frame_fill(f, V4, IPPROTO_TCP, false, &len);
	f[len - 1] ^= 0x40;		/* payload: the TCP sum breaks */
	m = rx(&q, &none, f, len);
	assert_int_equal(m->ol_flags & CK_MASK, RTE_MBUF_F_RX_IP_CKSUM_GOOD |
			 RTE_MBUF_F_RX_L4_CKSUM_BAD);
	rte_pktmbuf_free(m);

	frame_fill(f, V6, IPPROTO_TCP, false, &len);
	m = rx(&q, &none, f, len);
	assert_int_equal(m->ol_flags & CK_MASK, RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	assert_int_equal(m->packet_type, RTE_PTYPE_L2_ETHER |
			 RTE_PTYPE_L3_IPV6 | RTE_PTYPE_L4_TCP);
	rte_pktmbuf_free(m);

	/* An IPv4 header claiming 60 bytes in a frame of 40: no crash, BAD. */
	frame_fill(f, V4, IPPROTO_UDP, false, &len);
	f[RTE_ETHER_HDR_LEN] = 0x4f;
	m = rx(&q, &none, f, RTE_ETHER_HDR_LEN + 26);
	assert_int_equal(m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK,
			 RTE_MBUF_F_RX_IP_CKSUM_BAD);
	rte_pktmbuf_free(m);
	rxq_done(&q);
}

static void
test_rx_cksum_from_header(void **state)
{
	struct virtio_net_hdr valid = { .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	struct virtio_net_hdr partial = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.csum_start = 34, .csum_offset = 16,
	};
	static const struct virtio_net_hdr none;
	struct virtio_vdpa_rxq q;
	uint8_t f[FRAME_MAX];
	struct rte_mbuf *m;
	uint32_t len;

	(void)state;
	rxq_new(&q, RX_ALL | VV_RX_OFFL_DEV_CKSUM);
	frame_fill(f, V4, IPPROTO_TCP, false, &len);
	f[len - 1] ^= 0x40;
	/* The device checked it: trusted, as the spec says. */
	m = rx(&q, &valid, f, len);
	assert_int_equal(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK,
			 RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	rte_pktmbuf_free(m);
	/* Partial sum from a local sender: data good, field incomplete. */
	m = rx(&q, &partial, f, len);
	assert_int_equal(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK,
			 RTE_MBUF_F_RX_L4_CKSUM_NONE);
	rte_pktmbuf_free(m);
	/* Neither flag: the device said nothing, so software checks. */
	m = rx(&q, &none, f, len);
	assert_int_equal(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK,
			 RTE_MBUF_F_RX_L4_CKSUM_BAD);
	rte_pktmbuf_free(m);
	rxq_done(&q);
}

static void
test_rx_vlan_strip_and_lro(void **state)
{
	struct virtio_net_hdr gso = {
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1000,
	};
	static const struct virtio_net_hdr none;
	struct virtio_vdpa_rxq q;
	uint8_t f[FRAME_MAX];
	struct rte_mbuf *m;
	uint32_t len;

	(void)state;
	rxq_new(&q, RX_ALL | VV_RX_OFFL_VLAN_STRIP | VV_RX_OFFL_LRO);
	frame_fill(f, V4, IPPROTO_UDP, true, &len);
	m = rx(&q, &none, f, len);
	assert_true(m->ol_flags & RTE_MBUF_F_RX_VLAN);
	assert_true(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED);
	assert_int_equal(m->vlan_tci, 42);
	assert_int_equal(rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type,
			 rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4));
	assert_int_equal(m->packet_type, RTE_PTYPE_L2_ETHER |
			 RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_UDP);
	assert_int_equal(m->ol_flags & CK_MASK, RTE_MBUF_F_RX_IP_CKSUM_GOOD |
			 RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	rte_pktmbuf_free(m);

	frame_fill(f, V4, IPPROTO_TCP, false, &len);
	m = rx(&q, &gso, f, len);
	assert_true(m->ol_flags & RTE_MBUF_F_RX_LRO);
	assert_int_equal(m->tso_segsz, 1000);
	rte_pktmbuf_free(m);
	rxq_done(&q);
}

/* With no Rx offload work asked, the frame is as the device wrote it. */
static void
test_rx_nothing_asked(void **state)
{
	static const struct virtio_net_hdr none;
	struct virtio_vdpa_rxq q;
	uint8_t f[FRAME_MAX];
	struct rte_mbuf *m;
	uint32_t len;

	(void)state;
	rxq_new(&q, 0);
	frame_fill(f, V4, IPPROTO_UDP, true, &len);
	m = rx(&q, &none, f, len);
	assert_int_equal(m->packet_type, 0);
	assert_int_equal(m->ol_flags, 0);
	assert_memory_equal(rte_pktmbuf_mtod(m, void *), f, len);
	rte_pktmbuf_free(m);
	rxq_done(&q);
}

int
main(void)
{
	char *eal_args[] = {
		"test_rxtx_offload", "--no-huge", "--no-pci", "-m", "64",
		"--no-shconf", "--log-level=lib.eal:error",
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_cksum_in_software),
		cmocka_unit_test(test_tx_cksum_by_device),
		cmocka_unit_test(test_tx_tso),
		cmocka_unit_test(test_tx_vlan_insert),
		cmocka_unit_test(test_tx_full_ring_keeps_frame),
		cmocka_unit_test(test_rx_cksum_in_software),
		cmocka_unit_test(test_rx_cksum_from_header),
		cmocka_unit_test(test_rx_vlan_strip_and_lro),
		cmocka_unit_test(test_rx_nothing_asked),
	};

	if (rte_eal_init(RTE_DIM(eal_args), eal_args) < 0)
		return 2;
	pool = rte_pktmbuf_pool_create("offload", 511, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		return 2;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

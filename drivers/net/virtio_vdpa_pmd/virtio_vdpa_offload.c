/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf_ptype.h>
#include <rte_net.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "virtio_vdpa_offload.h"

/* Tunnels are not parsed: nothing here acts on an inner header. */
#define VV_PTYPE_LAYERS (RTE_PTYPE_L2_MASK | RTE_PTYPE_L3_MASK | \
			 RTE_PTYPE_L4_MASK)

static const uint32_t vv_ptypes[] = {
	RTE_PTYPE_L2_ETHER,
	RTE_PTYPE_L2_ETHER_VLAN,
	RTE_PTYPE_L2_ETHER_QINQ,
	RTE_PTYPE_L3_IPV4,
	RTE_PTYPE_L3_IPV4_EXT,
	RTE_PTYPE_L3_IPV6,
	RTE_PTYPE_L3_IPV6_EXT,
	RTE_PTYPE_L4_TCP,
	RTE_PTYPE_L4_UDP,
	RTE_PTYPE_L4_SCTP,
	RTE_PTYPE_L4_FRAG,
	RTE_PTYPE_UNKNOWN,
};

const uint32_t *
virtio_vdpa_ptypes(void)
{
	return vv_ptypes;
}

static uint64_t
rx_ipv4_cksum(const struct rte_mbuf *m, const struct rte_net_hdr_lens *lens)
{
	uint8_t buf[60];
	const void *ip;

	if (lens->l3_len < sizeof(struct rte_ipv4_hdr) ||
	    lens->l3_len > sizeof(buf))
		return RTE_MBUF_F_RX_IP_CKSUM_BAD;
	ip = rte_pktmbuf_read(m, lens->l2_len, lens->l3_len, buf);
	if (ip == NULL)
		return RTE_MBUF_F_RX_IP_CKSUM_BAD;
	return rte_raw_cksum(ip, lens->l3_len) == 0xffff ?
		RTE_MBUF_F_RX_IP_CKSUM_GOOD : RTE_MBUF_F_RX_IP_CKSUM_BAD;
}

/* TCP and UDP over IPv4, or IPv6 without extension headers, in software. */
static uint64_t
rx_l4_cksum_sw(const struct rte_mbuf *m, uint32_t ptype,
	       const struct rte_net_hdr_lens *lens)
{
	uint32_t l4 = ptype & RTE_PTYPE_L4_MASK;
	uint32_t l4_off = lens->l2_len + lens->l3_len;
	union {
		struct rte_ipv4_hdr v4;
		struct rte_ipv6_hdr v6;
	} ipbuf;
	struct rte_udp_hdr udpbuf;
	const struct rte_udp_hdr *udp;
	const void *ip;
	int bad;

	if (l4 != RTE_PTYPE_L4_TCP && l4 != RTE_PTYPE_L4_UDP)
		return RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN;
	if (l4 == RTE_PTYPE_L4_UDP) {
		udp = rte_pktmbuf_read(m, l4_off, sizeof(udpbuf), &udpbuf);
		/* IPv4 UDP without a checksum: nothing to check. */
		if (udp == NULL || (udp->dgram_cksum == 0 &&
				    RTE_ETH_IS_IPV4_HDR(ptype)))
			return RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN;
	}
	if (RTE_ETH_IS_IPV4_HDR(ptype)) {
		ip = rte_pktmbuf_read(m, lens->l2_len, sizeof(ipbuf.v4), &ipbuf);
		if (ip == NULL)
			return RTE_MBUF_F_RX_L4_CKSUM_BAD;
		bad = rte_ipv4_udptcp_cksum_mbuf_verify(m, ip, (uint16_t)l4_off);
	} else if ((ptype & RTE_PTYPE_L3_MASK) == RTE_PTYPE_L3_IPV6) {
		ip = rte_pktmbuf_read(m, lens->l2_len, sizeof(ipbuf.v6), &ipbuf);
		if (ip == NULL)
			return RTE_MBUF_F_RX_L4_CKSUM_BAD;
		bad = rte_ipv6_udptcp_cksum_mbuf_verify(m, ip, (uint16_t)l4_off);
	} else {
		return RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN;
	}
	return bad ? RTE_MBUF_F_RX_L4_CKSUM_BAD : RTE_MBUF_F_RX_L4_CKSUM_GOOD;
}

void
virtio_vdpa_rx_offload(struct rte_mbuf *m, const struct virtio_net_hdr *h,
		       unsigned int offl)
{
	struct rte_net_hdr_lens lens;
	uint64_t flags = 0;
	uint32_t ptype;

	ptype = rte_net_get_ptype(m, &lens, VV_PTYPE_LAYERS);
	if ((offl & VV_RX_OFFL_VLAN_STRIP) &&
	    (ptype & RTE_PTYPE_L2_MASK) == RTE_PTYPE_L2_ETHER_VLAN &&
	    rte_vlan_strip(m) == 0) {
		ptype = (ptype & ~RTE_PTYPE_L2_MASK) | RTE_PTYPE_L2_ETHER;
		lens.l2_len -= (uint8_t)sizeof(struct rte_vlan_hdr);
	}
	if (offl & VV_RX_OFFL_PTYPE)
		m->packet_type = ptype;
	if ((offl & VV_RX_OFFL_IPV4_CKSUM) && RTE_ETH_IS_IPV4_HDR(ptype))
		flags |= rx_ipv4_cksum(m, &lens);
	if (offl & VV_RX_OFFL_L4_CKSUM) {
		/*
		 * NEEDS_CSUM: the data was checked where it came from, but
		 * the checksum field holds only a partial sum (the spec's
		 * meaning of RTE_MBUF_F_RX_L4_CKSUM_NONE).
		 */
		if ((offl & VV_RX_OFFL_DEV_CKSUM) &&
		    (h->flags & VIRTIO_NET_HDR_F_DATA_VALID))
			flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		else if ((offl & VV_RX_OFFL_DEV_CKSUM) &&
			 (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
			flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
		else
			flags |= rx_l4_cksum_sw(m, ptype, &lens);
	}
	if ((offl & VV_RX_OFFL_LRO) &&
	    h->gso_type != VIRTIO_NET_HDR_GSO_NONE && h->gso_size != 0) {
		flags |= RTE_MBUF_F_RX_LRO;
		m->tso_segsz = h->gso_size;
	}
	m->ol_flags |= flags;
}

/* Where byte `off` of the frame lies, if the 2 bytes from it are in one segment. */
static uint16_t *
frame_u16_at(struct rte_mbuf *m, uint32_t off)
{
	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	if (m == NULL || off + 2 > m->data_len)
		return NULL;
	return rte_pktmbuf_mtod_offset(m, uint16_t *, off);
}

/*
 * The device's sum, done here: the app left the pseudo-header sum in the
 * checksum field, as for a device, so the sum from csum_start over the rest
 * of the frame is the checksum.
 */
static int
tx_l4_cksum_sw(struct rte_mbuf *m, uint32_t start, uint32_t off, bool udp)
{
	uint16_t *field = frame_u16_at(m, start + off);
	uint16_t sum;

	if (field == NULL || start >= m->pkt_len ||
	    rte_raw_cksum_mbuf(m, start, m->pkt_len - start, &sum) < 0)
		return -1;
	sum = (uint16_t)~sum;
	/* UDP's 0 means "no checksum"; its 0 is sent as 0xffff. */
	*field = udp && sum == 0 ? 0xffff : sum;
	return 0;
}

int
virtio_vdpa_tx_offload(struct rte_mbuf *m, struct virtio_net_hdr *h,
		       unsigned int offl)
{
	uint64_t fl = m->ol_flags;
	uint32_t start, off;

	memset(h, 0, sizeof(*h));
	if ((fl & RTE_MBUF_F_TX_VLAN) && rte_vlan_insert(&m) != 0)
		return -1;
	start = (uint32_t)m->l2_len + m->l3_len;
	if (fl & RTE_MBUF_F_TX_IP_CKSUM) {
		struct rte_ipv4_hdr *ip;

		if ((uint32_t)m->l2_len + sizeof(*ip) > m->data_len)
			return -1;
		ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
					     m->l2_len);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	if (fl & RTE_MBUF_F_TX_TCP_SEG) {
		unsigned int need = (fl & RTE_MBUF_F_TX_IPV6) ?
			VV_TX_OFFL_DEV_TSO6 : VV_TX_OFFL_DEV_TSO4;

		if (!(offl & need) || m->tso_segsz == 0)
			return -1;
		h->gso_type = need == VV_TX_OFFL_DEV_TSO6 ?
			VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		h->gso_size = m->tso_segsz;
		h->hdr_len = (uint16_t)(start + m->l4_len);
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = (uint16_t)start;
		h->csum_offset = offsetof(struct rte_tcp_hdr, cksum);
		return 0;
	}
	switch (fl & RTE_MBUF_F_TX_L4_MASK) {
	case RTE_MBUF_F_TX_TCP_CKSUM:
		off = offsetof(struct rte_tcp_hdr, cksum);
		break;
	case RTE_MBUF_F_TX_UDP_CKSUM:
		off = offsetof(struct rte_udp_hdr, dgram_cksum);
		break;
	default:
		/* SCTP's CRC is not offered; nothing to do for none. */
		return 0;
	}
	if (offl & VV_TX_OFFL_DEV_CSUM) {
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = (uint16_t)start;
		h->csum_offset = (uint16_t)off;
		return 0;
	}
	return tx_l4_cksum_sw(m, start, off,
			      (fl & RTE_MBUF_F_TX_L4_MASK) ==
			      RTE_MBUF_F_TX_UDP_CKSUM);
}

int
virtio_vdpa_tx_offload_prepare(struct rte_mbuf *m, unsigned int offl)
{
	uint64_t fl = m->ol_flags;

	if (!(fl & VV_TX_OFFL_MBUF_FLAGS))
		return 0;
	if ((fl & RTE_MBUF_F_TX_TCP_SEG) &&
	    !(offl & ((fl & RTE_MBUF_F_TX_IPV6) ? VV_TX_OFFL_DEV_TSO6 :
		      VV_TX_OFFL_DEV_TSO4)))
		return -ENOTSUP;
	return rte_net_intel_cksum_prepare(m);
}

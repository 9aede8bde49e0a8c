/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The far side of a checksum test: a port (the first the EAL probed, e.g.
 * a net_vhost that the driver under test connects to) that sends frames
 * with good and with deliberately broken checksums to an app that fixes
 * every checksum on Tx (testpmd's csum engine, "csum set ... hw"), and
 * checks what comes back by the definition of each checksum: the one's
 * complement sum over the IPv4 header, and over the pseudo header and the
 * TCP or UDP segment, is 0xffff.
 *
 * Sent, per group of 8: IPv4 UDP, IPv4 TCP, IPv6 UDP, IPv6 TCP with good
 * checksums; IPv4 UDP and IPv6 TCP with a broken L4 checksum; IPv4 TCP with
 * a broken header checksum; and one IPv4 TCP frame of LARGE payload bytes,
 * for the app's TSO (a vhost-user device hands such a frame on whole, with
 * its segment size: it must be the app's MSS).
 *
 * Prints what it counted, "sent_bad_ip N sent_bad_l4 N" for the caller to
 * compare with the app's Rx counters, and exits 0 only if every frame came
 * back once with good checksums and every large one with the MSS.
 *
 * Usage: vv_csum_peer [EAL args] -- --count N --mss M [--timeout S]
 */
#include <getopt.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#define BURST 32
#define WINDOW 64
#define LARGE 3000
#define ROOM (LARGE + 256)

enum kind {
	V4_UDP, V4_TCP, V6_UDP, V6_TCP, V4_UDP_BAD_L4, V4_TCP_BAD_IP,
	V6_TCP_BAD_L4, V4_TCP_LARGE, KINDS
};

static struct rte_mempool *pool;
static unsigned int mss;

static bool
kind_v6(enum kind k)
{
	return k == V6_UDP || k == V6_TCP || k == V6_TCP_BAD_L4;
}

static bool
kind_tcp(enum kind k)
{
	return k != V4_UDP && k != V6_UDP && k != V4_UDP_BAD_L4;
}

static struct rte_mbuf *
frame_build(uint32_t seq)
{
	enum kind k = seq % KINDS;
	bool v6 = kind_v6(k), tcp = kind_tcp(k);
	uint32_t pay = k == V4_TCP_LARGE ? LARGE : 64 + seq % 900;
	uint32_t l3 = v6 ? sizeof(struct rte_ipv6_hdr) :
		sizeof(struct rte_ipv4_hdr);
	uint32_t l4 = tcp ? sizeof(struct rte_tcp_hdr) :
		sizeof(struct rte_udp_hdr);
	uint32_t len = RTE_ETHER_HDR_LEN + l3 + l4 + pay, i;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	uint8_t *f, *seg;
	uint16_t ck;
	uint32_t ckoff;

	if (m == NULL || rte_pktmbuf_append(m, len) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	f = rte_pktmbuf_mtod(m, uint8_t *);
	memset(f, 0, len);
	eth = (void *)f;
	memset(eth->dst_addr.addr_bytes, 0x02, 6);
	memset(eth->src_addr.addr_bytes, 0x06, 6);
	eth->ether_type = rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6 :
					   RTE_ETHER_TYPE_IPV4);
	seg = f + RTE_ETHER_HDR_LEN + l3;
	if (tcp) {
		struct rte_tcp_hdr *t = (void *)seg;

		t->src_port = rte_cpu_to_be_16(1000 + k);
		t->dst_port = rte_cpu_to_be_16(2000);
		t->sent_seq = rte_cpu_to_be_32(seq);
		t->data_off = 5 << 4;
		t->tcp_flags = RTE_TCP_ACK_FLAG;
		t->rx_win = rte_cpu_to_be_16(65535);
		ckoff = offsetof(struct rte_tcp_hdr, cksum);
	} else {
		struct rte_udp_hdr *u = (void *)seg;

		u->src_port = rte_cpu_to_be_16(1000 + k);
		u->dst_port = rte_cpu_to_be_16(2000);
		u->dgram_len = rte_cpu_to_be_16(l4 + pay);
		ckoff = offsetof(struct rte_udp_hdr, dgram_cksum);
	}
	memcpy(seg + l4, &seq, sizeof(seq));
	for (i = sizeof(seq); i < pay; i++)
		seg[l4 + i] = (uint8_t)(seq + i);
	if (v6) {
		struct rte_ipv6_hdr *ip = (void *)(f + RTE_ETHER_HDR_LEN);

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(l4 + pay);
		ip->proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
		ip->hop_limits = 64;
		ip->src_addr[0] = 0xfd;
		ip->src_addr[15] = 1;
		ip->dst_addr[0] = 0xfd;
		ip->dst_addr[15] = 2;
		ck = rte_ipv6_udptcp_cksum(ip, seg);
	} else {
		struct rte_ipv4_hdr *ip = (void *)(f + RTE_ETHER_HDR_LEN);

		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(l3 + l4 + pay);
		ip->time_to_live = 64;
		ip->next_proto_id = tcp ? IPPROTO_TCP : IPPROTO_UDP;
		ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(10, 9, 0, 1));
		ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(10, 9, 0, 2));
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		ck = rte_ipv4_udptcp_cksum(ip, seg);
		if (k == V4_TCP_BAD_IP)
			ip->hdr_checksum ^= 0x5555;
	}
	if (k == V4_UDP_BAD_L4 || k == V6_TCP_BAD_L4)
		ck ^= 0x00ff;
	memcpy(seg + ckoff, &ck, sizeof(ck));
	return m;
}

/* Sum of `len` bytes of m from `off` on, folded, across segments. */
static uint16_t
sum_at(const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	uint16_t s = 0;

	if (rte_raw_cksum_mbuf(m, off, len, &s) < 0)
		return 0;
	return s;
}

/*
 * 0: both sums good; seq in *seq. -1: not ours; 1: a bad IPv4 header
 * checksum; 2: a bad TCP or UDP checksum. A
 * frame the device hands on whole from a TSO send (RX_LRO) carries the
 * checksum of a segment to be: over a pseudo header without the length,
 * as a sender's TSO prepares it.
 */
static int
frame_check(const struct rte_mbuf *m, uint32_t *seq, bool *large)
{
	bool gso = (m->ol_flags & RTE_MBUF_F_RX_LRO) != 0;
	uint8_t buf[64], ph[40];
	const struct rte_ether_hdr *eth =
		rte_pktmbuf_read(m, 0, sizeof(*eth), buf);
	uint32_t l3off = RTE_ETHER_HDR_LEN, l4off, l4len, phlen, s;
	const uint8_t *l4h;
	uint8_t proto;

	if (eth == NULL)
		return -1;
	/* The pseudo header as the wire has it, summed like the segment. */
	memset(ph, 0, sizeof(ph));
	if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		const struct rte_ipv4_hdr *ip =
			rte_pktmbuf_read(m, l3off, sizeof(*ip), buf);

		if (ip == NULL)
			return -1;
		if (sum_at(m, l3off, sizeof(*ip)) != 0xffff)
			return 1;
		l4off = l3off + sizeof(*ip);
		l4len = rte_be_to_cpu_16(ip->total_length) - sizeof(*ip);
		proto = ip->next_proto_id;
		memcpy(ph, &ip->src_addr, 4);
		memcpy(ph + 4, &ip->dst_addr, 4);
		ph[9] = proto;
		ph[10] = gso ? 0 : (uint8_t)(l4len >> 8);
		ph[11] = gso ? 0 : (uint8_t)l4len;
		phlen = 12;
	} else if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
		const struct rte_ipv6_hdr *ip =
			rte_pktmbuf_read(m, l3off, sizeof(*ip), buf);

		if (ip == NULL)
			return -1;
		l4off = l3off + sizeof(*ip);
		l4len = rte_be_to_cpu_16(ip->payload_len);
		proto = ip->proto;
		memcpy(ph, ip->src_addr, 16);
		memcpy(ph + 16, ip->dst_addr, 16);
		ph[34] = gso ? 0 : (uint8_t)(l4len >> 8);
		ph[35] = gso ? 0 : (uint8_t)l4len;
		ph[39] = proto;
		phlen = 40;
	} else {
		return -1;
	}
	if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) ||
	    l4off + l4len != m->pkt_len)
		return -1;
	l4h = rte_pktmbuf_read(m, l4off + (proto == IPPROTO_TCP ? 20 : 8),
			       sizeof(*seq), buf);
	if (l4h == NULL)
		return -1;
	memcpy(seq, l4h, sizeof(*seq));
	*large = l4len > LARGE;
	s = (uint32_t)rte_raw_cksum(ph, phlen) + sum_at(m, l4off, l4len);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff ? 0 : 2;
}

static int
port_up(uint16_t port)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_info_get(port, &info);
	if (ret == 0) {
		conf.txmode.offloads = info.tx_offload_capa &
			RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
		ret = rte_eth_dev_configure(port, 1, 1, &conf);
	}
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, 1024, rte_socket_id(),
					     NULL, pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, 1024, rte_socket_id(),
					     NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "mss", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int count = 4000, timeout = 60, sent = 0, back = 0;
	unsigned int bad = 0, dup = 0, large = 0, large_mss = 0, foreign = 0;
	unsigned int sent_bad_ip = 0, sent_bad_l4 = 0;
	uint64_t deadline;
	uint8_t *seen;
	struct rte_eth_link link;
	uint16_t port = 0;
	int ret, c;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		return 2;
	argc -= ret;
	argv += ret;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': count = (unsigned int)atoi(optarg); break;
		case 'm': mss = (unsigned int)atoi(optarg); break;
		case 't': timeout = (unsigned int)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: vv_csum_peer [EAL] -- --count N --mss M [--timeout S]\n");
			return 2;
		}
	}
	seen = calloc(count, 1);
	pool = rte_pktmbuf_pool_create("csum_peer", 8191, 256, 0,
				       RTE_PKTMBUF_HEADROOM + ROOM,
				       rte_socket_id());
	if (seen == NULL || pool == NULL || rte_eth_dev_count_avail() == 0 ||
	    port_up(port) != 0) {
		fprintf(stderr, "vv_csum_peer: no port to test through\n");
		return 2;
	}
	/* The checker must tell the frames it sends apart before it judges. */
	for (c = 0; c < KINDS; c++) {
		struct rte_mbuf *m = frame_build((uint32_t)c);
		bool broken = c == V4_UDP_BAD_L4 || c == V4_TCP_BAD_IP ||
			c == V6_TCP_BAD_L4, big;
		uint32_t seq;

		if (m == NULL || (frame_check(m, &seq, &big) != 0) != broken ||
		    (!broken && seq != (uint32_t)c)) {
			fprintf(stderr, "vv_csum_peer: self-check failed on kind %d\n", c);
			return 2;
		}
		rte_pktmbuf_free(m);
	}
	deadline = rte_get_timer_cycles() + rte_get_timer_hz() * timeout;
	do {
		rte_eth_link_get_nowait(port, &link);
		rte_delay_us_sleep(10000);
	} while (link.link_status != RTE_ETH_LINK_UP &&
		 rte_get_timer_cycles() < deadline);
	/* The app on the far side starts forwarding once it is connected. */
	rte_delay_us_sleep(2000000);
	while (back + bad < count && rte_get_timer_cycles() < deadline) {
		struct rte_mbuf *pkts[BURST];
		uint16_t n, i, built = 0, tx;

		while (sent + built < count && built < BURST &&
		       sent + built - back - bad < WINDOW) {
			pkts[built] = frame_build(sent + built);
			if (pkts[built] == NULL)
				break;
			built++;
		}
		tx = rte_eth_tx_burst(port, 0, pkts, built);
		for (i = 0; i < tx; i++) {
			enum kind k = (sent + i) % KINDS;

			sent_bad_ip += k == V4_TCP_BAD_IP;
			sent_bad_l4 += k == V4_UDP_BAD_L4 || k == V6_TCP_BAD_L4;
		}
		rte_pktmbuf_free_bulk(pkts + tx, built - tx);
		sent += tx;
		n = rte_eth_rx_burst(port, 0, pkts, BURST);
		for (i = 0; i < n; i++) {
			uint32_t seq = 0;
			bool big = false;
			int r = frame_check(pkts[i], &seq, &big);

			if (r < 0 || seq >= count) {
				foreign++;
			} else if (r > 0) {
				if (bad++ < 3)
					printf("bad %s checksum on frame %u (kind %u, %u bytes, flags 0x%" PRIx64 ")\n",
					       r == 1 ? "IPv4 header" : "L4", seq,
					       seq % KINDS, pkts[i]->pkt_len,
					       pkts[i]->ol_flags);
				if (bad == 1)
					rte_pktmbuf_dump(stdout, pkts[i], 128);
			} else if (seen[seq]++) {
				dup++;
			} else {
				back++;
				if (big) {
					large++;
					large_mss += (pkts[i]->ol_flags &
						      RTE_MBUF_F_RX_LRO) &&
						pkts[i]->tso_segsz == mss;
				}
			}
			rte_pktmbuf_free(pkts[i]);
		}
	}
	printf("csum_peer: sent %u, back good %u, bad checksum %u, duplicate %u, missing %u, not ours %u\n",
	       sent, back, bad, dup, count - back - bad, foreign);
	printf("csum_peer: large frames back %u, with segment size %u: %u\n",
	       large, mss, large_mss);
	printf("csum_peer: sent_bad_ip %u sent_bad_l4 %u\n", sent_bad_ip,
	       sent_bad_l4);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	free(seen);
	rte_eal_cleanup();
	return back == count && bad == 0 && dup == 0 &&
		(mss == 0 || large_mss == large) ? 0 : 1;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * End-to-end checks for any virtio-net ethdev (ours or the reference),
 * probed by this app through hotplug so probe and close are part of the
 * test:
 *   integrity: mixed-size frames (60 B..9000 B, chained mbufs) go to a
 *              device that echoes them; every byte must come back.
 *   cycles:    N x (probe, configure, start, traffic, stop, close); fds,
 *              memzones and mbufs in use must return to where they were.
 *   stop:      against a flooding device, no byte of our mbufs changes
 *              after rte_eth_dev_stop; start and configure after stop work.
 *   hotplug:   frames built in memory the EAL added after start arrive
 *              intact; freeing that memory leaves traffic flowing.
 *   vanish:    the device process is killed mid-traffic (by the caller);
 *              stop and close finish and every mbuf comes back.
 *   unplug:    as vanish, with the device's PCI function removed; the link
 *              must also go down, with a link-state event.
 *   reconnect: the peer is killed and started again mid-traffic (by the
 *              caller); the link goes down and up again, with events, and
 *              frames then flow intact without restarting the port.
 * Prints one "PASS"/"FAIL" line per check and exits non-zero on failure.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_memzone.h>
#include <rte_dev.h>

#define CHECK_ETHERTYPE 0x88b5	/* IEEE local experimental */
#define SEG_ROOM 2048
#define MAX_FRAME 9000
#define BURST 32

static unsigned int frame_len_mixed(uint32_t seq);

struct check_opts {
	const char *dev;	/* "name,args" to hotplug */
	const char *mode;
	unsigned int count;
	unsigned int cycles;
	unsigned int window;
	unsigned int timeout_s;
	uint16_t queue_size;
};

struct frame_hdr {
	struct rte_ether_hdr eth;
	uint32_t seq;
	uint32_t len;
};

static struct rte_mempool *pool;
static char dev_name[128];
static const char *dev_args = "";

/* Largest frame sent; cycles stay within the default MTU. */
static unsigned int max_frame = MAX_FRAME;

static unsigned int
frame_len(uint32_t seq)
{
	unsigned int len = frame_len_mixed(seq);

	return len <= max_frame ? len : 60 + len % (max_frame - 59);
}

static unsigned int
frame_len_mixed(uint32_t seq)
{
	static const unsigned int fixed[] = {
		60, 64, 65, 128, 511, 1000, 1514, 1518, 2047, 2048, 2049,
		3000, 4096, 8191, 9000,
	};

	if (seq % 2 == 0)
		return fixed[(seq / 2) % RTE_DIM(fixed)];
	return 60 + (seq * 2654435761u) % (MAX_FRAME - 60 + 1);
}

static uint8_t
pattern(uint32_t seq, unsigned int off)
{
	return (uint8_t)((seq * 31u) ^ (off * 7u) ^ (off >> 8));
}

/* Builds a frame as a chain of SEG_ROOM-byte segments. */
static struct rte_mbuf *
frame_build(uint32_t seq, const struct rte_ether_addr *mac)
{
	unsigned int len = frame_len(seq), off = 0;
	struct rte_mbuf *head = NULL, *prev = NULL;

	while (off < len) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		unsigned int n = RTE_MIN(len - off, (unsigned int)SEG_ROOM), i;
		uint8_t *p;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
		for (i = 0; i < n; i++)
			p[i] = pattern(seq, off + i);
		if (head == NULL) {
			struct frame_hdr *h = (struct frame_hdr *)p;

			h->eth.dst_addr = *mac;
			h->eth.src_addr = *mac;
			h->eth.ether_type = rte_cpu_to_be_16(CHECK_ETHERTYPE);
			h->seq = seq;
			h->len = len;
			head = m;
		} else {
			prev->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		prev = m;
		off += n;
	}
	return head;
}

/* Returns the sequence number of a correct echo, or -1. */
static int64_t
frame_verify(struct rte_mbuf *m)
{
	struct frame_hdr h;
	unsigned int off = sizeof(h), i;
	const uint8_t *p;
	uint8_t buf[64];

	if (m->pkt_len < sizeof(h))
		return -1;
	/* Copies only when the header spans segments; else points at it. */
	p = rte_pktmbuf_read(m, 0, sizeof(h), &h);
	if (p != (const uint8_t *)&h)
		memcpy(&h, p, sizeof(h));
	if (h.eth.ether_type != rte_cpu_to_be_16(CHECK_ETHERTYPE) ||
	    h.len != m->pkt_len || h.len != frame_len(h.seq))
		return -1;
	while (off < h.len) {
		unsigned int n = RTE_MIN(h.len - off, (unsigned int)sizeof(buf));

		p = rte_pktmbuf_read(m, off, n, buf);
		for (i = 0; i < n; i++)
			if (p[i] != pattern(h.seq, off + i))
				return -1;
		off += n;
	}
	return h.seq;
}

static void
frame_dump(const char *what, struct rte_mbuf *m)
{
	uint8_t buf[48];
	const uint8_t *p;
	unsigned int i, n = RTE_MIN(m->pkt_len, (uint32_t)sizeof(buf));

	p = rte_pktmbuf_read(m, 0, n, buf);
	printf("%s: pkt_len %u, nb_segs %u, first bytes:", what, m->pkt_len,
	       m->nb_segs);
	for (i = 0; p != NULL && i < n; i++)
		printf(" %02x", p[i]);
	printf("\n");
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the DIR's own fd */
}

static void
count_mz(const struct rte_memzone *mz, void *arg)
{
	RTE_SET_USED(mz);
	(*(unsigned int *)arg)++;
}

static unsigned int
count_memzones(void)
{
	unsigned int n = 0;

	rte_memzone_walk(count_mz, &n);
	return n;
}

static int
port_probe(uint16_t *port)
{
	int ret;

	ret = rte_eal_hotplug_add("vdev", dev_name, dev_args);
	if (ret < 0) {
		printf("probe of %s failed: %s\n", dev_name, strerror(-ret));
		return ret;
	}
	return rte_eth_dev_get_port_by_name(dev_name, port);
}

static int
port_up(uint16_t port, uint16_t qsize, uint16_t mtu)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_info_get(port, &info);
	if (ret < 0)
		return ret;
	/* Jumbo frames arrive as chains and leave as chains. */
	conf.rxmode.offloads = info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER;
	conf.txmode.offloads = info.tx_offload_capa &
		RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0 && mtu != 0)
		ret = rte_eth_dev_set_mtu(port, mtu);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, qsize,
					     rte_eth_dev_socket_id(port), NULL,
					     pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, qsize,
					     rte_eth_dev_socket_id(port), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret < 0)
		printf("bringing port %u up failed: %s\n", port,
		       strerror(-ret));
	return ret;
}

static bool
link_wait(uint16_t port, unsigned int timeout_ms)
{
	uint64_t end = rte_get_timer_cycles() +
		rte_get_timer_hz() * timeout_ms / 1000;
	struct rte_eth_link link;

	do {
		if (rte_eth_link_get_nowait(port, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			return true;
		rte_delay_us_sleep(1000);
	} while (rte_get_timer_cycles() < end);
	return false;
}

static void
port_down(uint16_t port)
{
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_hotplug_remove("vdev", dev_name);
}

/*
 * Sends `count` frames keeping at most `window` in flight and checks every
 * echo. Returns the number of frames that did not come back intact.
 */
static unsigned int
exchange(uint16_t port, unsigned int count, unsigned int window,
	 unsigned int timeout_s, unsigned int *bad_out)
{
	struct rte_ether_addr mac;
	uint8_t *seen = calloc(count, 1);
	uint64_t deadline = rte_get_timer_cycles() +
		rte_get_timer_hz() * timeout_s;
	unsigned int sent = 0, good = 0, bad = 0, dup = 0;

	rte_eth_macaddr_get(port, &mac);
	while (good + bad < count && rte_get_timer_cycles() < deadline) {
		struct rte_mbuf *pkts[BURST];
		uint16_t n, i;

		if (sent < count && sent - good - bad < window) {
			unsigned int want = RTE_MIN(count - sent,
					window - (sent - good - bad));
			uint16_t built = 0, tx;

			want = RTE_MIN(want, (unsigned int)BURST);
			while (built < want) {
				pkts[built] = frame_build(sent + built, &mac);
				if (pkts[built] == NULL)
					break;
				built++;
			}
			tx = rte_eth_tx_burst(port, 0, pkts, built);
			rte_pktmbuf_free_bulk(pkts + tx, built - tx);
			sent += tx;
		}
		n = rte_eth_rx_burst(port, 0, pkts, BURST);
		for (i = 0; i < n; i++) {
			int64_t seq = frame_verify(pkts[i]);

			if (seq < 0 || seq >= count) {
				if (bad++ == 0)
					frame_dump("first corrupt frame",
						   pkts[i]);
			}
			else if (seen[seq]++)
				dup++;
			else
				good++;
			rte_pktmbuf_free(pkts[i]);
		}
	}
	free(seen);
	if (bad_out)
		*bad_out = bad + dup;
	printf("exchange: sent %u, echoed intact %u, corrupt %u, duplicate %u, missing %u\n",
	       sent, good, bad, dup, count - good - bad);
	return count - good;
}

/* What the port reports of itself, for scripts to check devargs. */
static void
port_info_print(uint16_t port)
{
	struct rte_ether_addr mac;
	struct rte_eth_link link;
	char buf[RTE_ETH_LINK_MAX_STR_LEN];

	rte_eth_macaddr_get(port, &mac);
	rte_eth_link_get_nowait(port, &link);
	rte_eth_link_to_str(buf, sizeof(buf), &link);
	printf("port: mac " RTE_ETHER_ADDR_PRT_FMT ", %s\n",
	       RTE_ETHER_ADDR_BYTES(&mac), buf);
}

static int
run_integrity(const struct check_opts *o)
{
	uint64_t t0, t1;
	uint16_t port;
	unsigned int lost, bad;
	bool up;
	int ret;

	t0 = rte_get_timer_cycles();
	ret = port_probe(&port);
	if (ret == 0)
		ret = port_up(port, o->queue_size,
			      max_frame > RTE_ETHER_MAX_LEN - RTE_ETHER_CRC_LEN ?
			      max_frame - RTE_ETHER_HDR_LEN : 0);
	if (ret < 0) {
		printf("FAIL integrity: port did not come up\n");
		return 1;
	}
	up = link_wait(port, 5000);
	t1 = rte_get_timer_cycles();
	printf("probe-to-link-up: %.1f ms (link %s)\n",
	       (double)(t1 - t0) * 1000.0 / (double)rte_get_timer_hz(),
	       up ? "up" : "down");
	port_info_print(port);
	lost = exchange(port, o->count, o->window, o->timeout_s, &bad);
	port_down(port);
	if (!up || lost != 0 || bad != 0 ||
	    rte_mempool_in_use_count(pool) != 0) {
		printf("FAIL integrity: link %s, %u lost, %u corrupt, %u mbufs still in use\n",
		       up ? "up" : "down", lost, bad,
		       rte_mempool_in_use_count(pool));
		return 1;
	}
	printf("PASS integrity: %u frames of 60..%u B echoed byte-exact\n",
	       o->count, max_frame);
	return 0;
}

static int
run_cycles(const struct check_opts *o)
{
	int fds0 = -1;
	unsigned int mz0 = 0, i, lost_total = 0;

	for (i = 0; i < o->cycles; i++) {
		uint16_t port;
		unsigned int lost, bad;

		if (port_probe(&port) < 0 ||
		    port_up(port, o->queue_size, 0) < 0) {
			printf("FAIL cycles: cycle %u could not bring the port up\n",
			       i);
			return 1;
		}
		if (!link_wait(port, 5000)) {
			printf("FAIL cycles: cycle %u: link stayed down\n", i);
			port_down(port);
			return 1;
		}
		lost = exchange(port, 16, 16, 5, &bad);
		lost_total += lost;
		port_down(port);
		if (rte_mempool_in_use_count(pool) != 0) {
			printf("FAIL cycles: cycle %u leaked %d mbufs\n", i,
			       rte_mempool_in_use_count(pool));
			return 1;
		}
		if (bad != 0) {
			printf("FAIL cycles: cycle %u: %u corrupt frames\n",
			       i, bad);
			return 1;
		}
		/* The first cycle may set up lazy EAL state; count from it. */
		if (i == 0) {
			fds0 = count_fds();
			mz0 = count_memzones();
		}
	}
	if (count_fds() != fds0 || count_memzones() != mz0) {
		printf("FAIL cycles: fds %d -> %d, memzones %u -> %u\n", fds0,
		       count_fds(), mz0, count_memzones());
		return 1;
	}
	if (lost_total > o->cycles * 16 / 10) {
		printf("FAIL cycles: %u of %u frames lost\n", lost_total,
		       o->cycles * 16);
		return 1;
	}
	printf("PASS cycles: %u x (probe, configure, start, traffic, stop, close): fds %d, memzones %u, mbufs in use 0, %u of %u frames lost\n",
	       o->cycles, fds0, mz0, lost_total, o->cycles * 16);
	return 0;
}

/* Prints the port's counters; returns its error count. */
static uint64_t
port_stats_print(uint16_t port)
{
	struct rte_eth_stats st;

	if (rte_eth_stats_get(port, &st) != 0)
		return 0;
	printf("port stats: ipackets %" PRIu64 " ierrors %" PRIu64 " rx_nombuf %" PRIu64 " opackets %" PRIu64 " oerrors %" PRIu64 "\n",
	       st.ipackets, st.ierrors, st.rx_nombuf, st.opackets, st.oerrors);
	return st.ierrors + st.oerrors;
}

/* Receives for `ms` milliseconds; returns the frame count. */
static uint64_t
rx_for(uint16_t port, unsigned int ms)
{
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * ms / 1000;
	struct rte_mbuf *pkts[BURST];
	uint64_t total = 0;

	while (rte_get_timer_cycles() < end) {
		uint16_t n = rte_eth_rx_burst(port, 0, pkts, BURST);

		rte_pktmbuf_free_bulk(pkts, n);
		total += n;
	}
	return total;
}

/*
 * Takes every free mbuf, fills its whole buffer with a pattern, waits and
 * checks nothing changed it. Returns the number of bytes that changed.
 */
static uint64_t
dma_after_stop(unsigned int wait_ms)
{
	unsigned int n = rte_mempool_avail_count(pool), i, got = 0;
	struct rte_mbuf **all = calloc(n, sizeof(*all));
	uint64_t changed = 0;

	for (i = 0; i < n; i++) {
		all[i] = rte_pktmbuf_alloc(pool);
		if (all[i] == NULL)
			break;
		memset(all[i]->buf_addr, 0xa5, all[i]->buf_len);
		got++;
	}
	rte_delay_us_sleep(wait_ms * 1000);
	for (i = 0; i < got; i++) {
		const uint8_t *b = all[i]->buf_addr;
		unsigned int j;

		for (j = 0; j < all[i]->buf_len; j++)
			changed += b[j] != 0xa5;
		rte_pktmbuf_free(all[i]);
	}
	free(all);
	printf("stop: %u idle mbufs watched for %u ms, %" PRIu64 " bytes changed\n",
	       got, wait_ms, changed);
	return changed;
}

/*
 * The device floods us (testpmd txonly). After rte_eth_dev_stop no byte of
 * any mbuf may change; start after stop and configure after stop must work.
 */
static int
run_stop(const struct check_opts *o)
{
	uint64_t before, restarted, reconfigured, errors;
	uint16_t port;

	if (port_probe(&port) < 0 || port_up(port, o->queue_size, 0) < 0 ||
	    !link_wait(port, 5000)) {
		printf("FAIL stop: port did not come up\n");
		return 1;
	}
	before = rx_for(port, 1000);
	rte_eth_dev_stop(port);
	if (before == 0) {
		printf("FAIL stop: no traffic from the device before stop\n");
		port_down(port);
		return 1;
	}
	if (dma_after_stop(1000) != 0) {
		printf("FAIL stop: the device wrote into our buffers after rte_eth_dev_stop returned\n");
		port_down(port);
		return 1;
	}
	if (rte_eth_dev_start(port) < 0) {
		printf("FAIL stop: start after stop failed\n");
		port_down(port);
		return 1;
	}
	restarted = rx_for(port, 1000);
	rte_eth_dev_stop(port);
	if (port_up(port, o->queue_size, 0) < 0) {
		printf("FAIL stop: configure after stop failed\n");
		port_down(port);
		return 1;
	}
	reconfigured = rx_for(port, 1000);
	/* Used entries left over from before a stop show up as errors. */
	errors = port_stats_print(port);
	port_down(port);
	printf("received: %" PRIu64 " before stop, %" PRIu64 " after restart, %" PRIu64 " after reconfigure\n",
	       before, restarted, reconfigured);
	if (restarted == 0 || reconfigured == 0 || errors != 0 ||
	    rte_mempool_in_use_count(pool) != 0) {
		printf("FAIL stop: restart %s, reconfigure %s, %" PRIu64 " bad ring entries, %d mbufs in use\n",
		       restarted ? "ok" : "received nothing",
		       reconfigured ? "ok" : "received nothing", errors,
		       rte_mempool_in_use_count(pool));
		return 1;
	}
	printf("PASS stop: no DMA after stop; start and configure after stop work\n");
	return 0;
}

static unsigned int lsc_events;
static unsigned int rmv_events;


/* Counts the events it is registered for into the counter cb_arg names. */
static int
on_event(uint16_t port, enum rte_eth_event_type type, void *cb_arg, void *ret)
{
	RTE_SET_USED(port);
	RTE_SET_USED(type);
	RTE_SET_USED(ret);
	__atomic_fetch_add((unsigned int *)cb_arg, 1, __ATOMIC_RELAXED);
	return 0;
}

static bool
link_is_up(uint16_t port)
{
	struct rte_eth_link link;

	return rte_eth_link_get_nowait(port, &link) == 0 &&
		link.link_status == RTE_ETH_LINK_UP;
}

/*
 * The device leaves while we receive and transmit (the caller does it once
 * "traffic: running" is printed): vanish, its process is killed; unplug,
 * its PCI function is removed, and the port must also take its link down
 * with a link-state event. Stop and close must still finish, with every
 * mbuf back in the pool.
 */
static int
run_vanish(const struct check_opts *o, bool unplug)
{
	const char *what = unplug ? "unplug" : "vanish";
	struct rte_ether_addr mac;
	struct rte_mbuf *pkts[BURST];
	uint64_t end, tail, rx = 0, rx_at_tail = 0, tx = 0, t0, t1, down_at = 0;
	bool in_tail = false;
	unsigned int events = 0, rmv = 0;
	uint32_t seq = 0;
	uint16_t port;
	int stop_ret;

	if (port_probe(&port) < 0) {
		printf("FAIL %s: port did not probe\n", what);
		return 1;
	}
	rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_LSC, on_event,
				      &lsc_events);
	rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_RMV, on_event,
				      &rmv_events);
	if (port_up(port, o->queue_size, 0) < 0 || !link_wait(port, 5000)) {
		printf("FAIL %s: port did not come up\n", what);
		return 1;
	}
	rte_eth_macaddr_get(port, &mac);
	printf("traffic: running\n");
	fflush(stdout);
	t0 = rte_get_timer_cycles();
	end = t0 + rte_get_timer_hz() * o->timeout_s;
	/* A killed device delivers nothing in the last second. */
	tail = end - rte_get_timer_hz();
	while (rte_get_timer_cycles() < end) {
		uint16_t n = rte_eth_rx_burst(port, 0, pkts, BURST), sent;

		if (!in_tail && rte_get_timer_cycles() >= tail) {
			in_tail = true;
			rx_at_tail = rx;
		}

		rte_pktmbuf_free_bulk(pkts, n);
		rx += n;
		pkts[0] = frame_build(seq++, &mac);
		if (pkts[0] == NULL)
			continue;
		sent = rte_eth_tx_burst(port, 0, pkts, 1);
		if (sent == 0)
			rte_pktmbuf_free(pkts[0]);
		tx += sent;
		if (unplug && down_at == 0 && (seq & 1023) == 0 &&
		    !link_is_up(port))
			down_at = rte_get_timer_cycles();
	}
	events = __atomic_load_n(&lsc_events, __ATOMIC_RELAXED);
	rmv = __atomic_load_n(&rmv_events, __ATOMIC_RELAXED);
	t0 = rte_get_timer_cycles();
	stop_ret = rte_eth_dev_stop(port);
	t1 = rte_get_timer_cycles();
	rte_eth_dev_close(port);
	rte_eal_hotplug_remove("vdev", dev_name);
	printf("%s: received %" PRIu64 " (%" PRIu64 " in the last second), sent %" PRIu64 "; %u link events, %u removal events, link %s; stop returned %d after %.1f s\n",
	       what, rx, rx - rx_at_tail, tx, events, rmv,
	       down_at ? "went down" : "stayed up",
	       stop_ret, (double)(t1 - t0) / (double)rte_get_timer_hz());
	if (rx == 0 || rte_mempool_in_use_count(pool) != 0 ||
	    (unplug && (down_at == 0 || events == 0 || rmv == 0)) ||
	    (!unplug && rx != rx_at_tail)) {
		printf("FAIL %s: %s%s%d mbufs still in use after close\n", what,
		       rx == 0 ? "no traffic before the device left; " : "",
		       unplug && down_at == 0 ? "the link stayed up; " :
		       unplug && events == 0 ? "no link-state event; " :
		       unplug && rmv == 0 ? "no removal event; " :
		       !unplug && rx != rx_at_tail ?
		       "frames still arrived in the last second: the device was not killed while traffic ran; " : "",
		       rte_mempool_in_use_count(pool));
		return 1;
	}
	printf("PASS %s: %s mid-traffic; %sstop and close finished, no mbuf lost\n",
	       what, unplug ? "device unplugged" : "device killed",
	       unplug ? "link down with a link and a removal event; " : "");
	return 0;
}


/*
 * Receives until the line has been quiet for half a second, after two
 * seconds for a returning peer to start forwarding (10 s at most), and
 * checks every frame. Returns the number of corrupt ones.
 */
static unsigned int
drain_verify(uint16_t port, unsigned int *good)
{
	uint64_t hz = rte_get_timer_hz(), now = rte_get_timer_cycles();
	uint64_t quiet_until = now + 2 * hz, end = now + 10 * hz;
	struct rte_mbuf *pkts[BURST];
	unsigned int bad = 0;

	*good = 0;
	while ((now = rte_get_timer_cycles()) < quiet_until && now < end) {
		uint16_t n = rte_eth_rx_burst(port, 0, pkts, BURST), i;

		for (i = 0; i < n; i++) {
			if (frame_verify(pkts[i]) >= 0)
				(*good)++;
			else if (bad++ == 0)
				frame_dump("first corrupt late frame", pkts[i]);
			rte_pktmbuf_free(pkts[i]);
		}
		if (n > 0)
			quiet_until = now + hz / 2;
	}
	return bad;
}

/*
 * The peer goes away and comes back while we send and receive (the caller
 * kills and restarts it). The link must report both, with link-state
 * events, and the port must then carry frames intact as it is: no stop,
 * no restart, no mbuf lost.
 */
static int
run_reconnect(const struct check_opts *o)
{
	struct rte_ether_addr mac;
	struct rte_mbuf *pkts[BURST];
	uint64_t end, rx = 0, t_down = 0, t_up = 0, hz = rte_get_timer_hz();
	bool saw_down = false, back = false;
	unsigned int lost = 0, bad = 0, stale_good = 0, stale_bad = 0;
	uint32_t seq = 0;
	uint16_t port;

	if (port_probe(&port) < 0) {
		printf("FAIL reconnect: probe failed\n");
		return 1;
	}
	rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_LSC, on_event,
				      &lsc_events);
	if (port_up(port, o->queue_size, 0) < 0 || !link_wait(port, 5000)) {
		printf("FAIL reconnect: port did not come up\n");
		port_down(port);
		return 1;
	}
	/* The caller waits for this line before it takes the peer away. */
	printf("reconnect: port up\n");
	rte_eth_macaddr_get(port, &mac);
	end = rte_get_timer_cycles() + hz * o->timeout_s;
	while (!back && rte_get_timer_cycles() < end) {
		uint16_t n = rte_eth_rx_burst(port, 0, pkts, BURST);
		bool up = link_is_up(port);

		rte_pktmbuf_free_bulk(pkts, n);
		rx += n;
		if (!up && !saw_down) {
			saw_down = true;
			t_down = rte_get_timer_cycles();
		} else if (up && saw_down) {
			back = true;
			t_up = rte_get_timer_cycles();
		}
		pkts[0] = frame_build(1000000 + seq++, &mac);
		if (pkts[0] != NULL && rte_eth_tx_burst(port, 0, pkts, 1) == 0)
			rte_pktmbuf_free(pkts[0]);
		rte_delay_us_sleep(100);
	}
	if (back) {
		/*
		 * Frames sent around the outage come back late, or not at
		 * all; those that do must still be intact.
		 */
		stale_bad = drain_verify(port, &stale_good);
		lost = exchange(port, o->count, o->window, 30, &bad);
	}
	printf("reconnect: received %" PRIu64 " before the return; link down %s, up again %s after %.2f s; %u link events; %u late frames intact, %u corrupt\n",
	       rx, saw_down ? "seen" : "NOT seen", back ? "seen" : "NOT seen",
	       back ? (double)(t_up - t_down) / (double)hz : 0.0,
	       __atomic_load_n(&lsc_events, __ATOMIC_RELAXED), stale_good,
	       stale_bad);
	port_down(port);
	if (!back || rx == 0 || lost != 0 || bad != 0 || stale_bad != 0 ||
	    __atomic_load_n(&lsc_events, __ATOMIC_RELAXED) < 2 ||
	    rte_mempool_in_use_count(pool) != 0) {
		printf("FAIL reconnect: %s%s%u lost, %u corrupt after the return, %u link events, %d mbufs in use after close\n",
		       back ? "" : "the link did not go down and up again; ",
		       rx ? "" : "no traffic before the outage; ", lost, bad,
		       __atomic_load_n(&lsc_events, __ATOMIC_RELAXED),
		       rte_mempool_in_use_count(pool));
		return 1;
	}
	printf("PASS reconnect: the peer left and returned; link down and up with events, then %u frames echoed intact without restarting the port\n",
	       o->count);
	return 0;
}

static int
sum_seg(const struct rte_memseg_list *msl, const struct rte_memseg *ms,
	void *arg)
{
	RTE_SET_USED(msl);
	*(uint64_t *)arg += ms->len;
	return 0;
}

static uint64_t
mem_total(void)
{
	uint64_t total = 0;

	rte_memseg_walk(sum_seg, &total);
	return total;
}

/*
 * Memory hot-plugged after start must reach the device: frames are built
 * in a pool created while the port runs (the EAL grows the heap and sends
 * a memory event), echoed, and checked. The pool is then freed and traffic
 * from the first pool must still flow.
 */
static int
run_hotplug(const struct check_opts *o)
{
	struct rte_mempool *first = pool, *late;
	unsigned int lost, bad, lost2, bad2;
	uint64_t mem0, mem1;
	uint16_t port;

	if (port_probe(&port) < 0 || port_up(port, o->queue_size, 0) < 0 ||
	    !link_wait(port, 5000)) {
		printf("FAIL hotplug: port did not come up\n");
		return 1;
	}
	mem0 = mem_total();
	late = rte_pktmbuf_pool_create("vv_late", 32767, 256, 0,
				       SEG_ROOM + RTE_PKTMBUF_HEADROOM,
				       rte_socket_id());
	mem1 = mem_total();
	if (late == NULL || mem1 <= mem0) {
		printf("FAIL hotplug: %s\n", late == NULL ?
		       "cannot create the late pool" :
		       "the heap did not grow, so nothing was hot-plugged");
		rte_mempool_free(late);
		port_down(port);
		return 1;
	}
	printf("hotplug: heap grew from %" PRIu64 " to %" PRIu64 " MiB while the port ran\n",
	       mem0 >> 20, mem1 >> 20);
	pool = late;
	lost = exchange(port, o->count, o->window, o->timeout_s, &bad);
	pool = first;
	/* The Tx ring may still hold late mbufs: stop returns them. */
	rte_eth_dev_stop(port);
	rte_mempool_free(late);
	if (rte_eth_dev_start(port) < 0) {
		printf("FAIL hotplug: restart failed\n");
		port_down(port);
		return 1;
	}
	/* Memory added and removed while running must not disturb the rest. */
	rte_free(rte_malloc("vv_hotplug", 64 << 20, 0));
	printf("hotplug: heap after adding and freeing 64 MiB while running: %" PRIu64 " MiB\n",
	       mem_total() >> 20);
	lost2 = exchange(port, o->count, o->window, o->timeout_s, &bad2);
	port_down(port);
	if (lost || bad || lost2 || bad2 || rte_mempool_in_use_count(pool)) {
		printf("FAIL hotplug: from hot-plugged memory %u lost/%u corrupt; after removals %u lost/%u corrupt\n",
		       lost, bad, lost2, bad2);
		return 1;
	}
	printf("PASS hotplug: frames from memory added after start arrive intact, and traffic survives its removal\n");
	return 0;
}

static void
usage(const char *prog)
{
	printf("usage: %s <EAL args> -- --dev NAME,ARGS --mode integrity|cycles|stop|hotplug|vanish|unplug|reconnect [--count N] [--cycles N] [--window N] [--timeout S] [--queue-size N] [--max-frame 64..9000]\n",
	       prog);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "mode", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'c' },
		{ "cycles", required_argument, NULL, 'y' },
		{ "window", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "queue-size", required_argument, NULL, 'q' },
		{ "max-frame", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_opts o = {
		.mode = "integrity", .count = 3000, .cycles = 100,
		.window = 64, .timeout_s = 60, .queue_size = 256,
	};
	const char *comma;
	int ret, opt;

	/* Scripts read the log while it runs. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		printf("EAL init failed: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	argc -= ret;
	argv += ret;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd': o.dev = optarg; break;
		case 'm': o.mode = optarg; break;
		case 'c': o.count = (unsigned int)atoi(optarg); break;
		case 'y': o.cycles = (unsigned int)atoi(optarg); break;
		case 'w': o.window = (unsigned int)atoi(optarg); break;
		case 't': o.timeout_s = (unsigned int)atoi(optarg); break;
		case 'q': o.queue_size = (uint16_t)atoi(optarg); break;
		case 'f':
			max_frame = (unsigned int)atoi(optarg);
			if (max_frame < 64 || max_frame > MAX_FRAME) {
				usage(argv[0]);
				return 2;
			}
			break;
		default: usage(argv[0]); return 2;
		}
	}
	if (o.dev == NULL) {
		usage(argv[0]);
		return 2;
	}
	comma = strchr(o.dev, ',');
	snprintf(dev_name, sizeof(dev_name), "%.*s",
		 (int)(comma ? comma - o.dev : (long)strlen(o.dev)), o.dev);
	dev_args = comma ? comma + 1 : "";
	pool = rte_pktmbuf_pool_create("vv_check", 8191, 256, 0,
				       SEG_ROOM + RTE_PKTMBUF_HEADROOM,
				       rte_socket_id());
	if (pool == NULL) {
		printf("mbuf pool: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	if (strcmp(o.mode, "integrity") == 0)
		ret = run_integrity(&o);
	else if (strcmp(o.mode, "stop") == 0)
		ret = run_stop(&o);
	else if (strcmp(o.mode, "vanish") == 0)
		ret = run_vanish(&o, false);
	else if (strcmp(o.mode, "unplug") == 0)
		ret = run_vanish(&o, true);
	else if (strcmp(o.mode, "hotplug") == 0)
		ret = run_hotplug(&o);
	else if (strcmp(o.mode, "reconnect") == 0)
		ret = run_reconnect(&o);
	else if (strcmp(o.mode, "cycles") == 0) {
		max_frame = RTE_ETHER_MAX_LEN - RTE_ETHER_CRC_LEN;
		ret = run_cycles(&o);
	}
	else {
		usage(argv[0]);
		ret = 2;
	}
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return ret;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fixed-count packet workload for instruction counts per packet, run under
 * `valgrind --tool=callgrind --toggle-collect=vu_cost_rx` (or vu_cost_tx)
 * by vu-bench.sh. Works with any ethdev given by --vdev (ours or DPDK's
 * net_virtio_user); the peer (a vhost-user server in another process)
 * floods it (--mode rx) or drains it (--mode tx).
 *
 * vu_cost_rx/vu_cost_tx exist so that one toggle covers exactly one burst
 * call of either driver: DPDK's Debian libraries are stripped, so the
 * reference's burst functions have no name callgrind could toggle on.
 * Their inclusive cost is the driver's burst function plus the few
 * instructions of rte_eth_rx_burst/rte_eth_tx_burst, the same for both.
 *
 *   vu_burst_cost EAL-ARGS -- --mode rx|tx [--packets N] [--warmup N]
 *                 [--size BYTES] [--burst N] [--ring N] [--timeout SECS]
 *                 [--pause-us US]
 *
 * Prints one "vu-cost: ..." line with the counts the caller divides by,
 * and where the port's burst function lives. Exits non-zero when the
 * count was not reached in time.
 */
#include <dlfcn.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#define MAX_BURST 64
#define NB_MBUFS 8191
#define MBUF_CACHE 256

struct cost_opts {
	bool tx;
	uint64_t packets;
	uint64_t warmup;
	uint16_t size;
	uint16_t burst;
	uint16_t ring;
	unsigned int timeout_s;
	unsigned int pause_us;
};

struct cost_counts {
	uint64_t packets;
	uint64_t calls;
	uint64_t empty;		/* calls that moved nothing */
	uint64_t refused;	/* Tx packets the driver did not take */
};

static struct rte_mempool *pool;
static struct rte_ether_hdr frame_hdr;

/*
 * The toggles. noinline and external so callgrind sees them as functions;
 * the empty asm keeps the compiler from merging the two.
 */
__attribute__((noinline)) uint16_t
vu_cost_rx(uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	__asm__ volatile("" ::: "memory");
	return rte_eth_rx_burst(port, 0, pkts, n);
}

__attribute__((noinline)) uint16_t
vu_cost_tx(uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	__asm__ volatile("" ::: "memory");
	return rte_eth_tx_burst(port, 0, pkts, n);
}

/* Warm-up goes through these instead, outside the toggled functions. */
__attribute__((noinline)) static uint16_t
warm_rx(uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	__asm__ volatile("" ::: "memory");
	return rte_eth_rx_burst(port, 0, pkts, n);
}

__attribute__((noinline)) static uint16_t
warm_tx(uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	__asm__ volatile("" ::: "memory");
	return rte_eth_tx_burst(port, 0, pkts, n);
}

typedef uint16_t (*burst_fn)(uint16_t, struct rte_mbuf **, uint16_t);

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The payload is whatever the recycled mbuf holds: neither driver reads
 * it, and writing it here would only slow the run under valgrind.
 */
static int
fill_burst(struct rte_mbuf **pkts, uint16_t n, uint16_t size)
{
	uint16_t i;

	if (rte_pktmbuf_alloc_bulk(pool, pkts, n) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		memcpy(rte_pktmbuf_mtod(m, void *), &frame_hdr,
		       sizeof(frame_hdr));
		m->data_len = size;
		m->pkt_len = size;
	}
	return 0;
}

/*
 * Under valgrind this process runs ~50x slower than the native peer, so
 * the peer normally keeps the ring full (rx) or empty (tx). When another
 * process steals the peer's CPU it does not, and the empty or refused
 * calls then counted would make the figure depend on timing. A pause
 * between calls, outside the toggled function, gives the peer its turn.
 */
static void
let_peer_run(unsigned int pause_us)
{
	if (pause_us > 0)
		rte_delay_us_sleep(pause_us);
}

static int
run_tx(uint16_t port, const struct cost_opts *o, burst_fn fn, uint64_t count,
       double deadline, struct cost_counts *c)
{
	struct rte_mbuf *pkts[MAX_BURST];

	while (c->packets < count) {
		uint64_t left = count - c->packets;
		uint16_t n = left < o->burst ? (uint16_t)left : o->burst;
		uint16_t sent;

		if (fill_burst(pkts, n, o->size) != 0) {
			fprintf(stderr, "vu-cost: mbuf pool exhausted\n");
			return -1;
		}
		let_peer_run(o->pause_us);
		sent = fn(port, pkts, n);
		c->calls++;
		c->packets += sent;
		if (sent < n) {
			rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
			c->refused += n - sent;
			if (sent == 0)
				c->empty++;
		}
		if ((c->calls & 255) == 0 && now_s() > deadline)
			return -1;
	}
	return 0;
}

static int
run_rx(uint16_t port, const struct cost_opts *o, burst_fn fn, uint64_t count,
       double deadline, struct cost_counts *c)
{
	struct rte_mbuf *pkts[MAX_BURST];

	while (c->packets < count) {
		uint16_t got;

		let_peer_run(o->pause_us);
		got = fn(port, pkts, o->burst);

		c->calls++;
		c->packets += got;
		if (got == 0)
			c->empty++;
		else
			rte_pktmbuf_free_bulk(pkts, got);
		if ((c->calls & 255) == 0 && now_s() > deadline)
			return -1;
	}
	return 0;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s EAL-ARGS -- --mode rx|tx [--packets N] [--warmup N] [--size BYTES]\n"
		"       [--burst N] [--ring N] [--timeout SECS] [--pause-us US]\n", prog);
}

static int
parse_args(int argc, char **argv, struct cost_opts *o)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "packets", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "size", required_argument, NULL, 's' },
		{ "burst", required_argument, NULL, 'b' },
		{ "ring", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "pause-us", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	bool mode_set = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		unsigned long v = 0;
		char *end = NULL;

		if (opt != 'm') {
			v = strtoul(optarg, &end, 10);
			if (end == optarg || *end != '\0') {
				fprintf(stderr, "vu-cost: bad number '%s'\n", optarg);
				return -1;
			}
		}
		switch (opt) {
		case 'm':
			if (strcmp(optarg, "rx") != 0 && strcmp(optarg, "tx") != 0) {
				fprintf(stderr, "vu-cost: --mode is rx or tx\n");
				return -1;
			}
			o->tx = strcmp(optarg, "tx") == 0;
			mode_set = true;
			break;
		case 'n':
			o->packets = v;
			break;
		case 'w':
			o->warmup = v;
			break;
		case 's':
			if (v < RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN ||
			    v > RTE_MBUF_DEFAULT_DATAROOM) {
				fprintf(stderr, "vu-cost: --size from %u to %u\n",
					RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN,
					RTE_MBUF_DEFAULT_DATAROOM);
				return -1;
			}
			o->size = (uint16_t)v;
			break;
		case 'b':
			if (v < 1 || v > MAX_BURST) {
				fprintf(stderr, "vu-cost: --burst from 1 to %u\n",
					MAX_BURST);
				return -1;
			}
			o->burst = (uint16_t)v;
			break;
		case 'r':
			if (v < 64 || v > 4096) {
				fprintf(stderr, "vu-cost: --ring from 64 to 4096\n");
				return -1;
			}
			o->ring = (uint16_t)v;
			break;
		case 't':
			o->timeout_s = (unsigned int)v;
			break;
		case 'p':
			if (v > 1000000) {
				fprintf(stderr, "vu-cost: --pause-us up to 1000000\n");
				return -1;
			}
			o->pause_us = (unsigned int)v;
			break;
		default:
			return -1;
		}
	}
	if (!mode_set || o->packets == 0) {
		fprintf(stderr, "vu-cost: --mode is required and --packets must be > 0\n");
		return -1;
	}
	return 0;
}

/* "lib.so+0xoff (symbol)": which driver function a run measured. */
static void
describe_fn(const void *fn, char *buf, size_t len)
{
	Dl_info info;

	if (fn != NULL && dladdr(fn, &info) != 0 && info.dli_fname != NULL) {
		const char *base = strrchr(info.dli_fname, '/');

		snprintf(buf, len, "%s+0x%" PRIxPTR " (%s)",
			 base != NULL ? base + 1 : info.dli_fname,
			 (uintptr_t)fn - (uintptr_t)info.dli_fbase,
			 info.dli_sname != NULL &&
			 info.dli_saddr == fn ? info.dli_sname : "no symbol");
	} else {
		snprintf(buf, len, "%p (unknown object)", fn);
	}
}

static int
port_setup(uint16_t port, const struct cost_opts *o)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int socket = rte_eth_dev_socket_id(port);
	int ret;

	if (socket < 0)
		socket = 0;
	memset(&conf, 0, sizeof(conf));
	/* As testpmd does: each driver gets the fast free it offers. */
	if (rte_eth_dev_info_get(port, &info) == 0)
		conf.txmode.offloads = info.tx_offload_capa &
			RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, o->ring, socket, NULL, pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, o->ring, socket, NULL);
	/* As testpmd does: no packet types, so no driver parses for them. */
	if (ret == 0)
		(void)rte_eth_dev_set_ptypes(port, RTE_PTYPE_UNKNOWN, NULL, 0);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret != 0)
		fprintf(stderr, "vu-cost: port %u setup failed: %s\n", port,
			rte_strerror(-ret));
	return ret;
}

/* Link state only helps diagnose a silent peer; traffic is what counts. */
static void
report_link(uint16_t port, double deadline)
{
	struct rte_eth_link link;

	do {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(port, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			break;
		rte_delay_ms(10);
	} while (now_s() < deadline);
	printf("vu-cost: port %u link %s\n", port,
	       link.link_status == RTE_ETH_LINK_UP ? "up" : "down");
}

int
main(int argc, char **argv)
{
	struct cost_opts o = {
		.packets = 100000, .warmup = 4096, .size = 64, .burst = 32,
		.ring = 256, .timeout_s = 60, .pause_us = 20,
	};
	struct cost_counts warm = { 0 }, c = { 0 };
	char fn_desc[256];
	const void *fn;
	double deadline;
	uint16_t port;
	int ret, rc = 0;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "vu-cost: EAL init failed\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (parse_args(argc, argv, &o) != 0) {
		usage("vu_burst_cost");
		rte_eal_cleanup();
		return 2;
	}
	deadline = now_s() + o.timeout_s;
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "vu-cost: no port (did the --vdev probe fail?)\n");
		rte_eal_cleanup();
		return 1;
	}
	port = (uint16_t)rte_eth_find_next(0);
	pool = rte_pktmbuf_pool_create("vu_cost", NB_MBUFS, MBUF_CACHE, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE,
				       rte_socket_id());
	if (pool == NULL || port_setup(port, &o) != 0) {
		if (pool == NULL)
			fprintf(stderr, "vu-cost: cannot create the mbuf pool\n");
		rte_eal_cleanup();
		return 1;
	}
	memset(&frame_hdr.dst_addr, 0xff, sizeof(frame_hdr.dst_addr));
	rte_eth_macaddr_get(port, &frame_hdr.src_addr);
	frame_hdr.ether_type = rte_cpu_to_be_16(0x88b5);
	report_link(port, now_s() + 10);

	/* rte_eth_fp_ops holds what rte_eth_*_burst really call. */
	fn = o.tx ? (const void *)rte_eth_fp_ops[port].tx_pkt_burst :
		(const void *)rte_eth_fp_ops[port].rx_pkt_burst;
	describe_fn(fn, fn_desc, sizeof(fn_desc));

	/* Steady state first: full rings, recycled mbufs, reclaim running. */
	ret = o.tx ? run_tx(port, &o, warm_tx, o.warmup, deadline, &warm) :
		run_rx(port, &o, warm_rx, o.warmup, deadline, &warm);
	if (ret == 0)
		ret = o.tx ? run_tx(port, &o, vu_cost_tx, o.packets, deadline, &c) :
			run_rx(port, &o, vu_cost_rx, o.packets, deadline, &c);
	if (ret != 0) {
		fprintf(stderr, "vu-cost: timeout after %u s: warm-up %" PRIu64 "/%" PRIu64
			", measured %" PRIu64 "/%" PRIu64 " packets\n", o.timeout_s,
			warm.packets, o.warmup, c.packets, o.packets);
		rc = 1;
	}
	printf("vu-cost: mode=%s packets=%" PRIu64 " calls=%" PRIu64 " empty=%" PRIu64
	       " refused=%" PRIu64 " size=%u burst=%u ring=%u pause_us=%u fn=%s\n",
	       o.tx ? "tx" : "rx", c.packets, c.calls, c.empty, c.refused,
	       o.size, o.burst, o.ring, o.pause_us, fn_desc);
	fflush(stdout);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return rc;
}

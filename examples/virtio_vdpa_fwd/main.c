/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio_vdpa_fwd: an l2fwd-style forwarder. Every frame received on a port
 * goes back out of its pair port (port 0 <-> 1, 2 <-> 3; a lone last port
 * is its own pair) with source and destination MAC swapped. Prints live
 * rates once per second.
 *
 *   virtio_vdpa_fwd <EAL args> -- [--duration S] [--log-file PATH]
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#define BURST 32
#define NB_MBUF 8191

static volatile bool quit;

struct fwd_stats {
	uint64_t rx;
	uint64_t tx;
	uint64_t dropped;
};

static struct fwd_stats stats[RTE_MAX_ETHPORTS];

static void
on_signal(int sig)
{
	RTE_SET_USED(sig);
	quit = true;
}

static uint16_t
pair_of(uint16_t port, uint16_t nb_ports)
{
	if ((port ^ 1) < nb_ports)
		return port ^ 1;
	return port;
}

static int
port_init(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	struct rte_eth_link link;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, 0,
					     rte_eth_dev_socket_id(port), NULL,
					     pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, 0,
					     rte_eth_dev_socket_id(port), NULL);
	/* Forwarding reads no packet type: as l2fwd, spare the driver the parse. */
	if (ret == 0)
		(void)rte_eth_dev_set_ptypes(port, RTE_PTYPE_UNKNOWN, NULL, 0);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret < 0) {
		fprintf(stderr, "port %u: setup failed: %s (the driver log says why)\n",
			port, strerror(-ret));
		return ret;
	}
	rte_eth_promiscuous_enable(port);
	rte_eth_link_get(port, &link);
	printf("port %u: link %s, speed %s\n", port,
	       link.link_status ? "up" : "down",
	       rte_eth_link_speed_to_str(link.link_speed));
	return 0;
}

static void
forward(uint16_t nb_ports)
{
	struct rte_mbuf *pkts[BURST];
	uint16_t port;

	for (port = 0; port < nb_ports; port++) {
		uint16_t out = pair_of(port, nb_ports);
		uint16_t n = rte_eth_rx_burst(port, 0, pkts, BURST), i, sent;

		if (n == 0)
			continue;
		for (i = 0; i < n; i++) {
			struct rte_ether_hdr *eth =
				rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
			struct rte_ether_addr tmp = eth->src_addr;

			eth->src_addr = eth->dst_addr;
			eth->dst_addr = tmp;
		}
		sent = rte_eth_tx_burst(out, 0, pkts, n);
		if (sent < n)
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		stats[port].rx += n;
		stats[out].tx += sent;
		stats[out].dropped += n - sent;
	}
}

static void
print_rates(uint16_t nb_ports, struct fwd_stats *prev, double secs,
	    unsigned int tick)
{
	uint16_t port;

	for (port = 0; port < nb_ports; port++) {
		struct fwd_stats *s = &stats[port], *p = &prev[port];

		printf("[%3us] port %u: rx %9.0f pps  tx %9.0f pps  dropped %9.0f pps  (total rx %" PRIu64 " tx %" PRIu64 ")\n",
		       tick, port, (double)(s->rx - p->rx) / secs,
		       (double)(s->tx - p->tx) / secs,
		       (double)(s->dropped - p->dropped) / secs, s->rx, s->tx);
		*p = *s;
	}
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "log-file", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct fwd_stats prev[RTE_MAX_ETHPORTS];
	unsigned int duration = 0, tick = 0;
	const char *log_file = NULL;
	struct rte_mempool *pool;
	uint64_t hz, next, start;
	uint16_t nb_ports, port;
	FILE *log = NULL;
	int ret, opt;

	/* Opened before EAL init so probe messages land there too. */
	for (opt = 1; opt < argc - 1; opt++)
		if (strcmp(argv[opt], "--log-file") == 0)
			log_file = argv[opt + 1];
	if (log_file != NULL) {
		log = fopen(log_file, "w");
		if (log == NULL || rte_openlog_stream(log) < 0) {
			perror(log_file);
			return 1;
		}
		setvbuf(log, NULL, _IOLBF, 0);
	}
	printf("driver and EAL log: %s\n",
	       log_file ? log_file : "stderr (give --log-file PATH to keep it)");
	fflush(stdout);
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "EAL init failed: %s%s%s\n",
			rte_strerror(rte_errno), log_file ? "; see " : "",
			log_file ? log_file : "");
		return 1;
	}
	argc -= ret;
	argv += ret;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'd')
			duration = (unsigned int)atoi(optarg);
		else if (opt != 'l') {
			fprintf(stderr, "usage: %s <EAL args> -- [--duration S] [--log-file PATH]\n",
				argv[0]);
			return 1;
		}
	}
	nb_ports = rte_eth_dev_count_avail();
	if (nb_ports == 0) {
		fprintf(stderr, "no ports: pass --vdev net_virtio_vdpa0,path=/dev/vhost-vdpa-0 (and -d the driver .so if it is not installed)\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("fwd_pool", NB_MBUF * nb_ports, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE,
				       rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	for (port = 0; port < nb_ports; port++)
		if (port_init(port, pool) < 0)
			return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	memset(prev, 0, sizeof(prev));
	hz = rte_get_timer_hz();
	start = rte_get_timer_cycles();
	next = start + hz;
	while (!quit) {
		uint64_t now;

		forward(nb_ports);
		now = rte_get_timer_cycles();
		if (now >= next) {
			print_rates(nb_ports, prev, 1.0, ++tick);
			next += hz;
			if (duration != 0 && tick >= duration)
				break;
		}
	}
	for (port = 0; port < nb_ports; port++) {
		printf("port %u: forwarded rx %" PRIu64 " tx %" PRIu64 " dropped %" PRIu64 " in %.1f s\n",
		       port, stats[port].rx, stats[port].tx,
		       stats[port].dropped,
		       (double)(rte_get_timer_cycles() - start) / (double)hz);
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	rte_eal_cleanup();
	if (log != NULL)
		fclose(log);
	return 0;
}

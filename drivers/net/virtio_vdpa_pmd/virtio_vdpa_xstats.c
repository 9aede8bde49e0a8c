/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>

#include "virtio_vdpa_rxtx.h"
#include "virtio_vdpa_xstats.h"

struct xstat {
	const char *name;	/* after "rx_qN_" or "tx_qN_" */
	uint64_t (*get)(const void *q, unsigned int arg);
	unsigned int arg;
};

static uint64_t
rx_bad(const void *q, unsigned int arg)
{
	RTE_SET_USED(arg);
	return vv_ring_bad_count(&((const struct virtio_vdpa_rxq *)q)->ring);
}

static uint64_t
rx_nombuf(const void *q, unsigned int arg)
{
	RTE_SET_USED(arg);
	return ((const struct virtio_vdpa_rxq *)q)->stats.nombuf;
}

static uint64_t
rx_kicks(const void *q, unsigned int arg)
{
	RTE_SET_USED(arg);
	return ((const struct virtio_vdpa_rxq *)q)->notify.kicks;
}

static uint64_t
rx_intr(const void *q, unsigned int arg)
{
	RTE_SET_USED(arg);
	return ((const struct virtio_vdpa_rxq *)q)->stats.intr_enables;
}

static uint64_t
rx_size(const void *q, unsigned int arg)
{
	return ((const struct virtio_vdpa_rxq *)q)->stats.size_bins[arg];
}

static uint64_t
tx_bad(const void *q, unsigned int arg)
{
	RTE_SET_USED(arg);
	return vv_ring_bad_count(&((const struct virtio_vdpa_txq *)q)->ring);
}

static uint64_t
tx_dropped(const void *q, unsigned int arg)
{
	RTE_SET_USED(arg);
	return ((const struct virtio_vdpa_txq *)q)->stats.errors;
}

static uint64_t
tx_kicks(const void *q, unsigned int arg)
{
	RTE_SET_USED(arg);
	return ((const struct virtio_vdpa_txq *)q)->notify.kicks;
}

static uint64_t
tx_size(const void *q, unsigned int arg)
{
	return ((const struct virtio_vdpa_txq *)q)->stats.size_bins[arg];
}

#define SIZE_BINS(get) \
	{ "size_0_63_packets", get, 0 }, \
	{ "size_64_127_packets", get, 1 }, \
	{ "size_128_255_packets", get, 2 }, \
	{ "size_256_511_packets", get, 3 }, \
	{ "size_512_1023_packets", get, 4 }, \
	{ "size_1024_2047_packets", get, 5 }, \
	{ "size_2048_4095_packets", get, 6 }, \
	{ "size_4096_max_packets", get, 7 }

static const struct xstat rx_xstats[] = {
	/* entries the device wrote that named no buffer or lied on length */
	{ "bad_used", rx_bad, 0 },
	{ "nombuf", rx_nombuf, 0 },
	{ "kicks", rx_kicks, 0 },
	{ "intr_enables", rx_intr, 0 },
	SIZE_BINS(rx_size),
};

static const struct xstat tx_xstats[] = {
	{ "bad_used", tx_bad, 0 },
	/* frames freed unsent: too many segments, or offload work refused */
	{ "dropped", tx_dropped, 0 },
	{ "kicks", tx_kicks, 0 },
	SIZE_BINS(tx_size),
};

#define NB_RX RTE_DIM(rx_xstats)
#define NB_TX RTE_DIM(tx_xstats)

/* Queue pair after queue pair: rx_q0_*, tx_q0_*, rx_q1_*, ... */
static unsigned int
xstats_count(const struct rte_eth_dev *eth)
{
	return (unsigned int)(NB_RX + NB_TX) * eth->data->nb_rx_queues;
}

static const struct xstat *
xstat_at(unsigned int id, unsigned int *qid, bool *tx)
{
	unsigned int k = id % (NB_RX + NB_TX);

	*qid = id / (NB_RX + NB_TX);
	*tx = k >= NB_RX;
	return *tx ? &tx_xstats[k - NB_RX] : &rx_xstats[k];
}

static void
xstat_name(unsigned int id, struct rte_eth_xstat_name *name)
{
	unsigned int qid;
	bool tx;
	const struct xstat *x = xstat_at(id, &qid, &tx);

	snprintf(name->name, sizeof(name->name), "%s_q%u_%s", tx ? "tx" : "rx",
		 qid, x->name);
}

static uint64_t
xstat_value(const struct rte_eth_dev *eth, unsigned int id)
{
	unsigned int qid;
	bool tx;
	const struct xstat *x = xstat_at(id, &qid, &tx);
	const void *q = tx ? eth->data->tx_queues[qid] :
		eth->data->rx_queues[qid];

	return q == NULL ? 0 : x->get(q, x->arg);
}

int
virtio_vdpa_xstats_get_names(struct rte_eth_dev *eth,
			     struct rte_eth_xstat_name *names,
			     unsigned int size)
{
	unsigned int n = xstats_count(eth), i;

	if (names == NULL || size < n)
		return (int)n;
	for (i = 0; i < n; i++)
		xstat_name(i, &names[i]);
	return (int)n;
}

int
virtio_vdpa_xstats_get(struct rte_eth_dev *eth, struct rte_eth_xstat *xs,
		       unsigned int size)
{
	unsigned int n = xstats_count(eth), i;

	if (xs == NULL || size < n)
		return (int)n;
	for (i = 0; i < n; i++) {
		xs[i].id = i;
		xs[i].value = xstat_value(eth, i);
	}
	return (int)n;
}

int
virtio_vdpa_xstats_get_names_by_id(struct rte_eth_dev *eth,
				   const uint64_t *ids,
				   struct rte_eth_xstat_name *names,
				   unsigned int size)
{
	unsigned int n = xstats_count(eth), i;

	if (ids == NULL)
		return virtio_vdpa_xstats_get_names(eth, names, size);
	for (i = 0; i < size; i++) {
		if (ids[i] >= n)
			return -EINVAL;
		xstat_name((unsigned int)ids[i], &names[i]);
	}
	return (int)size;
}

int
virtio_vdpa_xstats_get_by_id(struct rte_eth_dev *eth, const uint64_t *ids,
			     uint64_t *values, unsigned int size)
{
	unsigned int n = xstats_count(eth), i;

	if (ids == NULL) {
		if (values == NULL || size < n)
			return (int)n;
		for (i = 0; i < n; i++)
			values[i] = xstat_value(eth, i);
		return (int)n;
	}
	for (i = 0; i < size; i++) {
		if (ids[i] >= n)
			return -EINVAL;
		values[i] = xstat_value(eth, (unsigned int)ids[i]);
	}
	return (int)size;
}

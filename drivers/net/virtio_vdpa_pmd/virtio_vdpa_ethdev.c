/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ethdev glue of net_virtio_vdpa: probe, devargs, dev ops. The control path
 * lives in lib/ (vv_dev), the bursts in virtio_vdpa_rxtx.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <bus_vdev_driver.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>
#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_interrupts.h>
#include <rte_kvargs.h>
#include <rte_malloc.h>
#include <rte_memzone.h>

#include "virtio_vdpa_devargs.h"
#include "virtio_vdpa_logs.h"
#include "virtio_vdpa_mem.h"
#include "virtio_vdpa_offload.h"
#include "virtio_vdpa_private.h"
#include "virtio_vdpa_rss.h"
#include "virtio_vdpa_rxintr.h"
#include "virtio_vdpa_rxtx.h"
#include "virtio_vdpa_xstats.h"
#include "vv_dev.h"
#include "vv_log.h"

#define VV_DRIVER_NAME net_virtio_vdpa
#define VV_DEFAULT_MTU_MAX 9600
#define VV_RX_REFILL_THRESH 32
#define VV_TX_RECLAIM_THRESH 32
/*
 * The link announcement goes out with the app's next Tx burst on queue 0;
 * an app that sends nothing for this long gets it acknowledged unsent.
 */
#define VV_ANNOUNCE_POLL_MS 10
#define VV_ANNOUNCE_WAIT_MS 1000
/*
 * How often a device that can leave is looked for: a vhost-user peer
 * (reconnected to when back), or a vhost-vdpa device that may be unplugged.
 */
#define VV_WATCH_POLL_US (100 * 1000)

RTE_LOG_REGISTER_DEFAULT(virtio_vdpa_logtype, NOTICE);
RTE_LOG_REGISTER_SUFFIX(virtio_vdpa_logtype_init, init, NOTICE);
RTE_LOG_REGISTER_SUFFIX(virtio_vdpa_logtype_rx, rx, NOTICE);
RTE_LOG_REGISTER_SUFFIX(virtio_vdpa_logtype_tx, tx, NOTICE);

static void ctrl_mem_free(struct virtio_vdpa_private *p);
static int eth_dev_stop(struct rte_eth_dev *eth);
static void announce_check(void *arg);

static void
vv_core_log(enum vv_log_level level, const char *msg)
{
	static const uint32_t map[] = {
		[VV_LOG_ERR] = RTE_LOG_ERR,
		[VV_LOG_WARNING] = RTE_LOG_WARNING,
		[VV_LOG_INFO] = RTE_LOG_INFO,
		[VV_LOG_DEBUG] = RTE_LOG_DEBUG,
	};

	rte_log(map[level], virtio_vdpa_logtype_init, "virtio_vdpa: %s\n", msg);
}

/*
 * Checksums and VLAN tags are offered on every device: what the device
 * cannot do is done in software, and only when the app asks. Segmentation
 * and LRO only where the device does them.
 */
#define VV_RX_CKSUM_OFFLOADS (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | \
			      RTE_ETH_RX_OFFLOAD_UDP_CKSUM | \
			      RTE_ETH_RX_OFFLOAD_TCP_CKSUM)
#define VV_TX_CKSUM_OFFLOADS (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | \
			      RTE_ETH_TX_OFFLOAD_UDP_CKSUM | \
			      RTE_ETH_TX_OFFLOAD_TCP_CKSUM)

/* Chained Rx needs mergeable buffers; without them a frame is one mbuf. */
static uint64_t
rx_offload_capa(const struct virtio_vdpa_private *p)
{
	uint64_t capa = VV_RX_CKSUM_OFFLOADS | RTE_ETH_RX_OFFLOAD_VLAN_STRIP;

	if (p->dev.features & VV_BIT(VIRTIO_NET_F_MRG_RXBUF))
		capa |= RTE_ETH_RX_OFFLOAD_SCATTER;
	if (p->dev.features & VV_BIT(VIRTIO_NET_F_CTRL_VLAN))
		capa |= RTE_ETH_RX_OFFLOAD_VLAN_FILTER;
	if (p->dev.features & VV_BIT(VIRTIO_NET_F_HASH_REPORT))
		capa |= RTE_ETH_RX_OFFLOAD_RSS_HASH;
	if (p->dev.features & (VV_BIT(VIRTIO_NET_F_GUEST_TSO4) |
			       VV_BIT(VIRTIO_NET_F_GUEST_TSO6)))
		capa |= RTE_ETH_RX_OFFLOAD_TCP_LRO;
	return capa;
}

static uint64_t
tx_offload_capa(const struct virtio_vdpa_private *p)
{
	uint64_t capa = VV_TX_CKSUM_OFFLOADS | RTE_ETH_TX_OFFLOAD_VLAN_INSERT |
		RTE_ETH_TX_OFFLOAD_MULTI_SEGS | RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;

	if (p->dev.features & (VV_BIT(VIRTIO_NET_F_HOST_TSO4) |
			       VV_BIT(VIRTIO_NET_F_HOST_TSO6)))
		capa |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
	return capa;
}

/* The offload features the app's offloads ask the device for. */
static uint64_t
offload_features_wanted(uint64_t rx, uint64_t tx)
{
	uint64_t f = 0;

	if (rx & (RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM))
		f |= VV_BIT(VIRTIO_NET_F_GUEST_CSUM);
	if (rx & RTE_ETH_RX_OFFLOAD_TCP_LRO)
		f |= VV_BIT(VIRTIO_NET_F_GUEST_CSUM) |
			VV_BIT(VIRTIO_NET_F_GUEST_TSO4) |
			VV_BIT(VIRTIO_NET_F_GUEST_TSO6);
	if (tx & (RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM))
		f |= VV_BIT(VIRTIO_NET_F_CSUM);
	if (tx & RTE_ETH_TX_OFFLOAD_TCP_TSO)
		f |= VV_BIT(VIRTIO_NET_F_CSUM) | VV_BIT(VIRTIO_NET_F_HOST_TSO4) |
			VV_BIT(VIRTIO_NET_F_HOST_TSO6);
	return f;
}

/* What a queue's offload bursts do, from the features now in use. */
static unsigned int
rx_offl_flags(const struct virtio_vdpa_private *p, uint64_t rx,
	      uint64_t features)
{
	unsigned int o = 0;

	if (p->ptypes_on)
		o |= VV_RX_OFFL_PTYPE;
	if (rx & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
		o |= VV_RX_OFFL_IPV4_CKSUM;
	if (rx & (RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM))
		o |= VV_RX_OFFL_L4_CKSUM;
	if (features & VV_BIT(VIRTIO_NET_F_GUEST_CSUM))
		o |= VV_RX_OFFL_DEV_CKSUM;
	if (rx & RTE_ETH_RX_OFFLOAD_VLAN_STRIP)
		o |= VV_RX_OFFL_VLAN_STRIP;
	if (features & (VV_BIT(VIRTIO_NET_F_GUEST_TSO4) |
			VV_BIT(VIRTIO_NET_F_GUEST_TSO6)))
		o |= VV_RX_OFFL_LRO;
	return o;
}

static unsigned int
tx_offl_flags(uint64_t features)
{
	unsigned int o = 0;

	if (features & VV_BIT(VIRTIO_NET_F_CSUM))
		o |= VV_TX_OFFL_DEV_CSUM;
	if (features & VV_BIT(VIRTIO_NET_F_HOST_TSO4))
		o |= VV_TX_OFFL_DEV_TSO4;
	if (features & VV_BIT(VIRTIO_NET_F_HOST_TSO6))
		o |= VV_TX_OFFL_DEV_TSO6;
	return o;
}

static int
eth_dev_configure(struct rte_eth_dev *eth)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	const struct rte_eth_conf *conf = &eth->data->dev_conf;

	if (eth->data->nb_rx_queues != eth->data->nb_tx_queues) {
		PMD_INIT_LOG(ERR, "port %u: virtio queues come in pairs; configure as many Rx as Tx queues (got %u Rx, %u Tx)\n",
			     eth->data->port_id, eth->data->nb_rx_queues,
			     eth->data->nb_tx_queues);
		return -EINVAL;
	}
	if (eth->data->nb_rx_queues > p->args.queues) {
		PMD_INIT_LOG(ERR, "port %u: %u queue pairs requested but the port was probed with queues=%u; raise queues= in the devargs\n",
			     eth->data->port_id, eth->data->nb_rx_queues,
			     p->args.queues);
		return -EINVAL;
	}
	if ((conf->rxmode.offloads & ~rx_offload_capa(p)) != 0 ||
	    (conf->txmode.offloads & ~tx_offload_capa(p)) != 0) {
		PMD_INIT_LOG(ERR, "port %u: unsupported offloads requested (Rx 0x%" PRIx64 ", Tx 0x%" PRIx64 "); %s offers Rx 0x%" PRIx64 ", Tx 0x%" PRIx64 " through this driver\n",
			     eth->data->port_id, conf->rxmode.offloads,
			     conf->txmode.offloads, p->dev.path,
			     rx_offload_capa(p), tx_offload_capa(p));
		return -ENOTSUP;
	}
	return virtio_vdpa_rss_configure(eth);
}

/*
 * The largest ring the device takes: what vhost-vdpa reports
 * (VHOST_VDPA_GET_VRING_NUM), else the protocol's limit.
 */
static uint16_t
ring_size_max(const struct virtio_vdpa_private *p)
{
	uint32_t max = p->dev.info.max_ring_size;

	if (max == 0 || max > VV_MAX_QUEUE_SIZE)
		max = VV_MAX_QUEUE_SIZE;
	return (uint16_t)max;
}

static int
eth_dev_infos_get(struct rte_eth_dev *eth, struct rte_eth_dev_info *info)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	uint16_t qsize = p->args.queue_size;
	uint16_t qmax = ring_size_max(p);

	info->max_rx_queues = p->args.queues;
	info->max_tx_queues = p->args.queues;
	info->max_mac_addrs = p->dev.features & VV_BIT(VIRTIO_NET_F_CTRL_RX) ?
		RTE_DIM(p->macs) : 1;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	info->max_mtu = p->max_mtu;
	info->max_rx_pktlen = p->max_mtu + RTE_ETHER_HDR_LEN +
		RTE_ETHER_CRC_LEN + RTE_VLAN_HLEN;
	info->min_rx_bufsize = RTE_ETHER_MIN_LEN;
	info->rx_desc_lim.nb_max = qmax;
	info->rx_desc_lim.nb_min = VV_MIN_QUEUE_SIZE;
	info->rx_desc_lim.nb_align = 1;
	info->tx_desc_lim = info->rx_desc_lim;
	/* A chain of the smallest ring the app may choose, header apart. */
	info->tx_desc_lim.nb_seg_max = VV_MIN_QUEUE_SIZE - 1;
	info->tx_desc_lim.nb_mtu_seg_max = VV_MIN_QUEUE_SIZE - 1;
	info->default_rxportconf.ring_size = qsize;
	info->default_txportconf.ring_size = qsize;
	info->default_rxportconf.nb_queues = 1;
	info->default_txportconf.nb_queues = 1;
	info->rx_offload_capa = rx_offload_capa(p);
	info->tx_offload_capa = tx_offload_capa(p);
	info->speed_capa = RTE_ETH_LINK_SPEED_FIXED;
	virtio_vdpa_rss_info(p, info);
	return 0;
}

static const struct rte_memzone *
ring_memzone(struct rte_eth_dev *eth, const char *dir, uint16_t qid,
	     size_t size, unsigned int socket)
{
	char name[RTE_MEMZONE_NAMESIZE];

	snprintf(name, sizeof(name), "vv_%u_%s%u", eth->data->port_id, dir,
		 qid);
	return rte_memzone_reserve_aligned(name, size, (int)socket, 0, 4096);
}

static bool
ring_packed(const struct virtio_vdpa_private *p)
{
	return (p->dev.features & VV_BIT(VIRTIO_F_RING_PACKED)) != 0;
}

/*
 * The memory every queue needs: the mbuf table and ring bookkeeping
 * (private), and the ring itself plus `extra` bytes the device reads
 * (a memzone, so it lies in DPDK memory the device has mapped).
 */
static int
queue_mem_alloc(struct rte_eth_dev *eth, const char *dir, uint16_t qid,
		uint16_t size, unsigned int socket, size_t extra,
		struct rte_mbuf ***sw_ring, void **priv,
		const struct rte_memzone **mz)
{
	bool packed = ring_packed(priv_of(eth));

	*sw_ring = rte_zmalloc_socket("vv_sw_ring", sizeof(**sw_ring) * size,
				      RTE_CACHE_LINE_SIZE, (int)socket);
	*priv = rte_zmalloc_socket("vv_ring_priv",
				   vv_ring_priv_size(packed, size),
				   RTE_CACHE_LINE_SIZE, (int)socket);
	*mz = ring_memzone(eth, dir, qid,
			   vv_ring_shared_size(packed, size) + extra, socket);
	if (*sw_ring != NULL && *priv != NULL && *mz != NULL)
		return 0;
	PMD_INIT_LOG(ERR, "port %u: no memory for %s queue %u (%s)\n",
		     eth->data->port_id, dir, qid, rte_strerror(rte_errno));
	rte_memzone_free(*mz);
	rte_free(*priv);
	rte_free(*sw_ring);
	return -ENOMEM;
}

static void
queue_mem_free(struct rte_mbuf **sw_ring, void *priv,
	       const struct rte_memzone *mz)
{
	rte_memzone_free(mz);
	rte_free(priv);
	rte_free(sw_ring);
}

static void
eth_rx_queue_release(struct rte_eth_dev *eth, uint16_t qid)
{
	struct virtio_vdpa_rxq *q = eth->data->rx_queues[qid];

	if (q == NULL)
		return;
	virtio_vdpa_rxq_drain(q);
	queue_mem_free(q->sw_ring, q->priv, q->mz);
	rte_free(q);
	eth->data->rx_queues[qid] = NULL;
}

static void
eth_tx_queue_release(struct rte_eth_dev *eth, uint16_t qid)
{
	struct virtio_vdpa_txq *q = eth->data->tx_queues[qid];

	if (q == NULL)
		return;
	virtio_vdpa_txq_drain(q);
	queue_mem_free(q->sw_ring, q->priv, q->mz);
	rte_free(q);
	eth->data->tx_queues[qid] = NULL;
}

/*
 * How the negotiated features shape a ring. IN_ORDER: Tx reaps batches,
 * and Rx keeps each buffer in its own slot (the fixed-slot bursts).
 */
static unsigned int
ring_flags(const struct virtio_vdpa_private *p)
{
	unsigned int flags = 0;

	if (p->dev.features & VV_BIT(VIRTIO_RING_F_EVENT_IDX))
		flags |= VV_RING_EVENT_IDX;
	if (p->dev.features & VV_BIT(VIRTIO_F_IN_ORDER))
		flags |= VV_RING_IN_ORDER;
	return flags;
}

/*
 * The ring size for nb_desc descriptors: the devargs' queue_size for 0,
 * else nb_desc rounded up to a power of two, within what the device takes.
 * ethdev has checked nb_desc against dev_info's limits already.
 */
static int
queue_ring_size(struct rte_eth_dev *eth, const char *dir, uint16_t nb_desc,
		uint16_t *size)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	uint32_t want = nb_desc == 0 ? p->args.queue_size :
		rte_align32pow2(RTE_MAX(nb_desc, (uint16_t)VV_MIN_QUEUE_SIZE));

	if (want > ring_size_max(p)) {
		PMD_INIT_LOG(ERR, "port %u: %s ring of %u descriptors requested (%u rounded up to a power of two), but %s takes at most %u; request %u or fewer\n",
			     eth->data->port_id, dir, want, nb_desc, p->dev.path,
			     ring_size_max(p), ring_size_max(p));
		return -EINVAL;
	}
	*size = (uint16_t)want;
	return 0;
}

static int
eth_rx_queue_setup(struct rte_eth_dev *eth, uint16_t qid, uint16_t nb_desc,
		  unsigned int socket, const struct rte_eth_rxconf *conf,
		  struct rte_mempool *mp)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	uint32_t room = rte_pktmbuf_data_room_size(mp);
	uint32_t max_frame = eth->data->mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN;
	struct virtio_vdpa_rxq *q;
	uint16_t size;
	int ret;

	RTE_SET_USED(conf);
	ret = queue_ring_size(eth, "Rx", nb_desc, &size);
	if (ret < 0)
		return ret;
	if (room < RTE_PKTMBUF_HEADROOM + RTE_ETHER_MIN_LEN) {
		PMD_INIT_LOG(ERR, "port %u: mbufs of %u bytes are too small; use at least RTE_MBUF_DEFAULT_BUF_SIZE\n",
			     eth->data->port_id, room);
		return -EINVAL;
	}
	if (!(p->dev.features & VV_BIT(VIRTIO_NET_F_MRG_RXBUF)) &&
	    room - RTE_PKTMBUF_HEADROOM < max_frame) {
		PMD_INIT_LOG(ERR, "port %u: without mergeable Rx buffers a frame must fit one mbuf, but MTU %u needs %u bytes of data room and the pool has %u; set mrg_rxbuf=1, a smaller MTU or larger mbufs\n",
			     eth->data->port_id, eth->data->mtu, max_frame,
			     room - RTE_PKTMBUF_HEADROOM);
		return -EINVAL;
	}
	eth_rx_queue_release(eth, qid);

	q = rte_zmalloc_socket("vv_rxq", sizeof(*q), RTE_CACHE_LINE_SIZE,
			       (int)socket);
	if (q == NULL)
		return -ENOMEM;
	ret = queue_mem_alloc(eth, "rx", qid, size, socket, 0, &q->sw_ring,
			      &q->priv, &q->mz);
	if (ret < 0) {
		rte_free(q);
		return ret;
	}
	q->mp = mp;
	q->mergeable = (p->dev.features & VV_BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	q->port_id = eth->data->port_id;
	q->queue_id = qid;
	q->refill_thresh = RTE_MIN(VV_RX_REFILL_THRESH, size / 2);
	q->notify.fd = -1;
	virtio_vdpa_rxq_prepare(q);
	vv_ring_init(&q->ring, ring_packed(p), q->mz->addr, q->priv, size,
		     ring_flags(p));
	eth->data->rx_queues[qid] = q;
	return 0;
}

static int
eth_tx_queue_setup(struct rte_eth_dev *eth, uint16_t qid, uint16_t nb_desc,
		  unsigned int socket, const struct rte_eth_txconf *conf)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	struct virtio_vdpa_txq *q;
	size_t ring_bytes;
	uint16_t size;
	int ret;

	ret = queue_ring_size(eth, "Tx", nb_desc, &size);
	if (ret < 0)
		return ret;
	ring_bytes = vv_ring_shared_size(ring_packed(p), size);
	eth_tx_queue_release(eth, qid);

	q = rte_zmalloc_socket("vv_txq", sizeof(*q), RTE_CACHE_LINE_SIZE,
			       (int)socket);
	if (q == NULL)
		return -ENOMEM;
	/* Fallback headers share the ring's memzone: the device reads both. */
	ret = queue_mem_alloc(eth, "tx", qid, size, socket,
			      sizeof(q->hdrs[0]) * size, &q->sw_ring, &q->priv,
			      &q->mz);
	if (ret < 0) {
		rte_free(q);
		return ret;
	}
	q->hdrs = (void *)((char *)q->mz->addr + ring_bytes);
	memset(q->hdrs, 0, sizeof(q->hdrs[0]) * size);
	q->queue_id = qid;
	q->reclaim_thresh = RTE_MIN(VV_TX_RECLAIM_THRESH, size / 2);
	q->fast_free = ((eth->data->dev_conf.txmode.offloads |
			 (conf != NULL ? conf->offloads : 0)) &
			RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) != 0;
	q->notify.fd = -1;
	vv_ring_init(&q->ring, ring_packed(p), q->mz->addr, q->priv, size,
		     ring_flags(p));
	eth->data->tx_queues[qid] = q;
	return 0;
}

static void
eth_rxq_info_get(struct rte_eth_dev *eth, uint16_t qid,
		 struct rte_eth_rxq_info *info)
{
	const struct virtio_vdpa_rxq *q = eth->data->rx_queues[qid];

	info->mp = q->mp;
	info->scattered_rx = q->mergeable;
	info->nb_desc = vv_ring_size(&q->ring);
	info->rx_buf_size = (uint16_t)(rte_pktmbuf_data_room_size(q->mp) -
				       RTE_PKTMBUF_HEADROOM);
	info->conf.offloads = eth->data->dev_conf.rxmode.offloads;
	info->conf.rx_free_thresh = q->refill_thresh;
}

static void
eth_txq_info_get(struct rte_eth_dev *eth, uint16_t qid,
		 struct rte_eth_txq_info *info)
{
	const struct virtio_vdpa_txq *q = eth->data->tx_queues[qid];

	info->nb_desc = vv_ring_size(&q->ring);
	info->conf.offloads = eth->data->dev_conf.txmode.offloads;
	info->conf.tx_free_thresh = q->reclaim_thresh;
}

static void
queues_drain(struct rte_eth_dev *eth)
{
	uint16_t i;

	for (i = 0; i < eth->data->nb_rx_queues; i++)
		if (eth->data->rx_queues[i] != NULL)
			virtio_vdpa_rxq_drain(eth->data->rx_queues[i]);
	for (i = 0; i < eth->data->nb_tx_queues; i++)
		if (eth->data->tx_queues[i] != NULL)
			virtio_vdpa_txq_drain(eth->data->tx_queues[i]);
}

static void
notifier_set(struct virtio_vdpa_notifier *n, const struct vv_dev *d,
	     unsigned int vring)
{
	n->doorbell = vv_dev_doorbell(d, vring);
	n->vring = (uint16_t)vring;
	n->fd = vv_dev_kick_fd(d, vring);
}

/*
 * Sends the device's whole address table: the port's extra unicast
 * addresses (slot `skip` left out, `add` put at slot `at`) and the
 * multicast list.
 */
static int
rx_table_push(struct rte_eth_dev *eth, uint32_t skip,
	      const struct rte_ether_addr *add, uint32_t at)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	uint8_t uc[VV_MAC_TABLE_MAX][6], mc[VV_MAC_TABLE_MAX][6];
	unsigned int n_uc = 0, i;
	int ret;

	for (i = 1; i < RTE_DIM(p->macs); i++) {
		const struct rte_ether_addr *a = i == at ? add : &p->macs[i];

		if (i != skip && !rte_is_zero_ether_addr(a))
			memcpy(uc[n_uc++], a->addr_bytes, 6);
	}
	for (i = 0; i < p->nb_mc_addrs; i++)
		memcpy(mc[i], p->mc_addrs[i].addr_bytes, 6);
	ctl_lock(p);
	ret = vv_dev_ctrl_mac_table(&p->dev, uc, n_uc, mc, p->nb_mc_addrs);
	ctl_unlock(p);
	return ret;
}

static int
rx_filters_replay(struct rte_eth_dev *eth)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	const struct rte_vlan_filter_conf *vf = &eth->data->vlan_filter_conf;
	unsigned int vid;
	int ret;

	ctl_lock(p);
	ret = vv_dev_ctrl_mac(&p->dev, p->macs[0].addr_bytes);
	ctl_unlock(p);
	if (ret < 0 && ret != -ENOTSUP)
		return ret;
	if (p->nb_mc_addrs > 0) {
		ret = rx_table_push(eth, 0, NULL, 0);
		if (ret < 0)
			return ret;
	}
	for (vid = 0; vid < 4096 && p->dev.vlan_filter; vid++) {
		if (!(vf->ids[vid / 64] & (UINT64_C(1) << (vid % 64))))
			continue;
		ctl_lock(p);
		ret = vv_dev_ctrl_vlan(&p->dev, (uint16_t)vid, true);
		ctl_unlock(p);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int
eth_dev_start(struct rte_eth_dev *eth)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	struct vv_vring_addr vrings[VV_MAX_VRINGS];
	struct virtio_vdpa_bursts bursts;
	uint64_t offloads = eth->data->dev_conf.rxmode.offloads;
	uint64_t tx_offloads = eth->data->dev_conf.txmode.offloads;
	uint16_t i, nq = eth->data->nb_rx_queues, hdr_size;
	unsigned int rx_offl, tx_offl;
	bool hash, rx_work, tx_work;
	uint64_t features;
	char fbuf[256];
	int ret;

	/* Both change the features, and the second the header, per start. */
	ctl_lock(p);
	p->dev.vlan_filter = (offloads & RTE_ETH_RX_OFFLOAD_VLAN_FILTER) != 0;
	p->dev.hash_report = (offloads & RTE_ETH_RX_OFFLOAD_RSS_HASH) != 0;
	p->dev.offloads_wanted = offload_features_wanted(offloads,
							 tx_offloads);
	features = vv_dev_features_in_use(&p->dev);
	ctl_unlock(p);
	hdr_size = (uint16_t)vv_net_hdr_size(features);
	hash = (features & VV_BIT(VIRTIO_NET_F_HASH_REPORT)) != 0;
	rx_offl = rx_offl_flags(p, offloads, features);
	tx_offl = tx_offl_flags(features);
	for (i = 0; i < nq; i++) {
		struct virtio_vdpa_rxq *rxq = eth->data->rx_queues[i];
		struct virtio_vdpa_txq *txq = eth->data->tx_queues[i];

		if (rxq == NULL || txq == NULL) {
			PMD_INIT_LOG(ERR, "port %u: queue pair %u is not set up\n",
				     eth->data->port_id, i);
			return -EINVAL;
		}
		/* A restart begins from fresh rings, as the device does. */
		virtio_vdpa_rxq_drain(rxq);
		virtio_vdpa_txq_drain(txq);
		rxq->hdr_size = hdr_size;
		rxq->offl = (uint16_t)rx_offl;
		virtio_vdpa_rxq_prepare(rxq);
		txq->hdr_size = hdr_size;
		txq->offl = (uint16_t)tx_offl;
		vv_ring_init(&rxq->ring, ring_packed(p), rxq->mz->addr,
			     rxq->priv, vv_ring_size(&rxq->ring),
			     ring_flags(p));
		vv_ring_init(&txq->ring, ring_packed(p), txq->mz->addr,
			     txq->priv, vv_ring_size(&txq->ring),
			     ring_flags(p));
		rxq->notify.fd = -1;
		ret = virtio_vdpa_rxq_fill(rxq);
		if (ret < 0) {
			PMD_INIT_LOG(ERR, "port %u: mempool %s ran out filling Rx queue %u (%u mbufs needed per Rx queue); give the pool more mbufs\n",
				     eth->data->port_id, rxq->mp->name, i,
				     vv_ring_size(&rxq->ring));
			queues_drain(eth);
			return ret;
		}
		vv_vring_addr_of(&rxq->ring, &vrings[2 * i]);
		vv_vring_addr_of(&txq->ring, &vrings[2 * i + 1]);
	}

	/* ethdev takes the burst functions from here once start returns. */
	/*
	 * Rx offload work runs for packet types or any Rx offload but
	 * SCATTER, FILTER and RSS_HASH; Tx offload work only when the app may
	 * send frames that ask for it.
	 */
	tx_work = (tx_offloads & (VV_TX_CKSUM_OFFLOADS |
				  RTE_ETH_TX_OFFLOAD_VLAN_INSERT |
				  RTE_ETH_TX_OFFLOAD_TCP_TSO)) != 0;
	rx_work = (rx_offl & ~VV_RX_OFFL_DEV_CKSUM) != 0;
	bursts = virtio_vdpa_bursts_for(ring_packed(p), hash, rx_work, tx_work);
	eth->rx_pkt_burst = bursts.rx;
	eth->tx_pkt_burst = bursts.tx;
	snprintf(p->bursts_desc, sizeof(p->bursts_desc),
		 "%s rings, %u-byte virtio-net header%s; Rx %s%s (0x%x), Tx %s (0x%x)",
		 ring_packed(p) ? "packed" : "split", hdr_size,
		 hash ? " with the device's RSS hash" : "",
		 rx_work ? "with offload work" : "plain",
		 ring_flags(p) & VV_RING_IN_ORDER ?
		 " in fixed slots (IN_ORDER)" : "",
		 rx_offl,
		 tx_work ? "with offload work" : "plain", tx_offl);
	PMD_INIT_LOG(INFO, "port %u: bursts for %s; features %s\n",
		     eth->data->port_id, p->bursts_desc,
		     vv_features_format(features, fbuf, sizeof(fbuf)));
	ctl_lock(p);
	ret = vv_dev_start(&p->dev, vrings, 2u * nq);
	ctl_unlock(p);
	if (ret < 0) {
		queues_drain(eth);
		return ret;
	}
	for (i = 0; i < nq; i++) {
		struct virtio_vdpa_rxq *rxq = eth->data->rx_queues[i];
		struct virtio_vdpa_txq *txq = eth->data->tx_queues[i];

		notifier_set(&rxq->notify, &p->dev, 2u * i);
		notifier_set(&txq->notify, &p->dev, 2u * i + 1);
		/* The buffers were posted before the device could see a kick. */
		virtio_vdpa_kick(&rxq->ring, &rxq->notify);
		eth->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
		eth->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	}
	ret = virtio_vdpa_rxintr_start(eth);
	if (ret < 0) {
		eth_dev_stop(eth);
		return ret;
	}
	/*
	 * A reset forgot the filters. ethdev replays the addresses and the
	 * receive modes after start; the multicast list and VLANs are ours.
	 */
	ret = rx_filters_replay(eth);
	if (ret < 0) {
		eth_dev_stop(eth);
		return ret;
	}
	eth->data->dev_link.link_status = vv_dev_link_up(&p->dev) ?
		RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
	eth->data->dev_started = 1;
	ctl_lock(p);
	p->announce_on = true;
	ctl_unlock(p);
	return 0;
}

/* Folds every ring's progress into one value that changes with any. */
static uint64_t
used_idx_signature(struct rte_eth_dev *eth)
{
	uint64_t sig = 0;
	uint16_t i;

	for (i = 0; i < eth->data->nb_rx_queues; i++) {
		const struct virtio_vdpa_rxq *q = eth->data->rx_queues[i];

		if (q != NULL)
			sig = sig * 65537 + vv_ring_progress(&q->ring);
	}
	for (i = 0; i < eth->data->nb_tx_queues; i++) {
		const struct virtio_vdpa_txq *q = eth->data->tx_queues[i];

		if (q != NULL)
			sig = sig * 65537 + vv_ring_progress(&q->ring);
	}
	return sig;
}

/*
 * Some devices acknowledge a reset before their datapath has finished its
 * last burst (seen with DPDK 24.11's VDUSE device: used entries written
 * after the reset returned). Buffers are only released once no used index
 * has moved for VV_QUIESCE_MS.
 */
#define VV_QUIESCE_MS 10
#define VV_QUIESCE_MAX_MS 500

static void
rings_quiesce(struct rte_eth_dev *eth)
{
	uint64_t sig = used_idx_signature(eth), now;
	unsigned int quiet = 0, waited = 0;

	while (quiet < VV_QUIESCE_MS && waited < VV_QUIESCE_MAX_MS) {
		rte_delay_us_sleep(1000);
		waited++;
		now = used_idx_signature(eth);
		quiet = now == sig ? quiet + 1 : 0;
		sig = now;
	}
	if (quiet < VV_QUIESCE_MS)
		PMD_INIT_LOG(WARNING, "port %u: the device kept completing buffers %u ms after its reset\n",
			     eth->data->port_id, waited);
}

static int
eth_dev_stop(struct rte_eth_dev *eth)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	uint16_t i;
	int ret;

	eth->data->dev_started = 0;
	eth->data->dev_link.link_status = RTE_ETH_LINK_DOWN;
	ctl_lock(p);
	p->announce_on = false;
	ret = vv_dev_stop(&p->dev);
	ctl_unlock(p);
	/* Not under ctl_lock: a running announce_check waits for it. */
	rte_eal_alarm_cancel(announce_check, eth);
	/*
	 * A reset that fails means the device is gone (its process died, or
	 * it was unplugged): nothing is left to DMA, so the mbufs come back.
	 * Failing the stop would only leave a port that can never be closed.
	 */
	if (ret < 0)
		PMD_INIT_LOG(ERR, "port %u: %s did not confirm the reset (%s); assuming the device is gone and releasing its buffers\n",
			     eth->data->port_id, p->dev.path, strerror(-ret));
	else if (!p->dev.suspended)
		rings_quiesce(eth);
	virtio_vdpa_rxintr_stop(eth);
	queues_drain(eth);
	for (i = 0; i < eth->data->nb_rx_queues; i++)
		eth->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	for (i = 0; i < eth->data->nb_tx_queues; i++)
		eth->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	return 0;
}

static int eth_link_update(struct rte_eth_dev *eth, int wait_to_complete);

/*
 * The app's event callbacks run from this one-shot alarm, never from the
 * watch or the interrupt handler: an app that stops and closes the port in
 * its callback (as told to on removal) then cancels those, which are not
 * running, and nothing of the port is touched after the callbacks.
 */
static void
events_notify(void *arg)
{
	struct rte_eth_dev *eth = arg;
	struct virtio_vdpa_private *p = priv_of(eth);
	uint32_t ev;

	ctl_lock(p);
	ev = p->events_pending;
	p->events_pending = 0;
	ctl_unlock(p);
	if (ev & (1u << RTE_ETH_EVENT_INTR_LSC)) {
		eth_link_update(eth, 0);
		rte_eth_dev_callback_process(eth, RTE_ETH_EVENT_INTR_LSC, NULL);
	}
	/* The LSC callback may have closed and released the port. */
	if ((ev & (1u << RTE_ETH_EVENT_INTR_RMV)) &&
	    eth->state != RTE_ETH_DEV_UNUSED)
		rte_eth_dev_callback_process(eth, RTE_ETH_EVENT_INTR_RMV, NULL);
}

static void
events_raise(struct rte_eth_dev *eth, uint32_t ev)
{
	struct virtio_vdpa_private *p = priv_of(eth);

	ctl_lock(p);
	p->events_pending |= ev;
	ctl_unlock(p);
	if (rte_eal_alarm_set(1, events_notify, eth) < 0)
		PMD_LOG(ERR, "port %u: cannot raise a link event (%s)\n",
			eth->data->port_id, rte_strerror(rte_errno));
}

/*
 * A vhost-user peer can leave and come back at any time, and a vhost-vdpa
 * device can be unplugged: look from the EAL alarm thread, never from the
 * datapath, and tell the app through a link-state event (and a removal
 * event for an unplugged device).
 */
static void
device_watch(void *arg)
{
	struct rte_eth_dev *eth = arg;
	struct virtio_vdpa_private *p = priv_of(eth);
	enum vv_watch_event ev;
	bool removed;

	ctl_lock(p);
	ev = vv_dev_watch(&p->dev);
	removed = p->dev.removed;
	ctl_unlock(p);
	if (ev == VV_WATCH_LOST || ev == VV_WATCH_BACK)
		events_raise(eth, (1u << RTE_ETH_EVENT_INTR_LSC) |
			     (removed ? 1u << RTE_ETH_EVENT_INTR_RMV : 0));
	if (rte_eal_alarm_set(VV_WATCH_POLL_US, device_watch, eth) < 0)
		PMD_LOG(ERR, "port %u: cannot re-arm the device watch (%s); a lost peer will not be reconnected, an unplugged device not noticed\n",
			eth->data->port_id, rte_strerror(rte_errno));
}

static int
device_watch_start(struct rte_eth_dev *eth)
{
	struct virtio_vdpa_private *p = priv_of(eth);

	if (!vv_dev_needs_watch(&p->dev))
		return 0;
	if (rte_eal_alarm_set(VV_WATCH_POLL_US, device_watch, eth) < 0) {
		PMD_INIT_LOG(ERR, "port %u: cannot start the device watch: %s\n",
			     eth->data->port_id, rte_strerror(rte_errno));
		return -rte_errno;
	}
	p->watched = true;
	return 0;
}

static void
device_watch_stop(struct rte_eth_dev *eth)
{
	struct virtio_vdpa_private *p = priv_of(eth);

	/* Waits for a running callback, and removes the alarm it re-armed. */
	if (p->watched)
		rte_eal_alarm_cancel(device_watch, eth);
	p->watched = false;
}

/* Under ctl_lock. */
static void
announce_ack_locked(struct rte_eth_dev *eth)
{
	struct virtio_vdpa_private *p = priv_of(eth);

	if (vv_dev_ctrl_announce_ack(&p->dev) == 0)
		PMD_LOG(INFO, "port %u: link announcement acknowledged\n",
			eth->data->port_id);
}

static void
announce_check(void *arg)
{
	struct rte_eth_dev *eth = arg;
	struct virtio_vdpa_private *p = priv_of(eth);
	struct virtio_vdpa_txq *q;

	ctl_lock(p);
	if (!p->announce_on) {
		ctl_unlock(p);
		return;
	}
	q = eth->data->tx_queues[0];
	if (__atomic_load_n(&q->announce, __ATOMIC_ACQUIRE)) {
		if (p->announce_waited_ms < VV_ANNOUNCE_WAIT_MS &&
		    rte_eal_alarm_set(VV_ANNOUNCE_POLL_MS * 1000,
				      announce_check, eth) == 0) {
			p->announce_waited_ms += VV_ANNOUNCE_POLL_MS;
			ctl_unlock(p);
			return;
		}
		__atomic_store_n(&q->announce, 0, __ATOMIC_RELEASE);
		PMD_LOG(INFO, "port %u: no Tx burst on queue 0 within %u ms; the link announcement was not sent\n",
			eth->data->port_id, VV_ANNOUNCE_WAIT_MS);
	}
	announce_ack_locked(eth);
	ctl_unlock(p);
}

/*
 * The device asks the driver to announce the port (VIRTIO_NET_S_ANNOUNCE,
 * after a migration or QEMU's announce-self): a RARP from its address, as
 * QEMU itself sends, by the next Tx burst on queue 0, then the
 * acknowledgement.
 */
static void
announce_start(struct rte_eth_dev *eth)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	struct virtio_vdpa_txq *q;

	ctl_lock(p);
	if (!p->announce_on) {
		announce_ack_locked(eth);
		ctl_unlock(p);
		return;
	}
	q = eth->data->tx_queues[0];
	rte_ether_addr_copy(&eth->data->mac_addrs[0], &q->announce_mac);
	__atomic_store_n(&q->announce, 1, __ATOMIC_RELEASE);
	p->announce_waited_ms = 0;
	/* Re-armed while one runs: the last request's wait starts afresh. */
	rte_eal_alarm_cancel(announce_check, eth);
	if (rte_eal_alarm_set(VV_ANNOUNCE_POLL_MS * 1000, announce_check,
			      eth) < 0) {
		__atomic_store_n(&q->announce, 0, __ATOMIC_RELEASE);
		announce_ack_locked(eth);
	}
	ctl_unlock(p);
}

/*
 * The device signals a config change (link status, an announce request)
 * on an eventfd: read on EAL's interrupt thread, never on the datapath.
 */
static void
config_irq(void *arg)
{
	struct rte_eth_dev *eth = arg;
	struct virtio_vdpa_private *p = priv_of(eth);
	unsigned int ev;
	bool up;

	ctl_lock(p);
	ev = vv_dev_config_event(&p->dev, &up);
	ctl_unlock(p);
	if (ev & VV_CONFIG_ANNOUNCE)
		announce_start(eth);
	if (!(ev & VV_CONFIG_LINK_CHANGED))
		return;
	PMD_LOG(INFO, "port %u: the device reports link %s\n",
		eth->data->port_id, up ? "up" : "down");
	events_raise(eth, 1u << RTE_ETH_EVENT_INTR_LSC);
}

static int
config_irq_attach(struct rte_eth_dev *eth)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	int fd = vv_dev_config_fd(&p->dev), ret;

	if (fd < 0)
		return 0;
	p->config_intr = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	if (p->config_intr == NULL ||
	    rte_intr_fd_set(p->config_intr, fd) < 0 ||
	    rte_intr_type_set(p->config_intr, RTE_INTR_HANDLE_EXT) < 0) {
		PMD_INIT_LOG(ERR, "port %u: no interrupt handle for the device's config interrupt\n",
			     eth->data->port_id);
		rte_intr_instance_free(p->config_intr);
		p->config_intr = NULL;
		return -ENOMEM;
	}
	ret = rte_intr_callback_register(p->config_intr, config_irq, eth);
	if (ret < 0) {
		PMD_INIT_LOG(ERR, "port %u: cannot watch the device's config interrupt: %s\n",
			     eth->data->port_id, rte_strerror(-ret));
		rte_intr_instance_free(p->config_intr);
		p->config_intr = NULL;
		return ret;
	}
	eth->data->dev_flags |= RTE_ETH_DEV_INTR_LSC;
	return 0;
}

static void
config_irq_detach(struct rte_eth_dev *eth)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	int ret;

	if (p->config_intr == NULL)
		return;
	/* -EAGAIN: the callback runs right now; wait for it to return. */
	do {
		ret = rte_intr_callback_unregister(p->config_intr, config_irq,
						   eth);
		if (ret == -EAGAIN)
			rte_delay_us_sleep(1000);
	} while (ret == -EAGAIN);
	rte_intr_instance_free(p->config_intr);
	p->config_intr = NULL;
}

static int
eth_dev_close(struct rte_eth_dev *eth)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	uint16_t i;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	if (eth->data->dev_started)
		eth_dev_stop(eth);
	/* Nothing may run on the interrupt thread once the queues go. */
	config_irq_detach(eth);
	rte_eal_alarm_cancel(announce_check, eth);
	for (i = 0; i < eth->data->nb_rx_queues; i++)
		eth_rx_queue_release(eth, i);
	for (i = 0; i < eth->data->nb_tx_queues; i++)
		eth_tx_queue_release(eth, i);
	device_watch_stop(eth);
	/* Returns at once when called from it (a callback closing the port). */
	rte_eal_alarm_cancel(events_notify, eth);
	if (p->mem_attached) {
		virtio_vdpa_mem_detach(&p->dev, p->mem_cb_name);
		p->mem_attached = false;
	}
	ctl_lock(p);
	vv_dev_close(&p->dev);
	ctl_unlock(p);
	rte_intr_instance_free(eth->intr_handle);
	eth->intr_handle = NULL;
	ctrl_mem_free(p);
	pthread_mutex_destroy(&p->ctl_lock);
	/* ethdev frees mac_addrs with the port; it points into priv. */
	eth->data->mac_addrs = NULL;
	return 0;
}

static int
eth_link_update(struct rte_eth_dev *eth, int wait_to_complete)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	struct rte_eth_link link;

	RTE_SET_USED(wait_to_complete);
	memset(&link, 0, sizeof(link));
	link.link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	link.link_autoneg = RTE_ETH_LINK_FIXED;
	link.link_speed = p->args.speed ? p->args.speed :
		p->dev.info.has_speed ? p->dev.info.speed :
		RTE_ETH_SPEED_NUM_UNKNOWN;
	link.link_status = eth->data->dev_started && p->dev.started &&
		vv_dev_link_up(&p->dev) ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
	return rte_eth_linkstatus_set(eth, &link);
}

static int
eth_stats_get(struct rte_eth_dev *eth, struct rte_eth_stats *st)
{
	uint16_t i;

	for (i = 0; i < eth->data->nb_rx_queues; i++) {
		const struct virtio_vdpa_rxq *q = eth->data->rx_queues[i];

		if (q == NULL)
			continue;
		st->ipackets += q->stats.packets;
		st->ibytes += q->stats.bytes;
		st->ierrors += q->stats.errors + vv_ring_bad_count(&q->ring);
		st->rx_nombuf += q->stats.nombuf;
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			st->q_ipackets[i] = q->stats.packets;
			st->q_ibytes[i] = q->stats.bytes;
			st->q_errors[i] = q->stats.errors + vv_ring_bad_count(&q->ring);
		}
	}
	for (i = 0; i < eth->data->nb_tx_queues; i++) {
		const struct virtio_vdpa_txq *q = eth->data->tx_queues[i];

		if (q == NULL)
			continue;
		st->opackets += q->stats.packets;
		st->obytes += q->stats.bytes;
		st->oerrors += q->stats.errors + vv_ring_bad_count(&q->ring);
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			st->q_opackets[i] = q->stats.packets;
			st->q_obytes[i] = q->stats.bytes;
		}
	}
	return 0;
}

static int
eth_stats_reset(struct rte_eth_dev *eth)
{
	uint16_t i;

	for (i = 0; i < eth->data->nb_rx_queues; i++) {
		struct virtio_vdpa_rxq *q = eth->data->rx_queues[i];

		if (q != NULL) {
			memset(&q->stats, 0, sizeof(q->stats));
			*vv_ring_bad_used(&q->ring) = 0;
			q->notify.kicks = 0;
		}
	}
	for (i = 0; i < eth->data->nb_tx_queues; i++) {
		struct virtio_vdpa_txq *q = eth->data->tx_queues[i];

		if (q != NULL) {
			memset(&q->stats, 0, sizeof(q->stats));
			*vv_ring_bad_used(&q->ring) = 0;
			q->notify.kicks = 0;
		}
	}
	return 0;
}

static int
rx_mode_set(struct rte_eth_dev *eth, uint8_t cmd, bool on)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	int ret;

	ctl_lock(p);
	ret = vv_dev_ctrl_rx(&p->dev, cmd, on);
	ctl_unlock(p);
	return ret;
}

/* Without VIRTIO_NET_F_CTRL_RX the device filters nothing: already on. */
static int
eth_promiscuous_enable(struct rte_eth_dev *eth)
{
	int ret = rx_mode_set(eth, VIRTIO_NET_CTRL_RX_PROMISC, true);

	return ret == -ENOTSUP ? 0 : ret;
}

static int
eth_promiscuous_disable(struct rte_eth_dev *eth)
{
	int ret = rx_mode_set(eth, VIRTIO_NET_CTRL_RX_PROMISC, false);

	if (ret == -ENOTSUP)
		PMD_LOG(INFO, "port %u: the device has no Rx filter control (no VIRTIO_NET_F_CTRL_RX); it stays promiscuous\n",
			eth->data->port_id);
	return ret;
}

static int
eth_allmulticast_enable(struct rte_eth_dev *eth)
{
	int ret = rx_mode_set(eth, VIRTIO_NET_CTRL_RX_ALLMULTI, true);

	return ret == -ENOTSUP ? 0 : ret;
}

static int
eth_allmulticast_disable(struct rte_eth_dev *eth)
{
	return rx_mode_set(eth, VIRTIO_NET_CTRL_RX_ALLMULTI, false);
}

static int
eth_mtu_set(struct rte_eth_dev *eth, uint16_t mtu)
{
	struct virtio_vdpa_private *p = priv_of(eth);

	if (mtu > p->max_mtu) {
		PMD_LOG(ERR, "port %u: MTU %u exceeds the device maximum %u\n",
			eth->data->port_id, mtu, p->max_mtu);
		return -EINVAL;
	}
	return 0;
}

static int
eth_mac_addr_set(struct rte_eth_dev *eth, struct rte_ether_addr *mac)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	int ret;

	/* Without CTRL_MAC_ADDR the address is ours alone, a source MAC. */
	ctl_lock(p);
	ret = vv_dev_ctrl_mac(&p->dev, mac->addr_bytes);
	ctl_unlock(p);
	if (ret < 0 && ret != -ENOTSUP)
		return ret;
	p->macs[0] = *mac;
	return 0;
}

static int
eth_mac_addr_add(struct rte_eth_dev *eth, struct rte_ether_addr *mac,
		 uint32_t index, uint32_t vmdq)
{
	struct virtio_vdpa_private *p = priv_of(eth);

	RTE_SET_USED(vmdq);
	if (!(p->dev.features & VV_BIT(VIRTIO_NET_F_CTRL_RX)))
		return -ENOTSUP;
	return rx_table_push(eth, 0, mac, index);
}

static void
eth_mac_addr_remove(struct rte_eth_dev *eth, uint32_t index)
{
	if (rx_table_push(eth, index, NULL, 0) < 0)
		PMD_LOG(ERR, "port %u: the device still accepts the address removed from slot %u\n",
			eth->data->port_id, index);
}

static int
eth_set_mc_addr_list(struct rte_eth_dev *eth, struct rte_ether_addr *list,
		     uint32_t n)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	struct rte_ether_addr old[VV_MAC_TABLE_MAX];
	uint32_t nb_old = p->nb_mc_addrs, i;
	int ret;

	if (!(p->dev.features & VV_BIT(VIRTIO_NET_F_CTRL_RX)))
		return -ENOTSUP;
	if (n > RTE_DIM(p->mc_addrs)) {
		PMD_LOG(ERR, "port %u: %u multicast addresses given; the device's filter holds %u (use allmulticast for more)\n",
			eth->data->port_id, n, (unsigned int)RTE_DIM(p->mc_addrs));
		return -ENOSPC;
	}
	for (i = 0; i < n; i++) {
		if (!rte_is_multicast_ether_addr(&list[i])) {
			PMD_LOG(ERR, "port %u: " RTE_ETHER_ADDR_PRT_FMT " is not a multicast address\n",
				eth->data->port_id, RTE_ETHER_ADDR_BYTES(&list[i]));
			return -EINVAL;
		}
	}
	memcpy(old, p->mc_addrs, sizeof(old));
	/* An empty list may come as NULL (testpmd's last mcast_addr remove). */
	if (n > 0)
		memcpy(p->mc_addrs, list, n * sizeof(list[0]));
	p->nb_mc_addrs = n;
	ret = rx_table_push(eth, 0, NULL, 0);
	if (ret < 0) {
		memcpy(p->mc_addrs, old, sizeof(old));
		p->nb_mc_addrs = nb_old;
	}
	return ret;
}

static int
eth_vlan_filter_set(struct rte_eth_dev *eth, uint16_t vid, int on)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	int ret;

	ctl_lock(p);
	ret = vv_dev_ctrl_vlan(&p->dev, vid, on != 0);
	ctl_unlock(p);
	return ret;
}

/* The device learns whether it filters VLANs at start (CTRL_VLAN or not). */
/* Whether the running bursts do an Rx offload (VV_RX_OFFL_*). */
static bool
rx_offl_running(struct rte_eth_dev *eth, unsigned int what)
{
	const struct virtio_vdpa_rxq *q = eth->data->nb_rx_queues > 0 ?
		eth->data->rx_queues[0] : NULL;

	return q != NULL && (q->offl & what) != 0;
}

static int
eth_vlan_offload_set(struct rte_eth_dev *eth, int mask)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	uint64_t rx = eth->data->dev_conf.rxmode.offloads;
	bool filter = (rx & RTE_ETH_RX_OFFLOAD_VLAN_FILTER) != 0;

	if ((mask & RTE_ETH_VLAN_FILTER_MASK) && eth->data->dev_started &&
	    filter != p->dev.vlan_filter) {
		PMD_LOG(ERR, "port %u: VLAN filtering is switched %s at port start; stop the port, change it, and start it again\n",
			eth->data->port_id, filter ? "on" : "off");
		return -EBUSY;
	}
	if ((mask & RTE_ETH_VLAN_STRIP_MASK) && eth->data->dev_started &&
	    rx_offl_running(eth, VV_RX_OFFL_VLAN_STRIP) !=
	    ((rx & RTE_ETH_RX_OFFLOAD_VLAN_STRIP) != 0)) {
		PMD_LOG(ERR, "port %u: VLAN stripping is switched %s at port start; stop the port, change it, and start it again\n",
			eth->data->port_id,
			rx & RTE_ETH_RX_OFFLOAD_VLAN_STRIP ? "on" : "off");
		return -EBUSY;
	}
	if ((mask & (RTE_ETH_VLAN_EXTEND_MASK | RTE_ETH_QINQ_STRIP_MASK)) &&
	    (rx & (RTE_ETH_RX_OFFLOAD_VLAN_EXTEND |
		   RTE_ETH_RX_OFFLOAD_QINQ_STRIP)))
		return -ENOTSUP;
	return 0;
}

static const uint32_t *
eth_supported_ptypes_get(struct rte_eth_dev *eth)
{
	RTE_SET_USED(eth);
	return virtio_vdpa_ptypes();
}

/* Packet types cost a parse of every frame: an app may turn them off. */
static int
eth_ptypes_set(struct rte_eth_dev *eth, uint32_t ptype_mask)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	bool on = ptype_mask != 0;

	if (eth->data->dev_started && on != rx_offl_running(eth, VV_RX_OFFL_PTYPE)) {
		PMD_LOG(ERR, "port %u: packet type parsing is switched %s at port start; stop the port, set the packet types, and start it again\n",
			eth->data->port_id, on ? "on" : "off");
		return -EBUSY;
	}
	p->ptypes_on = on;
	return 0;
}

/* rte_eth_dev_priv_dump: what was negotiated, and each ring's state. */
static int
eth_priv_dump(struct rte_eth_dev *eth, FILE *f)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	char buf[512];
	uint16_t i;

	fprintf(f, "  device: %s (%s)\n", p->dev.path, p->backend);
	fprintf(f, "  offered: %s\n",
		vv_features_format(p->dev.info.device_features, buf,
				   sizeof(buf)));
	fprintf(f, "  negotiated: %s\n",
		vv_features_format(p->dev.features, buf, sizeof(buf)));
	fprintf(f, "  in use: %s\n",
		vv_features_format(vv_dev_features_in_use(&p->dev), buf,
				   sizeof(buf)));
	fprintf(f, "  state: %s; bursts: %s\n",
		eth->data->dev_started ? "started" : "stopped",
		eth->data->dev_started ? p->bursts_desc : "none");
	for (i = 0; i < eth->data->nb_rx_queues; i++) {
		const struct virtio_vdpa_rxq *rq = eth->data->rx_queues[i];
		const struct virtio_vdpa_txq *tq = eth->data->tx_queues[i];

		if (rq != NULL)
			fprintf(f, "  rx %u: %s ring of %u, %u used pending, %" PRIu64 " bad entries\n",
				i, rq->ring.is_packed ? "packed" : "split",
				vv_ring_size(&rq->ring),
				vv_ring_used_pending(&rq->ring),
				vv_ring_bad_count(&rq->ring));
		if (tq != NULL)
			fprintf(f, "  tx %u: %s ring of %u, %u used pending, %" PRIu64 " bad entries\n",
				i, tq->ring.is_packed ? "packed" : "split",
				vv_ring_size(&tq->ring),
				vv_ring_used_pending(&tq->ring),
				vv_ring_bad_count(&tq->ring));
	}
	return 0;
}

static const struct eth_dev_ops eth_dev_ops = {
	.dev_configure = eth_dev_configure,
	.dev_infos_get = eth_dev_infos_get,
	.dev_start = eth_dev_start,
	.dev_stop = eth_dev_stop,
	.dev_close = eth_dev_close,
	.link_update = eth_link_update,
	.stats_get = eth_stats_get,
	.stats_reset = eth_stats_reset,
	.xstats_get = virtio_vdpa_xstats_get,
	.xstats_get_names = virtio_vdpa_xstats_get_names,
	.xstats_get_by_id = virtio_vdpa_xstats_get_by_id,
	.xstats_get_names_by_id = virtio_vdpa_xstats_get_names_by_id,
	.xstats_reset = eth_stats_reset,
	.promiscuous_enable = eth_promiscuous_enable,
	.promiscuous_disable = eth_promiscuous_disable,
	.allmulticast_enable = eth_allmulticast_enable,
	.allmulticast_disable = eth_allmulticast_disable,
	.mtu_set = eth_mtu_set,
	.mac_addr_set = eth_mac_addr_set,
	.mac_addr_add = eth_mac_addr_add,
	.mac_addr_remove = eth_mac_addr_remove,
	.set_mc_addr_list = eth_set_mc_addr_list,
	.vlan_filter_set = eth_vlan_filter_set,
	.vlan_offload_set = eth_vlan_offload_set,
	.dev_supported_ptypes_get = eth_supported_ptypes_get,
	.eth_dev_priv_dump = eth_priv_dump,
	.dev_ptypes_set = eth_ptypes_set,
	.rss_hash_update = virtio_vdpa_rss_hash_update,
	.rss_hash_conf_get = virtio_vdpa_rss_hash_conf_get,
	.reta_update = virtio_vdpa_reta_update,
	.reta_query = virtio_vdpa_reta_query,
	.rx_queue_intr_enable = virtio_vdpa_rx_intr_enable,
	.rx_queue_intr_disable = virtio_vdpa_rx_intr_disable,
	.rxq_info_get = eth_rxq_info_get,
	.txq_info_get = eth_txq_info_get,
	.rx_queue_setup = eth_rx_queue_setup,
	.rx_queue_release = eth_rx_queue_release,
	.tx_queue_setup = eth_tx_queue_setup,
	.tx_queue_release = eth_tx_queue_release,
};

/*
 * A secondary process (dpdk-proc-info, dpdk-pdump) reads what the primary
 * keeps in shared memory: the port's data, its queues and their counters.
 * Nothing here may touch the device: its fds, mappings and our code's
 * pointers belong to the primary.
 */
static int
eth_link_update_secondary(struct rte_eth_dev *eth, int wait)
{
	RTE_SET_USED(eth);
	RTE_SET_USED(wait);
	return 0;
}

static const struct eth_dev_ops eth_dev_ops_secondary = {
	.dev_close = eth_dev_close,
	.dev_infos_get = eth_dev_infos_get,
	.link_update = eth_link_update_secondary,
	.stats_get = eth_stats_get,
	.stats_reset = eth_stats_reset,
	.xstats_get = virtio_vdpa_xstats_get,
	.xstats_get_names = virtio_vdpa_xstats_get_names,
	.xstats_get_by_id = virtio_vdpa_xstats_get_by_id,
	.xstats_get_names_by_id = virtio_vdpa_xstats_get_names_by_id,
	.xstats_reset = eth_stats_reset,
	.dev_supported_ptypes_get = eth_supported_ptypes_get,
	.eth_dev_priv_dump = eth_priv_dump,
	.rxq_info_get = eth_rxq_info_get,
	.txq_info_get = eth_txq_info_get,
};

/*
 * Its bursts move nothing: kicking the device needs the primary's eventfds
 * or doorbell mappings, which this process does not have.
 */
static uint16_t
burst_secondary(void *q, struct rte_mbuf **pkts, uint16_t n)
{
	RTE_SET_USED(q);
	RTE_SET_USED(pkts);
	RTE_SET_USED(n);
	return 0;
}

static int
eth_probe_secondary(struct rte_vdev_device *vdev, const char *name)
{
	struct rte_eth_dev *eth = rte_eth_dev_attach_secondary(name);

	if (eth == NULL) {
		PMD_INIT_LOG(ERR, "%s: the primary process has no such port; start it in the primary first\n",
			     name);
		return -ENODEV;
	}
	eth->dev_ops = &eth_dev_ops_secondary;
	eth->device = &vdev->device;
	eth->rx_pkt_burst = burst_secondary;
	eth->tx_pkt_burst = burst_secondary;
	eth->rx_queue_count = virtio_vdpa_rx_queue_count;
	eth->rx_descriptor_status = virtio_vdpa_rx_descriptor_status;
	eth->tx_descriptor_status = virtio_vdpa_tx_descriptor_status;
	rte_eth_dev_probing_finish(eth);
	PMD_INIT_LOG(INFO, "%s: attached in a secondary process: info, stats and xstats; no traffic\n",
		     name);
	return 0;
}

/* The device's control queue lives in DPDK memory, so the device reaches it. */
static int
ctrl_mem_alloc(struct rte_eth_dev *eth)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	char name[RTE_MEMZONE_NAMESIZE];

	if (!vv_dev_has_ctrl(&p->dev))
		return 0;
	snprintf(name, sizeof(name), "vv_%u_ctrl", eth->data->port_id);
	p->ctrl_mz = rte_memzone_reserve_aligned(name, vv_ctrl_shared_size(),
						 (int)rte_socket_id(), 0, 4096);
	p->ctrl_priv = rte_zmalloc("vv_ctrl_priv", vv_ctrl_priv_size(),
				   RTE_CACHE_LINE_SIZE);
	if (p->ctrl_mz == NULL || p->ctrl_priv == NULL) {
		PMD_INIT_LOG(ERR, "port %u: no memory for the control queue (%s)\n",
			     eth->data->port_id, rte_strerror(rte_errno));
		ctrl_mem_free(p);
		return -ENOMEM;
	}
	vv_dev_set_ctrl_mem(&p->dev, p->ctrl_mz->addr, p->ctrl_priv);
	return 0;
}

static void
ctrl_mem_free(struct virtio_vdpa_private *p)
{
	rte_memzone_free(p->ctrl_mz);
	rte_free(p->ctrl_priv);
	p->ctrl_mz = NULL;
	p->ctrl_priv = NULL;
}

static void
pick_mac(struct virtio_vdpa_private *p)
{
	if (p->args.mac_set)
		p->macs[0] = p->args.mac;
	else if (p->dev.info.has_mac)
		memcpy(p->macs[0].addr_bytes, p->dev.info.mac, RTE_ETHER_ADDR_LEN);
	else
		rte_eth_random_addr(p->macs[0].addr_bytes);
}

static int
eth_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct virtio_vdpa_private *p;
	struct vv_dev_params params;
	struct rte_eth_dev *eth;
	int ret;

	vv_log_set_sink(vv_core_log);
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return eth_probe_secondary(vdev, name);
	PMD_INIT_LOG(INFO, "probing %s\n", name);

	eth = rte_eth_vdev_allocate(vdev, sizeof(*p));
	if (eth == NULL) {
		PMD_INIT_LOG(ERR, "%s: cannot allocate the port\n", name);
		return -ENOMEM;
	}
	p = eth->data->dev_private;
	pthread_mutex_init(&p->ctl_lock, NULL);
	p->ptypes_on = true;
	ret = virtio_vdpa_devargs_parse(rte_vdev_device_args(vdev), &p->args);
	if (ret < 0)
		goto fail_port;

	memset(&params, 0, sizeof(params));
	params.path = p->args.path;
	params.server = p->args.server;
	params.queue_pairs = p->args.queues;
	params.queue_size = p->args.queue_size;
	params.wish.mrg_rxbuf = p->args.mrg_rxbuf;
	params.wish.in_order = p->args.in_order;
	params.wish.packed_vq = p->args.packed_vq;
	params.wish.ctrl_vq = true;
	ret = vv_dev_open(&p->dev, &params);
	if (ret < 0) {
		PMD_INIT_LOG(ERR, "%s: cannot use %s (%s); see the message above\n",
			     name, p->args.path, strerror(-ret));
		goto fail_port;
	}
	/* A secondary's dump reads the name; the ops are the primary's. */
	snprintf(p->backend, sizeof(p->backend), "%s", p->dev.ops->name);
	p->max_mtu = p->dev.info.has_mtu ? p->dev.info.mtu : VV_DEFAULT_MTU_MAX;
	if (!(p->dev.features & VV_BIT(VIRTIO_NET_F_MRG_RXBUF)))
		p->max_mtu = RTE_MIN(p->max_mtu, (uint16_t)(RTE_MBUF_DEFAULT_DATAROOM -
			     RTE_ETHER_HDR_LEN - RTE_VLAN_HLEN));

	ret = ctrl_mem_alloc(eth);
	if (ret < 0)
		goto fail_dev;
	snprintf(p->mem_cb_name, sizeof(p->mem_cb_name), "vv_mem_%u",
		 eth->data->port_id);
	ret = virtio_vdpa_mem_attach(&p->dev, p->mem_cb_name);
	if (ret < 0)
		goto fail_dev;
	p->mem_attached = true;
	ret = device_watch_start(eth);
	if (ret < 0)
		goto fail_mem;
	ret = config_irq_attach(eth);
	if (ret < 0)
		goto fail_watch;

	pick_mac(p);
	eth->data->mac_addrs = p->macs;
	eth->data->dev_link.link_status = RTE_ETH_LINK_DOWN;
	eth->data->dev_link.link_speed = p->args.speed ? p->args.speed :
		RTE_ETH_SPEED_NUM_UNKNOWN;
	eth->data->dev_link.link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	eth->data->dev_flags |= RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS;
	if (vv_dev_needs_watch(&p->dev))
		eth->data->dev_flags |= RTE_ETH_DEV_INTR_LSC;
	if (p->dev.ops->caps & VV_CAP_REMOVABLE)
		eth->data->dev_flags |= RTE_ETH_DEV_INTR_RMV;
	eth->dev_ops = &eth_dev_ops;
	/* Until the first start says which layout the rings have. */
	eth->rx_pkt_burst = virtio_vdpa_bursts_for(false, false, false,
						   false).rx;
	eth->tx_pkt_burst = virtio_vdpa_bursts_for(false, false, false,
						   false).tx;
	eth->tx_pkt_prepare = virtio_vdpa_tx_prepare;
	eth->rx_queue_count = virtio_vdpa_rx_queue_count;
	eth->rx_descriptor_status = virtio_vdpa_rx_descriptor_status;
	eth->tx_descriptor_status = virtio_vdpa_tx_descriptor_status;
	rte_eth_dev_probing_finish(eth);
	PMD_INIT_LOG(INFO, "%s: port %u on %s, MAC " RTE_ETHER_ADDR_PRT_FMT "\n",
		     name, eth->data->port_id, p->args.path,
		     RTE_ETHER_ADDR_BYTES(&p->macs[0]));
	return 0;

fail_watch:
	device_watch_stop(eth);
	rte_eal_alarm_cancel(events_notify, eth);
fail_mem:
	virtio_vdpa_mem_detach(&p->dev, p->mem_cb_name);
fail_dev:
	vv_dev_close(&p->dev);
	ctrl_mem_free(p);
fail_port:
	pthread_mutex_destroy(&p->ctl_lock);
	eth->data->mac_addrs = NULL;
	rte_eth_dev_release_port(eth);
	return ret;
}

static int
eth_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *eth;

	eth = rte_eth_dev_allocated(rte_vdev_device_name(vdev));
	if (eth == NULL)
		return 0;
	/* ethdev refuses to close a started port (an app's RMV handler). */
	if (eth->data->dev_started)
		rte_eth_dev_stop(eth->data->port_id);
	return rte_eth_dev_close(eth->data->port_id);
}

static struct rte_vdev_driver virtio_vdpa_driver = {
	.probe = eth_probe,
	.remove = eth_remove,
};

RTE_PMD_REGISTER_VDEV(VV_DRIVER_NAME, virtio_vdpa_driver);
RTE_PMD_REGISTER_ALIAS(VV_DRIVER_NAME, eth_virtio_vdpa);
RTE_PMD_REGISTER_PARAM_STRING(VV_DRIVER_NAME, VIRTIO_VDPA_PARAMS);

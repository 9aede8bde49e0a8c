/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive-side scaling: ethdev's hash functions, key and redirection table
 * mapped onto the virtio-net RSS command (lib/ sends it).
 */
#include <errno.h>
#include <string.h>

#include <linux/virtio_net.h>

#include "virtio_vdpa_logs.h"
#include "virtio_vdpa_rss.h"

/* Each virtio hash type and the ethdev flow types it hashes. */
static const struct {
	uint32_t virtio;
	uint64_t eth;
} rss_types[] = {
	{ VIRTIO_NET_RSS_HASH_TYPE_IPv4, RTE_ETH_RSS_IPV4 |
		RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER },
	{ VIRTIO_NET_RSS_HASH_TYPE_TCPv4, RTE_ETH_RSS_NONFRAG_IPV4_TCP },
	{ VIRTIO_NET_RSS_HASH_TYPE_UDPv4, RTE_ETH_RSS_NONFRAG_IPV4_UDP },
	{ VIRTIO_NET_RSS_HASH_TYPE_IPv6, RTE_ETH_RSS_IPV6 |
		RTE_ETH_RSS_FRAG_IPV6 | RTE_ETH_RSS_NONFRAG_IPV6_OTHER },
	{ VIRTIO_NET_RSS_HASH_TYPE_TCPv6, RTE_ETH_RSS_NONFRAG_IPV6_TCP },
	{ VIRTIO_NET_RSS_HASH_TYPE_UDPv6, RTE_ETH_RSS_NONFRAG_IPV6_UDP },
	{ VIRTIO_NET_RSS_HASH_TYPE_IP_EX, RTE_ETH_RSS_IPV6_EX },
	{ VIRTIO_NET_RSS_HASH_TYPE_TCP_EX, RTE_ETH_RSS_IPV6_TCP_EX },
	{ VIRTIO_NET_RSS_HASH_TYPE_UDP_EX, RTE_ETH_RSS_IPV6_UDP_EX },
};

/*
 * The Toeplitz key of Microsoft's RSS verification suite, as most NICs
 * default to: an app that gives none gets the spread it knows.
 */
static const uint8_t rss_default_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static uint64_t
rss_types_to_eth(uint32_t virtio)
{
	uint64_t eth = 0;
	unsigned int i;

	for (i = 0; i < RTE_DIM(rss_types); i++)
		if (virtio & rss_types[i].virtio)
			eth |= rss_types[i].eth;
	return eth;
}

static uint32_t
rss_types_from_eth(uint64_t eth)
{
	uint32_t virtio = 0;
	unsigned int i;

	for (i = 0; i < RTE_DIM(rss_types); i++)
		if (eth & rss_types[i].eth)
			virtio |= rss_types[i].virtio;
	return virtio;
}

bool
virtio_vdpa_rss_capable(const struct virtio_vdpa_private *p)
{
	return (p->dev.features & VV_BIT(VIRTIO_NET_F_RSS)) &&
		p->dev.info.has_rss;
}

/* The largest power of two the device and this driver both take. */
static uint16_t
rss_reta_size(const struct virtio_vdpa_private *p)
{
	uint16_t max = RTE_MIN(p->dev.info.rss_max_reta_len,
			       (uint16_t)VV_RSS_RETA_MAX);

	return max == 0 ? 0 : (uint16_t)rte_align32prevpow2(max);
}

/*
 * The key length the port uses: what the device takes, up to the 40 bytes
 * of the usual Toeplitz key, so the default key always fills it and
 * hash_key_size is the length of every key the port hands out.
 */
static uint8_t
rss_key_size(const struct virtio_vdpa_private *p)
{
	return RTE_MIN(p->dev.info.rss_max_key_size,
		       (uint8_t)sizeof(rss_default_key));
}

void
virtio_vdpa_rss_info(const struct virtio_vdpa_private *p,
		     struct rte_eth_dev_info *info)
{
	if (!virtio_vdpa_rss_capable(p))
		return;
	info->reta_size = rss_reta_size(p);
	info->hash_key_size = rss_key_size(p);
	info->flow_type_rss_offloads =
		rss_types_to_eth(p->dev.info.rss_hash_types);
}

/* Takes the app's key, or keeps the one in use; -EINVAL beyond the device. */
static int
rss_key_take(struct rte_eth_dev *eth, struct vv_rss_conf *r,
	     const struct rte_eth_rss_conf *conf)
{
	const struct virtio_vdpa_private *p = priv_of(eth);
	uint8_t size = rss_key_size(p);

	if (conf->rss_key == NULL) {
		if (r->key_len != size) {
			r->key_len = size;
			memcpy(r->key, rss_default_key, r->key_len);
		}
		return 0;
	}
	if (conf->rss_key_len != size) {
		PMD_LOG(ERR, "port %u: an RSS key of %u bytes; this port takes keys of %u (dev_info hash_key_size)\n",
			eth->data->port_id, conf->rss_key_len, size);
		return -EINVAL;
	}
	r->key_len = conf->rss_key_len;
	memcpy(r->key, conf->rss_key, r->key_len);
	return 0;
}

static int
rss_apply(struct rte_eth_dev *eth, const struct vv_rss_conf *r)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	int ret;

	ctl_lock(p);
	ret = vv_dev_rss_set(&p->dev, r);
	ctl_unlock(p);
	return ret;
}

int
virtio_vdpa_rss_configure(struct rte_eth_dev *eth)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	const struct rte_eth_conf *conf = &eth->data->dev_conf;
	const struct rte_eth_rss_conf *rc = &conf->rx_adv_conf.rss_conf;
	uint16_t nq = eth->data->nb_rx_queues, i;
	struct vv_rss_conf r;
	int ret;

	if ((conf->rxmode.mq_mode & ~RTE_ETH_MQ_RX_RSS_FLAG) != 0) {
		PMD_INIT_LOG(ERR, "port %u: Rx multi-queue mode 0x%x is not supported (DCB and VMDq have no virtio counterpart); use RTE_ETH_MQ_RX_RSS or NONE\n",
			     eth->data->port_id, conf->rxmode.mq_mode);
		return -EINVAL;
	}
	if (!virtio_vdpa_rss_capable(p))
		return 0;
	r = p->dev.rss;
	r.on = (conf->rxmode.mq_mode & RTE_ETH_MQ_RX_RSS_FLAG) &&
		rc->rss_hf != 0 && nq > 1;
	r.hash_types = rss_types_from_eth(rc->rss_hf) &
		p->dev.info.rss_hash_types;
	ret = rss_key_take(eth, &r, rc);
	if (ret < 0)
		return ret;
	r.reta_len = rss_reta_size(p);
	for (i = 0; i < r.reta_len; i++)
		r.reta[i] = nq > 0 ? i % nq : 0;
	return rss_apply(eth, &r);
}

int
virtio_vdpa_rss_hash_update(struct rte_eth_dev *eth,
			    struct rte_eth_rss_conf *conf)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	struct vv_rss_conf r;
	int ret;

	if (!virtio_vdpa_rss_capable(p))
		return -ENOTSUP;
	r = p->dev.rss;
	ret = rss_key_take(eth, &r, conf);
	if (ret < 0)
		return ret;
	r.hash_types = rss_types_from_eth(conf->rss_hf) &
		p->dev.info.rss_hash_types;
	r.on = conf->rss_hf != 0 && eth->data->nb_rx_queues > 1;
	return rss_apply(eth, &r);
}

int
virtio_vdpa_rss_hash_conf_get(struct rte_eth_dev *eth,
			      struct rte_eth_rss_conf *conf)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	const struct vv_rss_conf *r = &p->dev.rss;

	if (!virtio_vdpa_rss_capable(p))
		return -ENOTSUP;
	conf->rss_hf = r->on ? rss_types_to_eth(r->hash_types) : 0;
	/* ethdev's contract: the buffer holds hash_key_size bytes. */
	if (conf->rss_key != NULL)
		memcpy(conf->rss_key, r->key, r->key_len);
	conf->rss_key_len = r->key_len;
	return 0;
}

static int
reta_size_check(struct rte_eth_dev *eth, uint16_t reta_size)
{
	struct virtio_vdpa_private *p = priv_of(eth);

	if (!virtio_vdpa_rss_capable(p))
		return -ENOTSUP;
	if (reta_size != rss_reta_size(p)) {
		PMD_LOG(ERR, "port %u: a redirection table of %u entries; this device's has %u (dev_info reta_size)\n",
			eth->data->port_id, reta_size, rss_reta_size(p));
		return -EINVAL;
	}
	return 0;
}

int
virtio_vdpa_reta_update(struct rte_eth_dev *eth,
			struct rte_eth_rss_reta_entry64 *reta,
			uint16_t reta_size)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	struct vv_rss_conf r;
	uint16_t i;
	int ret;

	ret = reta_size_check(eth, reta_size);
	if (ret < 0)
		return ret;
	r = p->dev.rss;
	for (i = 0; i < reta_size; i++) {
		const struct rte_eth_rss_reta_entry64 *g =
			&reta[i / RTE_ETH_RETA_GROUP_SIZE];
		unsigned int j = i % RTE_ETH_RETA_GROUP_SIZE;

		if (!(g->mask & (1ULL << j)))
			continue;
		if (g->reta[j] >= eth->data->nb_rx_queues) {
			PMD_LOG(ERR, "port %u: redirection entry %u names Rx queue %u; the port has %u\n",
				eth->data->port_id, i, g->reta[j],
				eth->data->nb_rx_queues);
			return -EINVAL;
		}
		r.reta[i] = g->reta[j];
	}
	return rss_apply(eth, &r);
}

int
virtio_vdpa_reta_query(struct rte_eth_dev *eth,
		       struct rte_eth_rss_reta_entry64 *reta,
		       uint16_t reta_size)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	uint16_t i;
	int ret;

	ret = reta_size_check(eth, reta_size);
	if (ret < 0)
		return ret;
	for (i = 0; i < reta_size; i++) {
		struct rte_eth_rss_reta_entry64 *g =
			&reta[i / RTE_ETH_RETA_GROUP_SIZE];
		unsigned int j = i % RTE_ETH_RETA_GROUP_SIZE;

		if (g->mask & (1ULL << j))
			g->reta[j] = p->dev.rss.reta[i];
	}
	return 0;
}

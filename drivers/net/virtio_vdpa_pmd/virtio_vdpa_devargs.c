/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_kvargs.h>

#include "virtio_vdpa_devargs.h"
#include "virtio_vdpa_logs.h"

typedef int (*devarg_parse_t)(const char *key, const char *value,
			      struct virtio_vdpa_devargs *a);

static int
bad_value(const char *key, const char *value, const char *want)
{
	PMD_INIT_LOG(ERR, "invalid %s=%s: expected %s\n", key, value, want);
	return -EINVAL;
}

static int
parse_ulong(const char *value, unsigned long min, unsigned long max,
	    unsigned long *out)
{
	unsigned long v;
	char *end;

	if (value[0] < '0' || value[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_bool(const char *key, const char *value, bool *out)
{
	if (strcmp(value, "0") == 0)
		*out = false;
	else if (strcmp(value, "1") == 0)
		*out = true;
	else
		return bad_value(key, value, "0 or 1");
	return 0;
}

static int
parse_path(const char *key, const char *value, struct virtio_vdpa_devargs *a)
{
	if (strlen(value) >= sizeof(a->path))
		return bad_value(key, value, "a path shorter than 256 bytes");
	strcpy(a->path, value);
	return 0;
}

static int
parse_queues(const char *key, const char *value, struct virtio_vdpa_devargs *a)
{
	unsigned long v;

	if (parse_ulong(value, 1, VV_MAX_QUEUE_PAIRS, &v) < 0)
		return bad_value(key, value, "a queue pair count from 1 to "
				 RTE_STR(VV_MAX_QUEUE_PAIRS));
	a->queues = (uint16_t)v;
	return 0;
}

static int
parse_queue_size(const char *key, const char *value,
		 struct virtio_vdpa_devargs *a)
{
	unsigned long v;

	if (parse_ulong(value, VV_MIN_QUEUE_SIZE, VV_MAX_QUEUE_SIZE, &v) < 0 ||
	    !rte_is_power_of_2((uint32_t)v))
		return bad_value(key, value, "a power of two from "
				 RTE_STR(VV_MIN_QUEUE_SIZE) " to "
				 RTE_STR(VV_MAX_QUEUE_SIZE));
	a->queue_size = (uint16_t)v;
	return 0;
}

static int
parse_mac(const char *key, const char *value, struct virtio_vdpa_devargs *a)
{
	if (rte_ether_unformat_addr(value, &a->mac) < 0 ||
	    !rte_is_valid_assigned_ether_addr(&a->mac))
		return bad_value(key, value,
				 "a unicast, non-zero MAC like 02:00:00:00:00:01");
	a->mac_set = true;
	return 0;
}

static int
parse_mrg_rxbuf(const char *key, const char *value,
		struct virtio_vdpa_devargs *a)
{
	return parse_bool(key, value, &a->mrg_rxbuf);
}

static int
parse_in_order(const char *key, const char *value,
	       struct virtio_vdpa_devargs *a)
{
	return parse_bool(key, value, &a->in_order);
}

static int
parse_packed_vq(const char *key, const char *value,
		struct virtio_vdpa_devargs *a)
{
	return parse_bool(key, value, &a->packed_vq);
}

static int
parse_speed(const char *key, const char *value, struct virtio_vdpa_devargs *a)
{
	static const uint32_t speeds[] = {
		RTE_ETH_SPEED_NUM_10M, RTE_ETH_SPEED_NUM_100M,
		RTE_ETH_SPEED_NUM_1G, RTE_ETH_SPEED_NUM_2_5G,
		RTE_ETH_SPEED_NUM_5G, RTE_ETH_SPEED_NUM_10G,
		RTE_ETH_SPEED_NUM_20G, RTE_ETH_SPEED_NUM_25G,
		RTE_ETH_SPEED_NUM_40G, RTE_ETH_SPEED_NUM_50G,
		RTE_ETH_SPEED_NUM_56G, RTE_ETH_SPEED_NUM_100G,
		RTE_ETH_SPEED_NUM_200G,
	};
	unsigned long v;
	unsigned int i;

	if (parse_ulong(value, 1, UINT32_MAX, &v) == 0) {
		for (i = 0; i < RTE_DIM(speeds); i++) {
			if (speeds[i] == v) {
				a->speed = (uint32_t)v;
				return 0;
			}
		}
	}
	return bad_value(key, value,
			 "a link speed in Mbps: 10, 100, 1000, 2500, 5000, 10000, 20000, 25000, 40000, 50000, 56000, 100000 or 200000");
}

static int
parse_server(const char *key, const char *value,
	     struct virtio_vdpa_devargs *a)
{
	return parse_bool(key, value, &a->server);
}

static const struct {
	const char *key;
	devarg_parse_t parse;
} devarg_table[] = {
	{ VV_DEVARG_PATH, parse_path },
	{ VV_DEVARG_QUEUES, parse_queues },
	{ VV_DEVARG_QUEUE_SIZE, parse_queue_size },
	{ VV_DEVARG_MAC, parse_mac },
	{ VV_DEVARG_MRG_RXBUF, parse_mrg_rxbuf },
	{ VV_DEVARG_IN_ORDER, parse_in_order },
	{ VV_DEVARG_PACKED_VQ, parse_packed_vq },
	{ VV_DEVARG_SPEED, parse_speed },
	{ VV_DEVARG_SERVER, parse_server },
};

static int
parse_pair(const struct rte_kvargs_pair *p, struct virtio_vdpa_devargs *a,
	   unsigned int *seen)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(devarg_table); i++) {
		if (strcmp(p->key, devarg_table[i].key) != 0)
			continue;
		if (*seen & (1u << i)) {
			PMD_INIT_LOG(ERR, "%s is given more than once\n",
				     p->key);
			return -EINVAL;
		}
		*seen |= 1u << i;
		if (p->value == NULL || p->value[0] == '\0') {
			PMD_INIT_LOG(ERR, "%s is given without a value: write %s=<value>\n",
				     p->key, p->key);
			return -EINVAL;
		}
		return devarg_table[i].parse(p->key, p->value, a);
	}
	PMD_INIT_LOG(ERR, "unknown argument '%s'; valid arguments: %s\n",
		     p->key, VIRTIO_VDPA_PARAMS);
	return -EINVAL;
}

int
virtio_vdpa_devargs_parse(const char *args, struct virtio_vdpa_devargs *a)
{
	struct rte_kvargs *kv;
	unsigned int i, seen = 0;
	int ret = 0;

	memset(a, 0, sizeof(*a));
	a->queues = VV_DEFAULT_QUEUES;
	a->queue_size = VV_DEFAULT_QUEUE_SIZE;
	a->mrg_rxbuf = true;
	a->in_order = true;

	if (args == NULL)
		args = "";
	kv = rte_kvargs_parse(args, NULL);
	if (kv == NULL) {
		PMD_INIT_LOG(ERR, "cannot parse arguments '%s': expected key=value pairs separated by commas (%s)\n",
			     args, VIRTIO_VDPA_PARAMS);
		return -EINVAL;
	}
	for (i = 0; ret == 0 && i < kv->count; i++)
		ret = parse_pair(&kv->pairs[i], a, &seen);
	rte_kvargs_free(kv);
	if (ret == 0 && a->path[0] == '\0') {
		PMD_INIT_LOG(ERR, "missing path=: give path=/dev/vhost-vdpa-N, or the socket of a vhost-user backend\n");
		ret = -EINVAL;
	}
	return ret < 0 ? -EINVAL : 0;
}

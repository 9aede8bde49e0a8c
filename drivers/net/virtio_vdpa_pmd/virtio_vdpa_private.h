/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTIO_VDPA_PRIVATE_H
#define VIRTIO_VDPA_PRIVATE_H

/* A port's private state, shared by the files of the ethdev glue. */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <ethdev_driver.h>
#include <rte_ether.h>
#include <rte_memzone.h>

#include "virtio_vdpa_devargs.h"
#include "virtio_vdpa_mem.h"
#include "vv_dev.h"

struct virtio_vdpa_private {
	struct vv_dev dev;
	struct virtio_vdpa_devargs args;
	/* [0] is the port's address; the rest, the device's unicast table. */
	struct rte_ether_addr macs[1 + VV_MAC_TABLE_MAX];
	struct rte_ether_addr mc_addrs[VV_MAC_TABLE_MAX];
	uint32_t nb_mc_addrs;
	char mem_cb_name[RTE_MEMZONE_NAMESIZE];
	bool mem_attached;
	bool watched;
	/* The device's config interrupt, as an EAL interrupt source. */
	struct rte_intr_handle *config_intr;
	const struct rte_memzone *ctrl_mz;	/* the control queue's ring */
	void *ctrl_priv;
	/* Serialises control calls against the peer watch (alarm thread). */
	pthread_mutex_t ctl_lock;
	uint16_t max_mtu;
	char backend[16];	/* "vhost-vdpa" or "vhost-user" */
	/* The bursts the last start chose, as logged. */
	char bursts_desc[200];
	/* The Rx bursts set packet_type (until dev_ptypes_set says none). */
	bool ptypes_on;
	/*
	 * Under ctl_lock: announcing is allowed only while this is set
	 * (start to stop), so no announce alarm is armed after stop cancels
	 * it; and how long the announcement has waited for a Tx burst.
	 */
	bool announce_on;
	unsigned int announce_waited_ms;
	/*
	 * Under ctl_lock: the ethdev events (RTE_ETH_EVENT_*) the next
	 * events_notify alarm raises, as bits 1 << type.
	 */
	uint32_t events_pending;
};

static inline struct virtio_vdpa_private *
priv_of(struct rte_eth_dev *eth)
{
	return eth->data->dev_private;
}

/* Memory lock first, then ours: a memory event holds the former. */
static inline void
ctl_lock(struct virtio_vdpa_private *p)
{
	virtio_vdpa_mem_lock();
	pthread_mutex_lock(&p->ctl_lock);
}

static inline void
ctl_unlock(struct virtio_vdpa_private *p)
{
	pthread_mutex_unlock(&p->ctl_lock);
	virtio_vdpa_mem_unlock();
}

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTIO_VDPA_DEVARGS_H
#define VIRTIO_VDPA_DEVARGS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "vv_dev.h"

#define VV_DEVARG_PATH "path"
#define VV_DEVARG_QUEUES "queues"
#define VV_DEVARG_QUEUE_SIZE "queue_size"
#define VV_DEVARG_MAC "mac"
#define VV_DEVARG_MRG_RXBUF "mrg_rxbuf"
#define VV_DEVARG_IN_ORDER "in_order"
#define VV_DEVARG_PACKED_VQ "packed_vq"
#define VV_DEVARG_SPEED "speed"
#define VV_DEVARG_SERVER "server"

#define VV_DEFAULT_QUEUES 1
#define VV_DEFAULT_QUEUE_SIZE 256
#define VV_MIN_QUEUE_SIZE 64
#define VV_MAX_QUEUE_SIZE 32768

#define VIRTIO_VDPA_PARAMS \
	VV_DEVARG_PATH "=<path> " \
	VV_DEVARG_QUEUES "=<1-16> " \
	VV_DEVARG_QUEUE_SIZE "=<64-32768, power of 2> " \
	VV_DEVARG_MAC "=<xx:xx:xx:xx:xx:xx> " \
	VV_DEVARG_MRG_RXBUF "=<0|1> " \
	VV_DEVARG_IN_ORDER "=<0|1> " \
	VV_DEVARG_PACKED_VQ "=<0|1> " \
	VV_DEVARG_SPEED "=<Mbps> " \
	VV_DEVARG_SERVER "=<0|1>"

struct virtio_vdpa_devargs {
	char path[VV_PATH_MAX];
	uint16_t queues;
	uint16_t queue_size;
	bool mac_set;
	struct rte_ether_addr mac;
	bool mrg_rxbuf;
	bool in_order;
	bool packed_vq;
	uint32_t speed;		/* Mbps; 0 when not given */
	bool server;		/* vhost-user: we listen, the peer connects */
};

/*
 * Parses the vdev arguments into `out` (defaults first). Returns 0, or
 * -EINVAL after logging which key is wrong and what it accepts.
 */
int virtio_vdpa_devargs_parse(const char *args,
			      struct virtio_vdpa_devargs *out);

#endif

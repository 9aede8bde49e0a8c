/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_DEV_INTERNAL_H
#define VV_DEV_INTERNAL_H

/* Between the parts of vv_dev: not for the driver. */

#include <stdbool.h>
#include <stdint.h>

#include "vv_dev.h"

/* Lays out and hands over the control queue, when CTRL_VQ is negotiated. */
int vv_dev_ctrl_up(struct vv_dev *d);

/*
 * At start: the queue pairs in use, with RSS_CONFIG while RSS is on, else
 * VQ_PAIRS_SET; nothing to do without MQ or RSS, or without a live queue.
 */
int vv_dev_ctrl_steering(struct vv_dev *d, uint16_t pairs);

/* Checks the open parameters against the device's limits. */
int vv_dev_check_limits(struct vv_dev *d);
/* Fills d->info from the config space, where the backend has one. */
void vv_dev_read_net_config(struct vv_dev *d);
/* A reset forgot the config eventfd: hands it to the device again. */
void vv_dev_config_irq_up(struct vv_dev *d);

/* Hands every recorded vring to the device and enables it. */
int vv_dev_vrings_up(struct vv_dev *d);

static inline bool
vv_dev_peer_away(const struct vv_dev *d)
{
	return vv_dev_peer_can_leave(d) && d->fd < 0;
}

#endif

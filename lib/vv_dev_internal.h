/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_DEV_INTERNAL_H
#define VV_DEV_INTERNAL_H

/* Between the parts of vv_dev: not for the driver. */

#include <stdint.h>

#include "vv_dev.h"

/* Lays out and hands over the control queue, when CTRL_VQ is negotiated. */
int vv_dev_ctrl_up(struct vv_dev *d);

/*
 * At start: the queue pairs in use, with RSS_CONFIG while RSS is on, else
 * VQ_PAIRS_SET; nothing to do without MQ or RSS, or without a live queue.
 */
int vv_dev_ctrl_steering(struct vv_dev *d, uint16_t pairs);

#endif

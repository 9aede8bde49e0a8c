/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_IOTLB_H
#define VV_IOTLB_H

#include <stdint.h>

#include <linux/vhost_types.h>

#include "vv_memmap.h"

/* Enough for one memory event: a few ops plus the batch markers. */
#define VV_IOTLB_MAX_MSGS 70

/*
 * Turns map/unmap operations into vhost IOTLB v2 messages, wrapped in
 * BATCH_BEGIN/END when the backend acked IOTLB_BATCH so the device commits
 * them at once. Returns the message count or -ENOSPC.
 */
int vv_iotlb_build(const struct vv_memmap_op *ops, unsigned int n,
		   uint64_t backend_features, struct vhost_msg_v2 *msgs,
		   unsigned int max);

/*
 * Messages that drop every mapping in [first, last] and map the whole
 * memmap, in one batch: what a fresh start needs, since a reset may or may
 * not have cleared the device's IOTLB.
 */
int vv_iotlb_build_replace(const struct vv_memmap *m, uint64_t first,
			   uint64_t last, uint64_t backend_features,
			   struct vhost_msg_v2 *msgs, unsigned int max);

/* Logs why the kernel refused `msg` and what to do; returns err. */
int vv_iotlb_explain(const char *path, const struct vhost_msg_v2 *msg,
		     int err);

#endif

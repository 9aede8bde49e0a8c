/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_CTRL_H
#define VV_CTRL_H

/*
 * The virtio-net control virtqueue, driver side: one command at a time,
 * each a three-part chain (class and command, data, ack byte) in memory the
 * device can reach, waited for by polling the used ring.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vv_ring.h"

/* Small: commands go one at a time. */
#define VV_CTRL_RING_SIZE 64
/* The largest command is RSS_CONFIG with a 512-entry table and its key. */
#define VV_CTRL_DATA_MAX 1280
/* How long a command may take before the device counts as hung; tests shorten it. */
extern unsigned int vv_ctrl_timeout_ms;

struct vv_ctrl {
	struct vv_ring ring;
	uint8_t *buf;		/* class+cmd, data and ack: device-readable */
	/*
	 * A command timed out: the device may still answer it into the one
	 * buffer, so no other command is sent until the queue is laid anew.
	 */
	bool stuck;
};

/* Bytes of device-reachable memory a control queue needs. */
size_t vv_ctrl_shared_size(void);
/* Bytes of private bookkeeping. */
size_t vv_ctrl_priv_size(void);

/*
 * Lays a fresh queue out in shared memory, its ring packed or split, and
 * as VIRTIO_RING_F_EVENT_IDX lays it when negotiated; 0 or -EINVAL.
 */
int vv_ctrl_init(struct vv_ctrl *c, void *shm, void *priv, bool packed,
		 bool event_idx);

/*
 * Sends one command and waits up to timeout_ms for the device's ack, kicking
 * through kick_fd (written with vv_sys). Returns 0 on VIRTIO_NET_OK, -EIO if
 * the device refused it, -ETIMEDOUT if it did not answer (the queue is then
 * stuck and every later command gets -EBUSY), -EPROTO if its used entry is
 * not ours, -EINVAL if data is too long.
 */
int vv_ctrl_send(struct vv_ctrl *c, int kick_fd, uint8_t cls, uint8_t cmd,
		 const void *data, uint16_t len, unsigned int timeout_ms);

#endif

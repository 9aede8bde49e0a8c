/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_RING_DEFS_H
#define VV_RING_DEFS_H

/* What the split and packed layouts have in common. */

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtio 1.x rings are little endian; big-endian hosts are not supported"
#endif

#define VV_RING_ALIGN 64u
#define VV_RING_MAX_SIZE 32768u

/* Ring init flags, from the negotiated features. */
/* VIRTIO_F_IN_ORDER, for a ring that tracks completions in avail order. */
#define VV_RING_IN_ORDER	(1u << 0)
/* VIRTIO_RING_F_EVENT_IDX: the device's event index decides kicks. */
#define VV_RING_EVENT_IDX	(1u << 1)

/*
 * What the next used entry (split) or used descriptor (packed) holds, each
 * field read from shared memory exactly once: a device may rewrite it
 * between two reads.
 */
enum vv_used {
	VV_USED_NONE,		/* nothing new from the device */
	VV_USED_OK,		/* id in flight, length within what was posted */
	VV_USED_BAD_ID,		/* names no buffer in flight: no slot to return */
	VV_USED_BAD_LEN,	/* id in flight, but more bytes than posted */
};

#endif

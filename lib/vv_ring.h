/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_RING_H
#define VV_RING_H

/*
 * A virtqueue of either layout, as the control plane sees it: how much
 * memory it needs, where its areas lie, and the base the device starts or
 * resumes from. The hot paths use the layout's own header.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vv_packed_ring.h"
#include "vv_split_ring.h"

struct vv_ring {
	union {
		struct vv_split_ring split;
		struct vv_packed_ring packed;
	};
	bool is_packed;
};

size_t vv_ring_shared_size(bool packed, uint16_t size);
size_t vv_ring_priv_size(bool packed, uint16_t size);

/* Lays out a fresh ring of either layout; flags are VV_RING_*. */
int vv_ring_init(struct vv_ring *r, bool packed, void *shm, void *priv,
		 uint16_t size, unsigned int flags);

/*
 * Lays the ring out fresh again in its own memory, keeping its layout,
 * flags and bad_used count. Once the device is reset: nothing is in flight
 * afterwards, so a used entry it writes late names no buffer.
 */
void vv_ring_reset(struct vv_ring *r);

static inline uint16_t
vv_ring_size(const struct vv_ring *r)
{
	return r->is_packed ? r->packed.size : r->split.size;
}

static inline uint64_t
vv_ring_bad_count(const struct vv_ring *r)
{
	return r->is_packed ? r->packed.bad_used : r->split.bad_used;
}

static inline uint64_t *
vv_ring_bad_used(struct vv_ring *r)
{
	return r->is_packed ? &r->packed.bad_used : &r->split.bad_used;
}

/*
 * The three areas a backend hands the device (SET_VRING_ADDR): descriptor
 * table, then avail ring or driver event structure, then used ring or
 * device event structure.
 */
void vv_ring_areas(const struct vv_ring *r, uint64_t *desc, uint64_t *driver,
		   uint64_t *device);

/* SET_VRING_BASE for a fresh ring: 0, or 0x80008000 for packed. */
uint32_t vv_ring_base_fresh(const struct vv_ring *r);

/*
 * SET_VRING_BASE for a peer taking over a running ring: from the device's
 * used position, so what it completed stays done and what it had taken but
 * not completed is offered again. Packed encodes both indices and both
 * wrap counters.
 */
uint32_t vv_ring_base_resume(const struct vv_ring *r);

/*
 * Rx interrupts (an app that sleeps on the call eventfd): on asks the
 * device to signal the next buffer it uses, off makes it stop. Split with
 * EVENT_IDX: used_event at the next entry we consume, or one lap behind
 * it; without: the NO_INTERRUPT flag. Packed: the driver event structure's
 * ENABLE or DISABLE. A full fence follows, so the caller's next look at
 * the ring cannot miss a buffer the device used before it saw the change.
 */
void vv_ring_intr_set(struct vv_ring *r, bool on);

/*
 * Buffers the device has used and the driver not yet taken: split, the
 * used entries pending (at most the ring size); packed, the used
 * descriptors in a row from ours, at most as many as are in flight.
 */
uint16_t vv_ring_used_pending(const struct vv_ring *r);

/* A value that changes whenever the device completes something. */
uint32_t vv_ring_progress(const struct vv_ring *r);

#endif

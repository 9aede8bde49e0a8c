/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_PACKED_RING_H
#define VV_PACKED_RING_H

/*
 * Driver side of a virtio 1.1 packed virtqueue (section 2.7). Header-only
 * hot path, as for the split ring; layout helpers live in vv_packed_ring.c.
 *
 * Positions are 16-bit counters that run on past the ring's end: a slot is
 * pos & mask and its wrap counter is the parity of pos >> shift, so the
 * avail and used wrap counters never need their own state (65536 is a
 * multiple of twice any ring size). As for the split ring, what the device
 * writes is never trusted: buffer ids and chain lengths are private, and
 * every used descriptor is checked against them before use.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "vv_ring_defs.h"

#define VV_PACKED_F_AVAIL	(1u << VRING_PACKED_DESC_F_AVAIL)
#define VV_PACKED_F_USED	(1u << VRING_PACKED_DESC_F_USED)
#define VV_PACKED_F_WRAP_BITS	(VV_PACKED_F_AVAIL | VV_PACKED_F_USED)

struct vv_packed_ring {
	struct vring_packed_desc *desc;
	/* Written by us, read by the device: when it may interrupt us. */
	struct vring_packed_desc_event *driver_event;
	/* Written by the device: when it wants to be kicked. */
	struct vring_packed_desc_event *device_event;
	uint16_t size;
	uint16_t mask;
	uint8_t shift;		/* log2(size) */
	bool in_order;
	bool event_idx;
	uint16_t avail_pos;	/* next descriptor we make available */
	uint16_t pub_pos;	/* first one the device may not see yet */
	uint16_t pub_flags;	/* its flags, stored last by publish */
	uint16_t used_pos;	/* next descriptor the device writes used */
	uint16_t num_free;	/* descriptor slots */
	/*
	 * Buffer ids, in the order they came back. A chain of several
	 * descriptors takes one id, so ids and slots run out apart.
	 */
	uint16_t free_ids;
	uint16_t free_head;
	uint16_t free_tail;
	uint64_t bad_used;	/* used descriptors rejected as invalid */
	/* private state, sized by vv_packed_ring_priv_size() */
	uint16_t *next_id;	/* free-list links */
	uint16_t *ndesc;	/* descriptors of each id's chain */
	uint32_t *posted_len;	/* device-writable bytes per id, 0 if idle */
	uint16_t *slot_id;	/* id whose chain starts at each slot */
};

size_t vv_packed_ring_shared_size(uint16_t size);
size_t vv_packed_ring_priv_size(uint16_t size);
/* Byte offsets of the driver and device event structures. */
size_t vv_packed_ring_driver_event_offset(uint16_t size);
size_t vv_packed_ring_device_event_offset(uint16_t size);

/*
 * Lays a fresh ring out in shared memory `shm` and private memory `priv`
 * (both zeroed here); flags are VV_RING_*. size must be a power of two no
 * larger than VV_RING_MAX_SIZE. Returns 0 or -EINVAL.
 */
int vv_packed_ring_init(struct vv_packed_ring *r, void *shm, void *priv,
			uint16_t size, unsigned int flags);

/* The wrap counter of the lap `pos` lies in: 1 on the first. */
static inline bool
vv_packed_wrap(const struct vv_packed_ring *r, uint16_t pos)
{
	return ((pos >> r->shift) & 1) == 0;
}

/*
 * SET/GET_VRING_BASE for a packed ring: avail index and wrap counter in
 * the low half, used index and wrap counter in the high half (bit 15 of
 * each), both at `pos`.
 */
static inline uint32_t
vv_packed_base_encode(const struct vv_packed_ring *r, uint16_t avail,
		      uint16_t used)
{
	uint32_t a = (avail & r->mask) | (uint32_t)vv_packed_wrap(r, avail) << 15;
	uint32_t u = (used & r->mask) | (uint32_t)vv_packed_wrap(r, used) << 15;

	return a | u << 16;
}

/* The base of a fresh ring: index 0, both wrap counters 1. */
#define VV_PACKED_BASE_FRESH 0x80008000u

/*
 * Takes a buffer id for a chain of n descriptors, to be written by
 * vv_packed_desc_put from avail_pos on. Returns -1 if fewer than n
 * descriptors are free.
 */
static inline int
vv_packed_id_alloc(struct vv_packed_ring *r, uint16_t n, uint32_t posted_len)
{
	uint16_t id = r->free_head;

	if (n == 0 || n > r->num_free)
		return -1;
	r->free_head = r->next_id[id];
	r->free_ids--;
	r->num_free -= n;
	r->ndesc[id] = n;
	r->posted_len[id] = posted_len;
	r->slot_id[r->avail_pos & r->mask] = id;
	return id;
}

/*
 * Gives a chain's descriptors back; its id goes to the free list's tail so
 * a ring used in order reuses the same id at the same slot every lap.
 */
static inline void
vv_packed_id_free(struct vv_packed_ring *r, uint16_t id)
{
	if (r->free_ids == 0)
		r->free_head = id;
	else
		r->next_id[r->free_tail] = id;
	r->free_tail = id;
	r->free_ids++;
	r->num_free += r->ndesc[id];
	r->posted_len[id] = 0;
}

/*
 * Writes the descriptor at avail_pos and moves on. `more` chains it to the
 * next one. The first descriptor since the last publish keeps its flags
 * back: storing them is what hands the whole batch to the device.
 */
static inline void
vv_packed_desc_put(struct vv_packed_ring *r, uint16_t id, uint64_t addr,
		   uint32_t len, bool device_writes, bool more)
{
	uint16_t pos = r->avail_pos;
	struct vring_packed_desc *d = &r->desc[pos & r->mask];
	uint16_t flags = vv_packed_wrap(r, pos) ? VV_PACKED_F_AVAIL :
		VV_PACKED_F_USED;

	if (device_writes)
		flags |= VRING_DESC_F_WRITE;
	if (more)
		flags |= VRING_DESC_F_NEXT;
	d->addr = addr;
	d->len = len;
	d->id = id;
	if (pos == r->pub_pos)
		r->pub_flags = flags;
	else
		d->flags = flags;
	r->avail_pos = pos + 1;
}

/* Makes everything put so far visible to the device. */
static inline void
vv_packed_avail_publish(struct vv_packed_ring *r)
{
	uint16_t pos = r->pub_pos;

	if (pos == r->avail_pos)
		return;
	atomic_store_explicit(
		(_Atomic uint16_t *)&r->desc[pos & r->mask].flags,
		r->pub_flags, memory_order_release);
	r->pub_pos = r->avail_pos;
}

/*
 * True when the device asks to be notified: its event structure says
 * ENABLE, or (EVENT_IDX) DESC naming any descriptor but the next one we
 * will make available.
 *
 * The device names where it will read next, which is never beyond what we
 * made available; named exactly there, it waits for our next publish and
 * no kick is due yet. Named behind us, the spec's rule would kick only if
 * that position was among the descriptors just published. QEMU 7.2's
 * virtio-net writes the position when it turns notifications back on and
 * can then read on past it before it waits: under the spec's rule its Tx
 * queue stalled for seconds (measured on vp_vdpa: 3105 frames in 3 s, the
 * ring full and 20 million bursts refused), under this one it moved
 * 252533 frames in 3.4 s with exact counts. A device still busy only gets
 * a kick it does not need.
 */
static inline bool
vv_packed_needs_kick(struct vv_packed_ring *r)
{
	uint16_t new = r->avail_pos, event;
	uint32_t ev;

	/* The flags store must be visible before the device's wish is read. */
	atomic_thread_fence(memory_order_seq_cst);
	ev = atomic_load_explicit((_Atomic uint32_t *)r->device_event,
				  memory_order_relaxed);
	if ((ev >> 16) == VRING_PACKED_EVENT_FLAG_DISABLE)
		return false;
	/* DESC means nothing without EVENT_IDX; anything else is ENABLE. */
	if ((ev >> 16) != VRING_PACKED_EVENT_FLAG_DESC || !r->event_idx)
		return true;
	/* Slot and wrap counter tell positions apart over two laps. */
	event = (uint16_t)(((ev & 0x7fff) & r->mask) +
			   (((ev >> 15) & 1) ? 0 : r->size));
	return ((uint16_t)(new - event) & (2u * r->size - 1)) != 0;
}

/*
 * Reads the descriptor at used_pos, each field once: VV_USED_NONE while
 * the device has not marked it used for this lap.
 */
static inline enum vv_used
vv_packed_used_read(const struct vv_packed_ring *r, uint16_t *id,
		    uint32_t *len)
{
	const struct vring_packed_desc *d = &r->desc[r->used_pos & r->mask];
	uint16_t want = vv_packed_wrap(r, r->used_pos) ? VV_PACKED_F_WRAP_BITS :
		0;
	uint16_t flags, v;

	/*
	 * Nothing in flight, nothing to complete: whatever the slot holds,
	 * consuming it would put used_pos past avail_pos.
	 */
	if (r->used_pos == r->avail_pos)
		return VV_USED_NONE;
	flags = atomic_load_explicit((_Atomic uint16_t *)&d->flags,
				     memory_order_acquire);
	if ((flags & VV_PACKED_F_WRAP_BITS) != want)
		return VV_USED_NONE;
	v = *(const volatile uint16_t *)&d->id;
	*len = *(const volatile uint32_t *)&d->len;
	if (v >= r->size || r->posted_len[v] == 0)
		return VV_USED_BAD_ID;
	*id = v;
	return *len > r->posted_len[v] ? VV_USED_BAD_LEN : VV_USED_OK;
}

/* True once the descriptor `ahead` places past used_pos is marked used. */
static inline bool
vv_packed_used_ready(const struct vv_packed_ring *r, uint16_t ahead)
{
	uint16_t pos = r->used_pos + ahead;
	uint16_t flags = atomic_load_explicit(
		(_Atomic uint16_t *)&r->desc[pos & r->mask].flags,
		memory_order_acquire);

	return (flags & VV_PACKED_F_WRAP_BITS) ==
		(vv_packed_wrap(r, pos) ? VV_PACKED_F_WRAP_BITS : 0);
}

/*
 * Consumes the used descriptor of id (read as VV_USED_OK or _BAD_LEN). The
 * device skips the chain's length; after a rejected descriptor (one slot)
 * that could overshoot what we made available, so it stops there.
 */
static inline void
vv_packed_used_take(struct vv_packed_ring *r, uint16_t id)
{
	uint16_t room = (uint16_t)(r->avail_pos - r->used_pos);

	r->used_pos += r->ndesc[id] <= room ? r->ndesc[id] : room;
	vv_packed_id_free(r, id);
}

/*
 * Consumes a used descriptor that names no buffer in flight, counted in
 * bad_used. One slot on: how far the device meant to skip is unknowable.
 */
static inline void
vv_packed_used_reject(struct vv_packed_ring *r)
{
	r->used_pos++;
	r->bad_used++;
}

/* Id of the oldest chain in flight; only meaningful with IN_ORDER. */
static inline uint16_t
vv_packed_oldest(const struct vv_packed_ring *r)
{
	return r->slot_id[r->used_pos & r->mask];
}

/*
 * IN_ORDER: one used descriptor naming `last` completes every chain made
 * available up to it, and the device skips the descriptors of them all
 * (virtio 1.1, 2.7.9). Returns how many chains that is, or -1 when `last`
 * is not in flight.
 */
static inline int
vv_packed_inorder_batch(const struct vv_packed_ring *r, uint16_t last)
{
	uint16_t pos = r->used_pos;
	int n = 0;

	/* Bounded by what is in flight, however the chains add up. */
	while ((uint16_t)(r->avail_pos - pos) - 1u < r->size) {
		uint16_t id = r->slot_id[pos & r->mask];

		n++;
		if (id == last)
			return n;
		pos += r->ndesc[id];
	}
	return -1;
}

/* Completes the oldest chain in flight (IN_ORDER) and returns its id. */
static inline uint16_t
vv_packed_inorder_take(struct vv_packed_ring *r)
{
	uint16_t id = vv_packed_oldest(r);

	vv_packed_used_take(r, id);
	return id;
}

/* Descriptors the driver made available that are not yet completed. */
static inline uint16_t
vv_packed_in_flight(const struct vv_packed_ring *r)
{
	return r->size - r->num_free;
}

/*
 * Where the device stands: the first descriptor from used_pos on that it
 * has not marked used, following the chain lengths it skips. For a peer
 * that left, so nothing moves under the walk but our own consumption,
 * which only reads the descriptors walked here.
 */
uint16_t vv_packed_device_pos(const struct vv_packed_ring *r);

/*
 * IN_ORDER rings whose buffers are each one descriptor (Rx): the buffer at
 * slot s takes id s, and the device must hand the slots back in turn. No
 * id list and no per-id state: each used descriptor is checked against the
 * slot it must be. num_free is kept, for the callers that ask how full the
 * ring is.
 */

/* The id of the next slot, which vv_packed_desc_put then fills. */
static inline uint16_t
vv_packed_fixed_post(struct vv_packed_ring *r)
{
	r->num_free--;
	return r->avail_pos & r->mask;
}

/*
 * Reads the next used descriptor, each field once, into *len, and gives
 * the slot it completes in *id. One naming another id, or claiming more
 * than `posted` bytes, is VV_USED_BAD_LEN: a bad descriptor whose slot is
 * known.
 */
static inline enum vv_used
vv_packed_fixed_read(const struct vv_packed_ring *r, uint16_t *id,
		     uint32_t *len, uint32_t posted)
{
	uint16_t slot = r->used_pos & r->mask;
	const struct vring_packed_desc *d = &r->desc[slot];
	uint16_t want = vv_packed_wrap(r, r->used_pos) ? VV_PACKED_F_WRAP_BITS :
		0;
	uint16_t flags, v;

	/*
	 * vv_packed_used_read's check, kept apart: a shared helper returning
	 * the descriptor or NULL cost recv_packed 10 instructions a packet.
	 */
	if (r->used_pos == r->avail_pos)
		return VV_USED_NONE;
	flags = atomic_load_explicit((_Atomic uint16_t *)&d->flags,
				     memory_order_acquire);
	if ((flags & VV_PACKED_F_WRAP_BITS) != want)
		return VV_USED_NONE;
	v = *(const volatile uint16_t *)&d->id;
	*len = *(const volatile uint32_t *)&d->len;
	*id = slot;
	return v == slot && *len <= posted ? VV_USED_OK : VV_USED_BAD_LEN;
}

/* Consumes the descriptor just read; its slot is free again. */
static inline void
vv_packed_fixed_take(struct vv_packed_ring *r)
{
	r->used_pos++;
	r->num_free++;
}

#endif

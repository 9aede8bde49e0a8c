/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_SPLIT_RING_H
#define VV_SPLIT_RING_H

/*
 * Driver side of a virtio 1.x split virtqueue. Header-only hot path so the
 * Rx/Tx bursts inline it; the layout helpers live in vv_split_ring.c.
 *
 * The device can write anything into shared memory, so nothing it writes is
 * trusted: descriptor chains are tracked in private arrays (never through
 * desc[].next read back from the table) and every used entry is checked
 * against that private state before the caller sees it.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "vv_ring_defs.h"

struct vv_split_ring {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t size;
	uint16_t mask;
	uint16_t avail_idx;	/* next avail slot we fill */
	uint16_t used_idx;	/* next used entry we consume */
	uint16_t num_free;
	uint16_t free_head;
	uint16_t free_tail;
	uint16_t inorder_slot;	/* oldest avail slot not yet completed */
	bool in_order;
	/* VIRTIO_RING_F_EVENT_IDX: the device's avail_event decides kicks */
	bool event_idx;
	uint16_t kick_idx;	/* avail idx at the last kick decision */
	uint64_t bad_used;	/* used entries rejected as invalid */
	/* private state, sized by vv_split_ring_priv_size() */
	uint16_t *next;		/* chain and free-list links */
	uint16_t *chain_len;	/* descriptors per in-flight head, 0 if idle */
	uint32_t *posted_len;	/* device-writable bytes per in-flight head */
	uint16_t *slot_head;	/* head placed in each avail slot */
};

/* Bytes of shared memory (desc, avail, used) a ring of `size` needs. */
size_t vv_split_ring_shared_size(uint16_t size);
/* Bytes of private bookkeeping a ring of `size` needs. */
size_t vv_split_ring_priv_size(uint16_t size);

/* vv_split_ring_init flags are VV_RING_* (vv_ring_defs.h). */
#define VV_SPLIT_IN_ORDER	VV_RING_IN_ORDER
/* With EVENT_IDX avail_event and used_event replace the flags. */
#define VV_SPLIT_EVENT_IDX	VV_RING_EVENT_IDX

/*
 * Lays the ring out in zeroed shared memory `shm` and private memory `priv`.
 * size must be a power of two no larger than VV_RING_MAX_SIZE; flags are
 * VV_SPLIT_*. Returns 0 or -EINVAL.
 */
int vv_split_ring_init(struct vv_split_ring *r, void *shm, void *priv,
		       uint16_t size, unsigned int flags);

/* Byte offsets of the avail and used rings inside the shared area. */
size_t vv_split_ring_avail_offset(uint16_t size);
size_t vv_split_ring_used_offset(uint16_t size);

/*
 * The two event indices of VIRTIO_RING_F_EVENT_IDX, each just past the
 * other side's ring: used_event (ours, after avail->ring[size]) and
 * avail_event (the device's, after used->ring[size]).
 */
static inline uint16_t *
vv_split_used_event(const struct vv_split_ring *r)
{
	return &r->avail->ring[r->size];
}

static inline uint16_t *
vv_split_avail_event(const struct vv_split_ring *r)
{
	return (uint16_t *)&r->used->ring[r->size];
}

/*
 * Takes `n` free descriptors, linked privately and in the table, and returns
 * the head id, or -1 if fewer than n are free. The caller fills addr, len and
 * the WRITE flag of each; NEXT flags and next fields are already set.
 */
static inline int
vv_split_chain_alloc(struct vv_split_ring *r, uint16_t n, uint32_t posted_len)
{
	uint16_t head = r->free_head, id = head, i;

	if (n == 0 || n > r->num_free)
		return -1;
	for (i = 1; i < n; i++) {
		r->desc[id].flags = VRING_DESC_F_NEXT;
		r->desc[id].next = r->next[id];
		id = r->next[id];
	}
	r->desc[id].flags = 0;
	r->free_head = r->next[id];
	r->num_free -= n;
	r->chain_len[head] = n;
	r->posted_len[head] = posted_len;
	return head;
}

/*
 * vv_split_chain_alloc for a lone descriptor, leaving desc[] to the caller
 * (an Rx ring rewrites only what changed). The caller checked num_free.
 */
static inline uint16_t
vv_split_take_one(struct vv_split_ring *r, uint32_t posted_len)
{
	uint16_t head = r->free_head;

	r->free_head = r->next[head];
	r->num_free--;
	r->chain_len[head] = 1;
	r->posted_len[head] = posted_len;
	return head;
}

/* Iterates a chain taken by vv_split_chain_alloc. */
static inline uint16_t
vv_split_chain_next(const struct vv_split_ring *r, uint16_t id)
{
	return r->next[id];
}

/*
 * Appends to the free list's tail: descriptors come back in the order the
 * device finished them, so a ring used in order refills its avail slots with
 * the same heads every lap and vv_split_avail_push writes nothing.
 */
static inline void
vv_split_chain_free(struct vv_split_ring *r, uint16_t head)
{
	uint16_t n = r->chain_len[head], id = head;

	while (--n)
		id = r->next[id];
	if (r->num_free == 0)
		r->free_head = head;
	else
		r->next[r->free_tail] = head;
	r->free_tail = id;
	r->num_free += r->chain_len[head];
	r->chain_len[head] = 0;
}

/* vv_split_chain_free for a head taken by vv_split_take_one. */
static inline void
vv_split_put_one(struct vv_split_ring *r, uint16_t head)
{
	if (r->num_free == 0)
		r->free_head = head;
	else
		r->next[r->free_tail] = head;
	r->free_tail = head;
	r->num_free++;
	r->chain_len[head] = 0;
}

static inline void
vv_split_avail_push(struct vv_split_ring *r, uint16_t head)
{
	uint16_t slot = r->avail_idx & r->mask;

	r->slot_head[slot] = head;
	/* Rewriting an unchanged entry would dirty a line the device reads. */
	if (r->avail->ring[slot] != head)
		r->avail->ring[slot] = head;
	r->avail_idx++;
}

/* Makes everything pushed so far visible to the device. */
static inline void
vv_split_avail_publish(struct vv_split_ring *r)
{
	atomic_store_explicit((_Atomic uint16_t *)&r->avail->idx, r->avail_idx,
			      memory_order_release);
}

/*
 * True when the device asks to be notified of the buffers published since
 * the previous call; call it right after vv_split_avail_publish(). With
 * EVENT_IDX that is when one of them sits at the device's avail_event
 * (vring_need_event), else when the device has not set NO_NOTIFY.
 */
static inline bool
vv_split_needs_kick(struct vv_split_ring *r)
{
	uint16_t old = r->kick_idx, new = r->avail_idx;

	/*
	 * Each decision covers only what was published since the previous
	 * one, kick or not: an earlier slot was kicked for then, or the
	 * device did not ask for it then, and must not draw a kick now.
	 */
	r->kick_idx = new;
	/*
	 * The avail idx store must be visible before the device's wish is
	 * read, or a device that just went idle could miss both.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (r->event_idx) {
		uint16_t event = atomic_load_explicit(
			(_Atomic uint16_t *)vv_split_avail_event(r),
			memory_order_relaxed);
		return vring_need_event(event, new, old);
	}
	return !(atomic_load_explicit((_Atomic uint16_t *)&r->used->flags,
				      memory_order_relaxed) &
		 VRING_USED_F_NO_NOTIFY);
}

/* Used entries the device has published and we have not consumed. */
static inline uint16_t
vv_split_used_pending(const struct vv_split_ring *r)
{
	uint16_t idx = atomic_load_explicit((_Atomic uint16_t *)&r->used->idx,
					    memory_order_acquire);
	uint16_t n = (uint16_t)(idx - r->used_idx);

	/* A device claiming more than the ring holds is lying. */
	return n > r->size ? 0 : n;
}

/*
 * Consumes one used entry. Returns the head id, with *len the bytes written,
 * or -1 if the entry names no in-flight head or claims more bytes than were
 * posted; such an entry is counted in bad_used and otherwise ignored.
 * The caller has checked vv_split_used_pending() first.
 */
static inline int
vv_split_used_pop(struct vv_split_ring *r, uint32_t *len)
{
	const struct vring_used_elem *e = &r->used->ring[r->used_idx & r->mask];
	uint32_t id = e->id;

	*len = e->len;
	r->used_idx++;
	if (id >= r->size || r->chain_len[id] == 0 ||
	    *len > r->posted_len[id]) {
		r->bad_used++;
		return -1;
	}
	return (int)id;
}

/*
 * Reads the next used entry, without consuming it, into *id and *len: each
 * field once, so what is checked is what the caller uses. The caller has
 * checked vv_split_used_pending() first.
 */
static inline enum vv_used
vv_split_used_read(const struct vv_split_ring *r, uint16_t *id, uint32_t *len)
{
	const struct vring_used_elem *e = &r->used->ring[r->used_idx & r->mask];
	uint32_t v = *(const volatile uint32_t *)&e->id;

	*len = *(const volatile uint32_t *)&e->len;
	if (v >= r->size || r->chain_len[v] == 0)
		return VV_USED_BAD_ID;
	*id = (uint16_t)v;
	return *len > r->posted_len[v] ? VV_USED_BAD_LEN : VV_USED_OK;
}

/*
 * Checks the next used entry without consuming it: returns its head id with
 * *len, or -1 if it is invalid (the caller then pops and drops it).
 */
static inline int
vv_split_used_peek(const struct vv_split_ring *r, uint32_t *len)
{
	uint16_t id;

	return vv_split_used_read(r, &id, len) == VV_USED_OK ? (int)id : -1;
}

/* Consumes the entry vv_split_used_peek() has just validated. */
static inline void
vv_split_used_skip(struct vv_split_ring *r)
{
	r->used_idx++;
}

/* Consumes an entry the caller found invalid; counted in bad_used. */
static inline void
vv_split_used_reject(struct vv_split_ring *r)
{
	r->used_idx++;
	r->bad_used++;
}

/*
 * IN_ORDER: one used entry naming `last` completes every chain made
 * available up to it, and the device moves the used index on by their
 * number, writing its next entry that far ahead (virtio 1.1, 2.6.9).
 * Returns that number, or -1 when `last` is not in flight.
 */
static inline int
vv_split_inorder_batch(const struct vv_split_ring *r, uint16_t last)
{
	uint16_t slot = r->inorder_slot;
	int n = 0;

	while (slot != r->avail_idx) {
		n++;
		if (r->slot_head[slot & r->mask] == last)
			return n;
		slot++;
	}
	return -1;
}

/* True when `head` is the oldest chain not yet completed (a batch of one). */
static inline bool
vv_split_inorder_is_next(const struct vv_split_ring *r, uint16_t head)
{
	return r->inorder_slot != r->avail_idx &&
		r->slot_head[r->inorder_slot & r->mask] == head;
}

/*
 * IN_ORDER, by count: true when the n pending used entries complete the n
 * oldest chains, as they must in order, and the last entry names the last
 * of them. Only that entry is read; the caller then takes the chains with
 * vv_split_inorder_take() and moves past the entries. False (the caller
 * checks entry by entry) when the count or that entry does not add up.
 */
static inline bool
vv_split_inorder_all_done(const struct vv_split_ring *r, uint16_t n)
{
	uint16_t last = (uint16_t)(r->inorder_slot + n - 1);
	uint32_t id;

	if (n == 0 || n > (uint16_t)(r->avail_idx - r->inorder_slot))
		return false;
	id = *(const volatile uint32_t *)
		&r->used->ring[(uint16_t)(r->used_idx + n - 1) & r->mask].id;
	return id == r->slot_head[last & r->mask];
}

/* The oldest chain not yet completed, now completed. */
static inline uint16_t
vv_split_inorder_take(struct vv_split_ring *r)
{
	return r->slot_head[r->inorder_slot++ & r->mask];
}

/* Moves past the used entries of a batch of n (vv_split_inorder_batch). */
static inline void
vv_split_used_advance(struct vv_split_ring *r, uint16_t n)
{
	r->used_idx += n;
}

/* Head named by the used entry `ahead` places on, unchecked: a prefetch hint. */
static inline uint32_t
vv_split_used_hint(const struct vv_split_ring *r, uint16_t ahead)
{
	return r->used->ring[(uint16_t)(r->used_idx + ahead) & r->mask].id &
		r->mask;
}

/*
 * With IN_ORDER the device may report only the last buffer of a batch; the
 * buffers before it, in avail order, are complete too. Returns the oldest
 * uncompleted head before or at `last`, or -1 once `last` itself was
 * returned. Call repeatedly after vv_split_used_pop() yields `last`.
 */
static inline int
vv_split_inorder_next(struct vv_split_ring *r, uint16_t last, bool *done)
{
	uint16_t head;

	if (*done || r->inorder_slot == r->avail_idx)
		return -1;
	head = r->slot_head[r->inorder_slot & r->mask];
	r->inorder_slot++;
	if (head == last)
		*done = true;
	return head;
}

/*
 * IN_ORDER rings whose buffers are each one descriptor (Rx): avail slot s
 * always carries descriptor s & mask, so the avail ring is laid out once
 * (vv_split_ring_init), and the k-th used entry must complete the k-th slot
 * made available. No free list and no per-head state: the checks are
 * against the slot the entry must be for. num_free is kept, for the
 * callers that ask how full the ring is.
 */

/*
 * Takes the next slot; its descriptor is the slot's own. The avail entry
 * is read, and written only when a peer overwrote it, so that a peer
 * following it (after a vhost-user reconnect) finds it right.
 */
static inline uint16_t
vv_split_fixed_post(struct vv_split_ring *r)
{
	uint16_t slot = r->avail_idx++ & r->mask;

	if (r->avail->ring[slot] != slot)
		r->avail->ring[slot] = slot;
	r->num_free--;
	return slot;
}

/*
 * Used entries pending, or 0 when the device claims more than is in
 * flight: it would complete slots that hold no buffer.
 */
static inline uint16_t
vv_split_fixed_pending(const struct vv_split_ring *r)
{
	uint16_t idx = atomic_load_explicit((_Atomic uint16_t *)&r->used->idx,
					    memory_order_acquire);
	uint16_t n = (uint16_t)(idx - r->used_idx);

	return n > (uint16_t)(r->avail_idx - r->used_idx) ? 0 : n;
}

/*
 * Reads the next used entry, each field once, into *len, and gives the
 * slot it completes in *id. In order, the entry completes that slot
 * whatever it names: one naming another buffer, or claiming more than
 * `posted` bytes, is VV_USED_BAD_LEN, a bad entry whose slot is known.
 * The caller has checked vv_split_fixed_pending() first.
 */
static inline enum vv_used
vv_split_fixed_read(const struct vv_split_ring *r, uint16_t *id, uint32_t *len,
		    uint32_t posted)
{
	uint16_t slot = r->used_idx & r->mask;
	const struct vring_used_elem *e = &r->used->ring[slot];
	uint32_t v = *(const volatile uint32_t *)&e->id;

	*len = *(const volatile uint32_t *)&e->len;
	*id = slot;
	return v == slot && *len <= posted ? VV_USED_OK : VV_USED_BAD_LEN;
}

/* Consumes the entry just read; its slot is free again. */
static inline void
vv_split_fixed_take(struct vv_split_ring *r)
{
	r->used_idx++;
	r->num_free++;
}

/* The slot `ahead` entries on: a prefetch hint that reads no shared memory. */
static inline uint16_t
vv_split_fixed_hint(const struct vv_split_ring *r, uint16_t ahead)
{
	return (uint16_t)(r->used_idx + ahead) & r->mask;
}

#endif

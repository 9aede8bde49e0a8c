/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "vv_split_ring.h"

static size_t
align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

size_t
vv_split_ring_avail_offset(uint16_t size)
{
	return sizeof(struct vring_desc) * size;
}

size_t
vv_split_ring_used_offset(uint16_t size)
{
	/* flags, idx, ring[size], used_event; own cache line from avail */
	return align_up(vv_split_ring_avail_offset(size) +
			sizeof(uint16_t) * (3 + (size_t)size), VV_RING_ALIGN);
}

size_t
vv_split_ring_shared_size(uint16_t size)
{
	/* flags, idx, ring[size], avail_event */
	return align_up(vv_split_ring_used_offset(size) +
			sizeof(uint16_t) * 3 +
			sizeof(struct vring_used_elem) * size, VV_RING_ALIGN);
}

size_t
vv_split_ring_priv_size(uint16_t size)
{
	return (size_t)size * (3 * sizeof(uint16_t) + sizeof(uint32_t));
}

int
vv_split_ring_init(struct vv_split_ring *r, void *shm, void *priv,
		   uint16_t size, unsigned int flags)
{
	uint8_t *base = shm, *p = priv;
	uint16_t i;

	if (size == 0 || (size & (size - 1)) != 0 || size > VV_RING_MAX_SIZE ||
	    shm == NULL || priv == NULL)
		return -EINVAL;

	memset(r, 0, sizeof(*r));
	r->desc = (struct vring_desc *)base;
	r->avail = (struct vring_avail *)(base +
					 vv_split_ring_avail_offset(size));
	r->used = (struct vring_used *)(base + vv_split_ring_used_offset(size));
	r->size = size;
	r->mask = size - 1;
	r->num_free = size;
	r->in_order = (flags & VV_SPLIT_IN_ORDER) != 0;
	r->event_idx = (flags & VV_SPLIT_EVENT_IDX) != 0;

	r->posted_len = (uint32_t *)p;
	p += sizeof(uint32_t) * size;
	r->next = (uint16_t *)p;
	p += sizeof(uint16_t) * size;
	r->chain_len = (uint16_t *)p;
	p += sizeof(uint16_t) * size;
	r->slot_head = (uint16_t *)p;

	memset(shm, 0, vv_split_ring_shared_size(size));
	memset(priv, 0, vv_split_ring_priv_size(size));
	for (i = 0; i < size; i++)
		r->next[i] = (uint16_t)(i + 1);
	r->free_tail = size - 1;
	/* An IN_ORDER Rx ring keeps these entries (fixed slots). */
	if (r->in_order)
		for (i = 0; i < size; i++)
			r->avail->ring[i] = i;
	/*
	 * We poll; interrupts would only cost the device work. With EVENT_IDX
	 * the device ignores NO_INTERRUPT (the driver must leave flags 0) and
	 * interrupts when its used idx steps past used_event. That cannot be
	 * switched off, only made rare: any fixed value is passed once per
	 * 65536 completions, and 0xffff puts the first pass a whole lap away.
	 * Moving it ahead as we consume would avoid even that, at the price
	 * of a store to a line the device reads on every burst.
	 */
	if (r->event_idx)
		*vv_split_used_event(r) = 0xffff;
	else
		r->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "vv_packed_ring.h"

static size_t
align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

size_t
vv_packed_ring_driver_event_offset(uint16_t size)
{
	return align_up(sizeof(struct vring_packed_desc) * size,
			VV_RING_ALIGN);
}

/* A line of its own: the device writes it, we write the other. */
size_t
vv_packed_ring_device_event_offset(uint16_t size)
{
	return vv_packed_ring_driver_event_offset(size) + VV_RING_ALIGN;
}

size_t
vv_packed_ring_shared_size(uint16_t size)
{
	return vv_packed_ring_device_event_offset(size) + VV_RING_ALIGN;
}

size_t
vv_packed_ring_priv_size(uint16_t size)
{
	return (size_t)size * (3 * sizeof(uint16_t) + sizeof(uint32_t));
}

int
vv_packed_ring_init(struct vv_packed_ring *r, void *shm, void *priv,
		    uint16_t size, unsigned int flags)
{
	uint8_t *base = shm, *p = priv;
	uint16_t i;

	if (size == 0 || (size & (size - 1)) != 0 || size > VV_RING_MAX_SIZE ||
	    shm == NULL || priv == NULL)
		return -EINVAL;

	memset(r, 0, sizeof(*r));
	memset(shm, 0, vv_packed_ring_shared_size(size));
	memset(priv, 0, vv_packed_ring_priv_size(size));
	r->desc = (struct vring_packed_desc *)base;
	r->driver_event = (struct vring_packed_desc_event *)
		(base + vv_packed_ring_driver_event_offset(size));
	r->device_event = (struct vring_packed_desc_event *)
		(base + vv_packed_ring_device_event_offset(size));
	r->size = size;
	r->mask = size - 1;
	while ((1u << r->shift) < size)
		r->shift++;
	r->num_free = size;
	r->free_ids = size;
	r->in_order = (flags & VV_RING_IN_ORDER) != 0;
	r->event_idx = (flags & VV_RING_EVENT_IDX) != 0;

	r->posted_len = (uint32_t *)p;
	p += sizeof(uint32_t) * size;
	r->next_id = (uint16_t *)p;
	p += sizeof(uint16_t) * size;
	r->ndesc = (uint16_t *)p;
	p += sizeof(uint16_t) * size;
	r->slot_id = (uint16_t *)p;
	for (i = 0; i < size; i++)
		r->next_id[i] = (uint16_t)(i + 1);
	r->free_tail = size - 1;
	/*
	 * We poll. Unlike the split ring's used_event, DISABLE holds with
	 * EVENT_IDX too, so the device never interrupts.
	 */
	r->driver_event->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
	return 0;
}

/*
 * IN_ORDER: the descriptors from `pos` up to and including the chain of
 * `last`, which a used descriptor at pos naming last skips; 1 if last is
 * not among them.
 */
static uint16_t
inorder_skip(const struct vv_packed_ring *r, uint16_t pos, uint16_t last)
{
	uint16_t at = pos;

	while ((uint16_t)(r->avail_pos - at) - 1u < r->size) {
		uint16_t id = r->slot_id[at & r->mask];

		at += r->ndesc[id];
		if (id == last)
			return (uint16_t)(at - pos);
	}
	return 1;
}

uint16_t
vv_packed_device_pos(const struct vv_packed_ring *r)
{
	uint16_t pos = r->used_pos, steps;

	for (steps = 0; steps < r->size; steps++) {
		const struct vring_packed_desc *d = &r->desc[pos & r->mask];
		uint16_t flags = atomic_load_explicit(
			(_Atomic uint16_t *)&d->flags, memory_order_acquire);
		uint16_t want = vv_packed_wrap(r, pos) ?
			VV_PACKED_F_WRAP_BITS : 0;
		uint16_t id = d->id;

		if ((flags & VV_PACKED_F_WRAP_BITS) != want)
			break;
		if (id >= r->size || r->ndesc[id] == 0)
			pos++;
		else if (r->in_order)
			pos += inorder_skip(r, pos, id);
		else
			pos += r->ndesc[id];
	}
	return pos;
}

/* SPDX-License-Identifier: BSD-3-Clause */
#include "vv_ring.h"

size_t
vv_ring_shared_size(bool packed, uint16_t size)
{
	return packed ? vv_packed_ring_shared_size(size) :
		vv_split_ring_shared_size(size);
}

size_t
vv_ring_priv_size(bool packed, uint16_t size)
{
	return packed ? vv_packed_ring_priv_size(size) :
		vv_split_ring_priv_size(size);
}

int
vv_ring_init(struct vv_ring *r, bool packed, void *shm, void *priv,
	     uint16_t size, unsigned int flags)
{
	r->is_packed = packed;
	return packed ? vv_packed_ring_init(&r->packed, shm, priv, size, flags) :
		vv_split_ring_init(&r->split, shm, priv, size, flags);
}

void
vv_ring_reset(struct vv_ring *r)
{
	uint64_t bad = *vv_ring_bad_used(r);
	unsigned int flags = 0;
	bool in_order, event_idx;
	void *shm, *priv;

	if (r->is_packed) {
		in_order = r->packed.in_order;
		event_idx = r->packed.event_idx;
		shm = r->packed.desc;
		priv = r->packed.posted_len;
	} else {
		in_order = r->split.in_order;
		event_idx = r->split.event_idx;
		shm = r->split.desc;
		priv = r->split.posted_len;
	}
	if (in_order)
		flags |= VV_RING_IN_ORDER;
	if (event_idx)
		flags |= VV_RING_EVENT_IDX;
	if (shm != NULL)
		vv_ring_init(r, r->is_packed, shm, priv, vv_ring_size(r), flags);
	*vv_ring_bad_used(r) = bad;
}

void
vv_ring_areas(const struct vv_ring *r, uint64_t *desc, uint64_t *driver,
	      uint64_t *device)
{
	if (r->is_packed) {
		*desc = (uint64_t)(uintptr_t)r->packed.desc;
		*driver = (uint64_t)(uintptr_t)r->packed.driver_event;
		*device = (uint64_t)(uintptr_t)r->packed.device_event;
	} else {
		*desc = (uint64_t)(uintptr_t)r->split.desc;
		*driver = (uint64_t)(uintptr_t)r->split.avail;
		*device = (uint64_t)(uintptr_t)r->split.used;
	}
}

uint32_t
vv_ring_base_fresh(const struct vv_ring *r)
{
	return r->is_packed ? VV_PACKED_BASE_FRESH : 0;
}

uint32_t
vv_ring_progress(const struct vv_ring *r)
{
	if (r->is_packed)
		return vv_packed_device_pos(&r->packed);
	return __atomic_load_n(&r->split.used->idx, __ATOMIC_ACQUIRE);
}

uint32_t
vv_ring_base_resume(const struct vv_ring *r)
{
	uint16_t pos;

	if (!r->is_packed)
		return vv_ring_progress(r);
	pos = vv_packed_device_pos(&r->packed);
	return vv_packed_base_encode(&r->packed, pos, pos);
}

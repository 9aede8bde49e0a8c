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

void
vv_ring_intr_set(struct vv_ring *r, bool on)
{
	if (r->is_packed) {
		__atomic_store_n(&r->packed.driver_event->flags,
				 on ? VRING_PACKED_EVENT_FLAG_ENABLE :
				 VRING_PACKED_EVENT_FLAG_DISABLE,
				 __ATOMIC_RELEASE);
	} else if (r->split.event_idx) {
		__atomic_store_n(vv_split_used_event(&r->split),
				 on ? r->split.used_idx :
				 (uint16_t)(r->split.used_idx - 1),
				 __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&r->split.avail->flags,
				 on ? 0 : VRING_AVAIL_F_NO_INTERRUPT,
				 __ATOMIC_RELEASE);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

uint16_t
vv_ring_used_pending(const struct vv_ring *r)
{
	uint16_t n = 0, max;

	if (!r->is_packed)
		return vv_split_used_pending(&r->split);
	max = vv_packed_in_flight(&r->packed);
	while (n < max && vv_packed_used_ready(&r->packed, n))
		n++;
	return n;
}

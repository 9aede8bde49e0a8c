/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PACKED_DEVICE_MODEL_H
#define PACKED_DEVICE_MODEL_H

/*
 * The device side of a packed virtqueue (virtio 1.1, 2.7), written from the
 * spec and independent of lib/vv_packed_ring.h but for the descriptor
 * layout: it reads available descriptors with its own wrap counter and
 * writes used ones, honestly unless a test says otherwise.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

struct pdev {
	struct vring_packed_desc *desc;
	uint16_t size;
	uint16_t avail_idx;	/* slot the device reads next */
	bool avail_wrap;
	uint16_t used_idx;	/* slot the device writes next */
	bool used_wrap;
};

struct pdev_buf {
	uint16_t id;
	uint16_t ndesc;
	uint64_t addr[64];
	uint32_t len[64];
	bool writable[64];
};

static inline void
pdev_init(struct pdev *d, struct vring_packed_desc *desc, uint16_t size)
{
	d->desc = desc;
	d->size = size;
	d->avail_idx = 0;
	d->used_idx = 0;
	d->avail_wrap = true;
	d->used_wrap = true;
}

static inline bool
pdev_desc_avail(const struct pdev *d, uint16_t idx, bool wrap)
{
	uint16_t f = atomic_load_explicit(
		(_Atomic uint16_t *)&d->desc[idx].flags, memory_order_acquire);
	bool avail = f & (1u << VRING_PACKED_DESC_F_AVAIL);
	bool used = f & (1u << VRING_PACKED_DESC_F_USED);

	return avail != used && avail == wrap;
}

/* True when the driver has made the next buffer available. */
static inline bool
pdev_has_avail(const struct pdev *d)
{
	return pdev_desc_avail(d, d->avail_idx, d->avail_wrap);
}

/* Takes the next available buffer (a chain); false if there is none. */
static inline bool
pdev_take(struct pdev *d, struct pdev_buf *b)
{
	uint16_t flags;

	b->id = 0;
	b->ndesc = 0;
	if (!pdev_has_avail(d))
		return false;
	do {
		const struct vring_packed_desc *x = &d->desc[d->avail_idx];

		flags = x->flags;
		b->addr[b->ndesc] = x->addr;
		b->len[b->ndesc] = x->len;
		b->writable[b->ndesc] = flags & VRING_DESC_F_WRITE;
		/* The buffer id is the last descriptor's. */
		b->id = x->id;
		b->ndesc++;
		if (++d->avail_idx == d->size) {
			d->avail_idx = 0;
			d->avail_wrap = !d->avail_wrap;
		}
	} while ((flags & VRING_DESC_F_NEXT) && b->ndesc < 64);
	return true;
}

/* Writes one used descriptor and skips `skip` slots (the chain's length). */
static inline void
pdev_put_used(struct pdev *d, uint16_t id, uint32_t len, uint16_t skip)
{
	struct vring_packed_desc *x = &d->desc[d->used_idx];
	uint16_t flags = d->used_wrap ?
		(1u << VRING_PACKED_DESC_F_AVAIL) |
		(1u << VRING_PACKED_DESC_F_USED) : 0;

	x->id = id;
	x->len = len;
	atomic_store_explicit((_Atomic uint16_t *)&x->flags, flags,
			      memory_order_release);
	d->used_idx += skip;
	if (d->used_idx >= d->size) {
		d->used_idx -= d->size;
		d->used_wrap = !d->used_wrap;
	}
}

/* Writes raw fields at the used slot, without moving on: a lying device. */
static inline void
pdev_put_raw(struct pdev *d, uint16_t id, uint32_t len, uint16_t flags)
{
	struct vring_packed_desc *x = &d->desc[d->used_idx];

	x->id = id;
	x->len = len;
	atomic_store_explicit((_Atomic uint16_t *)&x->flags, flags,
			      memory_order_release);
}

/* The flags a used descriptor carries in the device's current lap. */
static inline uint16_t
pdev_used_flags(const struct pdev *d)
{
	return d->used_wrap ? (1u << VRING_PACKED_DESC_F_AVAIL) |
		(1u << VRING_PACKED_DESC_F_USED) : 0;
}

#endif

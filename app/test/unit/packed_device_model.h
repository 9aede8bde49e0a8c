/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PACKED_DEVICE_MODEL_H
#define PACKED_DEVICE_MODEL_H

/*
 * The device side of a packed virtqueue (virtio 1.1, 2.7), written from the
 * spec and independent of lib/vv_packed_ring.h but for the descriptor
 * layout: it reads available descriptors with its own wrap counter and
 * writes used ones, honestly unless its user says otherwise. Shared by the
 * unit tests, the burst tests and the ring fuzzer, so it reports what it
 * finds wrong in `errors` instead of asserting.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#define PDEV_MAX_CHAIN 64
#define PDEV_F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define PDEV_F_USED (1u << VRING_PACKED_DESC_F_USED)

struct pdev {
	struct vring_packed_desc *desc;
	uint16_t size;
	uint16_t avail_idx;	/* slot the device reads next */
	bool avail_wrap;
	uint16_t used_idx;	/* slot the device writes next */
	bool used_wrap;
	/* Chains the driver got wrong: a descriptor not available, or too long. */
	unsigned int errors;
};

struct pdev_buf {
	uint16_t id;
	uint16_t ndesc;
	uint64_t addr[PDEV_MAX_CHAIN];
	uint32_t len[PDEV_MAX_CHAIN];
	bool writable[PDEV_MAX_CHAIN];
};

static inline void
pdev_init(struct pdev *d, struct vring_packed_desc *desc, uint16_t size)
{
	d->desc = desc;
	d->size = size;
	d->avail_idx = 0;
	d->used_idx = 0;
	/* 2.7.1: both wrap counters start at 1. */
	d->avail_wrap = true;
	d->used_wrap = true;
	d->errors = 0;
}

/* Moves a slot index on by n, flipping its wrap counter at each lap. */
static inline void
pdev_step(const struct pdev *d, uint16_t *idx, bool *wrap, uint16_t n)
{
	unsigned int i = *idx + (unsigned int)n;

	while (i >= d->size) {
		i -= d->size;
		*wrap = !*wrap;
	}
	*idx = (uint16_t)i;
}

/* 2.7.1: available in the lap of `wrap` when AVAIL == wrap != USED. */
static inline bool
pdev_desc_avail(const struct pdev *d, uint16_t idx, bool wrap)
{
	uint16_t f = atomic_load_explicit(
		(_Atomic uint16_t *)&d->desc[idx].flags, memory_order_acquire);
	bool avail = f & PDEV_F_AVAIL;
	bool used = f & PDEV_F_USED;

	return avail != used && avail == wrap;
}

/* True when the driver has made the next buffer available. */
static inline bool
pdev_has_avail(const struct pdev *d)
{
	return pdev_desc_avail(d, d->avail_idx, d->avail_wrap);
}

/*
 * Takes the next available buffer (a chain); false if there is none. The
 * driver makes the first descriptor available last, so every later one
 * must already be available in its own lap, which flips at the ring's end;
 * one that is not ends the chain and counts as an error.
 */
static inline bool
pdev_take(struct pdev *d, struct pdev_buf *b)
{
	uint16_t max = d->size < PDEV_MAX_CHAIN ? d->size : PDEV_MAX_CHAIN;
	uint16_t flags;

	b->id = 0;
	b->ndesc = 0;
	if (!pdev_has_avail(d))
		return false;
	do {
		const struct vring_packed_desc *x = &d->desc[d->avail_idx];

		if (b->ndesc > 0 && !pdev_desc_avail(d, d->avail_idx,
						     d->avail_wrap)) {
			d->errors++;
			break;
		}
		if (b->ndesc == max) {
			d->errors++;
			break;
		}
		flags = x->flags;
		b->addr[b->ndesc] = x->addr;
		b->len[b->ndesc] = x->len;
		b->writable[b->ndesc] = flags & VRING_DESC_F_WRITE;
		/* 2.7.6: the buffer id is the last descriptor's. */
		b->id = x->id;
		b->ndesc++;
		pdev_step(d, &d->avail_idx, &d->avail_wrap, 1);
	} while (flags & VRING_DESC_F_NEXT);
	return true;
}

/* The flags that mark the slot `ahead` of the used position used. */
static inline uint16_t
pdev_used_flags(const struct pdev *d, uint16_t ahead)
{
	uint16_t idx = d->used_idx;
	bool wrap = d->used_wrap;

	pdev_step(d, &idx, &wrap, ahead);
	return wrap ? PDEV_F_AVAIL | PDEV_F_USED : 0;
}

/* Writes one used descriptor and skips `skip` slots (the chain's length). */
static inline void
pdev_put_used(struct pdev *d, uint16_t id, uint32_t len, uint16_t skip)
{
	struct vring_packed_desc *x = &d->desc[d->used_idx];

	x->id = id;
	x->len = len;
	atomic_store_explicit((_Atomic uint16_t *)&x->flags,
			      pdev_used_flags(d, 0), memory_order_release);
	pdev_step(d, &d->used_idx, &d->used_wrap, skip);
}

static inline void
pdev_complete(struct pdev *d, const struct pdev_buf *b, uint32_t len)
{
	pdev_put_used(d, b->id, len, b->ndesc);
}

/*
 * IN_ORDER (2.7.9): one used descriptor naming the last of n buffers
 * completes them all, and the device skips the descriptors of every one.
 */
static inline void
pdev_complete_batch(struct pdev *d, const struct pdev_buf *b, uint16_t n,
		    uint32_t len)
{
	uint16_t skip = 0, i;

	for (i = 0; i < n; i++)
		skip = (uint16_t)(skip + b[i].ndesc);
	pdev_put_used(d, b[n - 1].id, len, skip);
}

/*
 * Writes raw fields into the slot `ahead` of the used position, without
 * moving on: a lying device.
 */
static inline void
pdev_put_raw(struct pdev *d, uint16_t ahead, uint16_t id, uint32_t len,
	     uint16_t flags)
{
	struct vring_packed_desc *x =
		&d->desc[(d->used_idx + ahead) % d->size];

	x->id = id;
	x->len = len;
	atomic_store_explicit((_Atomic uint16_t *)&x->flags, flags,
			      memory_order_release);
}

/*
 * Puts the device's positions at slot and wrap counter: one that lied and
 * rejoins the driver where it reads.
 */
static inline void
pdev_seek(struct pdev *d, uint16_t avail_idx, bool avail_wrap,
	  uint16_t used_idx, bool used_wrap)
{
	d->avail_idx = avail_idx;
	d->avail_wrap = avail_wrap;
	d->used_idx = used_idx;
	d->used_wrap = used_wrap;
}

#endif

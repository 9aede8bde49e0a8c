/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SPLIT_DEVICE_MODEL_H
#define SPLIT_DEVICE_MODEL_H

/*
 * The device side of a split virtqueue (virtio 1.1, 2.6), written from the
 * spec and independent of lib/vv_split_ring.h but for the ring layout: it
 * reads the avail ring and walks descriptor chains through the table's
 * next fields, and writes used entries, honestly unless its user says
 * otherwise. It reports what it finds wrong in `errors` instead of
 * asserting, so a fuzzer can share it.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#define SDEV_MAX_CHAIN 64

struct sdev {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t size;
	uint16_t last_avail;	/* next avail entry the device reads */
	uint16_t used_idx;	/* next used entry the device writes */
	/*
	 * What the driver got wrong: an avail index more than a ring ahead,
	 * a head out of range, a chain too long or with a readable
	 * descriptor after a writable one.
	 */
	unsigned int errors;
};

struct sdev_buf {
	uint16_t head;
	uint16_t ndesc;
	uint16_t ids[SDEV_MAX_CHAIN];
	bool writable[SDEV_MAX_CHAIN];
	uint32_t writable_len;	/* room the device may fill */
};

static inline void
sdev_init(struct sdev *d, struct vring_desc *desc, struct vring_avail *avail,
	  struct vring_used *used, uint16_t size)
{
	d->desc = desc;
	d->avail = avail;
	d->used = used;
	d->size = size;
	d->last_avail = 0;
	d->used_idx = 0;
	d->errors = 0;
}

static inline uint16_t
sdev_avail_pending(struct sdev *d)
{
	uint16_t idx = atomic_load_explicit((_Atomic uint16_t *)&d->avail->idx,
					    memory_order_acquire);
	uint16_t n = (uint16_t)(idx - d->last_avail);

	if (n > d->size) {
		d->errors++;
		return 0;
	}
	return n;
}

/*
 * Takes the next available buffer; false if there is none. A head out of
 * range gives a buffer of no descriptors.
 */
static inline bool
sdev_take(struct sdev *d, struct sdev_buf *b)
{
	uint16_t max = d->size < SDEV_MAX_CHAIN ? d->size : SDEV_MAX_CHAIN;
	uint16_t id, flags;
	bool seen_write = false;

	if (sdev_avail_pending(d) == 0)
		return false;
	id = d->avail->ring[d->last_avail % d->size];
	d->last_avail++;
	b->head = id;
	b->ndesc = 0;
	b->writable_len = 0;
	for (;;) {
		const struct vring_desc *x;

		if (id >= d->size || b->ndesc == max) {
			d->errors++;
			break;
		}
		x = &d->desc[id];
		flags = x->flags;
		b->ids[b->ndesc] = id;
		b->writable[b->ndesc] = flags & VRING_DESC_F_WRITE;
		b->ndesc++;
		/* 2.6.4.2: device-readable descriptors come first. */
		if (flags & VRING_DESC_F_WRITE) {
			seen_write = true;
			b->writable_len += x->len;
		} else if (seen_write) {
			d->errors++;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		id = x->next;
	}
	return true;
}

/* Writes a used entry; the driver sees it after sdev_publish(). */
static inline void
sdev_put_used(struct sdev *d, uint32_t id, uint32_t len)
{
	struct vring_used_elem *e = &d->used->ring[d->used_idx % d->size];

	e->id = id;
	e->len = len;
	d->used_idx++;
}

/*
 * IN_ORDER (2.6.9): one used entry naming the last of n buffers completes
 * them all, and the used index moves on by n.
 */
static inline void
sdev_put_batch(struct sdev *d, uint32_t last, uint32_t len, uint16_t n)
{
	sdev_put_used(d, last, len);
	d->used_idx = (uint16_t)(d->used_idx + n - 1);
}

/* Writes raw fields into the used entry `ahead` of the next, in place. */
static inline void
sdev_put_raw(struct sdev *d, uint16_t ahead, uint32_t id, uint32_t len)
{
	struct vring_used_elem *e =
		&d->used->ring[(uint16_t)(d->used_idx + ahead) % d->size];

	e->id = id;
	e->len = len;
}

/* Publishes used entries up to `idx`, whatever the device wrote. */
static inline void
sdev_publish_idx(struct sdev *d, uint16_t idx)
{
	atomic_store_explicit((_Atomic uint16_t *)&d->used->idx, idx,
			      memory_order_release);
}

static inline void
sdev_publish(struct sdev *d)
{
	sdev_publish_idx(d, d->used_idx);
}

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mapped-range table and the IOTLB messages built from it.
 *
 * The device side follows the vhost-vdpa kernel: an UPDATE that overlaps an
 * existing entry fails with EEXIST, and an INVALIDATE drops every entry it
 * touches whole. A small model of that IOTLB replays the generated messages,
 * so the tests check what the device ends up with, not only the op lists.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vv_features.h"
#include "vv_iotlb.h"
#include "vv_log.h"
#include "vv_memmap.h"

#define MAX_OPS 64
#define PG 0x1000ull

/* ---------------------------------------------------------------------- */
/* Device IOTLB model                                                      */

struct tlb {
	struct vv_region e[256];
	unsigned int n;
	bool in_batch;
};

static int
tlb_apply(struct tlb *t, const struct vhost_msg_v2 *m)
{
	const struct vhost_iotlb_msg *i = &m->iotlb;
	uint64_t last = i->iova + i->size - 1;
	unsigned int k;

	if (m->type != VHOST_IOTLB_MSG_V2)
		return -EINVAL;
	switch (i->type) {
	case VHOST_IOTLB_UPDATE:
		if (i->size == 0 || last < i->iova)
			return -EINVAL;
		for (k = 0; k < t->n; k++)
			if (i->iova <= t->e[k].addr + t->e[k].len - 1 &&
			    t->e[k].addr <= last)
				return -EEXIST;
		if (i->uaddr != i->iova || i->perm != VHOST_ACCESS_RW)
			return -EINVAL;
		assert_true(t->n < 256);
		t->e[t->n].addr = i->iova;
		t->e[t->n].len = i->size;
		t->n++;
		return 0;
	case VHOST_IOTLB_INVALIDATE:
		if (i->size == 0)
			return -EINVAL;
		/* A size reaching past 2^64 is clamped, as the kernel does. */
		if (last < i->iova)
			last = UINT64_MAX;
		for (k = 0; k < t->n;) {
			if (i->iova <= t->e[k].addr + t->e[k].len - 1 &&
			    t->e[k].addr <= last)
				t->e[k] = t->e[--t->n];
			else
				k++;
		}
		return 0;
	case VHOST_IOTLB_BATCH_BEGIN:
		t->in_batch = true;
		return 0;
	case VHOST_IOTLB_BATCH_END:
		t->in_batch = false;
		return 0;
	default:
		return -EINVAL;
	}
}

static int
tlb_apply_all(struct tlb *t, const struct vhost_msg_v2 *m, int n)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = tlb_apply(t, &m[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The device maps exactly what the memmap holds, range for range. */
static void
assert_tlb_matches(const struct tlb *t, const struct vv_memmap *m)
{
	unsigned int i, k;

	assert_int_equal(t->n, m->n);
	for (i = 0; i < m->n; i++) {
		for (k = 0; k < t->n; k++)
			if (t->e[k].addr == m->regions[i].addr &&
			    t->e[k].len == m->regions[i].len)
				break;
		assert_true(k < t->n);
	}
}

static void
assert_sorted_disjoint(const struct vv_memmap *m)
{
	unsigned int i;

	for (i = 0; i + 1 < m->n; i++)
		assert_true(m->regions[i].addr + m->regions[i].len <=
			    m->regions[i + 1].addr);
	for (i = 0; i < m->n; i++)
		assert_true(m->regions[i].len > 0);
}

static void
assert_op(const struct vv_memmap_op *op, enum vv_memmap_op_type type,
	  uint64_t addr, uint64_t len)
{
	assert_int_equal(op->type, type);
	assert_int_equal(op->region.addr, addr);
	assert_int_equal(op->region.len, len);
}

/* ---------------------------------------------------------------------- */
/* vv_memmap                                                               */

static void
test_add(void **state)
{
	struct vv_memmap_op ops[MAX_OPS];
	struct vv_memmap m;
	uint64_t first, last;

	(void)state;
	vv_memmap_init(&m);
	assert_int_equal(vv_memmap_bounds(&m, &first, &last), -ENOENT);
	assert_int_equal(vv_memmap_add(&m, 0x10 * PG, 4 * PG, ops, MAX_OPS),
			 1);
	assert_op(&ops[0], VV_MEMMAP_MAP, 0x10 * PG, 4 * PG);
	/* Added out of order, kept sorted. */
	assert_int_equal(vv_memmap_add(&m, 0x2 * PG, PG, ops, MAX_OPS), 1);
	assert_op(&ops[0], VV_MEMMAP_MAP, 0x2 * PG, PG);
	/* Touching on either side is no overlap. */
	assert_int_equal(vv_memmap_add(&m, 0x14 * PG, PG, ops, MAX_OPS), 1);
	assert_int_equal(vv_memmap_add(&m, 0xf * PG, PG, ops, MAX_OPS), 1);
	assert_int_equal(m.n, 4);
	assert_sorted_disjoint(&m);
	assert_int_equal(vv_memmap_bounds(&m, &first, &last), 0);
	assert_int_equal(first, 0x2 * PG);
	assert_int_equal(last, 0x15 * PG - 1);
	vv_memmap_clear(&m);
	assert_int_equal(m.n, 0);
	assert_null(m.regions);
}

static void
test_add_overlap(void **state)
{
	/* Plain ranges: vv_region also carries an fd, unused here. */
	static const struct { uint64_t addr, len; } bad[] = {
		{ 0x10 * PG, 4 * PG },		/* same */
		{ 0x0f * PG, 2 * PG },		/* over the start */
		{ 0x13 * PG, 2 * PG },		/* over the end */
		{ 0x11 * PG, PG },		/* inside */
		{ 0x08 * PG, 0x20 * PG },	/* around */
		{ 0x13 * PG + PG - 1, 1 },	/* the last byte */
		{ 0x0f * PG, PG + 1 },		/* the first byte */
		{ 0x10 * PG, 1 },		/* the first byte alone */
	};
	struct vv_memmap_op ops[MAX_OPS];
	struct vv_memmap m;
	unsigned int i;

	(void)state;
	vv_memmap_init(&m);
	assert_int_equal(vv_memmap_add(&m, 0x10 * PG, 4 * PG, ops, MAX_OPS),
			 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vv_memmap_add(&m, bad[i].addr, bad[i].len,
					       ops, MAX_OPS), -EEXIST);
		assert_int_equal(m.n, 1);
	}
	vv_memmap_clear(&m);
}

static void
test_add_invalid(void **state)
{
	struct vv_memmap_op ops[MAX_OPS];
	struct vv_memmap m;
	uint64_t i;

	(void)state;
	vv_memmap_init(&m);
	assert_int_equal(vv_memmap_add(&m, PG, 0, ops, MAX_OPS), -EINVAL);
	assert_int_equal(vv_memmap_add(&m, UINT64_MAX - PG + 1, 2 * PG, ops,
				       MAX_OPS), -EINVAL);
	assert_int_equal(vv_memmap_add(&m, UINT64_MAX, 2, ops, MAX_OPS),
			 -EINVAL);
	/* No room for the op: nothing recorded either. */
	assert_int_equal(vv_memmap_add(&m, PG, PG, ops, 0), -ENOSPC);
	assert_int_equal(m.n, 0);
	/* Enough ranges to grow the table a few times. */
	for (i = 0; i < 100; i++)
		assert_int_equal(vv_memmap_add(&m, (2 * i + 1) * PG, PG, ops,
					       1), 1);
	assert_int_equal(m.n, 100);
	assert_sorted_disjoint(&m);
	vv_memmap_clear(&m);
}

static void
test_remove_whole(void **state)
{
	struct vv_memmap_op ops[MAX_OPS];
	struct vv_memmap m;
	uint64_t first, last;

	(void)state;
	vv_memmap_init(&m);
	vv_memmap_add(&m, 0x10 * PG, 4 * PG, ops, MAX_OPS);
	assert_int_equal(vv_memmap_remove(&m, 0x10 * PG, 4 * PG, ops, MAX_OPS),
			 1);
	assert_op(&ops[0], VV_MEMMAP_UNMAP, 0x10 * PG, 4 * PG);
	assert_int_equal(m.n, 0);
	assert_int_equal(vv_memmap_bounds(&m, &first, &last), -ENOENT);
	/* Removing more than is mapped takes the region whole, no remnant. */
	vv_memmap_add(&m, 0x10 * PG, 4 * PG, ops, MAX_OPS);
	assert_int_equal(vv_memmap_remove(&m, 0, 0x100 * PG, ops, MAX_OPS), 1);
	assert_op(&ops[0], VV_MEMMAP_UNMAP, 0x10 * PG, 4 * PG);
	assert_int_equal(m.n, 0);
	vv_memmap_clear(&m);
}

static void
test_remove_middle(void **state)
{
	struct vv_memmap_op ops[MAX_OPS];
	struct vv_memmap m;

	(void)state;
	vv_memmap_init(&m);
	vv_memmap_add(&m, 0x10 * PG, 8 * PG, ops, MAX_OPS);
	/* An invalidation drops the whole entry, so the sides are remapped,
	 * and only after the UNMAP, or the device would see an overlap. */
	assert_int_equal(vv_memmap_remove(&m, 0x12 * PG, 2 * PG, ops, MAX_OPS),
			 3);
	assert_op(&ops[0], VV_MEMMAP_UNMAP, 0x10 * PG, 8 * PG);
	assert_op(&ops[1], VV_MEMMAP_MAP, 0x10 * PG, 2 * PG);
	assert_op(&ops[2], VV_MEMMAP_MAP, 0x14 * PG, 4 * PG);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.regions[0].addr, 0x10 * PG);
	assert_int_equal(m.regions[0].len, 2 * PG);
	assert_int_equal(m.regions[1].addr, 0x14 * PG);
	assert_int_equal(m.regions[1].len, 4 * PG);

	/* Head and tail cuts leave one side each. */
	assert_int_equal(vv_memmap_remove(&m, 0x10 * PG, PG, ops, MAX_OPS), 2);
	assert_op(&ops[0], VV_MEMMAP_UNMAP, 0x10 * PG, 2 * PG);
	assert_op(&ops[1], VV_MEMMAP_MAP, 0x11 * PG, PG);
	assert_int_equal(vv_memmap_remove(&m, 0x17 * PG, 8 * PG, ops, MAX_OPS),
			 2);
	assert_op(&ops[0], VV_MEMMAP_UNMAP, 0x14 * PG, 4 * PG);
	assert_op(&ops[1], VV_MEMMAP_MAP, 0x14 * PG, 3 * PG);
	assert_int_equal(m.n, 2);
	assert_sorted_disjoint(&m);
	vv_memmap_clear(&m);
}

static void
test_remove_spanning(void **state)
{
	struct vv_memmap_op ops[MAX_OPS];
	struct vv_memmap m;

	(void)state;
	vv_memmap_init(&m);
	vv_memmap_add(&m, 0x10 * PG, 0x10 * PG, ops, MAX_OPS);	/* A */
	vv_memmap_add(&m, 0x30 * PG, 0x10 * PG, ops, MAX_OPS);	/* B */
	vv_memmap_add(&m, 0x50 * PG, 0x10 * PG, ops, MAX_OPS);	/* C */
	vv_memmap_add(&m, 0x70 * PG, 0x10 * PG, ops, MAX_OPS);	/* D */
	/* From the middle of A to the middle of C; D untouched. */
	assert_int_equal(vv_memmap_remove(&m, 0x18 * PG, 0x40 * PG, ops,
					  MAX_OPS), 5);
	assert_op(&ops[0], VV_MEMMAP_UNMAP, 0x10 * PG, 0x10 * PG);
	assert_op(&ops[1], VV_MEMMAP_MAP, 0x10 * PG, 0x8 * PG);
	assert_op(&ops[2], VV_MEMMAP_UNMAP, 0x30 * PG, 0x10 * PG);
	assert_op(&ops[3], VV_MEMMAP_UNMAP, 0x50 * PG, 0x10 * PG);
	assert_op(&ops[4], VV_MEMMAP_MAP, 0x58 * PG, 0x8 * PG);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.regions[0].addr, 0x10 * PG);
	assert_int_equal(m.regions[1].addr, 0x58 * PG);
	assert_int_equal(m.regions[2].addr, 0x70 * PG);
	assert_sorted_disjoint(&m);
	vv_memmap_clear(&m);
}

static void
test_remove_nothing(void **state)
{
	struct vv_memmap_op ops[MAX_OPS];
	struct vv_memmap m;

	(void)state;
	vv_memmap_init(&m);
	assert_int_equal(vv_memmap_remove(&m, PG, PG, ops, MAX_OPS), 0);
	vv_memmap_add(&m, 0x10 * PG, 4 * PG, ops, MAX_OPS);
	/* Right next to the region on both sides: no overlap. */
	assert_int_equal(vv_memmap_remove(&m, 0xf * PG, PG, ops, MAX_OPS), 0);
	assert_int_equal(vv_memmap_remove(&m, 0x14 * PG, PG, ops, MAX_OPS), 0);
	assert_int_equal(vv_memmap_remove(&m, PG, 0, ops, MAX_OPS), -EINVAL);
	assert_int_equal(vv_memmap_remove(&m, UINT64_MAX, 2, ops, MAX_OPS),
			 -EINVAL);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.regions[0].len, 4 * PG);
	vv_memmap_clear(&m);
}

/*
 * An ops array too short for the change must leave the table as it was:
 * the caller applies nothing on error, so a half-edited table would no
 * longer describe what the device maps.
 */
static void
test_remove_enospc_keeps_map(void **state)
{
	struct vv_memmap_op ops[MAX_OPS];
	struct vv_memmap m;
	unsigned int max;

	(void)state;
	vv_memmap_init(&m);
	vv_memmap_add(&m, 0x10 * PG, 8 * PG, ops, MAX_OPS);
	vv_memmap_add(&m, 0x20 * PG, 8 * PG, ops, MAX_OPS);
	vv_memmap_add(&m, 0x30 * PG, 8 * PG, ops, MAX_OPS);
	/* Needs 5 ops: UNMAP+MAP, UNMAP, UNMAP+MAP. */
	for (max = 0; max < 5; max++) {
		assert_int_equal(vv_memmap_remove(&m, 0x14 * PG, 0x20 * PG,
						  ops, max), -ENOSPC);
		assert_int_equal(m.n, 3);
		assert_int_equal(m.regions[0].addr, 0x10 * PG);
		assert_int_equal(m.regions[0].len, 8 * PG);
		assert_int_equal(m.regions[1].addr, 0x20 * PG);
		assert_int_equal(m.regions[1].len, 8 * PG);
		assert_int_equal(m.regions[2].addr, 0x30 * PG);
		assert_int_equal(m.regions[2].len, 8 * PG);
	}
	assert_int_equal(vv_memmap_remove(&m, 0x14 * PG, 0x20 * PG, ops, 5),
			 5);
	assert_int_equal(m.n, 2);
	vv_memmap_clear(&m);
}

static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/*
 * Random adds and removes over 64 pages against a page bitmap: the table
 * covers exactly the pages the bitmap says, and a device IOTLB fed with
 * the generated messages (batched or not) always ends up equal to it.
 */
static void
test_random_against_model(void **state)
{
	struct vv_memmap_op ops[MAX_OPS];
	struct vhost_msg_v2 msgs[MAX_OPS + 2];
	uint64_t be[2] = { VV_BIT(VHOST_BACKEND_F_IOTLB_MSG_V2),
			   VV_BIT(VHOST_BACKEND_F_IOTLB_MSG_V2) |
			   VV_BIT(VHOST_BACKEND_F_IOTLB_BATCH) };
	unsigned int round;
	uint32_t s = 4242;

	(void)state;
	for (round = 0; round < 2; round++) {
		bool mapped[64] = { false };
		struct vv_memmap m;
		struct tlb t = { .n = 0 };
		int iter;

		vv_memmap_init(&m);
		for (iter = 0; iter < 20000; iter++) {
			uint64_t a = lcg(&s) % 64, l = 1 + lcg(&s) % 8, p;
			bool add = lcg(&s) % 2, free_range = true;
			int n, k;

			if (a + l > 64)
				l = 64 - a;
			for (p = a; p < a + l; p++)
				free_range &= !mapped[p];
			if (add) {
				n = vv_memmap_add(&m, a * PG, l * PG, ops,
						  MAX_OPS);
				if (!free_range) {
					assert_int_equal(n, -EEXIST);
					continue;
				}
				for (p = a; p < a + l; p++)
					mapped[p] = true;
			} else {
				n = vv_memmap_remove(&m, a * PG, l * PG, ops,
						     MAX_OPS);
				for (p = a; p < a + l; p++)
					mapped[p] = false;
			}
			assert_true(n >= 0);
			k = vv_iotlb_build(ops, (unsigned int)n, be[round],
					   msgs, MAX_OPS + 2);
			assert_true(k >= n);
			assert_int_equal(tlb_apply_all(&t, msgs, k), 0);
			assert_false(t.in_batch);
			assert_tlb_matches(&t, &m);
			assert_sorted_disjoint(&m);
			for (p = 0; p < 64; p++) {
				bool in = false;
				unsigned int i;

				for (i = 0; i < m.n; i++)
					in |= p * PG >= m.regions[i].addr &&
						p * PG < m.regions[i].addr +
						m.regions[i].len;
				assert_int_equal(in, mapped[p]);
			}
		}
		vv_memmap_clear(&m);
	}
}

/* ---------------------------------------------------------------------- */
/* vv_iotlb                                                                */

static void
assert_msg(const struct vhost_msg_v2 *m, uint8_t type, uint64_t iova,
	   uint64_t size)
{
	assert_int_equal(m->type, VHOST_IOTLB_MSG_V2);
	assert_int_equal(m->asid, 0);
	assert_int_equal(m->iotlb.type, type);
	assert_int_equal(m->iotlb.iova, iova);
	assert_int_equal(m->iotlb.size, size);
	if (type == VHOST_IOTLB_UPDATE) {
		/* IOVA is our virtual address. */
		assert_int_equal(m->iotlb.uaddr, iova);
		assert_int_equal(m->iotlb.perm, VHOST_ACCESS_RW);
	} else {
		assert_int_equal(m->iotlb.uaddr, 0);
		assert_int_equal(m->iotlb.perm, 0);
	}
}

static const struct vv_memmap_op three_ops[] = {
	{ VV_MEMMAP_UNMAP, { .addr = 0x10 * PG, .len = 8 * PG } },
	{ VV_MEMMAP_MAP, { .addr = 0x10 * PG, .len = 2 * PG } },
	{ VV_MEMMAP_MAP, { .addr = 0x14 * PG, .len = 4 * PG } },
};

static void
test_build_without_batch(void **state)
{
	struct vhost_msg_v2 msgs[8];

	(void)state;
	memset(msgs, 0xff, sizeof(msgs));
	assert_int_equal(vv_iotlb_build(three_ops, 3,
					 VV_BIT(VHOST_BACKEND_F_IOTLB_MSG_V2),
					 msgs, 8), 3);
	assert_msg(&msgs[0], VHOST_IOTLB_INVALIDATE, 0x10 * PG, 8 * PG);
	assert_msg(&msgs[1], VHOST_IOTLB_UPDATE, 0x10 * PG, 2 * PG);
	assert_msg(&msgs[2], VHOST_IOTLB_UPDATE, 0x14 * PG, 4 * PG);
	assert_int_equal(vv_iotlb_build(three_ops, 3, 0, msgs, 2), -ENOSPC);
}

static void
test_build_with_batch(void **state)
{
	uint64_t be = VV_BIT(VHOST_BACKEND_F_IOTLB_MSG_V2) |
		VV_BIT(VHOST_BACKEND_F_IOTLB_BATCH);
	struct vhost_msg_v2 msgs[8];
	unsigned int max;

	(void)state;
	memset(msgs, 0xff, sizeof(msgs));
	assert_int_equal(vv_iotlb_build(three_ops, 3, be, msgs, 8), 5);
	assert_msg(&msgs[0], VHOST_IOTLB_BATCH_BEGIN, 0, 0);
	assert_msg(&msgs[1], VHOST_IOTLB_INVALIDATE, 0x10 * PG, 8 * PG);
	assert_msg(&msgs[2], VHOST_IOTLB_UPDATE, 0x10 * PG, 2 * PG);
	assert_msg(&msgs[3], VHOST_IOTLB_UPDATE, 0x14 * PG, 4 * PG);
	assert_msg(&msgs[4], VHOST_IOTLB_BATCH_END, 0, 0);
	/* An unterminated batch would stall the device: all or nothing. */
	for (max = 0; max < 5; max++)
		assert_int_equal(vv_iotlb_build(three_ops, 3, be, msgs, max),
				 -ENOSPC);
	/* No change, no empty batch. */
	assert_int_equal(vv_iotlb_build(three_ops, 0, be, msgs, 8), 0);
}

static void
test_build_replace(void **state)
{
	uint64_t be = VV_BIT(VHOST_BACKEND_F_IOTLB_MSG_V2) |
		VV_BIT(VHOST_BACKEND_F_IOTLB_BATCH);
	struct vv_memmap_op ops[MAX_OPS];
	struct vhost_msg_v2 msgs[8];
	struct vv_memmap m;
	struct tlb t = { .n = 0 };

	(void)state;
	vv_memmap_init(&m);
	vv_memmap_add(&m, 0x40 * PG, 4 * PG, ops, MAX_OPS);
	vv_memmap_add(&m, 0x10 * PG, 2 * PG, ops, MAX_OPS);

	assert_int_equal(vv_iotlb_build_replace(&m, 0x1000, 0xffffffffffffull,
						be, msgs, 8), 5);
	assert_msg(&msgs[0], VHOST_IOTLB_BATCH_BEGIN, 0, 0);
	assert_msg(&msgs[1], VHOST_IOTLB_INVALIDATE, 0x1000,
		   0xffffffffffffull - 0x1000 + 1);
	assert_msg(&msgs[2], VHOST_IOTLB_UPDATE, 0x10 * PG, 2 * PG);
	assert_msg(&msgs[3], VHOST_IOTLB_UPDATE, 0x40 * PG, 4 * PG);
	assert_msg(&msgs[4], VHOST_IOTLB_BATCH_END, 0, 0);

	/* The whole 64-bit space: size 2^64 does not fit, UINT64_MAX does. */
	assert_int_equal(vv_iotlb_build_replace(&m, 0, UINT64_MAX, 0, msgs, 8),
			 3);
	assert_msg(&msgs[0], VHOST_IOTLB_INVALIDATE, 0, UINT64_MAX);
	assert_msg(&msgs[1], VHOST_IOTLB_UPDATE, 0x10 * PG, 2 * PG);

	/* Whatever the device held before, it now holds exactly the map. */
	t.e[0] = (struct vv_region){ .addr = 0x11 * PG, .len = 8 * PG };
	t.e[1] = (struct vv_region){ .addr = 0x90 * PG, .len = PG };
	t.n = 2;
	assert_int_equal(vv_iotlb_build_replace(&m, 0, UINT64_MAX, be, msgs,
						8), 5);
	assert_int_equal(tlb_apply_all(&t, msgs, 5), 0);
	assert_tlb_matches(&t, &m);

	assert_int_equal(vv_iotlb_build_replace(&m, 0, UINT64_MAX, be, msgs,
						4), -ENOSPC);
	vv_memmap_clear(&m);

	/* An empty map still clears the device. */
	assert_int_equal(vv_iotlb_build_replace(&m, 0, UINT64_MAX, be, msgs,
						8), 3);
	assert_msg(&msgs[1], VHOST_IOTLB_INVALIDATE, 0, UINT64_MAX);
}

static char log_text[4096];

static void
capture(enum vv_log_level level, const char *msg)
{
	size_t used = strlen(log_text);

	snprintf(log_text + used, sizeof(log_text) - used, "%d:%s\n",
		 (int)level, msg);
}

static void
explain(int err)
{
	struct vhost_msg_v2 msg;

	memset(&msg, 0, sizeof(msg));
	msg.type = VHOST_IOTLB_MSG_V2;
	msg.iotlb.type = VHOST_IOTLB_UPDATE;
	msg.iotlb.iova = 0x7f0000200000ull;
	msg.iotlb.size = 0x40000000ull;
	log_text[0] = '\0';
	vv_log_set_sink(capture);
	assert_int_equal(vv_iotlb_explain("/dev/vhost-vdpa-3", &msg, err),
			 err);
	vv_log_set_sink(NULL);
	/* One error line naming the node, the message and the range. */
	assert_int_equal(strncmp(log_text, "1:", 2), 0);
	assert_non_null(strstr(log_text, "/dev/vhost-vdpa-3"));
	assert_non_null(strstr(log_text, "IOTLB update"));
	assert_non_null(strstr(log_text, "0x7f0000200000+0x40000000"));
	assert_non_null(strstr(log_text, strerror(-err)));
}

static void
test_explain(void **state)
{
	(void)state;
	explain(-ENOMEM);
	assert_non_null(strstr(log_text, "ulimit -l"));
	explain(-EEXIST);
	assert_non_null(strstr(log_text, "overlaps"));
	explain(-EINVAL);
	assert_non_null(strstr(log_text, "IOVA range"));
	explain(-ENOBUFS);
	assert_non_null(strstr(log_text, "fewer, larger"));
	explain(-EFAULT);
	assert_non_null(strstr(log_text, "not mapped"));
	/* An errno without advice still reads cleanly. */
	explain(-EIO);
	assert_null(strstr(log_text, "; "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_add_overlap),
		cmocka_unit_test(test_add_invalid),
		cmocka_unit_test(test_remove_whole),
		cmocka_unit_test(test_remove_middle),
		cmocka_unit_test(test_remove_spanning),
		cmocka_unit_test(test_remove_nothing),
		cmocka_unit_test(test_remove_enospc_keeps_map),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_build_without_batch),
		cmocka_unit_test(test_build_with_batch),
		cmocka_unit_test(test_build_replace),
		cmocka_unit_test(test_explain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

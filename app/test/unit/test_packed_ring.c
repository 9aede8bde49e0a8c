/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packed virtqueue layer against a device model written from the spec
 * (packed_device_model.h): layout, base encoding, wrap-around, full and
 * empty rings, the publish rule, IN_ORDER batches, event suppression and
 * used descriptors a lying device writes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "packed_device_model.h"
#include "vv_packed_ring.h"

#define MAX_RING 256

static struct vv_packed_ring r;
static struct pdev dev;
static uint8_t shm[MAX_RING * 16 + 256] __attribute__((aligned(4096)));
static uint8_t priv[MAX_RING * 10];

static void
ring_new(uint16_t size, unsigned int flags)
{
	assert_true(vv_packed_ring_shared_size(size) <= sizeof(shm));
	assert_true(vv_packed_ring_priv_size(size) <= sizeof(priv));
	memset(shm, 0xa5, sizeof(shm));
	assert_int_equal(vv_packed_ring_init(&r, shm, priv, size, flags), 0);
	pdev_init(&dev, r.desc, size);
}

/* Posts a chain of n descriptors of len bytes each; returns its id. */
static int
post(uint16_t n, uint32_t len)
{
	int id = vv_packed_id_alloc(&r, n, len);
	uint16_t i;

	if (id < 0)
		return -1;
	for (i = 0; i < n; i++)
		vv_packed_desc_put(&r, (uint16_t)id,
				   0x100000ull * ((unsigned int)id + 1) + i,
				   len, true, i + 1 < n);
	return id;
}

/* Consumes one used descriptor that must be ok; returns its id. */
static uint16_t
take_ok(uint32_t *len)
{
	uint16_t id = 0xffff;

	assert_int_equal(vv_packed_used_read(&r, &id, len), VV_USED_OK);
	vv_packed_used_take(&r, id);
	return id;
}

static void
test_layout(void **state)
{
	uint16_t size;

	(void)state;
	for (size = 1; size <= MAX_RING; size *= 2) {
		size_t drv = vv_packed_ring_driver_event_offset(size);
		size_t devo = vv_packed_ring_device_event_offset(size);

		assert_true(drv >= 16u * size);
		assert_int_equal(drv % 4, 0);
		assert_int_equal(devo % 4, 0);
		/* Each event structure on a cache line of its own. */
		assert_true(drv / 64 != devo / 64);
		assert_true(vv_packed_ring_shared_size(size) >= devo + 4);
		ring_new(size, 0);
		assert_ptr_equal(r.desc, shm);
		assert_ptr_equal(r.driver_event, shm + drv);
		assert_ptr_equal(r.device_event, shm + devo);
		assert_int_equal(r.driver_event->flags,
				 VRING_PACKED_EVENT_FLAG_DISABLE);
		assert_int_equal(r.desc[size - 1].flags, 0);
		assert_int_equal(r.num_free, size);
	}
	assert_int_equal(vv_packed_ring_init(&r, shm, priv, 0, 0), -EINVAL);
	assert_int_equal(vv_packed_ring_init(&r, shm, priv, 48, 0), -EINVAL);
	assert_int_equal(vv_packed_ring_init(&r, shm, priv, 65535, 0),
			 -EINVAL);
	assert_int_equal(vv_packed_ring_init(&r, NULL, priv, 8, 0), -EINVAL);
}

static void
test_base_encoding(void **state)
{
	(void)state;
	ring_new(256, 0);
	assert_int_equal(VV_PACKED_BASE_FRESH, 0x80008000u);
	assert_int_equal(vv_packed_base_encode(&r, 0, 0), 0x80008000u);
	/* 300 is slot 44 on the second lap (wrap 0), 260 slot 4, wrap 0. */
	assert_int_equal(vv_packed_base_encode(&r, 300, 260), 0x0004002cu);
	/* 520 is slot 8 on the third lap (wrap 1); 255 slot 255, wrap 1. */
	assert_int_equal(vv_packed_base_encode(&r, 520, 255), 0x80ff8008u);
	/* Positions run on past 65535 without breaking the wrap parity. */
	assert_int_equal(vv_packed_base_encode(&r, 65535, 65535), 0x00ff00ffu);
	assert_int_equal(vv_packed_base_encode(&r, (uint16_t)65536, 0),
			 0x80008000u);
}

static void
test_wrap_around(void **state)
{
	static const uint16_t sizes[] = { 2, 8, 256 };
	unsigned int s;

	(void)state;
	for (s = 0; s < 3; s++) {
		uint16_t size = sizes[s];
		unsigned int lap;

		ring_new(size, 0);
		for (lap = 0; lap < 40; lap++) {
			/* Chains of 1..3 descriptors, as many as fit. */
			uint16_t want[MAX_RING], chain[MAX_RING], n = 0, i;
			uint16_t longest = size < 3 ? size : 3;
			struct pdev_buf b;
			uint32_t len;
			int id;

			for (;;) {
				chain[n] = (uint16_t)(1 + (lap + n) % longest);
				id = post(chain[n], 100);
				if (id < 0)
					break;
				want[n++] = (uint16_t)id;
			}
			vv_packed_avail_publish(&r);
			assert_true(n > 0);
			for (i = 0; i < n; i++) {
				assert_true(pdev_take(&dev, &b));
				assert_int_equal(b.id, want[i]);
				assert_int_equal(b.ndesc, chain[i]);
				assert_true(b.writable[0]);
				pdev_put_used(&dev, b.id, 50, b.ndesc);
			}
			assert_false(pdev_has_avail(&dev));
			for (i = 0; i < n; i++) {
				assert_int_equal(take_ok(&len), want[i]);
				assert_int_equal(len, 50);
			}
			assert_int_equal(vv_packed_used_read(&r, &i, &len),
					 VV_USED_NONE);
			assert_int_equal(r.num_free, size);
		}
		/* Several laps went by: the wrap counters flipped along. */
		assert_true(r.used_pos >= 40u);
		assert_int_equal(r.used_pos, r.avail_pos);
	}
}

static void
test_full_and_empty(void **state)
{
	struct pdev_buf b;
	uint32_t len;
	uint16_t id = 0, i;

	(void)state;
	ring_new(8, 0);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_NONE);
	assert_true(post(5, 10) >= 0);
	assert_int_equal(post(4, 10), -1);	/* three slots left */
	assert_true(post(3, 10) >= 0);
	assert_int_equal(post(1, 10), -1);
	assert_int_equal(r.num_free, 0);
	vv_packed_avail_publish(&r);
	/* Nothing used yet: the slot still holds our available descriptor. */
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_NONE);
	for (i = 0; i < 2; i++) {
		assert_true(pdev_take(&dev, &b));
		pdev_put_used(&dev, b.id, 0, b.ndesc);
	}
	take_ok(&len);
	take_ok(&len);
	assert_int_equal(r.num_free, 8);
	/* The slots hold last lap's used descriptors: stale, not new. */
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_NONE);
	assert_true(post(1, 10) >= 0);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_NONE);
}

static void
test_publish_holds_the_batch(void **state)
{
	struct pdev_buf b;
	int i;

	(void)state;
	ring_new(16, 0);
	for (i = 0; i < 3; i++)
		assert_true(post(2, 10) >= 0);
	/* Everything written but the first flags: the device sees nothing. */
	assert_false(pdev_has_avail(&dev));
	vv_packed_avail_publish(&r);
	for (i = 0; i < 3; i++) {
		assert_true(pdev_take(&dev, &b));
		assert_int_equal(b.ndesc, 2);
	}
	assert_false(pdev_has_avail(&dev));
	/* A publish with nothing new changes nothing. */
	vv_packed_avail_publish(&r);
	assert_false(pdev_has_avail(&dev));
	assert_true(post(1, 10) >= 0);
	assert_false(pdev_has_avail(&dev));
	vv_packed_avail_publish(&r);
	assert_true(pdev_has_avail(&dev));
}

static void
test_in_order_batches(void **state)
{
	uint16_t ids[6], id = 0;
	struct pdev_buf b;
	uint32_t len;
	int i;

	(void)state;
	ring_new(16, VV_RING_IN_ORDER);
	for (i = 0; i < 6; i++)
		ids[i] = (uint16_t)post((uint16_t)(1 + i % 2), 10);
	vv_packed_avail_publish(&r);
	/* The device completes the first four with one used descriptor. */
	for (i = 0; i < 4; i++)
		assert_true(pdev_take(&dev, &b));
	pdev_put_used(&dev, ids[3], 0, 1 + 2 + 1 + 2);
	assert_int_equal(vv_packed_device_pos(&r), 6);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_OK);
	assert_int_equal(id, ids[3]);
	assert_int_equal(vv_packed_inorder_batch(&r, id), 4);
	assert_int_equal(vv_packed_inorder_batch(&r, 0xfff), -1);
	for (i = 0; i < 4; i++)
		assert_int_equal(vv_packed_inorder_take(&r), ids[i]);
	assert_int_equal(r.used_pos, 6);
	assert_int_equal(r.num_free, 16 - 3);
	/* The rest, one by one. */
	for (i = 4; i < 6; i++) {
		assert_true(pdev_take(&dev, &b));
		pdev_put_used(&dev, b.id, 0, b.ndesc);
	}
	assert_int_equal(vv_packed_device_pos(&r), 9);
	assert_int_equal(vv_packed_inorder_batch(&r, ids[4]), 1);
	assert_int_equal(vv_packed_inorder_take(&r), ids[4]);
	assert_int_equal(vv_packed_inorder_take(&r), ids[5]);
	assert_int_equal(r.num_free, 16);
	/* Ids come back in completion order, behind the unused ones. */
	for (i = 0; i < 10; i++)
		assert_int_equal(post(1, 10), 6 + i);
	assert_int_equal(post(1, 10), ids[0]);
}

/*
 * Chains of several descriptors take one id each, so the ids outlast the
 * slots: completed out of order, a freed id must never be handed out while
 * another chain still holds it.
 */
static void
test_ids_outlast_slots(void **state)
{
	bool in_flight[8] = { false };
	unsigned int round, seed = 1;

	(void)state;
	ring_new(8, 0);
	for (round = 0; round < 2000; round++) {
		struct pdev_buf b[8];
		uint16_t n = 0, i, id = 0;
		uint32_t len;
		int got;

		for (;;) {
			seed = seed * 1103515245u + 12345u;
			got = post((uint16_t)(1 + (seed >> 16) % 3), 10);
			if (got < 0)
				break;
			assert_false(in_flight[got]);
			in_flight[got] = true;
		}
		vv_packed_avail_publish(&r);
		while (n < 8 && pdev_take(&dev, &b[n]))
			n++;
		/* Last taken, first done: the device completes in any order. */
		for (i = n; i-- > 0;)
			pdev_put_used(&dev, b[i].id, 0, b[i].ndesc);
		while (vv_packed_used_read(&r, &id, &len) == VV_USED_OK) {
			assert_true(in_flight[id]);
			in_flight[id] = false;
			vv_packed_used_take(&r, id);
		}
		assert_int_equal(r.num_free, 8);
	}
}

static void
set_device_event(uint16_t flags, uint16_t off, bool wrap)
{
	r.device_event->off_wrap = (uint16_t)(off | (wrap ? 0x8000 : 0));
	r.device_event->flags = flags;
}

static void
test_event_suppression(void **state)
{
	int i;

	(void)state;
	ring_new(8, VV_RING_EVENT_IDX);
	set_device_event(VRING_PACKED_EVENT_FLAG_ENABLE, 0, true);
	assert_true(post(1, 10) >= 0);
	vv_packed_avail_publish(&r);
	assert_true(vv_packed_needs_kick(&r));
	set_device_event(VRING_PACKED_EVENT_FLAG_DISABLE, 0, true);
	assert_true(post(1, 10) >= 0);
	vv_packed_avail_publish(&r);
	assert_false(vv_packed_needs_kick(&r));
	/* DESC: the device wants to hear once slot 4 of lap 1 is published. */
	set_device_event(VRING_PACKED_EVENT_FLAG_DESC, 4, true);
	assert_true(post(1, 10) >= 0);		/* slot 2 */
	vv_packed_avail_publish(&r);
	assert_false(vv_packed_needs_kick(&r));
	assert_true(post(1, 10) >= 0);		/* 3 */
	assert_true(post(1, 10) >= 0);		/* 4 */
	vv_packed_avail_publish(&r);
	assert_true(vv_packed_needs_kick(&r));
	/* Already passed: no second kick for the same position. */
	assert_true(post(1, 10) >= 0);		/* 5 */
	vv_packed_avail_publish(&r);
	assert_false(vv_packed_needs_kick(&r));
	/* Across the ring's end: slot 1 on lap 2 (wrap counter 0). */
	for (i = 0; i < 6; i++) {
		struct pdev_buf b;

		assert_true(pdev_take(&dev, &b));
		pdev_put_used(&dev, b.id, 0, 1);
	}
	for (i = 0; i < 6; i++) {
		uint32_t len;

		take_ok(&len);
	}
	set_device_event(VRING_PACKED_EVENT_FLAG_DESC, 1, false);
	assert_true(post(1, 10) >= 0);		/* 6 */
	assert_true(post(1, 10) >= 0);		/* 7 */
	vv_packed_avail_publish(&r);
	assert_false(vv_packed_needs_kick(&r));
	assert_true(post(1, 10) >= 0);		/* 8: slot 0, lap 2 */
	assert_true(post(1, 10) >= 0);		/* 9: slot 1, lap 2 */
	vv_packed_avail_publish(&r);
	assert_true(vv_packed_needs_kick(&r));
	/* The same slot with the other wrap counter is a lap away. */
	set_device_event(VRING_PACKED_EVENT_FLAG_DESC, 2, true);
	assert_true(post(1, 10) >= 0);		/* 10: slot 2, lap 2 */
	vv_packed_avail_publish(&r);
	assert_false(vv_packed_needs_kick(&r));
	/* DESC means nothing without EVENT_IDX: kick. */
	r.event_idx = false;
	assert_true(post(1, 10) >= 0);
	vv_packed_avail_publish(&r);
	assert_true(vv_packed_needs_kick(&r));
}

static void
test_hostile_used(void **state)
{
	uint32_t len;
	uint16_t id = 0, used;
	int a;

	(void)state;
	ring_new(8, 0);
	a = post(1, 100);
	assert_true(post(1, 100) >= 0);
	assert_true(post(1, 100) >= 0);
	vv_packed_avail_publish(&r);
	used = pdev_used_flags(&dev);
	/* Out of range. */
	pdev_put_raw(&dev, 8, 10, used);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_BAD_ID);
	/* In range but never posted. */
	pdev_put_raw(&dev, 7, 10, used);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_BAD_ID);
	/* AVAIL and USED disagree: not used at all. */
	pdev_put_raw(&dev, (uint16_t)a, 10, 1u << VRING_PACKED_DESC_F_USED);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_NONE);
	/* Last lap's pattern: not used either. */
	pdev_put_raw(&dev, (uint16_t)a, 10, 0);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_NONE);
	/* More than was posted: the buffer still comes back. */
	pdev_put_raw(&dev, (uint16_t)a, 101, used);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_BAD_LEN);
	assert_int_equal(id, a);
	vv_packed_used_take(&r, id);
	assert_int_equal(r.num_free, 6);
	/* A bad id is rejected, counted, and moves on by one slot. */
	dev.used_idx = 1;
	pdev_put_raw(&dev, 0xffff, 0, pdev_used_flags(&dev));
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_BAD_ID);
	vv_packed_used_reject(&r);
	assert_int_equal(r.bad_used, 1);
	assert_int_equal(r.used_pos, 2);
	/* Nothing in flight: whatever a slot says, nothing is consumed. */
	ring_new(8, 0);
	pdev_put_raw(&dev, 0, 0, pdev_used_flags(&dev));
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_base_encoding),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_full_and_empty),
		cmocka_unit_test(test_publish_holds_the_batch),
		cmocka_unit_test(test_in_order_batches),
		cmocka_unit_test(test_ids_outlast_slots),
		cmocka_unit_test(test_event_suppression),
		cmocka_unit_test(test_hostile_used),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

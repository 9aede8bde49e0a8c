/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rx interrupts and the pending count of the ring layer, on both layouts
 * and both suppression modes, checked against the spec's rules for when a
 * device signals (virtio 1.1: 2.6.7.2 split, 2.7.10 packed): the device
 * models here decide as the spec says, from what the driver wrote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "packed_device_model.h"
#include "split_device_model.h"
#include "vv_ring.h"

#define SIZE 16

static _Alignas(4096) uint8_t shm[16384];
static _Alignas(64) uint8_t priv[4096];
static struct vv_ring r;

/* The split device's choice after using the entry at index `old`. */
static bool
split_signals(uint16_t old)
{
	const struct vv_split_ring *s = &r.split;
	uint16_t new_idx = (uint16_t)(old + 1);

	if (s->event_idx) {
		uint16_t ev = *vv_split_used_event(s);

		/* vring_need_event() */
		return (uint16_t)(new_idx - ev - 1) < (uint16_t)(new_idx - old);
	}
	return !(s->avail->flags & VRING_AVAIL_F_NO_INTERRUPT);
}

/* Posts one buffer, lets the device use it; returns whether it signals. */
static bool
split_cycle(struct sdev *d)
{
	struct sdev_buf b = { 0 };
	uint16_t old = d->used_idx;
	int id = vv_split_take_one(&r.split, 100);

	r.split.desc[id].addr = 0x1000;
	r.split.desc[id].len = 100;
	r.split.desc[id].flags = VRING_DESC_F_WRITE;
	vv_split_avail_push(&r.split, (uint16_t)id);
	vv_split_avail_publish(&r.split);
	assert_true(sdev_take(d, &b));
	sdev_put_used(d, b.head, 10);
	sdev_publish(d);
	return split_signals(old);
}

static void
split_take(void)
{
	uint16_t id = 0;
	uint32_t len;

	assert_int_equal(vv_ring_used_pending(&r), 1);
	assert_int_equal(vv_split_used_read(&r.split, &id, &len), VV_USED_OK);
	vv_split_used_skip(&r.split);
	vv_split_put_one(&r.split, id);
	assert_int_equal(vv_ring_used_pending(&r), 0);
}

static void
split_case(unsigned int flags)
{
	struct sdev d;
	int i;

	memset(shm, 0, sizeof(shm));
	assert_int_equal(vv_ring_init(&r, false, shm, priv, SIZE, flags), 0);
	sdev_init(&d, r.split.desc, r.split.avail, r.split.used, SIZE);
	/* Fresh: off, polled. */
	assert_false(split_cycle(&d));
	split_take();
	for (i = 0; i < 3 * SIZE; i++) {
		vv_ring_intr_set(&r, true);
		assert_true(split_cycle(&d));
		split_take();
		vv_ring_intr_set(&r, false);
		assert_false(split_cycle(&d));
		split_take();
	}
	/* Enabled with a buffer already used: the next one signals. */
	vv_ring_intr_set(&r, true);
	assert_true(split_cycle(&d));
	split_take();
	if (flags & VV_RING_EVENT_IDX)
		assert_int_equal(r.split.avail->flags, 0);
}

static void
test_split_event_idx(void **state)
{
	(void)state;
	split_case(VV_RING_EVENT_IDX);
}

static void
test_split_flags(void **state)
{
	(void)state;
	split_case(0);
}

static void
test_packed(void **state)
{
	struct pdev d;
	struct pdev_buf b;
	uint16_t id = 0;
	uint32_t len;
	int i;

	(void)state;
	memset(shm, 0, sizeof(shm));
	assert_int_equal(vv_ring_init(&r, true, shm, priv, SIZE,
				      VV_RING_EVENT_IDX), 0);
	pdev_init(&d, r.packed.desc, SIZE);
	assert_int_equal(r.packed.driver_event->flags,
			 VRING_PACKED_EVENT_FLAG_DISABLE);
	for (i = 0; i < 3 * SIZE; i++) {
		int k = vv_packed_id_alloc(&r.packed, 1, 100);

		vv_packed_desc_put(&r.packed, (uint16_t)k, 0x1000, 100, true,
				   false);
		vv_packed_avail_publish(&r.packed);
		vv_ring_intr_set(&r, i % 2 == 0);
		/* 2.7.10: ENABLE signals every used buffer, DISABLE none. */
		assert_int_equal(r.packed.driver_event->flags,
				 i % 2 == 0 ? VRING_PACKED_EVENT_FLAG_ENABLE :
				 VRING_PACKED_EVENT_FLAG_DISABLE);
		assert_int_equal(vv_ring_used_pending(&r), 0);
		assert_true(pdev_take(&d, &b));
		pdev_complete(&d, &b, 10);
		assert_int_equal(vv_ring_used_pending(&r), 1);
		assert_int_equal(vv_packed_used_read(&r.packed, &id, &len),
				 VV_USED_OK);
		vv_packed_used_take(&r.packed, id);
		assert_int_equal(vv_ring_used_pending(&r), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_event_idx),
		cmocka_unit_test(test_split_flags),
		cmocka_unit_test(test_packed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

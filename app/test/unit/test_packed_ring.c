/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packed virtqueue layer against a device model written from the spec
 * (packed_device_model.h): layout, base encoding, wrap-around, full and
 * empty rings, the publish rule, IN_ORDER batches, event suppression and
 * used descriptors a lying device writes.
 *
 * What the model takes is checked against what was posted, and its
 * positions against the driver's, so a ring whose private state looks right
 * but whose shared memory says otherwise fails.
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
#define SLACK 128	/* bytes past each area that init must not touch */

static struct vv_packed_ring r;
static struct pdev dev;
static uint8_t shm[MAX_RING * 16 + 128 + SLACK] __attribute__((aligned(4096)));
static uint8_t priv[MAX_RING * 10 + SLACK];
/* What post() made available under each id. */
static struct {
	uint16_t ndesc;
	uint32_t len;
} posted[MAX_RING];

static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

static void
ring_new(uint16_t size, unsigned int flags)
{
	assert_true(vv_packed_ring_shared_size(size) + SLACK <= sizeof(shm));
	assert_true(vv_packed_ring_priv_size(size) + SLACK <= sizeof(priv));
	memset(shm, 0xa5, sizeof(shm));
	memset(priv, 0xa5, sizeof(priv));
	assert_int_equal(vv_packed_ring_init(&r, shm, priv, size, flags), 0);
	pdev_init(&dev, r.desc, size);
}

static uint64_t
addr_of(uint16_t id, uint16_t i)
{
	return 0x100000ull * ((unsigned int)id + 1) + i;
}

/* Posts a chain of n descriptors of len bytes each; returns its id. */
static int
post(uint16_t n, uint32_t len)
{
	int id = vv_packed_id_alloc(&r, n, len);
	uint16_t i;

	if (id < 0)
		return -1;
	posted[id].ndesc = n;
	posted[id].len = len;
	for (i = 0; i < n; i++)
		vv_packed_desc_put(&r, (uint16_t)id, addr_of((uint16_t)id, i),
				   len, true, i + 1 < n);
	return id;
}

/* The device takes the next buffer, which must be exactly what was posted. */
static void
dev_take(struct pdev_buf *b)
{
	uint16_t i;

	assert_true(pdev_take(&dev, b));
	assert_int_equal(dev.errors, 0);
	assert_true(b->id < r.size);
	assert_int_equal(b->ndesc, posted[b->id].ndesc);
	for (i = 0; i < b->ndesc; i++) {
		assert_int_equal(b->addr[i], addr_of(b->id, i));
		assert_int_equal(b->len[i], posted[b->id].len);
		assert_true(b->writable[i]);
	}
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

/* The driver position pos is slot idx of the lap with wrap counter wrap. */
static void
assert_pos(uint16_t pos, uint16_t idx, bool wrap)
{
	assert_int_equal(pos & r.mask, idx);
	assert_int_equal(vv_packed_wrap(&r, pos), wrap);
}

/* Once everything is consumed, the driver is where the device is. */
static void
assert_in_step(void)
{
	assert_pos(r.avail_pos, dev.avail_idx, dev.avail_wrap);
	assert_pos(r.used_pos, dev.used_idx, dev.used_wrap);
}

static void
test_layout(void **state)
{
	static const struct {
		uint16_t size;
		size_t drv, devo, shared, priv;
	} want[] = {
		{ 1, 64, 128, 192, 10 },
		{ 4, 64, 128, 192, 40 },
		{ 8, 128, 192, 256, 80 },
		{ 256, 4096, 4160, 4224, 2560 },
		{ 32768, 524288, 524352, 524416, 327680 },
	};
	unsigned int i;
	uint32_t size;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(vv_packed_ring_driver_event_offset(want[i].size),
				 want[i].drv);
		assert_int_equal(vv_packed_ring_device_event_offset(want[i].size),
				 want[i].devo);
		assert_int_equal(vv_packed_ring_shared_size(want[i].size),
				 want[i].shared);
		assert_int_equal(vv_packed_ring_priv_size(want[i].size),
				 want[i].priv);
	}
	for (size = 1; size <= VV_RING_MAX_SIZE; size *= 2) {
		size_t drv = vv_packed_ring_driver_event_offset((uint16_t)size);
		size_t devo = vv_packed_ring_device_event_offset((uint16_t)size);

		assert_true(drv >= 16u * size);
		assert_int_equal(drv % 4, 0);
		assert_int_equal(devo % 4, 0);
		/* Each 4-byte event structure on a line of its own. */
		assert_int_equal(drv / 64, (drv + 3) / 64);
		assert_int_equal(devo / 64, (devo + 3) / 64);
		assert_true(drv / 64 != devo / 64);
		assert_true((16u * size - 1) / 64 < drv / 64);
		assert_true(vv_packed_ring_shared_size((uint16_t)size) >=
			    devo + 4);
	}
}

static void
test_init(void **state)
{
	uint16_t size;

	(void)state;
	for (size = 1; size <= MAX_RING; size *= 2) {
		size_t shared = vv_packed_ring_shared_size(size), i;
		size_t drv = vv_packed_ring_driver_event_offset(size);
		size_t pv = vv_packed_ring_priv_size(size);

		ring_new(size, 0);
		assert_ptr_equal(r.desc, shm);
		assert_ptr_equal(r.driver_event, shm + drv);
		assert_ptr_equal(r.device_event,
				 shm + vv_packed_ring_device_event_offset(size));
		/* We poll: the device must never interrupt. */
		assert_int_equal(r.driver_event->flags,
				 VRING_PACKED_EVENT_FLAG_DISABLE);
		assert_int_equal(r.driver_event->off_wrap, 0);
		for (i = 0; i < shared; i++) {
			if (i == drv + 2)
				i += 2;	/* driver_event->flags */
			assert_int_equal(shm[i], 0);
		}
		for (; i < sizeof(shm); i++)
			assert_int_equal(shm[i], 0xa5);
		for (i = pv; i < sizeof(priv); i++)
			assert_int_equal(priv[i], 0xa5);
		assert_int_equal(r.size, size);
		assert_int_equal(r.num_free, size);
		assert_int_equal(r.avail_pos, 0);
		assert_int_equal(r.used_pos, 0);
		assert_int_equal(r.bad_used, 0);
		assert_false(r.in_order);
		assert_false(r.event_idx);
	}
	ring_new(8, VV_RING_IN_ORDER | VV_RING_EVENT_IDX);
	assert_true(r.in_order);
	assert_true(r.event_idx);
}

static void
test_init_rejects(void **state)
{
	static const uint16_t bad[] = { 0, 3, 48, 255, 32769, 65535 };
	/* aligned_alloc wants a whole number of alignments. */
	size_t shared = (vv_packed_ring_shared_size(VV_RING_MAX_SIZE) + 4095) &
		~(size_t)4095;
	void *big = aligned_alloc(4096, shared);
	void *big_priv = malloc(vv_packed_ring_priv_size(VV_RING_MAX_SIZE));
	unsigned int i;

	(void)state;
	assert_non_null(big);
	assert_non_null(big_priv);
	/*
	 * No power of two in 16 bits exceeds VV_RING_MAX_SIZE, so a size
	 * beyond it is also one that is not a power of two.
	 */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vv_packed_ring_init(&r, big, big_priv, bad[i],
						     0), -EINVAL);
	assert_int_equal(vv_packed_ring_init(&r, NULL, priv, 8, 0), -EINVAL);
	assert_int_equal(vv_packed_ring_init(&r, shm, NULL, 8, 0), -EINVAL);
	assert_int_equal(vv_packed_ring_init(&r, big, big_priv,
					     VV_RING_MAX_SIZE, 0), 0);
	assert_int_equal(r.num_free, VV_RING_MAX_SIZE);
	free(big);
	free(big_priv);
}

static void
test_base_encoding(void **state)
{
	struct pdev_buf b;
	uint32_t len;
	int i;

	(void)state;
	assert_int_equal(VV_PACKED_BASE_FRESH, 0x80008000u);
	ring_new(256, 0);
	assert_int_equal(vv_packed_base_encode(&r, 0, 0), 0x80008000u);
	/* 300 is slot 44 on the second lap (wrap 0), 260 slot 4, wrap 0. */
	assert_int_equal(vv_packed_base_encode(&r, 300, 260), 0x0004002cu);
	/* 520 is slot 8 on the third lap (wrap 1); 255 slot 255, wrap 1. */
	assert_int_equal(vv_packed_base_encode(&r, 520, 255), 0x80ff8008u);
	/* 65535 is slot 255 of lap 256 (wrap 0); 65536 starts lap 1 again. */
	assert_int_equal(vv_packed_base_encode(&r, 65535, 65535), 0x00ff00ffu);
	assert_int_equal(vv_packed_base_encode(&r, (uint16_t)65536, 0),
			 0x80008000u);
	/* 5 is slot 1 of lap 3 (wrap 1), 2 slot 0 of lap 2 (wrap 0). */
	ring_new(2, 0);
	assert_int_equal(vv_packed_base_encode(&r, 5, 2), 0x00008001u);
	/* On a ring of one every position is a lap: odd ones have wrap 0. */
	ring_new(1, 0);
	assert_int_equal(vv_packed_base_encode(&r, 3, 4), 0x80000000u);
	/* 13 is slot 5 of lap 2, 9 slot 1 of lap 2: both wrap 0. */
	ring_new(8, 0);
	assert_int_equal(vv_packed_base_encode(&r, 13, 9), 0x00010005u);

	/* After traffic it names where the device itself stands. */
	for (i = 0; i < 13; i++) {
		assert_true(post(1, 10) >= 0);
		vv_packed_avail_publish(&r);
		dev_take(&b);
		if (i < 9) {
			pdev_complete(&dev, &b, 0);
			take_ok(&len);
		}
	}
	assert_int_equal(vv_packed_base_encode(&r, r.avail_pos, r.used_pos),
			 0x00010005u);
	assert_int_equal(vv_packed_base_encode(&r, r.avail_pos, r.used_pos),
			 (uint32_t)(dev.avail_idx | dev.avail_wrap << 15) |
			 (uint32_t)(dev.used_idx | dev.used_wrap << 15) << 16);
}

/*
 * Many laps of chains of 1..3 descriptors, completed in a shuffled order
 * with a few held back a round, so chains straddle the ring's end and used
 * descriptors land on slots of other chains. The model checks every
 * descriptor's flags against its own lap.
 */
static void
test_wrap_around(void **state)
{
	static const uint16_t sizes[] = { 2, 8, 256 };
	unsigned int s;

	(void)state;
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint16_t size = sizes[s], longest = size < 3 ? size : 3;
		unsigned int avail_flips = 0, used_flips = 0;
		struct pdev_buf held[MAX_RING];
		uint16_t nheld = 0, id = 0, i;
		uint32_t seed = size, len;

		ring_new(size, 0);
		while (avail_flips < 40 || used_flips < 40) {
			bool aw = dev.avail_wrap, uw = dev.used_wrap;
			uint16_t keep;

			while (post((uint16_t)(1 + lcg(&seed) % longest), 100) >=
			       0)
				;
			vv_packed_avail_publish(&r);
			/* Our own available descriptor, not a used one. */
			assert_int_equal(vv_packed_used_read(&r, &id, &len),
					 VV_USED_NONE);
			while (pdev_has_avail(&dev))
				dev_take(&held[nheld++]);
			assert_pos(r.avail_pos, dev.avail_idx, dev.avail_wrap);
			for (i = nheld; i > 1; i--) {
				uint16_t j = (uint16_t)(lcg(&seed) % i);
				struct pdev_buf t = held[i - 1];

				held[i - 1] = held[j];
				held[j] = t;
			}
			keep = (uint16_t)(lcg(&seed) % 3);
			if (keep > nheld)
				keep = nheld;
			for (i = keep; i < nheld; i++)
				pdev_complete(&dev, &held[i], 50u + i % 50);
			for (i = keep; i < nheld; i++) {
				assert_int_equal(take_ok(&len), held[i].id);
				assert_int_equal(len, 50u + i % 50);
			}
			nheld = keep;
			assert_pos(r.used_pos, dev.used_idx, dev.used_wrap);
			assert_int_equal(vv_packed_used_read(&r, &id, &len),
					 VV_USED_NONE);
			avail_flips += aw != dev.avail_wrap;
			used_flips += uw != dev.used_wrap;
		}
		for (i = 0; i < nheld; i++)
			pdev_complete(&dev, &held[i], 0);
		for (i = 0; i < nheld; i++)
			assert_int_equal(take_ok(&len), held[i].id);
		assert_in_step();
		assert_int_equal(r.num_free, size);
	}
}

static void
test_full_and_empty(void **state)
{
	struct pdev_buf b[2];
	uint32_t len;
	uint16_t id = 0;
	unsigned int lap;
	int a, c;

	(void)state;
	ring_new(8, 0);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_NONE);
	assert_int_equal(vv_packed_id_alloc(&r, 0, 10), -1);
	assert_int_equal(vv_packed_id_alloc(&r, 9, 10), -1);
	for (lap = 0; lap < 3; lap++) {
		a = post(5, 10);
		assert_true(a >= 0);
		/*
		 * Unpublished, slot 0 has our id but last lap's used flags
		 * (or none, on the first): not used in this lap.
		 */
		assert_int_equal(r.desc[0].id, a);
		assert_int_equal(vv_packed_used_read(&r, &id, &len),
				 VV_USED_NONE);
		assert_int_equal(post(4, 10), -1);	/* three slots left */
		assert_int_equal(r.num_free, 3);
		c = post(3, 10);
		assert_true(c >= 0);
		assert_int_equal(post(1, 10), -1);
		assert_int_equal(r.num_free, 0);
		assert_int_equal(vv_packed_in_flight(&r), 8);
		vv_packed_avail_publish(&r);
		assert_int_equal(vv_packed_used_read(&r, &id, &len),
				 VV_USED_NONE);
		dev_take(&b[0]);
		dev_take(&b[1]);
		assert_false(pdev_has_avail(&dev));
		assert_int_equal(vv_packed_used_read(&r, &id, &len),
				 VV_USED_NONE);
		/* The shorter chain first: its used descriptor is in slot 0. */
		pdev_complete(&dev, &b[1], 1);
		pdev_complete(&dev, &b[0], 2);
		assert_int_equal(take_ok(&len), c);
		assert_int_equal(take_ok(&len), a);
		assert_int_equal(r.num_free, 8);
		assert_int_equal(vv_packed_used_read(&r, &id, &len),
				 VV_USED_NONE);
		assert_in_step();
	}
}

static void
test_publish_holds_the_batch(void **state)
{
	struct pdev_buf b;
	uint32_t len;
	int i;

	(void)state;
	ring_new(8, 0);
	for (i = 0; i < 3; i++)
		assert_true(post(2, 10) >= 0);
	/* Everything written but the first flags: the device sees nothing. */
	assert_false(pdev_has_avail(&dev));
	assert_int_equal(r.desc[0].flags, 0);
	for (i = 1; i < 6; i++)
		assert_true(pdev_desc_avail(&dev, (uint16_t)i, true));
	vv_packed_avail_publish(&r);
	for (i = 0; i < 3; i++) {
		dev_take(&b);
		assert_int_equal(b.ndesc, 2);
		pdev_complete(&dev, &b, 0);
		take_ok(&len);
	}
	assert_false(pdev_has_avail(&dev));
	/* A publish with nothing new changes nothing. */
	vv_packed_avail_publish(&r);
	assert_false(pdev_has_avail(&dev));

	/* A batch from slot 6 over the ring's end, into lap 2. */
	assert_true(post(1, 10) >= 0);		/* 6 */
	assert_true(post(3, 10) >= 0);		/* 7, 0, 1 */
	assert_true(post(1, 10) >= 0);		/* 2 */
	assert_false(pdev_has_avail(&dev));
	assert_true(pdev_desc_avail(&dev, 7, true));
	for (i = 0; i < 3; i++)
		assert_true(pdev_desc_avail(&dev, (uint16_t)i, false));
	vv_packed_avail_publish(&r);
	dev_take(&b);
	assert_int_equal(b.ndesc, 1);
	dev_take(&b);
	assert_int_equal(b.ndesc, 3);
	dev_take(&b);
	assert_int_equal(b.ndesc, 1);
	assert_false(pdev_has_avail(&dev));
	assert_pos(r.avail_pos, dev.avail_idx, dev.avail_wrap);
	/* The next batch is held back again, in lap 2. */
	assert_true(post(1, 10) >= 0);
	assert_false(pdev_has_avail(&dev));
	vv_packed_avail_publish(&r);
	assert_true(pdev_has_avail(&dev));
}

static void
test_in_order_batches(void **state)
{
	struct pdev_buf b[6];
	uint16_t ids[6], id = 0;
	uint32_t len;
	int i;

	(void)state;
	ring_new(16, VV_RING_IN_ORDER);
	for (i = 0; i < 6; i++)
		ids[i] = (uint16_t)post((uint16_t)(1 + i % 2), 10);
	vv_packed_avail_publish(&r);
	for (i = 0; i < 6; i++)
		dev_take(&b[i]);
	assert_int_equal(vv_packed_device_pos(&r), 0);
	/* The device completes the first four with one used descriptor. */
	pdev_complete_batch(&dev, b, 4, 0);
	assert_int_equal(vv_packed_device_pos(&r), 1 + 2 + 1 + 2);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_OK);
	assert_int_equal(id, ids[3]);
	assert_int_equal(vv_packed_inorder_batch(&r, ids[3]), 4);
	/* Any id in flight counts up to itself; any other is none. */
	assert_int_equal(vv_packed_inorder_batch(&r, ids[0]), 1);
	assert_int_equal(vv_packed_inorder_batch(&r, ids[5]), 6);
	assert_int_equal(vv_packed_inorder_batch(&r, 10), -1);
	assert_int_equal(vv_packed_inorder_batch(&r, 0xfff), -1);
	for (i = 0; i < 4; i++) {
		assert_int_equal(vv_packed_oldest(&r), ids[i]);
		assert_int_equal(vv_packed_inorder_take(&r), ids[i]);
	}
	assert_int_equal(r.used_pos, 6);
	assert_int_equal(r.num_free, 16 - 3);
	assert_int_equal(vv_packed_inorder_batch(&r, ids[3]), -1);
	/* Two batches of one, both written before the driver looks. */
	pdev_complete_batch(&dev, &b[4], 1, 0);
	pdev_complete_batch(&dev, &b[5], 1, 0);
	assert_int_equal(vv_packed_device_pos(&r), 9);
	for (i = 4; i < 6; i++) {
		assert_int_equal(vv_packed_used_read(&r, &id, &len),
				 VV_USED_OK);
		assert_int_equal(vv_packed_inorder_batch(&r, id), 1);
		assert_int_equal(vv_packed_inorder_take(&r), ids[i]);
	}
	assert_int_equal(r.num_free, 16);
	assert_in_step();
	/* Ids come back in completion order, behind the unused ones. */
	for (i = 0; i < 10; i++)
		assert_int_equal(post(1, 10), 6 + i);
	assert_int_equal(post(1, 10), ids[0]);
}

/*
 * IN_ORDER over many laps: batches of random size complete the oldest
 * chains, several written before the driver looks, across the ring's end.
 */
static void
test_in_order_laps(void **state)
{
	struct pdev_buf fifo[8];
	uint16_t head = 0, count = 0;
	uint32_t seed = 3, len;
	unsigned int round;

	(void)state;
	ring_new(8, VV_RING_IN_ORDER);
	for (round = 0; round < 3000; round++) {
		uint16_t done = 0, skip = 0, id = 0, chains[8], nb = 0, i;

		while (post((uint16_t)(1 + lcg(&seed) % 3), 10) >= 0)
			;
		vv_packed_avail_publish(&r);
		while (pdev_has_avail(&dev))
			dev_take(&fifo[(head + count++) % 8]);
		/* Batches over all but what stays in flight. */
		while (done < count && lcg(&seed) % 5 != 0) {
			struct pdev_buf batch[8];
			uint16_t n = (uint16_t)(1 + lcg(&seed) % (count - done));

			for (i = 0; i < n; i++) {
				batch[i] = fifo[(head + done + i) % 8];
				skip = (uint16_t)(skip + batch[i].ndesc);
			}
			pdev_complete_batch(&dev, batch, n, 0);
			chains[nb++] = n;
			done = (uint16_t)(done + n);
		}
		/* The device's position, walked from the driver's. */
		assert_int_equal(vv_packed_device_pos(&r),
				 (uint16_t)(r.used_pos + skip));
		for (i = 0; i < nb; i++) {
			uint16_t k;

			assert_int_equal(vv_packed_used_read(&r, &id, &len),
					 VV_USED_OK);
			assert_int_equal(vv_packed_inorder_batch(&r, id),
					 chains[i]);
			for (k = 0; k < chains[i]; k++) {
				assert_int_equal(vv_packed_inorder_take(&r),
						 fifo[head].id);
				head = (head + 1) % 8;
				count--;
			}
		}
		assert_int_equal(vv_packed_used_read(&r, &id, &len),
				 VV_USED_NONE);
		assert_pos(r.used_pos, dev.used_idx, dev.used_wrap);
	}
	assert_true(r.used_pos > 8 * 100);
}

/* Without IN_ORDER the walk skips each named chain's own length. */
static void
test_device_pos(void **state)
{
	struct pdev_buf b[3];
	int i;

	(void)state;
	ring_new(8, 0);
	assert_true(post(2, 10) >= 0);		/* 0, 1 */
	assert_true(post(1, 10) >= 0);		/* 2 */
	assert_true(post(3, 10) >= 0);		/* 3, 4, 5 */
	vv_packed_avail_publish(&r);
	for (i = 0; i < 3; i++)
		dev_take(&b[i]);
	assert_int_equal(vv_packed_device_pos(&r), 0);
	pdev_complete(&dev, &b[1], 0);
	assert_int_equal(vv_packed_device_pos(&r), 1);
	pdev_complete(&dev, &b[0], 0);
	assert_int_equal(vv_packed_device_pos(&r), 3);
	/* A used descriptor naming no buffer: one slot. */
	pdev_put_raw(&dev, 0, 8, 0, pdev_used_flags(&dev, 0));
	assert_int_equal(vv_packed_device_pos(&r), 4);
	/* Slot 4 still holds our available descriptor: the walk stops. */
	pdev_put_raw(&dev, 2, b[2].id, 0, pdev_used_flags(&dev, 2));
	assert_int_equal(vv_packed_device_pos(&r), 4);
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
	unsigned int round;
	uint32_t seed = 1;

	(void)state;
	ring_new(8, 0);
	for (round = 0; round < 2000; round++) {
		struct pdev_buf b[8];
		uint16_t n = 0, i, id = 0;
		uint32_t len;
		int got;

		while ((got = post((uint16_t)(1 + lcg(&seed) % 3), 10)) >= 0) {
			assert_false(in_flight[got]);
			in_flight[got] = true;
		}
		vv_packed_avail_publish(&r);
		while (n < 8 && pdev_has_avail(&dev))
			dev_take(&b[n++]);
		/* Last taken, first done: the device completes in any order. */
		for (i = n; i-- > 0;)
			pdev_complete(&dev, &b[i], 0);
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
	uint32_t len;
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
	/* DESC naming the next descriptor we will publish: it waits. */
	set_device_event(VRING_PACKED_EVENT_FLAG_DESC, 2, true);
	assert_false(vv_packed_needs_kick(&r));
	assert_true(post(1, 10) >= 0);		/* slot 2 */
	vv_packed_avail_publish(&r);
	assert_true(vv_packed_needs_kick(&r));
	/*
	 * Still naming slot 2, now behind us: it may have read on and be
	 * waiting further (QEMU does), so the next publish kicks again.
	 */
	assert_true(post(1, 10) >= 0);		/* 3 */
	vv_packed_avail_publish(&r);
	assert_true(vv_packed_needs_kick(&r));
	/* It caught up and names slot 4: no kick until 4 is out. */
	set_device_event(VRING_PACKED_EVENT_FLAG_DESC, 4, true);
	assert_false(vv_packed_needs_kick(&r));
	assert_true(post(1, 10) >= 0);		/* 4 */
	assert_true(post(1, 10) >= 0);		/* 5 */
	vv_packed_avail_publish(&r);
	assert_true(vv_packed_needs_kick(&r));
	/* Across the ring's end: position 8 is slot 0 of lap 2, wrap 0. */
	for (i = 0; i < 6; i++) {
		struct pdev_buf b;

		dev_take(&b);
		pdev_complete(&dev, &b, 0);
		take_ok(&len);
	}
	assert_true(post(1, 10) >= 0);		/* 6 */
	assert_true(post(1, 10) >= 0);		/* 7 */
	vv_packed_avail_publish(&r);
	set_device_event(VRING_PACKED_EVENT_FLAG_DESC, 0, false);
	assert_false(vv_packed_needs_kick(&r));
	/* Slot 0 with the first lap's wrap counter is a lap behind. */
	set_device_event(VRING_PACKED_EVENT_FLAG_DESC, 0, true);
	assert_true(vv_packed_needs_kick(&r));
	assert_true(post(1, 10) >= 0);		/* 8: slot 0, lap 2 */
	vv_packed_avail_publish(&r);
	set_device_event(VRING_PACKED_EVENT_FLAG_DESC, 1, false);
	assert_false(vv_packed_needs_kick(&r));
	set_device_event(VRING_PACKED_EVENT_FLAG_DESC, 0, false);
	assert_true(vv_packed_needs_kick(&r));

	/* DESC means nothing without EVENT_IDX: kick. */
	ring_new(8, 0);
	set_device_event(VRING_PACKED_EVENT_FLAG_DESC, 0, true);
	assert_true(post(1, 10) >= 0);
	vv_packed_avail_publish(&r);
	assert_true(vv_packed_needs_kick(&r));
	set_device_event(VRING_PACKED_EVENT_FLAG_DISABLE, 0, true);
	assert_true(post(1, 10) >= 0);
	assert_true(post(1, 10) >= 0);
	vv_packed_avail_publish(&r);
	assert_false(vv_packed_needs_kick(&r));
}

/*
 * Whether slot off of a lap with wrap counter wrap is position `next`, the
 * positions counted on 32 bits from the ring's start: the ring's own
 * 16-bit ones must agree across their overflow.
 */
static bool
names_next(uint32_t next, uint16_t size, uint16_t off, bool wrap)
{
	return next % size == off && ((next / size) % 2 == 0) == wrap;
}

/*
 * Every off/wrap a device can name, after every kind of gap since the
 * previous publish (empty, within a lap, over the ring's end, a whole
 * ring) and past 65536 positions: a kick unless it names the next one.
 */
static void
test_event_window(void **state)
{
	static const uint16_t sizes[] = { 1, 8, 256 };
	unsigned int s;

	(void)state;
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint16_t size = sizes[s];
		uint32_t seed = 11, avail = 0, len;
		unsigned int decisions = 0;

		ring_new(size, VV_RING_EVENT_IDX);
		while (avail < 0x10000u + 4u * size) {
			uint16_t k = (uint16_t)(lcg(&seed) % (r.num_free + 1u));
			uint16_t off, i;
			struct pdev_buf b;

			for (i = 0; i < k; i++)
				assert_true(post(1, 10) >= 0);
			avail += k;
			vv_packed_avail_publish(&r);
			if (lcg(&seed) % 4 != 0) {
				for (off = 0; off < size; off++) {
					for (i = 0; i < 2; i++) {
						set_device_event(
						VRING_PACKED_EVENT_FLAG_DESC,
						off, i);
						assert_int_equal(
						vv_packed_needs_kick(&r),
						!names_next(avail, size, off,
							    i));
					}
				}
				decisions++;
			}
			while (pdev_has_avail(&dev)) {
				dev_take(&b);
				pdev_complete(&dev, &b, 0);
				take_ok(&len);
			}
		}
		assert_true(decisions > 100);
	}
}

static void
test_hostile_used(void **state)
{
	struct pdev_buf b;
	uint32_t len;
	uint16_t id = 0, used;
	int a, c;

	(void)state;
	ring_new(8, 0);
	a = post(1, 100);
	assert_true(post(1, 100) >= 0);
	assert_true(post(1, 100) >= 0);
	vv_packed_avail_publish(&r);
	used = pdev_used_flags(&dev, 0);
	/* Out of range. */
	pdev_put_raw(&dev, 0, 8, 10, used);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_BAD_ID);
	pdev_put_raw(&dev, 0, 0xffff, 10, used);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_BAD_ID);
	/* In range but never posted. */
	pdev_put_raw(&dev, 0, 7, 10, used);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_BAD_ID);
	/* AVAIL and USED disagree: not used at all, either way round. */
	pdev_put_raw(&dev, 0, (uint16_t)a, 10, PDEV_F_USED);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_NONE);
	pdev_put_raw(&dev, 0, (uint16_t)a, 10, PDEV_F_AVAIL);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_NONE);
	/* Last lap's pattern: not used either. */
	pdev_put_raw(&dev, 0, (uint16_t)a, 10, 0);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_NONE);
	/* Exactly what was posted is fine; a byte more is not. */
	pdev_put_raw(&dev, 0, (uint16_t)a, 100, used);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_OK);
	assert_int_equal(len, 100);
	/* More than was posted: the buffer still comes back. */
	pdev_put_raw(&dev, 0, (uint16_t)a, 101, used);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_BAD_LEN);
	assert_int_equal(id, a);
	assert_int_equal(len, 101);
	vv_packed_used_take(&r, id);
	assert_int_equal(r.num_free, 6);
	/* Once taken, the same id again is not in flight. */
	pdev_put_raw(&dev, 1, (uint16_t)a, 10, pdev_used_flags(&dev, 1));
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_BAD_ID);
	/* A bad id is rejected, counted, and moves on by one slot. */
	vv_packed_used_reject(&r);
	assert_int_equal(r.bad_used, 1);
	assert_int_equal(r.used_pos, 2);
	assert_int_equal(r.num_free, 6);

	/* Nothing in flight: whatever a slot says, nothing is consumed. */
	ring_new(8, 0);
	pdev_put_raw(&dev, 0, 0, 0, pdev_used_flags(&dev, 0));
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_NONE);

	/*
	 * After a rejected descriptor the driver is a slot ahead of where the
	 * device skips to: a chain of three named next has only two slots
	 * left before avail_pos, and consuming it must stop there.
	 */
	ring_new(8, 0);
	c = post(3, 100);
	vv_packed_avail_publish(&r);
	dev_take(&b);
	pdev_put_raw(&dev, 0, 0xffff, 0, pdev_used_flags(&dev, 0));
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_BAD_ID);
	vv_packed_used_reject(&r);
	pdev_put_raw(&dev, 1, (uint16_t)c, 0, pdev_used_flags(&dev, 1));
	assert_int_equal(take_ok(&len), c);
	assert_int_equal(r.used_pos, r.avail_pos);
	assert_int_equal(r.num_free, 8);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_NONE);
	/* The ring goes on from there. */
	assert_true(post(1, 100) >= 0);
	vv_packed_avail_publish(&r);
	assert_int_equal(vv_packed_used_read(&r, &id, &len), VV_USED_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_init_rejects),
		cmocka_unit_test(test_base_encoding),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_full_and_empty),
		cmocka_unit_test(test_publish_holds_the_batch),
		cmocka_unit_test(test_in_order_batches),
		cmocka_unit_test(test_in_order_laps),
		cmocka_unit_test(test_device_pos),
		cmocka_unit_test(test_ids_outlast_slots),
		cmocka_unit_test(test_event_suppression),
		cmocka_unit_test(test_event_window),
		cmocka_unit_test(test_hostile_used),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzzes the ring layer, both layouts, with a device that writes random
 * used state: split used entries with any id and length and used index
 * jumps, packed descriptors with any id, length and flags at and around
 * where the driver looks next, mixed with honest completions. The driver
 * side uses only the layer's API, as the bursts do, and a shadow of what it
 * posted checks every answer: an id the layer calls good is in flight, no
 * slot is counted twice, used_pos never passes avail_pos, and a ring reset
 * after the run holds every slot again.
 *
 *   ring_fuzz [--states N] [--seed S]     N ring states per layout (1e6)
 *
 * Exits 1 on the first broken invariant, naming it.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vv_packed_ring.h"
#include "vv_split_ring.h"

#define SIZE 16
#define MAX_CHAIN 4

static uint64_t rng_state;

static uint32_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static void
fail(const char *layout, unsigned long state, const char *what)
{
	fprintf(stderr, "ring_fuzz: %s, state %lu: %s\n", layout, state, what);
	exit(1);
}

/* What the driver posted, by id: chain length, 0 when not in flight. */
static uint16_t shadow[SIZE];
static uint32_t shadow_len[SIZE];

static unsigned int
shadow_slots(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < SIZE; i++)
		n += shadow[i];
	return n;
}

static void
shadow_take(const char *layout, unsigned long st, uint16_t id, uint32_t len,
	    bool len_ok)
{
	if (shadow[id] == 0)
		fail(layout, st, "an id the ring accepted was not in flight");
	if (len_ok && len > shadow_len[id])
		fail(layout, st, "a length the ring accepted exceeds the post");
	shadow[id] = 0;
}

/* ---- split ------------------------------------------------------------ */

static unsigned long
fuzz_split(unsigned long states, unsigned long *bad)
{
	static uint8_t shm[8192] __attribute__((aligned(4096)));
	static uint8_t priv[1024];
	struct vv_split_ring r;
	uint16_t dev_avail = 0;
	unsigned long st = 0;

	memset(shadow, 0, sizeof(shadow));
	vv_split_ring_init(&r, shm, priv, SIZE, 0);
	while (st < states) {
		uint16_t n = (uint16_t)(1 + rnd() % MAX_CHAIN), pending;
		uint32_t len = rnd() % 3 == 0 ? UINT32_MAX : 64 + rnd() % 2000;
		int head = vv_split_chain_alloc(&r, n, len);

		if (head >= 0) {
			shadow[head] = n;
			shadow_len[head] = len;
			vv_split_avail_push(&r, (uint16_t)head);
			vv_split_avail_publish(&r);
		}
		/* The device: honest, a random entry, or an index jump. */
		switch (rnd() % 16 < 10 ? 0 : rnd() % 4) {
		case 0:
			if (dev_avail != r.avail_idx) {
				uint16_t h = r.avail->ring[dev_avail++ & r.mask];
				struct vring_used_elem *e =
					&r.used->ring[r.used->idx & r.mask];

				e->id = h;
				e->len = rnd() % 2100;
				r.used->idx++;
			}
			break;
		case 1: {
			struct vring_used_elem *e =
				&r.used->ring[r.used->idx & r.mask];

			e->id = rnd() & 1 ? rnd() : rnd() % SIZE;
			e->len = rnd();
			r.used->idx++;
			break;
		}
		case 2:
			r.used->idx = (uint16_t)(r.used->idx + rnd() % (3 * SIZE) -
						 SIZE);
			break;
		default:
			break;
		}
		pending = vv_split_used_pending(&r);
		if (pending > SIZE)
			fail("split", st, "pending beyond the ring");
		while (pending-- > 0) {
			uint16_t id = 0;
			uint32_t got;

			st++;
			switch (vv_split_used_read(&r, &id, &got)) {
			case VV_USED_OK:
				shadow_take("split", st, id, got, true);
				vv_split_used_skip(&r);
				vv_split_chain_free(&r, id);
				break;
			case VV_USED_BAD_LEN:
				shadow_take("split", st, id, got, false);
				vv_split_used_skip(&r);
				vv_split_chain_free(&r, id);
				(*bad)++;
				break;
			default:
				vv_split_used_reject(&r);
				(*bad)++;
				break;
			}
		}
		if (r.num_free > SIZE || r.num_free + shadow_slots() != SIZE)
			fail("split", st, "free slots and slots in flight disagree");
		/* A device that lied for long stalls the ring: restart it. */
		if (r.num_free == 0 && rnd() % 8 == 0) {
			vv_split_ring_init(&r, shm, priv, SIZE, 0);
			memset(shadow, 0, sizeof(shadow));
			dev_avail = 0;
		}
	}
	vv_split_ring_init(&r, shm, priv, SIZE, 0);
	if (r.num_free != SIZE)
		fail("split", st, "a fresh ring does not hold every slot");
	return st;
}

/* ---- packed ----------------------------------------------------------- */

static unsigned long
fuzz_packed(unsigned long states, unsigned long *bad)
{
	static uint8_t shm[8192] __attribute__((aligned(4096)));
	static uint8_t priv[1024];
	struct vv_packed_ring r;
	uint16_t dev_avail = 0, dev_used = 0;
	unsigned long st = 0;
	bool in_order = rnd() & 1;

	memset(shadow, 0, sizeof(shadow));
	vv_packed_ring_init(&r, shm, priv, SIZE, in_order ? VV_RING_IN_ORDER : 0);
	while (st < states) {
		uint16_t n = (uint16_t)(1 + rnd() % MAX_CHAIN), i;
		uint32_t len = rnd() % 3 == 0 ? UINT32_MAX : 64 + rnd() % 2000;
		int id = vv_packed_id_alloc(&r, n, len);
		enum vv_used u;

		if (id >= 0) {
			if (shadow[id] != 0)
				fail("packed", st, "an id in flight was handed out again");
			shadow[id] = n;
			shadow_len[id] = len;
			for (i = 0; i < n; i++)
				vv_packed_desc_put(&r, (uint16_t)id, 0x1000, len,
						   true, i + 1 < n);
			vv_packed_avail_publish(&r);
		}
		/* The device: an honest completion, or a random descriptor. */
		if (rnd() % 3 != 0) {
			if (dev_avail != r.avail_pos) {
				uint16_t h = r.slot_id[dev_avail & r.mask];
				struct vring_packed_desc *d =
					&r.desc[dev_used & r.mask];

				d->id = h;
				d->len = rnd() % 2100;
				d->flags = vv_packed_wrap(&r, dev_used) ?
					VV_PACKED_F_WRAP_BITS : 0;
				dev_avail += r.ndesc[h];
				dev_used += r.ndesc[h];
			}
		} else {
			struct vring_packed_desc *d =
				&r.desc[(r.used_pos + rnd() % 3) & r.mask];

			d->id = (uint16_t)(rnd() & 1 ? rnd() : rnd() % SIZE);
			d->len = rnd();
			d->flags = (uint16_t)rnd();
		}
		for (;;) {
			uint16_t got_id = 0;
			uint32_t got;

			u = vv_packed_used_read(&r, &got_id, &got);
			if (u == VV_USED_NONE)
				break;
			st++;
			if (r.in_order) {
				int k = u == VV_USED_BAD_ID ? -1 :
					vv_packed_inorder_batch(&r, got_id);

				if (k < 0) {
					(*bad)++;
					k = 1;
				}
				while (k-- > 0) {
					uint16_t old = vv_packed_oldest(&r);

					shadow_take("packed", st, old, 0, false);
					vv_packed_inorder_take(&r);
				}
			} else if (u == VV_USED_BAD_ID) {
				vv_packed_used_reject(&r);
				(*bad)++;
			} else {
				shadow_take("packed", st, got_id, got,
					    u == VV_USED_OK);
				vv_packed_used_take(&r, got_id);
				if (u == VV_USED_BAD_LEN)
					(*bad)++;
			}
			if ((uint16_t)(r.avail_pos - r.used_pos) > SIZE)
				fail("packed", st, "used_pos passed avail_pos");
		}
		if (r.num_free > SIZE || r.num_free + shadow_slots() != SIZE)
			fail("packed", st, "free slots and slots in flight disagree");
		if (r.num_free == 0 && rnd() % 8 == 0) {
			in_order = rnd() & 1;
			vv_packed_ring_init(&r, shm, priv, SIZE,
					    in_order ? VV_RING_IN_ORDER : 0);
			memset(shadow, 0, sizeof(shadow));
			dev_avail = dev_used = 0;
		}
		/* The honest model follows the driver, not a lie it consumed. */
		if ((uint16_t)(r.avail_pos - dev_avail) > SIZE ||
		    (uint16_t)(dev_avail - r.used_pos) > SIZE)
			dev_avail = dev_used = r.used_pos;
	}
	vv_packed_ring_init(&r, shm, priv, SIZE, 0);
	if (r.num_free != SIZE)
		fail("packed", st, "a fresh ring does not hold every slot");
	return st;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "states", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long states = 1000000, bad = 0, n;
	uint64_t seed = 1;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			states = strtoul(optarg, NULL, 0);
		else if (c == 's')
			seed = strtoull(optarg, NULL, 0);
		else
			return 2;
	}
	rng_state = seed ? seed : 1;
	n = fuzz_split(states, &bad);
	printf("split: %lu states, %lu bad entries\n", n, bad);
	bad = 0;
	n = fuzz_packed(states, &bad);
	printf("packed: %lu states, %lu bad descriptors\n", n, bad);
	return 0;
}

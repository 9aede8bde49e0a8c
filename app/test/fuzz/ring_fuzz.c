/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzzes the ring layer, both layouts, against the spec-side device models
 * of app/test/unit, which in each epoch of a ring's life either behave or,
 * at a seeded rate, lie: split used entries with any id and length and used
 * index jumps within and beyond the ring, packed descriptors with any id,
 * length and flags at and around the device's position. The driver side
 * posts as the bursts do (Rx single descriptors and chains with their room
 * as posted_len, Tx chains taking any length back, IN_ORDER batches for Tx)
 * and consumes through the layer's API only.
 *
 * A shadow of what was posted is the oracle: every verdict and id the
 * layer returns must be the one the shadow gives for what the device
 * wrote, free and in-flight descriptors must add up to the ring, and each
 * epoch ends with an honest device returning every buffer, after which the
 * ring must hold every slot again; only a packed ring that rejected used
 * descriptors may keep some, and then no more than it rejected. In an
 * honest epoch the device must also find exactly what was posted, and the
 * driver must stand where the device does.
 *
 *   ring_fuzz [--states N] [--seed S]
 *
 * N device-written ring states per layout (10^6). Exits 1 on the first
 * broken invariant, naming it and how to replay it.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packed_device_model.h"
#include "split_device_model.h"
#include "vv_packed_ring.h"
#include "vv_split_ring.h"

#define MAX_SIZE 256
#define MAX_CHAIN 4

static uint64_t rng, seed;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

/* Uniform in [0, n). */
static uint32_t
below(uint32_t n)
{
	return (uint32_t)(((uint64_t)rnd() * n) >> 32);
}

/* The ring's shape, fixed from one reset to the next. */
static struct {
	uint16_t size;
	bool tx;
	bool in_order;
	bool event_idx;
} sh;

static const char *layout;
static unsigned long states;	/* device-written states, this layout */
static unsigned long bad;	/* entries the layer found bad */
static unsigned long epochs, wedged;
static unsigned int lie_rate;	/* lies per 64 device steps */
/* The device lied since the last reset: its model no longer follows. */
static bool dirty;

static void __attribute__((noreturn))
fail(const char *what)
{
	fprintf(stderr,
		"ring_fuzz: %s, state %lu (size %u, %s%s, %u/64 lies): %s\n"
		"replay: ring_fuzz --seed %llu --states %lu\n",
		layout, states, sh.size, sh.tx ? "tx" : "rx",
		sh.in_order ? ", in order" : "", lie_rate, what,
		(unsigned long long)seed, states + 1);
	exit(1);
}

#define CHECK(cond, what) do { if (!(cond)) fail(what); } while (0)

/* ---- what the driver posted ------------------------------------------ */

static struct {
	uint16_t ndesc;		/* 0 when not in flight */
	bool single;		/* split Rx: taken with take_one */
	bool held;		/* taken by an honest device, not completed */
	uint32_t posted_len;
	uint16_t desc[MAX_CHAIN];	/* split: the chain's descriptors */
} shadow[MAX_SIZE];
static unsigned int shadow_slots;	/* descriptors in flight */
/* IN_ORDER: the ids in flight, oldest first. */
static uint16_t fifo[MAX_SIZE];
static unsigned int fifo_head, fifo_len;

static void
shadow_reset(void)
{
	memset(shadow, 0, sizeof(shadow));
	shadow_slots = 0;
	fifo_head = fifo_len = 0;
}

static void
shadow_post(uint16_t id, uint16_t n, uint32_t posted_len)
{
	CHECK(id < sh.size && shadow[id].ndesc == 0,
	      "an id in flight was handed out again");
	shadow[id].ndesc = n;
	shadow[id].posted_len = posted_len;
	shadow_slots += n;
	if (sh.in_order)
		fifo[(fifo_head + fifo_len++) % MAX_SIZE] = id;
}

static void
shadow_done(uint16_t id)
{
	CHECK(id < sh.size && shadow[id].ndesc != 0,
	      "a buffer not in flight was completed");
	shadow_slots -= shadow[id].ndesc;
	shadow[id].ndesc = 0;
	shadow[id].held = false;
}

static uint16_t
fifo_pop(void)
{
	uint16_t id;

	CHECK(fifo_len > 0, "a completion with nothing in flight");
	id = fifo[fifo_head];
	fifo_head = (fifo_head + 1) % MAX_SIZE;
	fifo_len--;
	return id;
}

/* How many chains in flight up to and including id, -1 if it is not. */
static int
fifo_find(uint32_t id)
{
	unsigned int i;

	for (i = 0; i < fifo_len; i++)
		if (fifo[(fifo_head + i) % MAX_SIZE] == id)
			return (int)i + 1;
	return -1;
}

/* The verdict on a used entry naming id with len, from the shadow. */
static enum vv_used
expect(uint32_t id, uint32_t len)
{
	if (id >= sh.size || shadow[id].ndesc == 0)
		return VV_USED_BAD_ID;
	return len > shadow[id].posted_len ? VV_USED_BAD_LEN : VV_USED_OK;
}

/* Counts an entry the layer found bad; an honest device writes none. */
static void
found_bad(void)
{
	CHECK(dirty, "an honest device's entry was found bad");
	bad++;
}

static uint64_t
addr_of(uint16_t id, uint16_t i)
{
	return ((uint64_t)id + 1) << 20 | i;
}

/*
 * A buffer as the bursts post one: Rx mostly single descriptors, device-
 * writable, its room as posted_len; Tx chains of the device's to read,
 * taking any length back.
 */
static uint16_t
pick_chain(uint32_t *seg, uint32_t *posted_len)
{
	uint16_t n = sh.tx ? (uint16_t)(1 + below(MAX_CHAIN)) :
		below(4) ? 1 : (uint16_t)(2 + below(MAX_CHAIN - 1));

	if (n > sh.size)
		n = sh.size;
	*seg = 64 + below(2048);
	*posted_len = sh.tx ? UINT32_MAX : n * *seg;
	return n;
}

/* What an honest device writes into a buffer with `room` writable bytes. */
static uint32_t
honest_len(uint32_t room)
{
	return sh.tx ? 0 : below(room + 1);
}

/* An id a lying device names: anything, near the range, or one in flight. */
static uint32_t
lie_id(void)
{
	uint32_t id;

	switch (below(4)) {
	case 0:
		return rnd();
	case 1:
		return below(sh.size + 2u);
	default:
		id = below(sh.size);
		return shadow[id].ndesc != 0 ? id : below(sh.size);
	}
}

static uint32_t
lie_len(uint32_t id)
{
	if (id < sh.size && below(2))
		return shadow[id].posted_len + below(3) - 1;
	return below(2) ? rnd() : below(4096);
}

/* ---- what an honest device holds ------------------------------------- */

/* Buffers the device took and has not completed, oldest first. */
static struct held {
	uint16_t id;
	uint16_t ndesc;
	uint32_t room;
} held[MAX_SIZE];
static unsigned int held_head, held_len;

static void
held_push(uint16_t id, uint16_t ndesc, uint32_t room)
{
	held[(held_head + held_len++) % MAX_SIZE] =
		(struct held){ id, ndesc, room };
	/* A buffer taken twice is one the driver never published twice. */
	if (!dirty) {
		CHECK(!shadow[id].held, "the device found a buffer twice");
		shadow[id].held = true;
	}
}

static struct held
held_pop(void)
{
	struct held h = held[held_head];

	held_head = (held_head + 1) % MAX_SIZE;
	held_len--;
	if (!dirty)
		shadow[h.id].held = false;
	return h;
}

/* Without IN_ORDER the device completes any buffer it holds. */
static struct held
held_pop_any(void)
{
	unsigned int i = (held_head + below(held_len)) % MAX_SIZE;
	struct held t = held[i];

	held[i] = held[held_head];
	held[held_head] = t;
	return held_pop();
}

/* The device's part of a new ring: nothing taken, nothing held. */
static void
held_reset(void)
{
	unsigned int i;

	held_head = held_len = 0;
	for (i = 0; i < MAX_SIZE; i++)
		shadow[i].held = false;
}

/* Both layouts' rings live here in turn. */
static uint8_t shm[8192] __attribute__((aligned(4096)));
static uint8_t priv[MAX_SIZE * 10];

/* ---- split ------------------------------------------------------------ */

static struct {
	struct vv_split_ring r;
	struct sdev dev;
	unsigned long rejects;	/* entries consumed as bad: bad_used */
	int16_t owner[MAX_SIZE];	/* head of each descriptor's chain */
} sp;

static void
sp_reset(void)
{
	unsigned int flags = (sh.in_order ? VV_RING_IN_ORDER : 0) |
		(sh.event_idx ? VV_RING_EVENT_IDX : 0);

	CHECK(vv_split_ring_init(&sp.r, shm, priv, sh.size, flags) == 0,
	      "init refused a valid ring");
	sdev_init(&sp.dev, sp.r.desc, sp.r.avail, sp.r.used, sh.size);
	sp.rejects = 0;
	memset(sp.owner, 0xff, sizeof(sp.owner));
}

static void
sp_check(void)
{
	CHECK(sp.r.num_free <= sh.size, "num_free exceeds the ring");
	CHECK(sp.r.num_free + shadow_slots == sh.size,
	      "free and in-flight descriptors do not add up to the ring");
	CHECK(sp.r.bad_used == sp.rejects, "bad_used miscounts");
}

static void
sp_post(void)
{
	struct vv_split_ring *r = &sp.r;
	unsigned int k = below(4);

	while (k-- > 0) {
		uint32_t seg, posted;
		uint16_t n = pick_chain(&seg, &posted), before = r->num_free;
		uint16_t id, i;
		bool single = n == 1 && !sh.tx;
		int head;

		if (single) {
			/* take_one leaves the check, and desc[], to us. */
			if (before == 0)
				break;
			head = vv_split_take_one(r, posted);
			r->desc[head].flags = 0;
		} else {
			head = vv_split_chain_alloc(r, n, posted);
			CHECK((head < 0) == (n > before),
			      "chain_alloc disagrees with num_free");
			if (head < 0)
				break;
		}
		CHECK(head < sh.size, "a head beyond the ring");
		for (i = 0, id = (uint16_t)head; i < n; i++) {
			CHECK(id < sh.size && sp.owner[id] < 0,
			      "a descriptor in flight was handed out again");
			sp.owner[id] = (int16_t)head;
			shadow[head].desc[i] = id;
			r->desc[id].addr = addr_of((uint16_t)head, i);
			r->desc[id].len = seg;
			if (!sh.tx)
				r->desc[id].flags |= VRING_DESC_F_WRITE;
			id = vv_split_chain_next(r, id);
		}
		shadow_post((uint16_t)head, n, posted);
		shadow[head].single = single;
		vv_split_avail_push(r, (uint16_t)head);
	}
	CHECK(dirty || sdev_avail_pending(&sp.dev) == 0,
	      "the device saw buffers before they were published");
	vv_split_avail_publish(r);
	(void)vv_split_needs_kick(r);
}

/* Gives a completed buffer back the way it was taken. */
static void
sp_free(uint16_t head)
{
	uint16_t i;

	CHECK(head < sh.size && shadow[head].ndesc != 0,
	      "the layer completed a buffer not in flight");
	for (i = 0; i < shadow[head].ndesc; i++)
		sp.owner[shadow[head].desc[i]] = -1;
	if (shadow[head].single)
		vv_split_put_one(&sp.r, head);
	else
		vv_split_chain_free(&sp.r, head);
	shadow_done(head);
}

/* The device finds exactly the chain posted under b's head. */
static void
sp_check_taken(const struct sdev_buf *b)
{
	uint16_t i;

	CHECK(sp.dev.errors == 0, "the device found a malformed chain");
	CHECK(b->head < sh.size && shadow[b->head].ndesc == b->ndesc,
	      "the device found another chain than the one posted");
	for (i = 0; i < b->ndesc; i++)
		CHECK(b->ids[i] == shadow[b->head].desc[i] &&
		      b->writable[i] == !sh.tx,
		      "the device found other descriptors than those posted");
}

static void
sp_lie(void)
{
	struct sdev *d = &sp.dev;
	uint16_t ahead = (uint16_t)below(3);
	uint32_t id;

	switch (below(3)) {
	case 0:
		/* An entry naming anything, or a chain's last descriptor. */
		id = lie_id();
		if (below(4) == 0 && id < sh.size && sp.owner[id] >= 0) {
			uint16_t h = (uint16_t)sp.owner[id];

			id = shadow[h].desc[shadow[h].ndesc - 1];
		}
		sdev_put_raw(d, ahead, id, lie_len(id));
		d->used_idx = (uint16_t)(d->used_idx + ahead + 1);
		sdev_publish(d);
		break;
	case 1:
		/* Over stale entries, within the ring. */
		sdev_publish_idx(d, (uint16_t)(sp.r.used_idx +
					       below(sh.size + 1u)));
		break;
	default:
		/* Beyond it, or behind. */
		sdev_publish_idx(d, (uint16_t)(sp.r.used_idx + sh.size + 1 +
					       below(0xffffu - sh.size)));
		break;
	}
	if (below(16) == 0) {
		*vv_split_avail_event(&sp.r) = (uint16_t)rnd();
		sp.r.used->flags = (uint16_t)rnd();
	}
}

static bool
sp_device_step(bool lie)
{
	struct sdev_buf b;
	unsigned int k;

	if (lie) {
		sp_lie();
		dirty = true;
		return true;
	}
	while (held_len < MAX_SIZE && sdev_take(&sp.dev, &b)) {
		if (!dirty)
			sp_check_taken(&b);
		held_push(b.head < sh.size ? b.head : 0, b.ndesc,
			  b.writable_len);
	}
	if (held_len == 0)
		return false;
	for (k = 1 + below(3); k > 0 && held_len > 0; k--) {
		if (sh.in_order) {
			uint16_t n = (uint16_t)(1 + below(held_len)), i;
			struct held h = { 0, 0, 0 };

			for (i = 0; i < n; i++)
				h = held_pop();
			sdev_put_batch(&sp.dev, h.id, 0, n);
		} else {
			struct held h = held_pop_any();

			sdev_put_used(&sp.dev, h.id, honest_len(h.room));
		}
	}
	sdev_publish(&sp.dev);
	return true;
}

/*
 * Tx with IN_ORDER, as the Tx burst reaps it: a batch of one when the
 * entry names the oldest, else as many as it names. False when the batch
 * is not all published yet.
 */
static bool
sp_inorder(uint16_t *pending, enum vv_used want, uint32_t want_id)
{
	struct vv_split_ring *r = &sp.r;
	bool last = false;
	unsigned int k = 0;
	uint32_t len;
	int id, n, h;

	id = vv_split_used_peek(r, &len);
	CHECK(id == (want == VV_USED_OK ? (int)want_id : -1),
	      "used_peek disagrees with the shadow");
	if (id >= 0 && vv_split_inorder_is_next(r, (uint16_t)id)) {
		CHECK(fifo_len > 0 && fifo[fifo_head] == id,
		      "inorder_is_next took a later chain for the oldest");
		CHECK(vv_split_inorder_next(r, (uint16_t)id, &last) == id &&
		      last, "inorder_next did not return the oldest");
		sp_free(fifo_pop());
		vv_split_used_skip(r);
		(*pending)--;
		return true;
	}
	CHECK(id < 0 || fifo_len == 0 || fifo[fifo_head] != id,
	      "inorder_is_next missed the oldest chain");
	n = id < 0 ? -1 : vv_split_inorder_batch(r, (uint16_t)id);
	CHECK(n == (id < 0 ? -1 : fifo_find((uint32_t)id)),
	      "inorder_batch miscounts the chains up to the id");
	if (n < 0) {
		vv_split_used_reject(r);
		sp.rejects++;
		found_bad();
		(*pending)--;
		return true;
	}
	if (n > *pending)
		return false;
	while ((h = vv_split_inorder_next(r, (uint16_t)id, &last)) >= 0) {
		CHECK(h == fifo_pop(), "inorder_next skipped a chain");
		sp_free((uint16_t)h);
		k++;
	}
	CHECK(last && k == (unsigned int)n,
	      "inorder_next completed another number of chains");
	vv_split_used_advance(r, (uint16_t)n);
	*pending = (uint16_t)(*pending - n);
	return true;
}

static void
sp_consume(void)
{
	struct vv_split_ring *r = &sp.r;
	uint16_t pending = vv_split_used_pending(r);
	uint16_t claimed = (uint16_t)(r->used->idx - r->used_idx);

	CHECK(pending == (claimed > sh.size ? 0 : claimed),
	      "used_pending disagrees with the used index");
	while (pending > 0) {
		const struct vring_used_elem *e =
			&r->used->ring[r->used_idx & r->mask];
		uint32_t want_id = e->id, want_len = e->len, len = 0;
		enum vv_used want = expect(want_id, want_len), u;
		uint16_t id = 0xffff;

		if (sh.tx && sh.in_order) {
			if (!sp_inorder(&pending, want, want_id))
				break;
		} else if (sh.tx) {
			int got = vv_split_used_pop(r, &len);

			CHECK(got == (want == VV_USED_OK ? (int)want_id : -1) &&
			      len == want_len,
			      "used_pop disagrees with the shadow");
			pending--;
			if (got < 0) {
				sp.rejects++;
				found_bad();
			} else {
				sp_free((uint16_t)got);
			}
		} else {
			u = vv_split_used_read(r, &id, &len);
			CHECK(u == want, "used_read disagrees with the shadow");
			CHECK(len == want_len &&
			      (u == VV_USED_BAD_ID || id == want_id),
			      "used_read returned other fields than written");
			pending--;
			if (u == VV_USED_BAD_ID) {
				vv_split_used_reject(r);
				sp.rejects++;
				found_bad();
				continue;
			}
			if (u == VV_USED_BAD_LEN)
				found_bad();
			vv_split_used_skip(r);
			sp_free(id);
		}
		sp_check();
	}
	sp_check();
	if (dirty) {
		/* The device rejoins where the driver reads. */
		sp.dev.used_idx = r->used_idx;
	} else {
		CHECK(sp.dev.used_idx == r->used_idx,
		      "the driver is not where the device wrote up to");
	}
}

/* The device completes every buffer in flight; true once all are back. */
static bool
sp_drain(void)
{
	uint16_t i;

	sp.dev.used_idx = sp.r.used_idx;
	if (sh.in_order && fifo_len > 0)
		sdev_put_batch(&sp.dev, fifo[(fifo_head + fifo_len - 1) %
					     MAX_SIZE], 0, (uint16_t)fifo_len);
	for (i = 0; !sh.in_order && i < sh.size; i++)
		if (shadow[i].ndesc != 0)
			sdev_put_used(&sp.dev, i, 0);
	sdev_publish(&sp.dev);
	sp_consume();
	CHECK(shadow_slots == 0 && sp.r.num_free == sh.size &&
	      vv_split_used_pending(&sp.r) == 0,
	      "a drained ring does not hold every descriptor");
	held_reset();
	sp.dev.last_avail = sp.r.avail_idx;
	sp.dev.errors = 0;
	return true;
}

/* ---- packed ----------------------------------------------------------- */

static struct {
	struct vv_packed_ring r;
	struct pdev dev;
	/* The model's positions, counted as the ring counts its own. */
	uint16_t dev_avail, dev_used;
	unsigned long rejects;
} pk;

static void
pk_reset(void)
{
	unsigned int flags = (sh.in_order ? VV_RING_IN_ORDER : 0) |
		(sh.event_idx ? VV_RING_EVENT_IDX : 0);

	CHECK(vv_packed_ring_init(&pk.r, shm, priv, sh.size, flags) == 0,
	      "init refused a valid ring");
	pdev_init(&pk.dev, pk.r.desc, sh.size);
	pk.dev_avail = pk.dev_used = 0;
	pk.rejects = 0;
}

/* The model's slot and wrap counter for a position the ring counts. */
static void
pk_seek(void)
{
	const struct vv_packed_ring *r = &pk.r;

	pdev_seek(&pk.dev, pk.dev_avail & r->mask,
		  vv_packed_wrap(r, pk.dev_avail), pk.dev_used & r->mask,
		  vv_packed_wrap(r, pk.dev_used));
}

/* a before b, on 16-bit positions */
static bool
pos_before(uint16_t a, uint16_t b)
{
	return (uint16_t)(b - a - 1) < 0x8000;
}

static void
pk_check(void)
{
	const struct vv_packed_ring *r = &pk.r;
	uint16_t room = (uint16_t)(r->avail_pos - r->used_pos);
	long deficit;

	CHECK(r->num_free <= sh.size, "num_free exceeds the ring");
	CHECK(r->num_free + shadow_slots == sh.size,
	      "free and in-flight descriptors do not add up to the ring");
	CHECK(room <= sh.size, "used_pos passed avail_pos");
	/*
	 * Completions move used_pos by what they free, a reject by one slot
	 * freeing nothing: slots in flight exceed those left to complete by
	 * at most the rejects, and never fall below.
	 */
	deficit = (long)(sh.size - r->num_free) - room;
	CHECK(deficit >= 0 && deficit <= (long)pk.rejects,
	      "in-flight slots and those left to complete drifted apart");
	CHECK(sh.in_order || r->bad_used == pk.rejects, "bad_used miscounts");
}

static void
pk_post(void)
{
	struct vv_packed_ring *r = &pk.r;
	unsigned int k = below(4);

	while (k-- > 0) {
		uint32_t seg, posted;
		uint16_t n = pick_chain(&seg, &posted), before = r->num_free, i;
		int id = vv_packed_id_alloc(r, n, posted);

		CHECK((id < 0) == (n > before),
		      "id_alloc disagrees with num_free");
		if (id < 0)
			break;
		shadow_post((uint16_t)id, n, posted);
		for (i = 0; i < n; i++)
			vv_packed_desc_put(r, (uint16_t)id,
					   addr_of((uint16_t)id, i), seg,
					   !sh.tx, i + 1 < n);
	}
	CHECK(dirty || !pdev_has_avail(&pk.dev),
	      "the device saw descriptors before they were published");
	vv_packed_avail_publish(r);
	(void)vv_packed_needs_kick(r);
}

/* The device finds exactly the chain posted under b's id. */
static void
pk_check_taken(const struct pdev_buf *b)
{
	uint16_t i;

	CHECK(pk.dev.errors == 0,
	      "the device found a descriptor not available in its lap");
	CHECK(b->id < sh.size && shadow[b->id].ndesc == b->ndesc,
	      "the device found another chain than the one posted");
	for (i = 0; i < b->ndesc; i++)
		CHECK(b->addr[i] == addr_of(b->id, i) &&
		      b->writable[i] == !sh.tx,
		      "the device found other descriptors than those posted");
}

static void
pk_lie(void)
{
	uint16_t ahead = (uint16_t)below(4), flags;
	uint32_t id = lie_id();

	/* At the device's position, the two after it, or the one before. */
	if (ahead == 3)
		ahead = sh.size - 1;
	switch (below(3)) {
	case 0:
		flags = (uint16_t)rnd();
		break;
	case 1:
		flags = pdev_used_flags(&pk.dev, ahead) |
			(uint16_t)(rnd() & ~VV_PACKED_F_WRAP_BITS);
		break;
	default:
		flags = pdev_used_flags(&pk.dev, ahead) ^
			(below(2) ? VV_PACKED_F_AVAIL : VV_PACKED_F_USED);
		break;
	}
	pdev_put_raw(&pk.dev, ahead, (uint16_t)id, lie_len(id), flags);
	if (below(16) == 0) {
		pk.r.device_event->off_wrap = (uint16_t)rnd();
		pk.r.device_event->flags = (uint16_t)below(4);
	}
}

static bool
pk_device_step(bool lie)
{
	struct pdev_buf b;
	unsigned int k;

	if (lie) {
		pk_lie();
		dirty = true;
		return true;
	}
	while (held_len < MAX_SIZE && pdev_take(&pk.dev, &b)) {
		uint32_t room = 0;
		uint16_t i;

		if (!dirty)
			pk_check_taken(&b);
		for (i = 0; i < b.ndesc; i++)
			room += b.writable[i] ? b.len[i] : 0;
		held_push(b.id < sh.size ? b.id : 0, b.ndesc, room);
		pk.dev_avail = (uint16_t)(pk.dev_avail + b.ndesc);
	}
	if (!dirty)
		CHECK(pk.dev_avail == pk.r.avail_pos,
		      "the device did not find all that was published");
	if (held_len == 0)
		return false;
	for (k = 1 + below(3); k > 0 && held_len > 0; k--) {
		if (sh.in_order) {
			unsigned int n = 1 + below(held_len), i;
			uint16_t skip = 0;
			struct held h = { 0, 0, 0 };

			for (i = 0; i < n; i++) {
				h = held_pop();
				skip = (uint16_t)(skip + h.ndesc);
			}
			pdev_put_used(&pk.dev, h.id, 0, skip);
			pk.dev_used = (uint16_t)(pk.dev_used + skip);
		} else {
			struct held h = held_pop_any();

			pdev_put_used(&pk.dev, h.id, honest_len(h.room),
				      h.ndesc);
			pk.dev_used = (uint16_t)(pk.dev_used + h.ndesc);
		}
	}
	return true;
}

/* The verdict on the descriptor at used_pos, from the shadow. */
static enum vv_used
pk_expect(uint16_t *id, uint32_t *len)
{
	const struct vv_packed_ring *r = &pk.r;
	const struct vring_packed_desc *d = &r->desc[r->used_pos & r->mask];
	uint16_t used = vv_packed_wrap(r, r->used_pos) ?
		VV_PACKED_F_WRAP_BITS : 0;

	if (r->used_pos == r->avail_pos ||
	    (d->flags & VV_PACKED_F_WRAP_BITS) != used)
		return VV_USED_NONE;
	*id = d->id;
	*len = d->len;
	return expect(*id, *len);
}

static void
pk_consume(void)
{
	struct vv_packed_ring *r = &pk.r;
	unsigned int reads = 0;

	if (below(8) == 0) {
		uint16_t pos = vv_packed_device_pos(r);

		CHECK(dirty || pos == pk.dev_used,
		      "device_pos is not where the device stands");
	}
	for (;;) {
		uint16_t want_id = 0, id = 0xffff;
		uint32_t want_len = 0, len = 0;
		enum vv_used want = pk_expect(&want_id, &want_len);
		enum vv_used u = vv_packed_used_read(r, &id, &len);

		CHECK(u == want, "used_read disagrees with the shadow");
		if (u == VV_USED_NONE)
			break;
		CHECK(++reads <= sh.size + 1u, "consuming never ends");
		CHECK(len == want_len && (u == VV_USED_BAD_ID || id == want_id),
		      "used_read returned other fields than written");
		if (u != VV_USED_OK)
			found_bad();
		if (sh.in_order) {
			/* As the Tx burst: a bad id completes the oldest. */
			int n = u == VV_USED_BAD_ID ? -1 :
				vv_packed_inorder_batch(r, id);

			CHECK(n == (u == VV_USED_BAD_ID ? -1 : fifo_find(id)),
			      "inorder_batch miscounts the chains up to the id");
			for (n = n < 0 ? 1 : n; n > 0; n--) {
				uint16_t oldest = fifo_pop();

				CHECK(vv_packed_oldest(r) == oldest &&
				      vv_packed_inorder_take(r) == oldest,
				      "inorder_take did not complete the oldest");
				shadow_done(oldest);
			}
		} else if (u == VV_USED_BAD_ID) {
			vv_packed_used_reject(r);
			pk.rejects++;
		} else {
			vv_packed_used_take(r, id);
			shadow_done(id);
		}
		pk_check();
	}
	pk_check();
	if (dirty) {
		/* The device rejoins where the driver reads. */
		pk.dev_used = r->used_pos;
		if (pos_before(pk.dev_avail, pk.dev_used))
			pk.dev_avail = pk.dev_used;
		if (pos_before(r->avail_pos, pk.dev_avail))
			pk.dev_avail = r->avail_pos;
		pk_seek();
		return;
	}
	CHECK(pk.dev_used == r->used_pos,
	      "the driver is not where the device wrote up to");
	/* The model's own wrap counters against the ring's parity. */
	CHECK(pk.dev.used_idx == (pk.dev_used & r->mask) &&
	      pk.dev.used_wrap == vv_packed_wrap(r, pk.dev_used) &&
	      pk.dev.avail_idx == (pk.dev_avail & r->mask) &&
	      pk.dev.avail_wrap == vv_packed_wrap(r, pk.dev_avail),
	      "the device's lap and the ring's disagree");
}

/*
 * The device completes every buffer in flight for which slots are left:
 * the shortest chains first, so the last one, if any is too long for what
 * is left, takes the rest. True once all are back.
 */
static bool
pk_drain(void)
{
	struct vv_packed_ring *r = &pk.r;
	uint16_t ids[MAX_SIZE], n = 0, i, j, room, at = 0;

	pk.dev_used = r->used_pos;
	pk.dev_avail = r->avail_pos;
	pk_seek();
	room = (uint16_t)(r->avail_pos - r->used_pos);
	if (sh.in_order && fifo_len > 0) {
		pdev_put_used(&pk.dev, fifo[(fifo_head + fifo_len - 1) %
					    MAX_SIZE], 0, (uint16_t)shadow_slots);
		pk.dev_used = (uint16_t)(pk.dev_used + shadow_slots);
	}
	for (i = 0; !sh.in_order && i < sh.size; i++) {
		if (shadow[i].ndesc == 0)
			continue;
		for (j = n++; j > 0 && shadow[ids[j - 1]].ndesc >
		     shadow[i].ndesc; j--)
			ids[j] = ids[j - 1];
		ids[j] = i;
	}
	for (i = 0; i < n && at < room; i++) {
		pdev_put_used(&pk.dev, ids[i], 0, shadow[ids[i]].ndesc);
		at = (uint16_t)(at + shadow[ids[i]].ndesc);
		pk.dev_used = (uint16_t)(pk.dev_used + shadow[ids[i]].ndesc);
	}
	pk_consume();
	if (shadow_slots != 0) {
		CHECK(!sh.in_order && pk.rejects > 0 &&
		      r->used_pos == r->avail_pos,
		      "an honest device could not return every buffer");
		wedged++;
		return false;
	}
	CHECK(r->num_free == sh.size && r->used_pos == r->avail_pos,
	      "a drained ring does not hold every slot");
	held_reset();
	pk.dev_used = r->used_pos;
	pk.dev_avail = r->avail_pos;
	pk_seek();
	pk.dev.errors = 0;
	return true;
}

/* ---- the run ---------------------------------------------------------- */

struct layout {
	const char *name;
	const char *entries;
	void (*reset)(void);
	void (*post)(void);
	bool (*device_step)(bool lie);	/* true when it wrote something */
	void (*consume)(void);
	bool (*drain)(void);		/* true when every slot is back */
};

static void
new_ring(const struct layout *l)
{
	sh.size = (uint16_t)(1u << below(9));
	sh.tx = below(2);
	/* Only Tx reaps IN_ORDER batches, as in the driver. */
	sh.in_order = sh.tx && below(2);
	sh.event_idx = below(2);
	shadow_reset();
	held_reset();
	dirty = false;
	l->reset();
}

static void
run(const struct layout *l, unsigned long want)
{
	layout = l->name;
	states = bad = epochs = wedged = 0;
	lie_rate = 0;
	new_ring(l);
	while (states < want) {
		/* Now and then one long enough to run positions past 65535. */
		unsigned long steps = below(32) == 0 ? 70000 :
			1 + below(16u * sh.size + 256);

		lie_rate = below(4) == 0 ? 0 : 1u << below(7);
		/* An honest epoch needs a device model that follows. */
		if (lie_rate == 0 && dirty)
			new_ring(l);
		while (steps-- > 0 && states < want) {
			l->post();
			states += l->device_step(below(64) < lie_rate);
			l->consume();
		}
		epochs++;
		if (!l->drain() || below(8) == 0)
			new_ring(l);
	}
	printf("%s: %lu states, %lu bad %s, %lu epochs", l->name, states, bad,
	       l->entries, epochs);
	if (wedged > 0)
		printf(", %lu rings kept slots lost to rejects", wedged);
	printf("\n");
}

static unsigned long
number(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	if (*s == '\0' || *end != '\0') {
		fprintf(stderr, "ring_fuzz: not a number: %s\n", s);
		exit(2);
	}
	return (unsigned long)v;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "states", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct layout layouts[] = {
		{ "split", "entries", sp_reset, sp_post, sp_device_step,
		  sp_consume, sp_drain },
		{ "packed", "descriptors", pk_reset, pk_post, pk_device_step,
		  pk_consume, pk_drain },
	};
	unsigned long want = 1000000;
	unsigned int i;
	int c;

	seed = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n') {
			want = number(optarg);
		} else if (c == 's') {
			seed = number(optarg);
		} else {
			fprintf(stderr,
				"usage: ring_fuzz [--states N] [--seed S]\n");
			return 2;
		}
	}
	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		/* Each layout from the seed alone: replayable on its own. */
		rng = seed * 0x9e3779b97f4a7c15ull + i + 1;
		run(&layouts[i], want);
	}
	return 0;
}

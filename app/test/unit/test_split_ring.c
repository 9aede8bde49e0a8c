/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver side of the split virtqueue against an in-process device model.
 *
 * The model only touches what a real device can see, the shared desc, avail
 * and used areas, and checks what the driver publishes there as strictly as
 * a device would: so a test passes only if the driver's bookkeeping and the
 * ring contents agree, not merely if the private state looks right.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "vv_split_ring.h"

#define SEG 64u			/* bytes behind every descriptor */
#define MAX_CHAIN 8u

/* ---------------------------------------------------------------------- */
/* Device model                                                            */

struct dev_model {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t size;
	uint16_t last_avail;	/* next avail entry the device takes */
	uint16_t used_idx;	/* next used entry the device writes */
};

/* A buffer as the device found it in the avail ring. */
struct dev_buf {
	uint16_t head;
	uint16_t ndesc;
	uint16_t ids[MAX_CHAIN];
	uint32_t readable;	/* bytes the driver handed over */
	uint32_t writable;	/* room the device may fill */
};

static void
dev_init(struct dev_model *m, const struct vv_split_ring *r)
{
	memset(m, 0, sizeof(*m));
	m->desc = r->desc;
	m->avail = r->avail;
	m->used = r->used;
	m->size = r->size;
}

static uint16_t
dev_avail_pending(const struct dev_model *m)
{
	uint16_t idx = __atomic_load_n(&m->avail->idx, __ATOMIC_ACQUIRE);

	return (uint16_t)(idx - m->last_avail);
}

/*
 * Takes the next published buffer and walks its chain the way a device
 * does, asserting every rule of the virtio spec it relies on.
 */
static bool
dev_take(struct dev_model *m, struct dev_buf *b)
{
	uint16_t id, n = 0;
	bool seen_write = false;

	if (dev_avail_pending(m) == 0)
		return false;
	assert_true(dev_avail_pending(m) <= m->size);
	id = m->avail->ring[m->last_avail & (m->size - 1)];
	m->last_avail++;
	assert_true(id < m->size);
	memset(b, 0, sizeof(*b));
	b->head = id;
	for (;;) {
		const struct vring_desc *d = &m->desc[id];

		/* A chain longer than the table means a loop. */
		assert_true(n < MAX_CHAIN && n < m->size);
		b->ids[n++] = id;
		assert_true(d->len <= SEG);
		assert_int_not_equal(d->addr, 0);
		if (d->flags & VRING_DESC_F_WRITE) {
			seen_write = true;
			b->writable += d->len;
		} else {
			/* Readable descriptors must come first. */
			assert_false(seen_write);
			b->readable += d->len;
		}
		assert_int_equal(d->flags & VRING_DESC_F_INDIRECT, 0);
		if (!(d->flags & VRING_DESC_F_NEXT))
			break;
		id = d->next;
		assert_true(id < m->size);
	}
	b->ndesc = n;
	return true;
}

/* Gathers what the driver gave into out; returns the byte count. */
static uint32_t
dev_read(const struct dev_model *m, const struct dev_buf *b, uint8_t *out)
{
	uint32_t off = 0;
	uint16_t i;

	for (i = 0; i < b->ndesc; i++) {
		const struct vring_desc *d = &m->desc[b->ids[i]];

		if (d->flags & VRING_DESC_F_WRITE)
			break;
		memcpy(out + off, (const void *)(uintptr_t)d->addr, d->len);
		off += d->len;
	}
	return off;
}

/* Scatters data over the writable descriptors; returns the bytes written. */
static uint32_t
dev_write(const struct dev_model *m, const struct dev_buf *b,
	  const uint8_t *data, uint32_t len)
{
	uint32_t off = 0;
	uint16_t i;

	for (i = 0; i < b->ndesc && off < len; i++) {
		const struct vring_desc *d = &m->desc[b->ids[i]];
		uint32_t n;

		if (!(d->flags & VRING_DESC_F_WRITE))
			continue;
		n = len - off < d->len ? len - off : d->len;
		memcpy((void *)(uintptr_t)d->addr, data + off, n);
		off += n;
	}
	return off;
}

/* Writes a used entry; the driver sees it only after dev_publish(). */
static void
dev_used(struct dev_model *m, uint32_t id, uint32_t len)
{
	struct vring_used_elem *e = &m->used->ring[m->used_idx & (m->size - 1)];

	e->id = id;
	e->len = len;
	m->used_idx++;
}

static void
dev_publish(struct dev_model *m)
{
	__atomic_store_n(&m->used->idx, m->used_idx, __ATOMIC_RELEASE);
}

/*
 * EVENT_IDX: the avail slot whose publication the device wants a kick for,
 * in the u16 the spec puts after used->ring[size].
 */
static void
dev_set_avail_event(struct dev_model *m, uint16_t idx)
{
	__atomic_store_n((uint16_t *)&m->used->ring[m->size], idx,
			 __ATOMIC_RELAXED);
}

/* The used idx the driver wants an interrupt after (after avail->ring). */
static uint16_t
dev_used_event(const struct dev_model *m)
{
	return __atomic_load_n(&m->avail->ring[m->size], __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------------- */
/* Driver-side harness                                                     */

struct ring {
	struct vv_split_ring r;
	struct dev_model dev;
	void *shm;
	size_t shm_len;
	void *priv;
	uint8_t (*bufs)[SEG];	/* one data buffer per descriptor */
	uint32_t *seq;		/* sequence number posted under each head */
	uint16_t *nwritable;	/* writable descriptors under each head */
	uint16_t inflight;	/* chains the driver has posted, not reaped */
};

static struct ring *
ring_new(uint16_t size, unsigned int flags)
{
	struct ring *t = calloc(1, sizeof(*t));
	long page = sysconf(_SC_PAGESIZE);

	assert_non_null(t);
	t->shm_len = (vv_split_ring_shared_size(size) + (size_t)page - 1) &
		~((size_t)page - 1);
	/* Page aligned, so a test can write-protect the shared area. */
	t->shm = mmap(NULL, t->shm_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(t->shm != MAP_FAILED);
	t->priv = malloc(vv_split_ring_priv_size(size));
	t->bufs = calloc(size, SEG);
	t->seq = calloc(size, sizeof(*t->seq));
	t->nwritable = calloc(size, sizeof(*t->nwritable));
	assert_non_null(t->priv);
	assert_non_null(t->bufs);
	assert_non_null(t->seq);
	assert_non_null(t->nwritable);
	/* Garbage, so init must not rely on zeroed private memory. */
	memset(t->priv, 0xa5, vv_split_ring_priv_size(size));
	assert_int_equal(vv_split_ring_init(&t->r, t->shm, t->priv, size,
					    flags), 0);
	dev_init(&t->dev, &t->r);
	return t;
}

static void
ring_free(struct ring *t)
{
	munmap(t->shm, t->shm_len);
	free(t->priv);
	free(t->bufs);
	free(t->seq);
	free(t->nwritable);
	free(t);
}

/*
 * Every descriptor is either on the free list or in exactly one in-flight
 * chain: the invariant a rejected used entry must not break.
 */
static void
check_descriptors(const struct ring *t)
{
	const struct vv_split_ring *r = &t->r;
	uint8_t *seen = calloc(r->size, 1);
	uint16_t id, i, j, chains = 0;
	uint32_t total = 0;

	assert_non_null(seen);
	id = r->free_head;
	for (i = 0; i < r->num_free; i++) {
		assert_true(id < r->size);
		assert_int_equal(seen[id], 0);
		seen[id] = 1;
		id = r->next[id];
	}
	total += r->num_free;
	for (i = 0; i < r->size; i++) {
		uint16_t n = r->chain_len[i];

		if (n == 0)
			continue;
		chains++;
		id = i;
		for (j = 0; j < n; j++) {
			assert_true(id < r->size);
			assert_int_equal(seen[id], 0);
			seen[id] = 1;
			if (j + 1 < n)
				id = r->next[id];
		}
		total += n;
	}
	assert_int_equal(total, r->size);
	assert_int_equal(chains, t->inflight);
	free(seen);
}

static void
fill_pattern(uint8_t *p, uint32_t len, uint32_t seq)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seq * 31u + i);
}

static void
check_pattern(const uint8_t *p, uint32_t len, uint32_t seq)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		assert_int_equal(p[i], (uint8_t)(seq * 31u + i));
}

/*
 * Posts a chain of nread readable descriptors (filled with the pattern of
 * seq) followed by nwrite writable ones. Returns the head or -1.
 */
static int
drv_post(struct ring *t, uint16_t nread, uint16_t nwrite, uint32_t seq)
{
	struct vv_split_ring *r = &t->r;
	uint16_t n = nread + nwrite, i, id;
	uint8_t tx[MAX_CHAIN * SEG];
	int head;

	head = vv_split_chain_alloc(r, n, (uint32_t)nwrite * SEG);
	if (head < 0)
		return -1;
	fill_pattern(tx, (uint32_t)nread * SEG, seq);
	id = (uint16_t)head;
	for (i = 0; i < n; i++) {
		struct vring_desc *d = &r->desc[id];

		/* NEXT and next are the ring's job; only the last lacks NEXT. */
		assert_int_equal(!!(d->flags & VRING_DESC_F_NEXT), i + 1 < n);
		if (i + 1 < n)
			assert_int_equal(d->next, vv_split_chain_next(r, id));
		d->addr = (uint64_t)(uintptr_t)t->bufs[id];
		d->len = SEG;
		if (i < nread) {
			memcpy(t->bufs[id], tx + i * SEG, SEG);
		} else {
			d->flags |= VRING_DESC_F_WRITE;
			memset(t->bufs[id], 0, SEG);
		}
		if (i + 1 < n)
			id = vv_split_chain_next(r, id);
	}
	t->seq[head] = seq;
	t->nwritable[head] = nwrite;
	vv_split_avail_push(r, (uint16_t)head);
	t->inflight++;
	return head;
}

/* Checks what the device wrote under head, then returns the chain. */
static void
drv_complete(struct ring *t, uint16_t head, uint32_t len)
{
	struct vv_split_ring *r = &t->r;
	uint8_t rx[MAX_CHAIN * SEG];
	uint16_t i, id = head, n = r->chain_len[head];
	uint32_t off = 0;

	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		if (r->desc[id].flags & VRING_DESC_F_WRITE) {
			memcpy(rx + off, t->bufs[id], SEG);
			off += SEG;
		}
		if (i + 1 < n)
			id = vv_split_chain_next(r, id);
	}
	assert_true(len <= off);
	/* The device echoes the sequence pattern, inverted, into Rx space. */
	for (i = 0; i < len; i++)
		assert_int_equal(rx[i], (uint8_t)~(uint8_t)(t->seq[head] * 31u + i));
	vv_split_chain_free(r, head);
	t->inflight--;
}

/*
 * The device's work for one buffer: check the Tx bytes against the
 * sequence they were posted with, and fill the Rx space.
 */
static uint32_t
dev_serve(struct ring *t, const struct dev_buf *b, uint32_t seq)
{
	uint8_t data[MAX_CHAIN * SEG];
	uint32_t n, i;

	n = dev_read(&t->dev, b, data);
	assert_int_equal(n, b->readable);
	check_pattern(data, n, seq);
	for (i = 0; i < b->writable; i++)
		data[i] = (uint8_t)~(uint8_t)(seq * 31u + i);
	return dev_write(&t->dev, b, data, b->writable);
}

/* Reaps everything published; returns the number of chains completed. */
static unsigned int
drv_reap(struct ring *t)
{
	struct vv_split_ring *r = &t->r;
	uint16_t pending = vv_split_used_pending(r);
	unsigned int done = 0;

	while (pending-- > 0) {
		uint32_t len;
		int id = vv_split_used_pop(r, &len);

		if (id < 0)
			continue;
		if (r->in_order) {
			bool last = false;
			int h;

			while ((h = vv_split_inorder_next(r, (uint16_t)id,
							  &last)) >= 0) {
				/* Only the reported buffer carries a length. */
				drv_complete(t, (uint16_t)h, h == id ? len : 0);
				done++;
			}
			assert_true(last);
		} else {
			drv_complete(t, (uint16_t)id, len);
			done++;
		}
	}
	return done;
}

/* One buffer through the whole cycle, as Tx (nread) or Rx (nwrite). */
static void
one_round_trip(struct ring *t, uint16_t nread, uint16_t nwrite, uint32_t seq)
{
	struct dev_buf b;
	uint32_t len;

	assert_true(drv_post(t, nread, nwrite, seq) >= 0);
	vv_split_avail_publish(&t->r);
	assert_true(dev_take(&t->dev, &b));
	len = dev_serve(t, &b, seq);
	dev_used(&t->dev, b.head, len);
	dev_publish(&t->dev);
	assert_int_equal(drv_reap(t), 1);
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                   */

static void
test_init_rejects_bad_sizes(void **state)
{
	static const uint16_t bad[] = { 0, 3, 6, 12, 100, 32769, 49152, 65535 };
	struct vv_split_ring r;
	uint8_t shm[256], priv[64];
	unsigned int i;

	(void)state;
	/* No power of two in uint16_t exceeds VV_RING_MAX_SIZE; 65535 is the
	 * largest value a caller can pass and must be refused. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vv_split_ring_init(&r, shm, priv, bad[i], 0),
				 -EINVAL);
	assert_int_equal(vv_split_ring_init(&r, NULL, priv, 4, 0), -EINVAL);
	assert_int_equal(vv_split_ring_init(&r, shm, NULL, 4, 0), -EINVAL);
}

static void
test_init_layout(void **state)
{
	static const uint16_t sizes[] = { 1, 2, 8, 256, 4096, VV_RING_MAX_SIZE };
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint16_t size = sizes[i];
		struct ring *t = ring_new(size, 0);
		struct vv_split_ring *r = &t->r;
		size_t avail_end = vv_split_ring_avail_offset(size) +
			offsetof(struct vring_avail, ring) +
			sizeof(uint16_t) * ((size_t)size + 1);
		size_t used_end = vv_split_ring_used_offset(size) +
			offsetof(struct vring_used, ring) +
			sizeof(struct vring_used_elem) * size +
			sizeof(uint16_t);

		/* The alignments virtio 1.x requires of each part. */
		assert_int_equal((uintptr_t)r->desc % 16, 0);
		assert_int_equal((uintptr_t)r->avail % 2, 0);
		assert_int_equal((uintptr_t)r->used % 4, 0);
		assert_true(avail_end <= vv_split_ring_used_offset(size));
		assert_true(used_end <= vv_split_ring_shared_size(size));
		assert_int_equal(r->size, size);
		assert_int_equal(r->num_free, size);
		assert_int_equal(r->avail->idx, 0);
		assert_int_equal(r->used->idx, 0);
		/* A polling driver asks for no interrupts. */
		assert_int_equal(r->avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
		assert_int_equal(vv_split_used_pending(r), 0);
		check_descriptors(t);
		ring_free(t);
	}
}

static void
test_single_buffer_tx_and_rx(void **state)
{
	struct ring *t = ring_new(8, 0);
	struct dev_buf b;
	uint32_t len;
	int head, id;

	(void)state;
	/* Tx: one readable buffer, device reports 0 bytes written. */
	head = drv_post(t, 1, 0, 7);
	assert_true(head >= 0);
	assert_int_equal(t->r.num_free, 7);
	/* Nothing is visible before publish. */
	assert_false(dev_take(&t->dev, &b));
	vv_split_avail_publish(&t->r);
	assert_true(dev_take(&t->dev, &b));
	assert_int_equal(b.head, head);
	assert_int_equal(b.ndesc, 1);
	assert_int_equal(dev_serve(t, &b, 7), 0);
	dev_used(&t->dev, b.head, 0);
	assert_int_equal(vv_split_used_pending(&t->r), 0);
	dev_publish(&t->dev);
	assert_int_equal(vv_split_used_pending(&t->r), 1);
	id = vv_split_used_pop(&t->r, &len);
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	drv_complete(t, (uint16_t)id, len);
	assert_int_equal(t->r.num_free, 8);

	/* Rx: one writable buffer the device fills completely. */
	head = drv_post(t, 0, 1, 9);
	vv_split_avail_publish(&t->r);
	assert_true(dev_take(&t->dev, &b));
	assert_int_equal(b.writable, SEG);
	len = dev_serve(t, &b, 9);
	assert_int_equal(len, SEG);
	dev_used(&t->dev, b.head, len);
	dev_publish(&t->dev);
	id = vv_split_used_pop(&t->r, &len);
	assert_int_equal(id, head);
	assert_int_equal(len, SEG);
	drv_complete(t, (uint16_t)id, len);
	assert_int_equal(t->r.bad_used, 0);
	check_descriptors(t);
	ring_free(t);
}

static void
test_chained_buffers(void **state)
{
	struct ring *t = ring_new(16, 0);
	struct dev_buf b;
	int h1, h2, h3;

	(void)state;
	/* Tx chain, Rx chain, and a mixed chain as a request/response. */
	h1 = drv_post(t, 3, 0, 1);
	h2 = drv_post(t, 0, 4, 2);
	h3 = drv_post(t, 1, 2, 3);
	assert_true(h1 >= 0 && h2 >= 0 && h3 >= 0);
	assert_int_equal(t->r.num_free, 16 - 10);
	check_descriptors(t);
	vv_split_avail_publish(&t->r);

	assert_true(dev_take(&t->dev, &b));
	assert_int_equal(b.head, h1);
	assert_int_equal(b.ndesc, 3);
	assert_int_equal(b.readable, 3 * SEG);
	dev_used(&t->dev, b.head, dev_serve(t, &b, 1));
	assert_true(dev_take(&t->dev, &b));
	assert_int_equal(b.head, h2);
	assert_int_equal(b.ndesc, 4);
	assert_int_equal(b.writable, 4 * SEG);
	dev_used(&t->dev, b.head, dev_serve(t, &b, 2));
	assert_true(dev_take(&t->dev, &b));
	assert_int_equal(b.head, h3);
	assert_int_equal(b.readable, SEG);
	assert_int_equal(b.writable, 2 * SEG);
	dev_used(&t->dev, b.head, dev_serve(t, &b, 3));
	assert_false(dev_take(&t->dev, &b));
	dev_publish(&t->dev);

	assert_int_equal(drv_reap(t), 3);
	assert_int_equal(t->r.num_free, 16);
	assert_int_equal(t->r.bad_used, 0);
	check_descriptors(t);
	ring_free(t);
}

static void
test_full_ring(void **state)
{
	struct ring *t = ring_new(8, 0);
	struct vv_split_ring saved;
	struct dev_buf b;
	uint32_t seq = 0;

	(void)state;
	assert_int_equal(vv_split_chain_alloc(&t->r, 0, 0), -1);
	assert_int_equal(vv_split_chain_alloc(&t->r, 9, 0), -1);
	assert_true(drv_post(t, 3, 0, seq++) >= 0);
	assert_true(drv_post(t, 3, 0, seq++) >= 0);
	assert_int_equal(t->r.num_free, 2);
	/* Asking for more than is free changes nothing. */
	saved = t->r;
	assert_int_equal(vv_split_chain_alloc(&t->r, 3, 0), -1);
	assert_memory_equal(&saved, &t->r, sizeof(saved));
	assert_true(drv_post(t, 2, 0, seq++) >= 0);
	assert_int_equal(t->r.num_free, 0);
	assert_int_equal(vv_split_chain_alloc(&t->r, 1, 0), -1);
	check_descriptors(t);

	/* The device can take all of it, and all of it comes back. */
	vv_split_avail_publish(&t->r);
	for (seq = 0; seq < 3; seq++) {
		assert_true(dev_take(&t->dev, &b));
		dev_used(&t->dev, b.head, dev_serve(t, &b, seq));
	}
	dev_publish(&t->dev);
	assert_int_equal(drv_reap(t), 3);
	assert_int_equal(t->r.num_free, 8);
	check_descriptors(t);
	ring_free(t);
}

static void
test_empty_ring(void **state)
{
	struct ring *t = ring_new(8, 0);

	(void)state;
	assert_int_equal(vv_split_used_pending(&t->r), 0);
	one_round_trip(t, 1, 0, 1);
	assert_int_equal(vv_split_used_pending(&t->r), 0);
	/* Buffers in flight but none used yet: still nothing pending. */
	assert_true(drv_post(t, 1, 0, 2) >= 0);
	vv_split_avail_publish(&t->r);
	assert_int_equal(vv_split_used_pending(&t->r), 0);
	ring_free(t);
}

/* Small deterministic PRNG so a failure reproduces exactly. */
static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/*
 * Many operations on a tiny ring, with chains of mixed shape and the device
 * completing out of order and holding buffers across rounds, so both 16-bit
 * indices wrap several times with the ring in every state.
 */
static void
run_random(struct ring *t, uint32_t ops, uint32_t seed)
{
	struct dev_buf held[64];
	uint32_t held_seq[64];
	uint32_t posted = 0, completed = 0, seq_taken = 0, s = seed;
	unsigned int nheld = 0;

	while (completed < ops) {
		unsigned int burst = lcg(&s) % 5, i;
		struct dev_buf b;

		/* Driver: post what fits. */
		for (i = 0; i < burst && posted < ops; i++) {
			uint16_t nread = lcg(&s) % 3, nwrite = lcg(&s) % 3;

			if (nread + nwrite == 0)
				nread = 1;
			if (drv_post(t, nread, nwrite, posted) < 0)
				break;
			posted++;
		}
		vv_split_avail_publish(&t->r);

		/* Device: take everything, complete a random subset. */
		while (nheld < 64 && dev_take(&t->dev, &b)) {
			held_seq[nheld] = seq_taken++;
			held[nheld++] = b;
		}
		for (i = lcg(&s) % (nheld + 1); i > 0; i--) {
			unsigned int k = lcg(&s) % nheld;

			dev_used(&t->dev, held[k].head,
				 dev_serve(t, &held[k], held_seq[k]));
			held[k] = held[nheld - 1];
			held_seq[k] = held_seq[nheld - 1];
			nheld--;
		}
		dev_publish(&t->dev);
		completed += drv_reap(t);
		assert_int_equal(t->inflight, posted - completed);
	}
	assert_int_equal(t->r.bad_used, 0);
	assert_int_equal(t->r.num_free, t->r.size);
	assert_int_equal(t->inflight, 0);
	check_descriptors(t);
}

static void
test_wraparound_random(void **state)
{
	struct ring *t = ring_new(8, 0);

	(void)state;
	run_random(t, 70000, 12345);
	/* Both indices went past 0xffff at least once. */
	assert_int_equal(t->r.avail_idx, (uint16_t)70000);
	assert_int_equal(t->r.used_idx, (uint16_t)70000);
	ring_free(t);
}

/*
 * Drives the ring to just below the 16-bit wrap, then fills and drains it
 * across the wrap, where used->idx is numerically below used_idx.
 */
static void
test_wraparound_near_ffff(void **state)
{
	struct ring *t = ring_new(8, 0);
	uint32_t seq;
	int round;

	(void)state;
	for (seq = 0; seq < 0xfff0; seq++)
		one_round_trip(t, 1, 0, seq);
	assert_int_equal(t->r.avail_idx, 0xfff0);
	assert_int_equal(t->r.used_idx, 0xfff0);
	assert_int_equal(t->r.avail->idx, 0xfff0);

	for (round = 0; round < 4; round++) {
		struct dev_buf b;
		int i;

		/* Alternate Tx and Rx so both directions cross the wrap. */
		for (i = 0; i < 8; i++)
			assert_true(drv_post(t, i & 1, !(i & 1), seq + i) >= 0);
		assert_int_equal(t->r.num_free, 0);
		vv_split_avail_publish(&t->r);
		assert_int_equal(dev_avail_pending(&t->dev), 8);
		for (i = 0; i < 8; i++) {
			assert_true(dev_take(&t->dev, &b));
			dev_used(&t->dev, b.head, dev_serve(t, &b, seq + i));
		}
		dev_publish(&t->dev);
		assert_int_equal(vv_split_used_pending(&t->r), 8);
		assert_int_equal(drv_reap(t), 8);
		assert_int_equal(t->r.num_free, 8);
		seq += 8;
	}
	/* 0xfff0 + 32 crossed the wrap. */
	assert_int_equal(t->r.used_idx, 0x0010);
	assert_int_equal(t->r.bad_used, 0);
	check_descriptors(t);
	ring_free(t);
}

/* Posts three Rx buffers and lets the device take them; returns heads. */
static void
post_three_rx(struct ring *t, int heads[3])
{
	struct dev_buf b;
	int i;

	for (i = 0; i < 3; i++) {
		heads[i] = drv_post(t, 0, 1, (uint32_t)i);
		assert_true(heads[i] >= 0);
	}
	vv_split_avail_publish(&t->r);
	for (i = 0; i < 3; i++) {
		assert_true(dev_take(&t->dev, &b));
		assert_int_equal(b.head, heads[i]);
		/* The device writes the data; the used entries are the test's. */
		dev_serve(t, &b, (uint32_t)i);
	}
}

/* Pops one entry and, if valid, completes it; returns the pop result. */
static int
pop_one(struct ring *t)
{
	uint32_t len = 0xdeadbeef;
	int id = vv_split_used_pop(&t->r, &len);

	if (id >= 0)
		drv_complete(t, (uint16_t)id, len);
	return id;
}

static void
test_bad_used_id_out_of_range(void **state)
{
	struct ring *t = ring_new(8, 0);
	struct dev_buf b;
	int heads[3], i;

	(void)state;
	/* One full lap first, so no private array holds zeros: an id one
	 * past the end then reads garbage instead of a lucky 0 if the bound
	 * check is off by one. */
	for (i = 0; i < 8; i++)
		assert_int_equal(drv_post(t, 0, 1, (uint32_t)i), i);
	vv_split_avail_publish(&t->r);
	for (i = 0; i < 8; i++) {
		assert_true(dev_take(&t->dev, &b));
		dev_used(&t->dev, b.head, dev_serve(t, &b, (uint32_t)i));
	}
	dev_publish(&t->dev);
	assert_int_equal(drv_reap(t), 8);
	post_three_rx(t, heads);
	/* The free list is FIFO: heads come back in completion order. */
	assert_int_equal(heads[0], 0);
	dev_used(&t->dev, 8, 0);
	dev_used(&t->dev, 0xffff, 0);
	dev_used(&t->dev, 0xffffffffu, 0);
	dev_used(&t->dev, 0x10000u + (uint32_t)heads[0], SEG);
	for (i = 0; i < 3; i++)
		dev_used(&t->dev, (uint32_t)heads[i], SEG);
	dev_publish(&t->dev);

	assert_int_equal(vv_split_used_pending(&t->r), 7);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pop_one(t), -1);
		assert_int_equal(t->r.num_free, 5);
		check_descriptors(t);
	}
	assert_int_equal(t->r.bad_used, 4);
	for (i = 0; i < 3; i++)
		assert_int_equal(pop_one(t), heads[i]);
	assert_int_equal(vv_split_used_pending(&t->r), 0);
	assert_int_equal(t->r.num_free, 8);
	check_descriptors(t);
	ring_free(t);
}

static void
test_bad_used_not_in_flight(void **state)
{
	struct ring *t = ring_new(8, 0);
	int heads[3], i;

	(void)state;
	post_three_rx(t, heads);
	/* 5 and 7 are valid ids on the free list: not in flight. */
	assert_int_equal(t->r.chain_len[5], 0);
	assert_int_equal(t->r.chain_len[7], 0);
	dev_used(&t->dev, 5, 0);
	dev_used(&t->dev, 7, 0);
	for (i = 0; i < 3; i++)
		dev_used(&t->dev, (uint32_t)heads[i], SEG);
	dev_publish(&t->dev);

	assert_int_equal(pop_one(t), -1);
	assert_int_equal(pop_one(t), -1);
	assert_int_equal(t->r.num_free, 5);
	check_descriptors(t);
	for (i = 0; i < 3; i++)
		assert_int_equal(pop_one(t), heads[i]);
	assert_int_equal(t->r.bad_used, 2);
	assert_int_equal(t->r.num_free, 8);
	check_descriptors(t);
	ring_free(t);
}

static void
test_bad_used_not_a_head(void **state)
{
	struct ring *t = ring_new(8, 0);
	struct dev_buf b;
	uint16_t second;
	int head;

	(void)state;
	/* The second descriptor of a chain is busy but is no head. */
	head = drv_post(t, 0, 3, 4);
	second = vv_split_chain_next(&t->r, (uint16_t)head);
	vv_split_avail_publish(&t->r);
	assert_true(dev_take(&t->dev, &b));
	dev_serve(t, &b, 4);
	dev_used(&t->dev, second, SEG);
	dev_used(&t->dev, b.head, 3 * SEG);
	dev_publish(&t->dev);
	assert_int_equal(pop_one(t), -1);
	check_descriptors(t);
	assert_int_equal(pop_one(t), head);
	assert_int_equal(t->r.bad_used, 1);
	assert_int_equal(t->r.num_free, 8);
	check_descriptors(t);
	ring_free(t);
}

static void
test_bad_used_duplicate(void **state)
{
	struct ring *t = ring_new(8, 0);
	int heads[3];

	(void)state;
	post_three_rx(t, heads);
	dev_used(&t->dev, (uint32_t)heads[1], SEG);
	dev_used(&t->dev, (uint32_t)heads[1], SEG);	/* again */
	dev_used(&t->dev, (uint32_t)heads[0], SEG);
	dev_used(&t->dev, (uint32_t)heads[1], SEG);	/* and again */
	dev_used(&t->dev, (uint32_t)heads[2], SEG);
	dev_publish(&t->dev);

	assert_int_equal(pop_one(t), heads[1]);
	assert_int_equal(pop_one(t), -1);
	assert_int_equal(t->r.num_free, 6);
	check_descriptors(t);
	assert_int_equal(pop_one(t), heads[0]);
	assert_int_equal(pop_one(t), -1);
	assert_int_equal(pop_one(t), heads[2]);
	assert_int_equal(t->r.bad_used, 2);
	/* Freed exactly once each: a double free would overcount num_free. */
	assert_int_equal(t->r.num_free, 8);
	check_descriptors(t);
	/* The ring still works afterwards. */
	one_round_trip(t, 1, 1, 99);
	check_descriptors(t);
	ring_free(t);
}

static void
test_bad_used_len(void **state)
{
	struct ring *t = ring_new(8, 0);
	int heads[3];

	(void)state;
	post_three_rx(t, heads);
	/* Each posted one writable SEG: one byte more is a lie. */
	dev_used(&t->dev, (uint32_t)heads[0], SEG + 1);
	dev_used(&t->dev, (uint32_t)heads[1], UINT32_MAX);
	dev_used(&t->dev, (uint32_t)heads[0], SEG);	/* boundary: fine */
	dev_used(&t->dev, (uint32_t)heads[1], 0);
	dev_used(&t->dev, (uint32_t)heads[2], 1);
	dev_publish(&t->dev);

	assert_int_equal(pop_one(t), -1);
	assert_int_equal(pop_one(t), -1);
	assert_int_equal(t->r.num_free, 5);
	check_descriptors(t);
	assert_int_equal(pop_one(t), heads[0]);
	assert_int_equal(pop_one(t), heads[1]);
	assert_int_equal(pop_one(t), heads[2]);
	assert_int_equal(t->r.bad_used, 2);
	assert_int_equal(t->r.num_free, 8);
	check_descriptors(t);
	ring_free(t);
}

static void
test_used_idx_jump(void **state)
{
	struct ring *t = ring_new(8, 0);
	uint16_t base;
	uint32_t seq;

	(void)state;
	/* Check both far from and across the 16-bit wrap. */
	for (seq = 0; seq < 0xfffc; seq++) {
		if (seq == 5 || seq == 0xfffb) {
			base = t->r.used_idx;
			t->r.used->idx = (uint16_t)(base + 9);
			assert_int_equal(vv_split_used_pending(&t->r), 0);
			t->r.used->idx = (uint16_t)(base + 0x8000);
			assert_int_equal(vv_split_used_pending(&t->r), 0);
			/* Behind us reads as a huge distance: also a lie. */
			t->r.used->idx = (uint16_t)(base - 1);
			assert_int_equal(vv_split_used_pending(&t->r), 0);
			/* Exactly a full ring is possible. */
			t->r.used->idx = (uint16_t)(base + 8);
			assert_int_equal(vv_split_used_pending(&t->r), 8);
			t->r.used->idx = base;
			assert_int_equal(vv_split_used_pending(&t->r), 0);
			/* used_pending only reads: state untouched. */
			assert_int_equal(t->r.used_idx, base);
			assert_int_equal(t->r.bad_used, 0);
		}
		one_round_trip(t, 1, 0, seq);
	}
	check_descriptors(t);
	ring_free(t);
}

static void
test_used_peek(void **state)
{
	struct ring *t = ring_new(8, 0);
	uint32_t len;
	int heads[3];

	(void)state;
	post_three_rx(t, heads);
	dev_used(&t->dev, 42, 0);
	dev_used(&t->dev, (uint32_t)heads[0], 17);
	dev_publish(&t->dev);

	/* Peek neither consumes nor counts. */
	assert_int_equal(vv_split_used_peek(&t->r, &len), -1);
	assert_int_equal(vv_split_used_peek(&t->r, &len), -1);
	assert_int_equal(t->r.used_idx, 0);
	assert_int_equal(t->r.bad_used, 0);
	assert_int_equal(pop_one(t), -1);
	assert_int_equal(vv_split_used_peek(&t->r, &len), heads[0]);
	assert_int_equal(len, 17);
	assert_int_equal(vv_split_used_pending(&t->r), 1);
	assert_int_equal(pop_one(t), heads[0]);
	ring_free(t);
}

static void
test_inorder_batch(void **state)
{
	struct ring *t = ring_new(8, VV_SPLIT_IN_ORDER);
	struct dev_buf b[5];
	bool last = false;
	uint32_t len;
	int heads[5], i, id;

	(void)state;
	/* Chains of different lengths, so heads are not consecutive ids. */
	for (i = 0; i < 5; i++) {
		heads[i] = drv_post(t, (uint16_t)(1 + (i & 1)), 0, (uint32_t)i);
		assert_true(heads[i] >= 0);
	}
	vv_split_avail_publish(&t->r);
	for (i = 0; i < 5; i++) {
		assert_true(dev_take(&t->dev, &b[i]));
		assert_int_equal(dev_serve(t, &b[i], (uint32_t)i), 0);
	}
	/* One used entry for the first three, one for the last two. */
	dev_used(&t->dev, b[2].head, 0);
	dev_used(&t->dev, b[4].head, 0);
	dev_publish(&t->dev);
	assert_int_equal(vv_split_used_pending(&t->r), 2);

	id = vv_split_used_pop(&t->r, &len);
	assert_int_equal(id, heads[2]);
	for (i = 0; i < 3; i++) {
		assert_false(last);
		assert_int_equal(vv_split_inorder_next(&t->r, (uint16_t)id,
						       &last), heads[i]);
		drv_complete(t, (uint16_t)heads[i], 0);
	}
	assert_true(last);
	/* Done: the rest of the batch is not handed out yet. */
	assert_int_equal(vv_split_inorder_next(&t->r, (uint16_t)id, &last),
			 -1);
	check_descriptors(t);

	id = vv_split_used_pop(&t->r, &len);
	assert_int_equal(id, heads[4]);
	last = false;
	assert_int_equal(vv_split_inorder_next(&t->r, (uint16_t)id, &last),
			 heads[3]);
	drv_complete(t, (uint16_t)heads[3], 0);
	assert_int_equal(vv_split_inorder_next(&t->r, (uint16_t)id, &last),
			 heads[4]);
	drv_complete(t, (uint16_t)heads[4], 0);
	assert_true(last);
	assert_int_equal(vv_split_inorder_next(&t->r, (uint16_t)id, &last),
			 -1);
	/* Nothing left in flight: even a fresh call finds nothing. */
	last = false;
	assert_int_equal(vv_split_inorder_next(&t->r, 0, &last), -1);
	assert_int_equal(t->r.num_free, 8);
	check_descriptors(t);
	ring_free(t);
}

static void
test_inorder_stale_entry_rejected(void **state)
{
	struct ring *t = ring_new(8, VV_SPLIT_IN_ORDER);
	struct dev_buf b[3];
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_true(drv_post(t, 1, 0, (uint32_t)i) >= 0);
	vv_split_avail_publish(&t->r);
	for (i = 0; i < 3; i++) {
		assert_true(dev_take(&t->dev, &b[i]));
		dev_serve(t, &b[i], (uint32_t)i);
	}
	/* The batch entry completes all three; a late entry for the first
	 * names a buffer that is no longer in flight. */
	dev_used(&t->dev, b[2].head, 0);
	dev_used(&t->dev, b[0].head, 0);
	dev_publish(&t->dev);
	assert_int_equal(drv_reap(t), 3);
	assert_int_equal(t->r.bad_used, 1);
	assert_int_equal(t->r.num_free, 8);
	check_descriptors(t);
	ring_free(t);
}

/*
 * In-order device over many wraps: buffers are taken in order and each
 * batch of random size is reported by a single used entry for its last
 * buffer, or by one entry per buffer.
 */
static void
test_inorder_wraparound(void **state)
{
	struct ring *t = ring_new(8, VV_SPLIT_IN_ORDER);
	uint32_t posted = 0, served = 0, completed = 0, s = 777;

	(void)state;
	while (completed < 70000) {
		unsigned int burst = 1 + lcg(&s) % 8, i;
		struct dev_buf b;
		bool batch = lcg(&s) & 1;
		uint16_t last_head = 0;
		unsigned int ntaken = 0;

		for (i = 0; i < burst; i++) {
			if (drv_post(t, (uint16_t)(1 + lcg(&s) % 2), 0,
				     posted) < 0)
				break;
			posted++;
		}
		vv_split_avail_publish(&t->r);
		burst = lcg(&s) % (dev_avail_pending(&t->dev) + 1);
		for (i = 0; i < burst; i++) {
			assert_true(dev_take(&t->dev, &b));
			dev_serve(t, &b, served++);
			last_head = b.head;
			ntaken++;
			if (!batch)
				dev_used(&t->dev, b.head, 0);
		}
		if (batch && ntaken > 0)
			dev_used(&t->dev, last_head, 0);
		dev_publish(&t->dev);
		completed += drv_reap(t);
		assert_int_equal(completed, served);
	}
	assert_int_equal(t->r.bad_used, 0);
	check_descriptors(t);
	ring_free(t);
}

static void
test_avail_entry_not_rewritten(void **state)
{
	struct ring *t = ring_new(8, 0);
	uint32_t seq;
	int head;

	(void)state;
	/* One buffer at a time: the FIFO free list hands out 0..7 in turn,
	 * so after one lap each avail entry already holds the head pushed
	 * next. */
	for (seq = 0; seq < 8; seq++)
		one_round_trip(t, 1, 0, seq);
	for (; seq < 24; seq++) {
		uint16_t slot = t->r.avail_idx & t->r.mask;
		struct dev_buf b;

		head = vv_split_chain_alloc(&t->r, 1, 0);
		assert_int_equal(head, slot);
		assert_int_equal(t->r.avail->ring[slot], slot);
		t->r.desc[head].addr = (uint64_t)(uintptr_t)t->bufs[head];
		t->r.desc[head].len = SEG;
		fill_pattern(t->bufs[head], SEG, seq);
		t->seq[head] = seq;
		t->nwritable[head] = 0;
		t->inflight++;
		/* A write to the shared area now faults. */
		assert_int_equal(mprotect(t->shm, t->shm_len, PROT_READ), 0);
		vv_split_avail_push(&t->r, (uint16_t)head);
		assert_int_equal(mprotect(t->shm, t->shm_len,
					  PROT_READ | PROT_WRITE), 0);
		vv_split_avail_publish(&t->r);
		assert_true(dev_take(&t->dev, &b));
		assert_int_equal(b.head, slot);
		dev_used(&t->dev, b.head, dev_serve(t, &b, seq));
		dev_publish(&t->dev);
		assert_int_equal(drv_reap(t), 1);
	}

	/* With two in flight each slot still receives the head posted. */
	head = drv_post(t, 1, 0, seq);
	assert_int_equal(head, 0);
	head = drv_post(t, 1, 0, seq + 1);
	assert_int_equal(head, 1);
	assert_int_equal(t->r.avail->ring[(t->r.avail_idx - 1) & t->r.mask],
			 1);
	ring_free(t);
}

static void
test_needs_kick(void **state)
{
	struct ring *t = ring_new(8, 0);

	(void)state;
	assert_true(vv_split_needs_kick(&t->r));
	t->r.used->flags = VRING_USED_F_NO_NOTIFY;
	assert_false(vv_split_needs_kick(&t->r));
	/* Other bits are reserved and must not be taken for NO_NOTIFY. */
	t->r.used->flags = (uint16_t)~VRING_USED_F_NO_NOTIFY;
	assert_true(vv_split_needs_kick(&t->r));
	t->r.used->flags = 0xffff;
	assert_false(vv_split_needs_kick(&t->r));
	t->r.used->flags = 0;
	assert_true(vv_split_needs_kick(&t->r));
	ring_free(t);
}

/* ---------------------------------------------------------------------- */
/* Notification suppression                                                */

/*
 * The spec's rule for EVENT_IDX (virtio 1.1, 2.6.10), stated apart from
 * vring_need_event: a kick is due when one of the avail slots published
 * since the last decision, old up to new - 1, is the slot the device named.
 */
static bool
kick_due(uint16_t event, uint16_t old, uint16_t new)
{
	uint16_t i;

	for (i = old; i != new; i++)
		if (i == event)
			return true;
	return false;
}

/* Posts n one-descriptor Tx buffers, publishes them, and decides. */
static bool
drv_burst(struct ring *t, uint16_t n, uint32_t *seq)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		assert_true(drv_post(t, 1, 0, (*seq)++) >= 0);
	vv_split_avail_publish(&t->r);
	return vv_split_needs_kick(&t->r);
}

/* The device serves all that is published; the driver reaps it. */
static void
dev_drain(struct ring *t, uint32_t *seq_served)
{
	struct dev_buf b;
	unsigned int n = 0;

	while (dev_take(&t->dev, &b)) {
		dev_used(&t->dev, b.head, dev_serve(t, &b, (*seq_served)++));
		n++;
	}
	dev_publish(&t->dev);
	assert_int_equal(drv_reap(t), n);
}

/* Moves both indices to `idx` with kick decisions along the way. */
static void
ring_advance(struct ring *t, uint16_t idx, uint32_t *seq, uint32_t *served)
{
	while (t->r.avail_idx != idx) {
		uint16_t n = (uint16_t)(idx - t->r.avail_idx);

		drv_burst(t, n < t->r.size ? n : t->r.size, seq);
		dev_drain(t, served);
	}
}

/*
 * Where the event indices sit: just after each ring, inside the area the
 * layout reserves, overlapping nothing else (virtio 1.1, 2.6: 6 + 2 * size
 * bytes of avail ring, 6 + 8 * size of used ring).
 */
static void
test_event_idx_layout(void **state)
{
	static const uint16_t sizes[] = { 1, 2, 8, 256, 4096, VV_RING_MAX_SIZE };
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint16_t size = sizes[i];
		struct ring *t = ring_new(size, VV_SPLIT_EVENT_IDX);
		struct vv_split_ring *r = &t->r;
		uint8_t *base = t->shm, *copy;
		size_t shared = vv_split_ring_shared_size(size);
		size_t avail = vv_split_ring_avail_offset(size);
		size_t used = vv_split_ring_used_offset(size);
		/* flags, idx, ring[size], then the event index */
		size_t used_event = avail + 4 + 2 * (size_t)size;
		size_t avail_event = used + 4 + 8 * (size_t)size;
		size_t k;

		assert_int_equal(avail, 16 * (size_t)size);
		assert_ptr_equal(vv_split_used_event(r), base + used_event);
		assert_ptr_equal(vv_split_avail_event(r), base + avail_event);
		assert_true(used_event + 2 <= used);
		assert_true(avail_event + 2 <= shared);

		/* Storing both changes those four bytes and nothing else. */
		copy = malloc(shared);
		assert_non_null(copy);
		for (k = 0; k < shared; k++)
			base[k] = (uint8_t)(k * 7 + 1);
		memcpy(copy, base, shared);
		*vv_split_used_event(r) = 0x5aa5;
		*vv_split_avail_event(r) = 0xa55a;
		for (k = 0; k < shared; k++) {
			if (k - used_event < 2 || k - avail_event < 2)
				continue;
			assert_int_equal(base[k], copy[k]);
		}
		/* Where the device model, reading as the spec says, finds them. */
		assert_int_equal(dev_used_event(&t->dev), 0x5aa5);
		assert_int_equal(__atomic_load_n((uint16_t *)
						 &t->dev.used->ring[size],
						 __ATOMIC_RELAXED), 0xa55a);
		free(copy);
		ring_free(t);
	}
}

/*
 * With EVENT_IDX the driver must leave avail->flags 0 and has only
 * used_event to keep a device from interrupting: the value set at init is
 * passed only once per lap of the used idx, and not in the first lap.
 */
static void
test_event_idx_used_event(void **state)
{
	struct ring *t = ring_new(8, VV_SPLIT_EVENT_IDX);
	struct ring *plain = ring_new(8, 0);
	uint32_t seq = 0, served = 0, i, interrupts = 0;
	uint16_t ue;

	(void)state;
	assert_int_equal(t->r.avail->flags, 0);
	ue = dev_used_event(&t->dev);
	/* A device checking after every single completion, from used idx 0. */
	for (i = 0; i < 3u * 65536; i++)
		if (vring_need_event(ue, (uint16_t)(i + 1), (uint16_t)i)) {
			assert_true(i >= 65535);
			interrupts++;
		}
	assert_int_equal(interrupts, 3);
	/* Nothing on the datapath moves it. */
	ring_advance(t, 1000, &seq, &served);
	assert_int_equal(dev_used_event(&t->dev), ue);

	/* Without EVENT_IDX the flag says it, and the field is left alone. */
	assert_int_equal(plain->r.avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
	assert_int_equal(dev_used_event(&plain->dev), 0);
	ring_free(plain);
	ring_free(t);
}

/*
 * Random bursts and random avail_event values, near the window and
 * anywhere, over more than two laps of the u16 index: the driver kicks
 * exactly when the spec says, and the NO_NOTIFY flag means nothing.
 */
static void
test_event_idx_kicks_random(void **state)
{
	struct ring *t = ring_new(8, VV_SPLIT_EVENT_IDX);
	uint32_t seq = 0, served = 0, s = 777, kicks = 0, quiet = 0;
	uint32_t published = 0;

	(void)state;
	while (published < 3u * 65536) {
		uint16_t n = (uint16_t)(1 + lcg(&s) % t->r.size);
		uint16_t old = t->r.avail_idx, event;
		bool kick;

		if (lcg(&s) & 1)
			event = (uint16_t)(old + lcg(&s) % (n + 4u) - 2);
		else
			event = (uint16_t)lcg(&s);
		dev_set_avail_event(&t->dev, event);
		t->r.used->flags = (lcg(&s) & 1) ? VRING_USED_F_NO_NOTIFY : 0;
		kick = drv_burst(t, n, &seq);
		assert_int_equal(kick,
				 kick_due(event, old, (uint16_t)(old + n)));
		if (kick)
			kicks++;
		else
			quiet++;
		published += n;
		dev_drain(t, &served);
	}
	/* Both outcomes were exercised plenty. */
	assert_true(kicks > 10000);
	assert_true(quiet > 10000);
	assert_int_equal(dev_used_event(&t->dev), 0xffff);
	ring_free(t);
}

/*
 * The device names a slot in the middle of a burst, at its edges, just
 * past it; and a decision that did not kick still closes its window.
 */
static void
test_event_idx_mid_burst(void **state)
{
	struct ring *t = ring_new(16, VV_SPLIT_EVENT_IDX);
	uint32_t seq = 0, served = 0;

	(void)state;
	/* Slots 0..7 published at once; the device asked about slot 3. */
	dev_set_avail_event(&t->dev, 3);
	assert_true(drv_burst(t, 8, &seq));
	/* Slot 3 is behind now: 8..15 needs no kick. */
	assert_false(drv_burst(t, 8, &seq));
	dev_drain(t, &served);

	/* First and last slot of a burst count; the one after does not. */
	dev_set_avail_event(&t->dev, 16);
	assert_true(drv_burst(t, 4, &seq));		/* 16..19 */
	dev_set_avail_event(&t->dev, 23);
	assert_true(drv_burst(t, 4, &seq));		/* 20..23 */
	dev_set_avail_event(&t->dev, 28);
	assert_false(drv_burst(t, 4, &seq));		/* 24..27 */
	/* ... and the next burst, which does carry 28, kicks. */
	assert_true(drv_burst(t, 1, &seq));		/* 28 */
	dev_drain(t, &served);

	/*
	 * No kick for 29..32 (the device named 40); then it names 30, which
	 * it already has: 33..36 must not kick for it.
	 */
	dev_set_avail_event(&t->dev, 40);
	assert_false(drv_burst(t, 4, &seq));
	dev_set_avail_event(&t->dev, 30);
	assert_false(drv_burst(t, 4, &seq));
	/* A decision with nothing new published never kicks. */
	dev_set_avail_event(&t->dev, t->r.avail_idx);
	assert_false(vv_split_needs_kick(&t->r));
	/* The flags are not consulted: clear NO_NOTIFY asks for nothing. */
	t->r.used->flags = 0;
	dev_set_avail_event(&t->dev, 100);
	assert_false(drv_burst(t, 2, &seq));
	t->r.used->flags = VRING_USED_F_NO_NOTIFY;
	dev_set_avail_event(&t->dev, t->r.avail_idx);
	assert_true(drv_burst(t, 2, &seq));
	dev_drain(t, &served);
	ring_free(t);
}

/* A burst that carries the u16 avail idx across 0xffff -> 0. */
static void
test_event_idx_wraparound(void **state)
{
	static const struct {
		uint16_t event;
		bool kick;
	} cases[] = {
		{ 0xfffc, true },	/* the burst's first slot */
		{ 0xffff, true },	/* the last before the wrap */
		{ 0x0000, true },	/* the first after it */
		{ 0x0003, true },	/* the burst's last slot */
		{ 0x0004, false },	/* just past the burst */
		{ 0xfffb, false },	/* just before it */
		{ 0x7ffe, false },	/* half a lap away */
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ring *t = ring_new(8, VV_SPLIT_EVENT_IDX);
		uint32_t seq = 0, served = 0;

		ring_advance(t, 0xfffc, &seq, &served);
		dev_set_avail_event(&t->dev, cases[i].event);
		assert_int_equal(kick_due(cases[i].event, 0xfffc, 0x0004),
				 cases[i].kick);
		assert_int_equal(drv_burst(t, 8, &seq), cases[i].kick);
		assert_int_equal(t->r.avail->idx, 0x0004);
		dev_drain(t, &served);
		ring_free(t);
	}
}

/*
 * A device that sleeps until kicked, as an interrupt-driven backend does.
 * Woken, it stays busy for a few bursts, serving without asking (its
 * avail_event left behind), then names the next slot it expects and goes
 * back to sleep. No burst may find it asleep without a kick (that is a
 * stall), and no kick may reach it awake: kicks equal wake-ups.
 */
static void
test_event_idx_sleeping_device(void **state)
{
	struct ring *t = ring_new(8, VV_SPLIT_EVENT_IDX);
	uint32_t seq = 0, served = 0, s = 4242, kicks = 0, wakeups = 0;
	uint32_t published = 0;
	unsigned int busy = 0;
	bool asleep = true;

	(void)state;
	dev_set_avail_event(&t->dev, 0);
	while (published < 2u * 65536 + 1000) {
		uint16_t n = (uint16_t)(1 + lcg(&s) % t->r.size);
		bool kick = drv_burst(t, n, &seq);

		published += n;
		kicks += kick;
		if (asleep) {
			assert_true(kick);
			asleep = false;
			wakeups++;
			busy = lcg(&s) % 4;
		} else {
			assert_false(kick);
		}
		dev_drain(t, &served);
		if (busy-- == 0) {
			dev_set_avail_event(&t->dev, t->dev.last_avail);
			/* The spec's last look before sleeping: nothing new. */
			assert_int_equal(dev_avail_pending(&t->dev), 0);
			asleep = true;
		}
	}
	assert_int_equal(kicks, wakeups);
	assert_true(wakeups > 1000);
	ring_free(t);
}

/* Without EVENT_IDX, NO_NOTIFY decides and avail_event means nothing. */
static void
test_no_event_idx_flag_rules(void **state)
{
	struct ring *t = ring_new(8, 0);
	uint32_t seq = 0, served = 0, s = 99, i;

	(void)state;
	for (i = 0; i < 2000; i++) {
		uint16_t n = (uint16_t)(1 + lcg(&s) % t->r.size);
		uint16_t old = t->r.avail_idx;
		bool no_notify = lcg(&s) & 1;

		/* An avail_event that would say the opposite, were it read. */
		dev_set_avail_event(&t->dev,
				    no_notify ? old : (uint16_t)(old - 1));
		t->r.used->flags = no_notify ? VRING_USED_F_NO_NOTIFY : 0;
		assert_int_equal(drv_burst(t, n, &seq), !no_notify);
		dev_drain(t, &served);
	}
	ring_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects_bad_sizes),
		cmocka_unit_test(test_init_layout),
		cmocka_unit_test(test_single_buffer_tx_and_rx),
		cmocka_unit_test(test_chained_buffers),
		cmocka_unit_test(test_full_ring),
		cmocka_unit_test(test_empty_ring),
		cmocka_unit_test(test_wraparound_random),
		cmocka_unit_test(test_wraparound_near_ffff),
		cmocka_unit_test(test_bad_used_id_out_of_range),
		cmocka_unit_test(test_bad_used_not_in_flight),
		cmocka_unit_test(test_bad_used_not_a_head),
		cmocka_unit_test(test_bad_used_duplicate),
		cmocka_unit_test(test_bad_used_len),
		cmocka_unit_test(test_used_idx_jump),
		cmocka_unit_test(test_used_peek),
		cmocka_unit_test(test_inorder_batch),
		cmocka_unit_test(test_inorder_stale_entry_rejected),
		cmocka_unit_test(test_inorder_wraparound),
		cmocka_unit_test(test_avail_entry_not_rewritten),
		cmocka_unit_test(test_needs_kick),
		cmocka_unit_test(test_event_idx_layout),
		cmocka_unit_test(test_event_idx_used_event),
		cmocka_unit_test(test_event_idx_kicks_random),
		cmocka_unit_test(test_event_idx_mid_burst),
		cmocka_unit_test(test_event_idx_wraparound),
		cmocka_unit_test(test_event_idx_sleeping_device),
		cmocka_unit_test(test_no_event_idx_flag_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

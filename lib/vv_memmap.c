/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vv_memmap.h"

void
vv_memmap_init(struct vv_memmap *m)
{
	memset(m, 0, sizeof(*m));
}

void
vv_memmap_clear(struct vv_memmap *m)
{
	free(m->regions);
	vv_memmap_init(m);
}

static int
memmap_reserve(struct vv_memmap *m, unsigned int need)
{
	unsigned int cap = m->cap ? m->cap : 16;
	struct vv_region *r;

	if (need <= m->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	r = realloc(m->regions, cap * sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	m->regions = r;
	m->cap = cap;
	return 0;
}

static int
memmap_insert(struct vv_memmap *m, const struct vv_region *nr)
{
	unsigned int i;
	int ret;

	ret = memmap_reserve(m, m->n + 1);
	if (ret < 0)
		return ret;
	for (i = m->n; i > 0 && m->regions[i - 1].addr > nr->addr; i--)
		m->regions[i] = m->regions[i - 1];
	m->regions[i] = *nr;
	m->n++;
	return 0;
}

static void
memmap_delete(struct vv_memmap *m, unsigned int i)
{
	memmove(&m->regions[i], &m->regions[i + 1],
		(m->n - i - 1) * sizeof(m->regions[0]));
	m->n--;
}

static int
op_emit(struct vv_memmap_op *ops, unsigned int max_ops, unsigned int *n,
	enum vv_memmap_op_type type, const struct vv_region *r)
{
	if (*n >= max_ops)
		return -ENOSPC;
	ops[*n].type = type;
	ops[*n].region = *r;
	(*n)++;
	return 0;
}

/* The part [addr, addr+len) of r, with the fd offset moved along. */
static struct vv_region
region_part(const struct vv_region *r, uint64_t addr, uint64_t len)
{
	struct vv_region p = *r;

	p.addr = addr;
	p.len = len;
	if (p.fd >= 0)
		p.fd_offset = r->fd_offset + (addr - r->addr);
	return p;
}

static int
range_ok(uint64_t addr, uint64_t len)
{
	return len != 0 && addr + len > addr;
}

int
vv_memmap_add(struct vv_memmap *m, uint64_t addr, uint64_t len,
	      struct vv_memmap_op *ops, unsigned int max_ops)
{
	return vv_memmap_add_fd(m, addr, len, -1, 0, ops, max_ops);
}

int
vv_memmap_add_fd(struct vv_memmap *m, uint64_t addr, uint64_t len,
		 int fd, uint64_t fd_offset, struct vv_memmap_op *ops,
		 unsigned int max_ops)
{
	struct vv_region nr = {
		.addr = addr,
		.len = len,
		.fd = fd < 0 ? -1 : fd,
		.fd_offset = fd < 0 ? 0 : fd_offset,
	};
	unsigned int i, n = 0;
	int ret;

	if (!range_ok(addr, len))
		return -EINVAL;
	for (i = 0; i < m->n; i++) {
		const struct vv_region *r = &m->regions[i];

		if (addr < r->addr + r->len && r->addr < addr + len)
			return -EEXIST;
	}
	ret = op_emit(ops, max_ops, &n, VV_MEMMAP_MAP, &nr);
	if (ret < 0)
		return ret;
	ret = memmap_insert(m, &nr);
	return ret < 0 ? ret : (int)n;
}

int
vv_memmap_remove(struct vv_memmap *m, uint64_t addr, uint64_t len,
		 struct vv_memmap_op *ops, unsigned int max_ops)
{
	uint64_t end = addr + len;
	unsigned int i = 0, n = 0;
	int ret;

	if (!range_ok(addr, len))
		return -EINVAL;
	/*
	 * Check before editing: the caller applies nothing on error, so a
	 * half-done edit would leave the table out of step with the device.
	 */
	for (i = 0; i < m->n; i++) {
		const struct vv_region *r = &m->regions[i];

		if (addr < r->addr + r->len && r->addr < end)
			n += 1 + (r->addr < addr) + (r->addr + r->len > end);
	}
	if (n > max_ops)
		return -ENOSPC;
	/* Only a region holding the whole range splits, adding one entry. */
	if (n > 0) {
		ret = memmap_reserve(m, m->n + 1);
		if (ret < 0)
			return ret;
	}
	i = 0;
	n = 0;
	while (i < m->n) {
		struct vv_region r = m->regions[i];
		uint64_t r_end = r.addr + r.len;

		if (!(addr < r_end && r.addr < end)) {
			i++;
			continue;
		}
		ret = op_emit(ops, max_ops, &n, VV_MEMMAP_UNMAP, &r);
		if (ret < 0)
			return ret;
		memmap_delete(m, i);
		if (r.addr < addr) {
			struct vv_region left = region_part(&r, r.addr,
							    addr - r.addr);

			ret = op_emit(ops, max_ops, &n, VV_MEMMAP_MAP, &left);
			if (ret == 0)
				ret = memmap_insert(m, &left);
			if (ret < 0)
				return ret;
			i++;
		}
		if (r_end > end) {
			struct vv_region right = region_part(&r, end,
							     r_end - end);

			ret = op_emit(ops, max_ops, &n, VV_MEMMAP_MAP, &right);
			if (ret == 0)
				ret = memmap_insert(m, &right);
			if (ret < 0)
				return ret;
			i++;
		}
	}
	return (int)n;
}

int
vv_memmap_bounds(const struct vv_memmap *m, uint64_t *first, uint64_t *last)
{
	if (m->n == 0)
		return -ENOENT;
	*first = m->regions[0].addr;
	*last = m->regions[m->n - 1].addr + m->regions[m->n - 1].len - 1;
	return 0;
}

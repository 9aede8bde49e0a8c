/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_MEMMAP_H
#define VV_MEMMAP_H

#include <stdint.h>

/*
 * The set of our virtual address ranges the device may DMA into. The IOVA
 * the device sees equals our virtual address, so rings and descriptors can
 * carry plain pointers whatever IOVA mode the EAL chose.
 *
 * A change is described as a list of operations, so a backend can apply it
 * in one batch (vhost-vdpa IOTLB) or resend a table (vhost-user).
 */
struct vv_region {
	uint64_t addr;
	uint64_t len;
	/*
	 * The file behind the range, for backends that share memory by fd
	 * (vhost-user); -1 when unknown. fd_offset is where addr sits in it.
	 * The memmap does not own the fd.
	 */
	int fd;
	uint64_t fd_offset;
};

enum vv_memmap_op_type {
	VV_MEMMAP_MAP,
	VV_MEMMAP_UNMAP,
};

struct vv_memmap_op {
	enum vv_memmap_op_type type;
	struct vv_region region;
};

struct vv_memmap {
	struct vv_region *regions;
	unsigned int n;
	unsigned int cap;
};

void vv_memmap_init(struct vv_memmap *m);
void vv_memmap_clear(struct vv_memmap *m);

/*
 * Adds [addr, addr+len). Returns the number of operations written to ops
 * (at most max_ops), or -EEXIST if it overlaps a mapped range, -EINVAL for
 * an empty or wrapping range, -ENOMEM, -ENOSPC if ops is too short.
 */
int vv_memmap_add(struct vv_memmap *m, uint64_t addr, uint64_t len,
		  struct vv_memmap_op *ops, unsigned int max_ops);

/* As vv_memmap_add, recording the file and offset backing the range. */
int vv_memmap_add_fd(struct vv_memmap *m, uint64_t addr, uint64_t len,
		     int fd, uint64_t fd_offset, struct vv_memmap_op *ops,
		     unsigned int max_ops);

/*
 * Removes [addr, addr+len) from the map. A mapped region only partly inside
 * is unmapped whole and its remainder mapped again, because an invalidation
 * drops every overlapping entry. A remainder keeps the region's fd, its
 * offset moved along with its start. Returns the operation count or -errno.
 */
int vv_memmap_remove(struct vv_memmap *m, uint64_t addr, uint64_t len,
		     struct vv_memmap_op *ops, unsigned int max_ops);

/* Lowest and highest mapped byte; returns -ENOENT when empty. */
int vv_memmap_bounds(const struct vv_memmap *m, uint64_t *first,
		     uint64_t *last);

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "vv_features.h"
#include "vv_iotlb.h"
#include "vv_log.h"

static int
msg_put(struct vhost_msg_v2 *msgs, unsigned int max, unsigned int *n,
	uint8_t type, uint64_t iova, uint64_t size)
{
	struct vhost_msg_v2 *m;

	if (*n >= max)
		return -ENOSPC;
	m = &msgs[(*n)++];
	memset(m, 0, sizeof(*m));
	m->type = VHOST_IOTLB_MSG_V2;
	m->iotlb.type = type;
	if (type == VHOST_IOTLB_UPDATE || type == VHOST_IOTLB_INVALIDATE) {
		m->iotlb.iova = iova;
		m->iotlb.size = size;
	}
	if (type == VHOST_IOTLB_UPDATE) {
		/* IOVA is our virtual address, so uaddr equals it. */
		m->iotlb.uaddr = iova;
		m->iotlb.perm = VHOST_ACCESS_RW;
	}
	return 0;
}

static int
batch_mark(struct vhost_msg_v2 *msgs, unsigned int max, unsigned int *n,
	   uint64_t backend_features, uint8_t type)
{
	if (!(backend_features & VV_BIT(VHOST_BACKEND_F_IOTLB_BATCH)))
		return 0;
	return msg_put(msgs, max, n, type, 0, 0);
}

int
vv_iotlb_build(const struct vv_memmap_op *ops, unsigned int nops,
	       uint64_t backend_features, struct vhost_msg_v2 *msgs,
	       unsigned int max)
{
	unsigned int i, n = 0;
	int ret;

	if (nops == 0)
		return 0;
	ret = batch_mark(msgs, max, &n, backend_features,
			 VHOST_IOTLB_BATCH_BEGIN);
	for (i = 0; ret == 0 && i < nops; i++)
		ret = msg_put(msgs, max, &n,
			      ops[i].type == VV_MEMMAP_MAP ?
			      VHOST_IOTLB_UPDATE : VHOST_IOTLB_INVALIDATE,
			      ops[i].region.addr, ops[i].region.len);
	if (ret == 0)
		ret = batch_mark(msgs, max, &n, backend_features,
				 VHOST_IOTLB_BATCH_END);
	return ret < 0 ? ret : (int)n;
}

int
vv_iotlb_build_replace(const struct vv_memmap *m, uint64_t first,
		       uint64_t last, uint64_t backend_features,
		       struct vhost_msg_v2 *msgs, unsigned int max)
{
	uint64_t size = last - first + 1;
	unsigned int i, n = 0;
	int ret;

	/* The full 64-bit space has no size that fits; stop one short. */
	if (size == 0)
		size = UINT64_MAX;
	ret = batch_mark(msgs, max, &n, backend_features,
			 VHOST_IOTLB_BATCH_BEGIN);
	if (ret == 0)
		ret = msg_put(msgs, max, &n, VHOST_IOTLB_INVALIDATE, first,
			      size);
	for (i = 0; ret == 0 && i < m->n; i++)
		ret = msg_put(msgs, max, &n, VHOST_IOTLB_UPDATE,
			      m->regions[i].addr, m->regions[i].len);
	if (ret == 0)
		ret = batch_mark(msgs, max, &n, backend_features,
				 VHOST_IOTLB_BATCH_END);
	return ret < 0 ? ret : (int)n;
}

static const char *
iotlb_type_name(uint8_t type)
{
	switch (type) {
	case VHOST_IOTLB_UPDATE: return "IOTLB update";
	case VHOST_IOTLB_INVALIDATE: return "IOTLB invalidate";
	case VHOST_IOTLB_BATCH_BEGIN: return "IOTLB batch begin";
	case VHOST_IOTLB_BATCH_END: return "IOTLB batch end";
	default: return "IOTLB message";
	}
}

int
vv_iotlb_explain(const char *path, const struct vhost_msg_v2 *msg, int err)
{
	const char *fix;

	switch (-err) {
	case ENOMEM:
		fix = "the kernel could not pin the memory: raise the memlock limit (ulimit -l unlimited) or give DPDK less memory (-m / --socket-mem)";
		break;
	case EEXIST:
		fix = "the range overlaps a mapping the device already has; another mapping of this memory was left behind (restart the application; if it persists, reset the device with vdpa dev del/add)";
		break;
	case EINVAL:
		fix = "the device refused the range (outside its IOVA range, or not page aligned); check the memory layout (--iova-mode=va, hugepages)";
		break;
	case ENOBUFS:
		fix = "the device has no room for more mappings; use fewer, larger memory segments (1 GiB hugepages, --single-file-segments, less -m)";
		break;
	case EFAULT:
		fix = "the kernel could not pin the memory: it is not mapped in this process (freed before it was unmapped), or the memlock limit is too low";
		break;
	default:
		fix = NULL;
	}
	VV_ERR("%s: %s 0x%llx+0x%llx failed: %s%s%s", path,
	       iotlb_type_name(msg->iotlb.type),
	       (unsigned long long)msg->iotlb.iova,
	       (unsigned long long)msg->iotlb.size, strerror(-err),
	       fix ? "; " : "", fix ? fix : "");
	return err;
}

/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_eal_memconfig.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "virtio_vdpa_logs.h"
#include "virtio_vdpa_mem.h"

/*
 * A run of memsegs the device can take as one range: contiguous in our
 * address space and, for backends that share memory by file, contiguous
 * in one file.
 */
struct mem_run {
	struct vv_dev *d;
	const struct rte_memseg_list *msl;
	uint64_t start;
	uint64_t len;
	int fd;
	uint64_t fd_offset;
	int ret;
	bool warned_anon;
};

static void
mem_run_flush(struct mem_run *w)
{
	int ret;

	if (w->len == 0)
		return;
	ret = vv_dev_mem_add_fd(w->d, w->start, w->len, w->fd, w->fd_offset);
	if (ret < 0 && ret != -EEXIST && w->ret == 0)
		w->ret = ret;
	w->len = 0;
}

static int
mem_run_seg(const struct rte_memseg_list *msl, const struct rte_memseg *ms,
	    void *arg)
{
	struct mem_run *w = arg;
	uint64_t va = (uint64_t)(uintptr_t)ms->addr;
	uint64_t off = 0;
	int fd = rte_memseg_get_fd_thread_unsafe(ms);

	/* Anonymous memory maps "successfully" but the device reads zeros. */
	if (!w->warned_anon && !msl->external && fd < 0 &&
	    rte_errno == ENOTSUP) {
		PMD_INIT_LOG(WARNING, "DPDK memory is not file-backed; the device may not reach it (use hugepages, or --no-huge which uses memfd)\n");
		w->warned_anon = true;
	}
	if (!vv_dev_needs_mem_fds(w->d) || fd < 0 ||
	    rte_memseg_get_fd_offset_thread_unsafe(ms, &off) < 0) {
		fd = -1;
		off = 0;
	}
	if (w->len != 0 && w->msl == msl && w->start + w->len == va &&
	    w->fd == fd && (fd < 0 || w->fd_offset + w->len == off)) {
		w->len += ms->len;
		return 0;
	}
	mem_run_flush(w);
	w->msl = msl;
	w->start = va;
	w->len = ms->len;
	w->fd = fd;
	w->fd_offset = off;
	return 0;
}

/* Adds the memsegs of [addr, addr+len), which lie in one memseg list. */
static int
mem_add_range(struct vv_dev *d, const void *addr, size_t len)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(addr);
	struct mem_run w = { .d = d, .warned_anon = true };
	const char *p = addr, *end = p + len;

	if (msl == NULL)
		return -EINVAL;
	while (p < end) {
		const struct rte_memseg *ms = rte_mem_virt2memseg(p, msl);

		if (ms == NULL || ms->len == 0)
			return -EINVAL;
		mem_run_seg(msl, ms, &w);
		p = (const char *)ms->addr + ms->len;
	}
	mem_run_flush(&w);
	return w.ret;
}

static void
mem_event(enum rte_mem_event type, const void *addr, size_t len, void *arg)
{
	struct vv_dev *d = arg;
	uint64_t va = (uint64_t)(uintptr_t)addr;
	int ret;

	/* Called with the EAL memory lock held, so no control call races. */
	if (type == RTE_MEM_EVENT_ALLOC)
		ret = mem_add_range(d, addr, len);
	else
		ret = vv_dev_mem_remove(d, va, len);
	if (ret < 0)
		PMD_LOG(ERR, "%s: cannot %s %zu bytes at %p for the device: %s\n",
			d->path, type == RTE_MEM_EVENT_ALLOC ? "map" : "unmap",
			len, addr, strerror(-ret));
}

int
virtio_vdpa_mem_attach(struct vv_dev *d, const char *name)
{
	struct mem_run w = { .d = d };
	int ret;

	/* Hold the lock across walk and registration: no event is missed. */
	rte_mcfg_mem_read_lock();
	ret = rte_memseg_walk_thread_unsafe(mem_run_seg, &w);
	mem_run_flush(&w);
	if (ret < 0 || w.ret < 0) {
		rte_mcfg_mem_read_unlock();
		return w.ret < 0 ? w.ret : -EINVAL;
	}
	ret = rte_mem_event_callback_register(name, mem_event, d);
	rte_mcfg_mem_read_unlock();
	if (ret < 0 && rte_errno != ENOTSUP) {
		PMD_INIT_LOG(ERR, "cannot register a memory event callback: %s\n",
			     rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

void
virtio_vdpa_mem_detach(struct vv_dev *d, const char *name)
{
	rte_mem_event_callback_unregister(name, d);
}

void
virtio_vdpa_mem_lock(void)
{
	rte_mcfg_mem_read_lock();
}

void
virtio_vdpa_mem_unlock(void)
{
	rte_mcfg_mem_read_unlock();
}

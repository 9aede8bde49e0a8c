/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control path against a fake vhost-vdpa kernel.
 *
 * The fake sits behind vv_sys_set_ops() and answers open/close/ioctl/write/
 * stat/eventfd from memory. It keeps the rules of drivers/vhost/vdpa.c that
 * the driver depends on (one opener, status bits only added until a reset,
 * features frozen after FEATURES_OK, owner needed for vrings and IOTLB,
 * UPDATE over a live mapping is EEXIST, the IOTLB survives a reset), records
 * every call in order, and can fail any single call: so every error path of
 * vv_dev_open and vv_dev_start is driven and checked for a message and for
 * leaked file descriptors.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vv_dev.h"
#include "vv_log.h"
#include "log_capture.h"
#include "vv_sys.h"

#define NODE "/dev/vhost-vdpa-0"
/* Where sysfs shows NODE while the device exists: major 240, minor 0. */
#define SYS_NODE "/sys/dev/char/240:0"
#define FD_BASE 1000
#define MAX_FDS 64
#define MAX_CALLS 8192
#define MAX_MSGS 256
#define MAX_TLB 64

#define BACKEND_ALL (VV_BIT(VHOST_BACKEND_F_IOTLB_MSG_V2) | \
		     VV_BIT(VHOST_BACKEND_F_IOTLB_BATCH) | \
		     VV_BIT(VHOST_BACKEND_F_IOTLB_ASID) | \
		     VV_BIT(VHOST_BACKEND_F_SUSPEND))

#define S_ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV VIRTIO_CONFIG_S_DRIVER
#define S_FOK VIRTIO_CONFIG_S_FEATURES_OK
#define S_DOK VIRTIO_CONFIG_S_DRIVER_OK

/* ---------------------------------------------------------------------- */
/* The fake kernel                                                         */

enum call_kind { C_STAT, C_OPEN, C_CLOSE, C_IOCTL, C_WRITE, C_EVENTFD };
enum fd_kind { FD_FREE, FD_VDPA, FD_EVENT };

struct call {
	enum call_kind kind;
	unsigned long req;	/* ioctl request */
	uint64_t val;		/* status, features, vring index, IOTLB type */
	bool failed;		/* the injected fault */
};

struct fake_vring {
	uint16_t num;
	uint16_t base;
	uint64_t desc, avail, used;
	int kick, call;
	bool enabled;
};

struct fake {
	/* What the device and kernel are like. */
	mode_t mode;
	uint32_t device_id;
	uint64_t features;
	uint64_t backend_offered;
	bool has_limits;	/* kernel knows VQS_COUNT, VRING_NUM... */
	uint32_t vqs;
	uint16_t vring_max;
	uint32_t config_size;
	struct virtio_net_config cfg;
	uint64_t iova_first, iova_last;
	uint8_t status_drop;	/* bits the device will not take */
	int reset_reads;	/* GET_STATUS reads still stale after reset */
	bool short_write;	/* write() takes one byte less */
	bool ctrl_silent;	/* the control queue never answers */
	int config_call;	/* VHOST_VDPA_SET_CONFIG_CALL's fd; -1 after reset */
	bool doorbells;		/* the device has a notification page per vring */
	bool unplugged;		/* SYS_NODE is gone; the fd still works */
	int suspend_errno;	/* VHOST_VDPA_SUSPEND fails with it (0: works) */
	unsigned int doorbell_maps, doorbell_unmaps;
	uint64_t config_signals;	/* pending on config_call */
	uint8_t ctrl_nack_class;	/* refuses this class + 1 (0: none) */

	/* State. */
	enum fd_kind fds[MAX_FDS];
	int vdpa_fd;
	bool owner;
	uint8_t status;
	uint8_t stale_status;
	int stale_reads;
	uint64_t acked;
	uint64_t backend_acked;
	struct fake_vring vr[VV_MAX_VRINGS];
	struct vv_region tlb[MAX_TLB];
	unsigned int ntlb;
	bool in_batch;
	bool suspended;		/* since VHOST_VDPA_SUSPEND, until a reset */
	const char *violation;	/* what a real device would trip over */

	/* Record. */
	struct {
		uint8_t cls, cmd;
		uint8_t data[VV_CTRL_DATA_MAX];
		uint32_t len;
	} ctrl_cmds[16];
	unsigned int nctrl;
	struct call calls[MAX_CALLS];
	unsigned int ncalls;
	struct vhost_msg_v2 msgs[MAX_MSGS];
	unsigned int nmsgs;
	unsigned int opens, eventfds, closes, bad_closes;

	/* Faults: the fail_at-th call that can fail, or the first matching
	 * fail_kind/fail_req, fails with fail_errno. */
	int fail_at;
	int fail_kind;
	unsigned long fail_req;
	int fail_errno;
	unsigned int nfailable;
	int failed_call;	/* index in calls[], -1 if none */
};

static struct fake F;

static void
fake_reset(void)
{
	memset(&F, 0, sizeof(F));
	F.mode = S_IFCHR | 0600;
	F.device_id = 1;	/* VIRTIO_ID_NET */
	F.features = VV_BIT(VIRTIO_F_VERSION_1) |
		VV_BIT(VIRTIO_F_ACCESS_PLATFORM) | VV_BIT(VIRTIO_F_IN_ORDER) |
		VV_BIT(VIRTIO_F_RING_PACKED) | VV_BIT(VIRTIO_RING_F_EVENT_IDX) |
		VV_BIT(VIRTIO_NET_F_MRG_RXBUF) | VV_BIT(VIRTIO_NET_F_MAC) |
		VV_BIT(VIRTIO_NET_F_STATUS) | VV_BIT(VIRTIO_NET_F_MTU) |
		VV_BIT(VIRTIO_NET_F_CTRL_VQ) | VV_BIT(VIRTIO_NET_F_CSUM);
	F.backend_offered = BACKEND_ALL;
	F.has_limits = true;
	F.vqs = 3;		/* one pair and the control queue */
	F.vring_max = 256;
	F.config_size = sizeof(struct virtio_net_config);
	F.config_call = -1;
	F.cfg.mac[0] = 0x02;
	F.cfg.mac[5] = 0x42;
	F.cfg.status = VIRTIO_NET_S_LINK_UP;
	F.cfg.max_virtqueue_pairs = 1;
	F.cfg.mtu = 9000;
	F.iova_first = 0;
	F.iova_last = (1ull << 48) - 1;
	F.vdpa_fd = -1;
	F.fail_at = -1;
	F.fail_kind = -1;
	F.failed_call = -1;
}

static struct call *
record(enum call_kind kind, unsigned long req)
{
	struct call *c;

	assert_true(F.ncalls < MAX_CALLS);
	c = &F.calls[F.ncalls++];
	c->kind = kind;
	c->req = req;
	return c;
}

/* Returns the errno to fail this call with, or 0. */
static int
fault(struct call *c)
{
	bool hit;

	if (F.failed_call >= 0)
		return 0;	/* one fault per run */
	hit = (F.fail_at >= 0 && F.nfailable == (unsigned int)F.fail_at) ||
		(F.fail_kind == (int)c->kind &&
		 (c->kind != C_IOCTL || F.fail_req == c->req));
	F.nfailable++;
	if (!hit)
		return 0;
	c->failed = true;
	F.failed_call = (int)(c - F.calls);
	return F.fail_errno;
}

static int
sys_fail(int err)
{
	errno = err;
	return -1;
}

static int
fd_alloc(enum fd_kind kind)
{
	int i;

	for (i = 0; i < MAX_FDS; i++) {
		if (F.fds[i] == FD_FREE) {
			F.fds[i] = kind;
			return FD_BASE + i;
		}
	}
	return -1;
}

static bool
fd_is(int fd, enum fd_kind kind)
{
	return fd >= FD_BASE && fd < FD_BASE + MAX_FDS &&
		F.fds[fd - FD_BASE] == kind;
}

static unsigned int
fds_open(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < MAX_FDS; i++)
		n += F.fds[i] != FD_FREE;
	return n;
}

static int
fake_stat(const char *path, struct stat *st)
{
	struct call *c = record(C_STAT, 0);
	int err = fault(c);

	if (err)
		return sys_fail(err);
	memset(st, 0, sizeof(*st));
	if (strcmp(path, SYS_NODE) == 0 && !F.unplugged) {
		st->st_mode = S_IFDIR | 0755;
		return 0;
	}
	if (strcmp(path, NODE) != 0)
		return sys_fail(ENOENT);
	st->st_mode = F.mode;
	st->st_rdev = makedev(240, 0);
	return 0;
}

static int
fake_open(const char *path, int flags)
{
	struct call *c = record(C_OPEN, 0);
	int err = fault(c), fd;

	if (err)
		return sys_fail(err);
	if (strcmp(path, NODE) != 0)
		return sys_fail(ENOENT);
	if ((flags & O_ACCMODE) != O_RDWR)
		return sys_fail(EACCES);
	if (F.vdpa_fd >= 0)
		return sys_fail(EBUSY);	/* vhost-vdpa allows one opener */
	fd = fd_alloc(FD_VDPA);
	if (fd < 0)
		return sys_fail(EMFILE);
	F.opens++;
	F.vdpa_fd = fd;
	return fd;
}

static int
fake_eventfd(unsigned int initval, int flags)
{
	struct call *c = record(C_EVENTFD, 0);
	int err = fault(c), fd;

	(void)initval;
	if (err)
		return sys_fail(err);
	/* Never block the datapath, never leak into exec'd children. */
	if (!(flags & EFD_NONBLOCK) || !(flags & EFD_CLOEXEC))
		F.violation = "eventfd without EFD_NONBLOCK|EFD_CLOEXEC";
	fd = fd_alloc(FD_EVENT);
	if (fd < 0)
		return sys_fail(EMFILE);
	F.eventfds++;
	return fd;
}

static int
fake_close(int fd)
{
	record(C_CLOSE, 0);
	if (!fd_is(fd, FD_VDPA) && !fd_is(fd, FD_EVENT)) {
		F.bad_closes++;
		return sys_fail(EBADF);
	}
	F.closes++;
	if (fd == F.vdpa_fd) {
		/* Release resets the device and drops the IOTLB. */
		F.vdpa_fd = -1;
		F.owner = false;
		F.status = 0;
		F.stale_reads = 0;
		F.ntlb = 0;
		F.in_batch = false;
		memset(F.vr, 0, sizeof(F.vr));
	}
	F.fds[fd - FD_BASE] = FD_FREE;
	return 0;
}

static bool
tlb_overlaps(unsigned int k, uint64_t first, uint64_t last)
{
	return first <= F.tlb[k].addr + F.tlb[k].len - 1 &&
		F.tlb[k].addr <= last;
}

static bool
tlb_covers(uint64_t addr, uint64_t len)
{
	unsigned int k;

	for (k = 0; k < F.ntlb; k++)
		if (addr >= F.tlb[k].addr &&
		    addr + len <= F.tlb[k].addr + F.tlb[k].len)
			return true;
	return false;
}

static int
iotlb_msg(const struct vhost_msg_v2 *m)
{
	const struct vhost_iotlb_msg *i = &m->iotlb;
	uint64_t last = i->iova + i->size - 1;
	unsigned int k;

	if (m->type != VHOST_IOTLB_MSG_V2)
		F.violation = "IOTLB message not v2 after acking MSG_V2";
	switch (i->type) {
	case VHOST_IOTLB_UPDATE:
		if (i->iova < F.iova_first || i->size == 0 ||
		    i->iova > UINT64_MAX - i->size + 1 || last > F.iova_last)
			return -EINVAL;
		for (k = 0; k < F.ntlb; k++)
			if (tlb_overlaps(k, i->iova, last))
				return -EEXIST;
		if (i->perm != VHOST_ACCESS_RW || i->uaddr != i->iova)
			F.violation = "IOTLB update not RW at uaddr == iova";
		assert_true(F.ntlb < MAX_TLB);
		F.tlb[F.ntlb].addr = i->iova;
		F.tlb[F.ntlb].len = i->size;
		F.ntlb++;
		return 0;
	case VHOST_IOTLB_INVALIDATE:
		for (k = 0; k < F.ntlb;) {
			if (tlb_overlaps(k, i->iova, last))
				F.tlb[k] = F.tlb[--F.ntlb];
			else
				k++;
		}
		return 0;
	case VHOST_IOTLB_BATCH_BEGIN:
	case VHOST_IOTLB_BATCH_END:
		if (!(F.backend_acked & VV_BIT(VHOST_BACKEND_F_IOTLB_BATCH)))
			F.violation = "IOTLB batch without acking IOTLB_BATCH";
		if ((i->type == VHOST_IOTLB_BATCH_BEGIN) == F.in_batch)
			F.violation = "IOTLB batch markers unbalanced";
		F.in_batch = i->type == VHOST_IOTLB_BATCH_BEGIN;
		return 0;
	default:
		return -EINVAL;
	}
}

/* The control queue follows every data queue the device has. */
static unsigned int
fake_ctrl_index(void)
{
	if (F.acked & VV_BIT(VIRTIO_NET_F_MQ))
		return 2u * F.cfg.max_virtqueue_pairs;
	return 2;
}

/* The device takes every command posted on its control queue at once. */
static void
fake_ctrl_run(struct fake_vring *v)
{
	struct vring_desc *desc = (void *)(uintptr_t)v->desc;
	struct vring_avail *avail = (void *)(uintptr_t)v->avail;
	struct vring_used *used = (void *)(uintptr_t)v->used;

	/* virtio 1.1, 2.6.7.1: with EVENT_IDX the driver leaves flags 0. */
	if ((F.acked & VV_BIT(VIRTIO_RING_F_EVENT_IDX)) && avail->flags != 0)
		F.violation = "avail flags set with EVENT_IDX negotiated";
	while (!F.ctrl_silent && v->base != avail->idx) {
		uint16_t head = avail->ring[v->base & (v->num - 1)], id = head;
		uint8_t in[2 + VV_CTRL_DATA_MAX], *ack = NULL;
		unsigned int n = 0, hops = 0;

		for (;;) {
			const struct vring_desc *d = &desc[id];

			if (d->flags & VRING_DESC_F_WRITE) {
				ack = (uint8_t *)(uintptr_t)d->addr;
			} else {
				unsigned int k = d->len < sizeof(in) - n ?
					d->len : (unsigned int)sizeof(in) - n;

				memcpy(in + n, (void *)(uintptr_t)d->addr, k);
				n += k;
			}
			if (!(d->flags & VRING_DESC_F_NEXT) || ++hops > 4)
				break;
			id = d->next;
		}
		assert_non_null(ack);
		assert_true(n >= 2);
		assert_true(F.nctrl < 16);
		F.ctrl_cmds[F.nctrl].cls = in[0];
		F.ctrl_cmds[F.nctrl].cmd = in[1];
		F.ctrl_cmds[F.nctrl].len = n - 2;
		memcpy(F.ctrl_cmds[F.nctrl].data, in + 2, n - 2);
		F.nctrl++;
		*ack = F.ctrl_nack_class == in[0] + 1 ? VIRTIO_NET_ERR :
			VIRTIO_NET_OK;
		used->ring[used->idx & (v->num - 1)].id = head;
		used->ring[used->idx & (v->num - 1)].len = 1;
		__atomic_store_n(&used->idx, (uint16_t)(used->idx + 1),
				 __ATOMIC_RELEASE);
		v->base++;
	}
}

static void
fake_kick(int fd)
{
	struct fake_vring *v = &F.vr[fake_ctrl_index()];

	if (fake_ctrl_index() < VV_MAX_VRINGS && v->enabled && v->kick == fd &&
	    F.status & S_DOK)
		fake_ctrl_run(v);
}

/* A page per vring, as vhost-vdpa maps it at offset vring x page size. */
static uint16_t doorbell_pages[VV_MAX_VRINGS][2048] __attribute__((aligned(4096)));

static void *
fake_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	long page = sysconf(_SC_PAGESIZE);

	(void)addr;
	if (!fd_is(fd, FD_VDPA) || !(flags & MAP_SHARED) || !(prot & PROT_WRITE) ||
	    len != (size_t)page || off % page != 0 ||
	    off / page >= VV_MAX_VRINGS) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	if (!F.doorbells) {
		errno = ENOTSUP;	/* drivers/vhost/vdpa.c without a notify area */
		return MAP_FAILED;
	}
	F.doorbell_maps++;
	return doorbell_pages[off / page];
}

static int
fake_munmap(void *addr, size_t len)
{
	(void)addr;
	(void)len;
	F.doorbell_unmaps++;
	return 0;
}

/* Only eventfds are read: the config interrupt's counter. */
static ssize_t
fake_read(int fd, void *buf, size_t len)
{
	if (!fd_is(fd, FD_EVENT) || len != sizeof(uint64_t))
		return sys_fail(EINVAL);
	if (fd != F.config_call || F.config_signals == 0)
		return sys_fail(EAGAIN);
	memcpy(buf, &F.config_signals, sizeof(uint64_t));
	F.config_signals = 0;
	return (ssize_t)len;
}

/* The device changes its config and signals the config eventfd, if set. */
static void
fake_config_change(uint16_t status)
{
	F.cfg.status = status;
	if (F.config_call >= 0)
		F.config_signals++;
}

static ssize_t
fake_write(int fd, const void *buf, size_t len)
{
	struct call *c = record(C_WRITE, 0);
	const struct vhost_msg_v2 *m = buf;
	int err = fault(c);

	if (len >= sizeof(*m))
		c->val = m->iotlb.type;
	if (err)
		return sys_fail(err);
	if (fd_is(fd, FD_EVENT)) {
		if (len != sizeof(uint64_t))
			return sys_fail(EINVAL);
		fake_kick(fd);
		return (ssize_t)len;
	}
	if (!fd_is(fd, FD_VDPA))
		return sys_fail(EBADF);
	if (len != sizeof(*m))
		return sys_fail(EINVAL);
	if (!F.owner)
		return sys_fail(EPERM);
	assert_true(F.nmsgs < MAX_MSGS);
	F.msgs[F.nmsgs++] = *m;
	err = iotlb_msg(m);
	if (err < 0)
		return sys_fail(-err);
	return F.short_write ? (ssize_t)len - 1 : (ssize_t)len;
}

/* At DRIVER_OK the device starts DMA: every enabled ring must be reachable. */
static void
check_driver_ok(void)
{
	unsigned int i;

	for (i = 0; i < VV_MAX_VRINGS; i++) {
		const struct fake_vring *v = &F.vr[i];

		if (!v->enabled)
			continue;
		if (v->num == 0 || !fd_is(v->kick, FD_EVENT) ||
		    !fd_is(v->call, FD_EVENT))
			F.violation = "DRIVER_OK with a vring not set up";
		else if (!tlb_covers(v->desc, 16u * v->num) ||
			 !tlb_covers(v->avail, 6u + 2u * v->num) ||
			 !tlb_covers(v->used, 6u + 8u * v->num))
			F.violation = "DRIVER_OK with a vring outside the IOTLB";
	}
	if (F.in_batch)
		F.violation = "DRIVER_OK inside an open IOTLB batch";
}

static int
vring_ioctl(unsigned long req, void *arg, struct call *c)
{
	struct vhost_vring_state *s = arg;
	struct vhost_vring_file *f = arg;
	struct vhost_vring_addr *a = arg;
	unsigned int idx = req == VHOST_SET_VRING_ADDR ? a->index :
		(req == VHOST_SET_VRING_KICK || req == VHOST_SET_VRING_CALL) ?
		f->index : s->index;
	struct fake_vring *v;

	c->val = idx;
	if (!F.owner)
		return EPERM;
	if (idx >= F.vqs || idx >= VV_MAX_VRINGS)
		return ENOBUFS;
	v = &F.vr[idx];
	switch (req) {
	case VHOST_SET_VRING_NUM:
		if (s->num == 0 || s->num > F.vring_max ||
		    (s->num & (s->num - 1)))
			return EINVAL;
		v->num = (uint16_t)s->num;
		return 0;
	case VHOST_SET_VRING_BASE:
		v->base = (uint16_t)s->num;
		return 0;
	case VHOST_SET_VRING_ADDR:
		v->desc = a->desc_user_addr;
		v->avail = a->avail_user_addr;
		v->used = a->used_user_addr;
		return 0;
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
		if (f->fd != -1 && !fd_is(f->fd, FD_EVENT))
			return EBADF;
		if (req == VHOST_SET_VRING_KICK)
			v->kick = f->fd;
		else
			v->call = f->fd;
		return 0;
	case VHOST_VDPA_SET_VRING_ENABLE:
		v->enabled = s->num != 0;
		return 0;
	default:
		return ENOTTY;
	}
}

static int
fake_ioctl(int fd, unsigned long req, void *arg)
{
	struct call *c = record(C_IOCTL, req);
	int err = fault(c);
	uint64_t v64;
	uint8_t v8;

	if (err)
		return sys_fail(err);
	if (!fd_is(fd, FD_VDPA))
		return sys_fail(EBADF);
	switch (req) {
	case VHOST_VDPA_GET_DEVICE_ID:
		*(uint32_t *)arg = F.device_id;
		return 0;
	case VHOST_SET_OWNER:
		if (F.owner)
			return sys_fail(EBUSY);
		F.owner = true;
		return 0;
	case VHOST_GET_FEATURES:
		*(uint64_t *)arg = F.features;
		return 0;
	case VHOST_GET_BACKEND_FEATURES:
		*(uint64_t *)arg = F.backend_offered;
		return 0;
	case VHOST_SET_BACKEND_FEATURES:
		v64 = *(uint64_t *)arg;
		c->val = v64;
		if (v64 & ~F.backend_offered)
			return sys_fail(EOPNOTSUPP);
		F.backend_acked = v64;
		return 0;
	case VHOST_VDPA_GET_VQS_COUNT:
	case VHOST_VDPA_GET_VRING_NUM:
	case VHOST_VDPA_GET_CONFIG_SIZE:
	case VHOST_VDPA_GET_IOVA_RANGE:
		if (!F.has_limits)
			return sys_fail(ENOTTY);
		if (req == VHOST_VDPA_GET_VQS_COUNT)
			*(uint32_t *)arg = F.vqs;
		else if (req == VHOST_VDPA_GET_VRING_NUM)
			*(uint16_t *)arg = F.vring_max;
		else if (req == VHOST_VDPA_GET_CONFIG_SIZE)
			*(uint32_t *)arg = F.config_size;
		else
			*(struct vhost_vdpa_iova_range *)arg =
				(struct vhost_vdpa_iova_range){
					F.iova_first, F.iova_last };
		return 0;
	case VHOST_VDPA_GET_CONFIG: {
		struct vhost_vdpa_config *cf = arg;

		c->val = (uint64_t)cf->off << 32 | cf->len;
		if (cf->len == 0 || cf->off > F.config_size)
			return sys_fail(EINVAL);
		if (cf->len > F.config_size - cf->off)
			return sys_fail(E2BIG);
		memcpy(cf->buf, (uint8_t *)&F.cfg + cf->off, cf->len);
		return 0;
	}
	case VHOST_VDPA_GET_STATUS:
		if (F.stale_reads > 0) {
			F.stale_reads--;
			v8 = F.stale_status;
		} else {
			v8 = F.status;
		}
		*(uint8_t *)arg = v8;
		c->val = v8;
		return 0;
	case VHOST_VDPA_SET_STATUS:
		v8 = *(uint8_t *)arg;
		c->val = v8;
		/* drivers/vhost/vdpa.c: no bit may go except by a reset. */
		if (v8 != 0 && (F.status & ~v8) != 0)
			return sys_fail(EINVAL);
		if (v8 == 0) {
			F.suspended = false;
			F.stale_status = F.status;
			F.stale_reads = F.reset_reads;
			F.status = 0;
			F.acked = 0;
			memset(F.vr, 0, sizeof(F.vr));
			F.config_call = -1;
			return 0;
		}
		if ((v8 & S_DOK) && !(F.status & S_DOK))
			check_driver_ok();
		F.status = v8 & ~F.status_drop;
		return 0;
	case VHOST_VDPA_SUSPEND:
		/* drivers/vhost/vdpa.c: the ioctl exists whatever was acked. */
		if (!(F.backend_offered & VV_BIT(VHOST_BACKEND_F_SUSPEND)))
			return sys_fail(EOPNOTSUPP);
		if (F.suspend_errno)
			return sys_fail(F.suspend_errno);
		F.suspended = true;
		return 0;
	case VHOST_VDPA_SET_CONFIG_CALL:
		c->val = *(int *)arg;
		if (*(int *)arg != -1 && !fd_is(*(int *)arg, FD_EVENT))
			return sys_fail(EBADF);
		F.config_call = *(int *)arg;
		return 0;
	case VHOST_SET_FEATURES:
		v64 = *(uint64_t *)arg;
		c->val = v64;
		if (F.status & S_FOK)
			return sys_fail(EBUSY);
		if (v64 & ~F.features)
			return sys_fail(EINVAL);
		F.acked = v64;
		return 0;
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_BASE:
	case VHOST_SET_VRING_ADDR:
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_VDPA_SET_VRING_ENABLE:
		err = vring_ioctl(req, arg, c);
		return err ? sys_fail(err) : 0;
	default:
		return sys_fail(ENOTTY);
	}
}

/* A socket path leads to the vhost-user backend: nobody listens here. */
static int
fake_socket(int domain, int type, int protocol)
{
	(void)domain;
	(void)type;
	(void)protocol;
	return fake_eventfd(0, 0);
}

static int
fake_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	(void)fd;
	(void)addr;
	(void)len;
	return sys_fail(ECONNREFUSED);
}

static const struct vv_sys_ops fake_ops = {
	.open = fake_open,
	.close = fake_close,
	.ioctl = fake_ioctl,
	.read = fake_read,
	.write = fake_write,
	.mmap = fake_mmap,
	.munmap = fake_munmap,
	.stat = fake_stat,
	.eventfd = fake_eventfd,
	.socket = fake_socket,
	.connect = fake_connect,
};

/* ---------------------------------------------------------------------- */
/* Fixture                                                                 */

#define MEM1 0x7f0000000000ull
#define MEM2 0x7f0000400000ull
#define MEM_LEN 0x200000ull

static struct vv_dev dev;
static struct vv_dev_params params;
static struct vv_vring_addr vrings[2];

static int
setup(void **state)
{
	unsigned int i;

	(void)state;
	fake_reset();
	log_reset();
	vv_sys_set_ops(&fake_ops);
	vv_log_set_sink(capture);
	memset(&params, 0, sizeof(params));
	params.path = NODE;
	params.queue_pairs = 1;
	params.queue_size = 256;
	params.wish.mrg_rxbuf = true;
	params.wish.in_order = true;
	for (i = 0; i < 2; i++) {
		vrings[i].size = 256;
		vrings[i].desc = MEM1 + i * 0x10000;
		vrings[i].avail = vrings[i].desc + 0x1000;
		vrings[i].used = vrings[i].desc + 0x2000;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	vv_sys_set_ops(NULL);
	vv_log_set_sink(NULL);
	return 0;
}

static int
open_map_start(void)
{
	int ret = vv_dev_open(&dev, &params);

	if (ret == 0)
		ret = vv_dev_mem_add(&dev, MEM1, MEM_LEN);
	if (ret == 0)
		ret = vv_dev_mem_add(&dev, MEM2, MEM_LEN);
	if (ret == 0)
		ret = vv_dev_start(&dev, vrings, 2);
	return ret;
}

static void
assert_no_fd_open(void)
{
	assert_int_equal(fds_open(), 0);
	assert_int_equal(F.bad_closes, 0);
	assert_int_equal(F.closes, F.opens + F.eventfds);
}

static const char *
req_name(unsigned long req)
{
	switch (req) {
#define N(r) case r: return #r
	N(VHOST_VDPA_GET_DEVICE_ID); N(VHOST_SET_OWNER);
	N(VHOST_GET_FEATURES); N(VHOST_SET_FEATURES); N(VHOST_VDPA_SET_CONFIG_CALL);
	N(VHOST_GET_BACKEND_FEATURES); N(VHOST_SET_BACKEND_FEATURES);
	N(VHOST_VDPA_GET_VQS_COUNT); N(VHOST_VDPA_GET_VRING_NUM);
	N(VHOST_VDPA_GET_CONFIG_SIZE); N(VHOST_VDPA_GET_IOVA_RANGE);
	N(VHOST_VDPA_GET_CONFIG); N(VHOST_VDPA_GET_STATUS);
	N(VHOST_VDPA_SET_STATUS); N(VHOST_SET_VRING_NUM);
	N(VHOST_SET_VRING_BASE); N(VHOST_SET_VRING_ADDR);
	N(VHOST_SET_VRING_KICK); N(VHOST_SET_VRING_CALL);
	N(VHOST_VDPA_SET_VRING_ENABLE); N(VHOST_VDPA_SUSPEND);
#undef N
	default: return "?";
	}
}

static const char *
call_name(const struct call *c)
{
	static const char *const kinds[] = {
		"stat", "open", "close", "ioctl", "write", "eventfd"
	};

	return c->kind == C_IOCTL ? req_name(c->req) : kinds[c->kind];
}

/* ---------------------------------------------------------------------- */
/* The happy path                                                          */

#define ANY UINT64_MAX

struct expect {
	enum call_kind kind;
	unsigned long req;
	uint64_t val;
};

static void
assert_calls(unsigned int from, const struct expect *e, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct call *c = &F.calls[from + i];

		if (from + i >= F.ncalls)
			fail_msg("call #%u missing: expected %s", from + i,
				 e[i].kind == C_IOCTL ? req_name(e[i].req) :
				 "a syscall");
		if (c->kind != e[i].kind || c->req != e[i].req ||
		    (e[i].val != ANY && c->val != e[i].val))
			fail_msg("call #%u is %s val 0x%llx; expected %s val 0x%llx",
				 from + i, call_name(c),
				 (unsigned long long)c->val,
				 e[i].kind == C_IOCTL ? req_name(e[i].req) :
				 "another syscall", (unsigned long long)e[i].val);
	}
}

static const uint64_t negotiated =
	VV_BIT(VIRTIO_F_VERSION_1) | VV_BIT(VIRTIO_F_ACCESS_PLATFORM) |
	VV_BIT(VIRTIO_F_IN_ORDER) | VV_BIT(VIRTIO_RING_F_EVENT_IDX) |
	VV_BIT(VIRTIO_NET_F_MRG_RXBUF) | VV_BIT(VIRTIO_NET_F_MAC) |
	VV_BIT(VIRTIO_NET_F_STATUS) | VV_BIT(VIRTIO_NET_F_MTU);

static void
test_happy_path_sequence(void **state)
{
	static const struct expect open_seq[] = {
		{ C_STAT, 0, ANY },
		{ C_OPEN, 0, ANY },
		{ C_IOCTL, VHOST_VDPA_GET_DEVICE_ID, ANY },
		{ C_IOCTL, VHOST_SET_OWNER, ANY },
		{ C_IOCTL, VHOST_GET_FEATURES, ANY },
		{ C_IOCTL, VHOST_GET_BACKEND_FEATURES, ANY },
		/* Only what the driver uses, not all that is offered. */
		{ C_IOCTL, VHOST_SET_BACKEND_FEATURES,
		  VV_BIT(VHOST_BACKEND_F_IOTLB_MSG_V2) |
		  VV_BIT(VHOST_BACKEND_F_IOTLB_BATCH) |
		  VV_BIT(VHOST_BACKEND_F_SUSPEND) },
		{ C_IOCTL, VHOST_VDPA_GET_VQS_COUNT, ANY },
		{ C_IOCTL, VHOST_VDPA_GET_VRING_NUM, ANY },
		{ C_IOCTL, VHOST_VDPA_GET_CONFIG_SIZE, ANY },
		{ C_IOCTL, VHOST_VDPA_GET_IOVA_RANGE, ANY },
		/* Its sysfs entry, which goes when the device is unplugged. */
		{ C_STAT, 0, ANY },
		{ C_IOCTL, VHOST_VDPA_GET_CONFIG,
		  sizeof(struct virtio_net_config) },
		/* The config interrupt's eventfd, for a device with STATUS. */
		{ C_EVENTFD, 0, ANY },
	};
	static const struct expect start_seq[] = {
		{ C_EVENTFD, 0, ANY }, { C_EVENTFD, 0, ANY },
		{ C_EVENTFD, 0, ANY }, { C_EVENTFD, 0, ANY },
		{ C_IOCTL, VHOST_VDPA_SET_STATUS, 0 },
		{ C_IOCTL, VHOST_VDPA_GET_STATUS, 0 },
		{ C_IOCTL, VHOST_VDPA_SET_STATUS, S_ACK },
		{ C_IOCTL, VHOST_VDPA_GET_STATUS, S_ACK },
		{ C_IOCTL, VHOST_VDPA_SET_STATUS, S_ACK | S_DRV },
		{ C_IOCTL, VHOST_VDPA_GET_STATUS, S_ACK | S_DRV },
		{ C_IOCTL, VHOST_SET_FEATURES, negotiated },
		{ C_IOCTL, VHOST_VDPA_SET_STATUS, S_ACK | S_DRV | S_FOK },
		{ C_IOCTL, VHOST_VDPA_GET_STATUS, S_ACK | S_DRV | S_FOK },
		/* All memory in one batch before any vring is touched. */
		{ C_WRITE, 0, VHOST_IOTLB_BATCH_BEGIN },
		{ C_WRITE, 0, VHOST_IOTLB_INVALIDATE },
		{ C_WRITE, 0, VHOST_IOTLB_UPDATE },
		{ C_WRITE, 0, VHOST_IOTLB_UPDATE },
		{ C_WRITE, 0, VHOST_IOTLB_BATCH_END },
		{ C_IOCTL, VHOST_SET_VRING_NUM, 0 },
		{ C_IOCTL, VHOST_SET_VRING_BASE, 0 },
		{ C_IOCTL, VHOST_SET_VRING_ADDR, 0 },
		{ C_IOCTL, VHOST_SET_VRING_KICK, 0 },
		{ C_IOCTL, VHOST_SET_VRING_CALL, 0 },
		{ C_IOCTL, VHOST_VDPA_SET_VRING_ENABLE, 0 },
		{ C_IOCTL, VHOST_SET_VRING_NUM, 1 },
		{ C_IOCTL, VHOST_SET_VRING_BASE, 1 },
		{ C_IOCTL, VHOST_SET_VRING_ADDR, 1 },
		{ C_IOCTL, VHOST_SET_VRING_KICK, 1 },
		{ C_IOCTL, VHOST_SET_VRING_CALL, 1 },
		{ C_IOCTL, VHOST_VDPA_SET_VRING_ENABLE, 1 },
		/* A reset forgot it: armed again before DRIVER_OK. */
		{ C_IOCTL, VHOST_VDPA_SET_CONFIG_CALL, ANY },
		{ C_IOCTL, VHOST_VDPA_SET_STATUS, S_ACK | S_DRV | S_FOK | S_DOK },
		{ C_IOCTL, VHOST_VDPA_GET_STATUS, S_ACK | S_DRV | S_FOK | S_DOK },
		/* The link as it starts, for telling a change later. */
		{ C_IOCTL, VHOST_VDPA_GET_CONFIG, ANY },
	};
	const unsigned int nopen = sizeof(open_seq) / sizeof(open_seq[0]);
	const unsigned int nstart = sizeof(start_seq) / sizeof(start_seq[0]);
	unsigned int i;

	(void)state;
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_calls(0, open_seq, nopen);
	assert_int_equal(F.ncalls, nopen);
	/* CSUM is taken when offered, and sent only once an app asks. */
	assert_int_equal(dev.features, negotiated | VV_BIT(VIRTIO_NET_F_CSUM));
	assert_int_equal(dev.backend_features,
			 VV_BIT(VHOST_BACKEND_F_IOTLB_MSG_V2) |
			 VV_BIT(VHOST_BACKEND_F_IOTLB_BATCH) |
			 VV_BIT(VHOST_BACKEND_F_SUSPEND));

	/* Before start memory is only recorded. */
	assert_int_equal(vv_dev_mem_add(&dev, MEM2, MEM_LEN), 0);
	assert_int_equal(vv_dev_mem_add(&dev, MEM1, MEM_LEN), 0);
	assert_int_equal(F.ncalls, nopen);

	assert_int_equal(vv_dev_start(&dev, vrings, 2), 0);
	assert_calls(nopen, start_seq, nstart);
	assert_int_equal(F.ncalls, nopen + nstart);
	assert_true(dev.started);

	/* The batch drops whatever the device had, then maps the memmap. */
	assert_int_equal(F.nmsgs, 5);
	assert_int_equal(F.msgs[1].iotlb.iova, F.iova_first);
	assert_int_equal(F.msgs[1].iotlb.size, F.iova_last - F.iova_first + 1);
	assert_int_equal(F.msgs[2].iotlb.iova, MEM1);
	assert_int_equal(F.msgs[2].iotlb.size, MEM_LEN);
	assert_int_equal(F.msgs[3].iotlb.iova, MEM2);
	assert_int_equal(F.ntlb, 2);

	for (i = 0; i < 2; i++) {
		const struct fake_vring *v = &F.vr[i];

		assert_int_equal(v->num, 256);
		assert_int_equal(v->base, 0);
		assert_int_equal(v->desc, vrings[i].desc);
		assert_int_equal(v->avail, vrings[i].avail);
		assert_int_equal(v->used, vrings[i].used);
		assert_true(v->enabled);
		assert_int_equal(v->kick, vv_dev_kick_fd(&dev, i));
		assert_int_not_equal(v->kick, v->call);
	}
	assert_int_not_equal(F.vr[0].kick, F.vr[1].kick);
	assert_int_equal(F.status, S_ACK | S_DRV | S_FOK | S_DOK);
	assert_int_equal(F.acked, negotiated);
	assert_null(F.violation);
	assert_int_equal(log_errors, 0);
	vv_dev_close(&dev);
	assert_no_fd_open();
}

static void
test_stop_and_close(void **state)
{
	/* Suspended first where the device can: then nothing moves. */
	static const struct expect stop_seq[] = {
		{ C_IOCTL, VHOST_VDPA_SUSPEND, ANY },
		{ C_IOCTL, VHOST_VDPA_SET_STATUS, 0 },
		{ C_IOCTL, VHOST_VDPA_GET_STATUS, 0 },
	};
	unsigned int n;

	(void)state;
	assert_int_equal(open_map_start(), 0);
	n = F.ncalls;
	assert_int_equal(vv_dev_stop(&dev), 0);
	assert_calls(n, stop_seq, 3);
	assert_int_equal(F.ncalls, n + 3);
	assert_false(dev.started);
	assert_true(dev.suspended);
	assert_int_equal(F.status, 0);
	/* Stopping a stopped device does nothing. */
	assert_int_equal(vv_dev_stop(&dev), 0);
	assert_int_equal(F.ncalls, n + 3);

	assert_int_equal(F.opens, 1);
	/* Two per vring, and the config interrupt's. */
	assert_int_equal(F.eventfds, 5);
	n = F.ncalls;
	vv_dev_close(&dev);
	/* Reset before letting go, then every fd: the vdpa node and 5 eventfds. */
	assert_int_equal(F.calls[n].kind, C_IOCTL);
	assert_int_equal(F.calls[n].req, VHOST_VDPA_SET_STATUS);
	assert_int_equal(F.calls[n].val, 0);
	assert_no_fd_open();
	assert_int_equal(F.closes, 6);
	/* Closing twice is harmless and closes nothing again. */
	vv_dev_close(&dev);
	assert_no_fd_open();

	/* The node was released: a new open gets it. */
	assert_int_equal(open_map_start(), 0);
	assert_int_equal(F.opens, 2);
	vv_dev_close(&dev);
	assert_no_fd_open();
	assert_null(F.violation);
}

/*
 * A device that cannot suspend (vp_vdpa, VDUSE) is stopped by the reset
 * alone, silently; one whose SUSPEND fails is too, with a warning.
 */
static void
test_stop_without_suspend(void **state)
{
	unsigned int n;

	(void)state;
	F.backend_offered &= ~VV_BIT(VHOST_BACKEND_F_SUSPEND);
	assert_int_equal(open_map_start(), 0);
	assert_false(dev.backend_features & VV_BIT(VHOST_BACKEND_F_SUSPEND));
	n = F.ncalls;
	assert_int_equal(vv_dev_stop(&dev), 0);
	assert_int_equal(F.calls[n].req, VHOST_VDPA_SET_STATUS);
	assert_false(dev.suspended);
	assert_int_equal(log_errors, 0);
	vv_dev_close(&dev);
	assert_no_fd_open();

	fake_reset();
	log_reset();
	F.suspend_errno = EIO;
	assert_int_equal(open_map_start(), 0);
	assert_int_equal(vv_dev_stop(&dev), 0);
	assert_false(dev.suspended);
	assert_int_equal(F.status, 0);
	assert_warned("stopping it by reset alone");
	vv_dev_close(&dev);
	assert_no_fd_open();
}

static void
test_close_without_start(void **state)
{
	(void)state;
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_int_equal(vv_dev_mem_add(&dev, MEM1, MEM_LEN), 0);
	vv_dev_close(&dev);
	assert_no_fd_open();
	/* Only the config interrupt's, made at open. */
	assert_int_equal(F.eventfds, 1);
}

static void
test_restart(void **state)
{
	unsigned int n;

	(void)state;
	assert_int_equal(open_map_start(), 0);
	assert_int_equal(vv_dev_stop(&dev), 0);
	/* The IOTLB outlives the reset here (as with some parents), so only
	 * the leading INVALIDATE keeps the UPDATEs from failing EEXIST. */
	assert_int_equal(F.ntlb, 2);
	n = F.nmsgs;
	assert_int_equal(vv_dev_start(&dev, vrings, 2), 0);
	assert_int_equal(F.nmsgs, n + 5);
	assert_int_equal(F.ntlb, 2);
	/* The eventfds are kept across a restart. */
	assert_int_equal(F.eventfds, 5);
	assert_int_equal(F.status, S_ACK | S_DRV | S_FOK | S_DOK);
	assert_null(F.violation);
	assert_int_equal(log_errors, 0);
	vv_dev_close(&dev);
	assert_no_fd_open();
}

/* The fake's IOTLB equals the memmap, range for range. */
static void
assert_tlb_is_memmap(void)
{
	unsigned int i;

	assert_int_equal(F.ntlb, dev.memmap.n);
	for (i = 0; i < dev.memmap.n; i++)
		assert_true(tlb_covers(dev.memmap.regions[i].addr,
				       dev.memmap.regions[i].len));
}

static void
test_mem_events_after_start(void **state)
{
	unsigned int n;

	(void)state;
	assert_int_equal(open_map_start(), 0);
	n = F.nmsgs;
	assert_int_equal(vv_dev_mem_add(&dev, 0x7f0001000000ull, MEM_LEN), 0);
	assert_int_equal(F.nmsgs, n + 3);
	assert_int_equal(F.msgs[n].iotlb.type, VHOST_IOTLB_BATCH_BEGIN);
	assert_int_equal(F.msgs[n + 1].iotlb.type, VHOST_IOTLB_UPDATE);
	assert_int_equal(F.msgs[n + 2].iotlb.type, VHOST_IOTLB_BATCH_END);
	assert_tlb_is_memmap();

	/* A hole in the middle of a region. */
	n = F.nmsgs;
	assert_int_equal(vv_dev_mem_remove(&dev, MEM1 + 0x100000, 0x1000), 0);
	assert_int_equal(F.nmsgs, n + 5);
	assert_int_equal(F.msgs[n + 1].iotlb.type, VHOST_IOTLB_INVALIDATE);
	assert_int_equal(F.msgs[n + 2].iotlb.type, VHOST_IOTLB_UPDATE);
	assert_int_equal(F.msgs[n + 3].iotlb.type, VHOST_IOTLB_UPDATE);
	assert_tlb_is_memmap();
	assert_int_equal(F.ntlb, 4);

	/* Overlap is refused before anything reaches the device. */
	n = F.ncalls;
	assert_int_equal(vv_dev_mem_add(&dev, MEM2, 0x1000), -EEXIST);
	assert_int_equal(F.ncalls, n);
	assert_logged("overlaps");
	assert_null(F.violation);
	vv_dev_close(&dev);
	assert_no_fd_open();
}

static void
test_backend_without_batch(void **state)
{
	unsigned int i;

	(void)state;
	F.backend_offered = VV_BIT(VHOST_BACKEND_F_IOTLB_MSG_V2);
	assert_int_equal(open_map_start(), 0);
	assert_int_equal(dev.backend_features,
			 VV_BIT(VHOST_BACKEND_F_IOTLB_MSG_V2));
	assert_int_equal(F.nmsgs, 3);
	assert_int_equal(F.msgs[0].iotlb.type, VHOST_IOTLB_INVALIDATE);
	for (i = 1; i < 3; i++)
		assert_int_equal(F.msgs[i].iotlb.type, VHOST_IOTLB_UPDATE);
	assert_null(F.violation);
	vv_dev_close(&dev);
	assert_no_fd_open();
}

static void
test_backend_without_msg_v2(void **state)
{
	(void)state;
	F.backend_offered = VV_BIT(VHOST_BACKEND_F_IOTLB_BATCH);
	assert_int_equal(vv_dev_open(&dev, &params), -ENOTSUP);
	assert_logged("IOTLB_MSG_V2");
	assert_no_fd_open();
}

static void
test_old_kernel_without_limits(void **state)
{
	(void)state;
	F.has_limits = false;
	assert_int_equal(open_map_start(), 0);
	assert_int_equal(dev.info.max_vrings, 0);
	assert_int_equal(dev.info.max_ring_size, 0);
	assert_int_equal(dev.info.iova_first, 0);
	assert_int_equal(dev.info.iova_last, UINT64_MAX);
	/* The whole space is invalidated, with the largest size there is. */
	assert_int_equal(F.msgs[1].iotlb.type, VHOST_IOTLB_INVALIDATE);
	assert_int_equal(F.msgs[1].iotlb.iova, 0);
	assert_int_equal(F.msgs[1].iotlb.size, UINT64_MAX);
	assert_int_equal(log_errors, 0);
	vv_dev_close(&dev);
	assert_no_fd_open();
}

static void
test_config_fields(void **state)
{
	(void)state;
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_true(dev.info.has_mac);
	assert_int_equal(dev.info.mac[0], 0x02);
	assert_int_equal(dev.info.mac[5], 0x42);
	assert_true(dev.info.has_status);
	assert_true(dev.info.has_mtu);
	assert_int_equal(dev.info.mtu, 9000);
	assert_false(dev.info.has_speed);
	assert_int_equal(dev.info.max_vrings, 3);
	assert_int_equal(dev.info.max_ring_size, 256);
	assert_true(vv_dev_link_up(&dev));
	F.cfg.status = 0;
	assert_false(vv_dev_link_up(&dev));
	vv_dev_close(&dev);

	/* Without the STATUS feature the link is taken as up. */
	fake_reset();
	F.features &= ~VV_BIT(VIRTIO_NET_F_STATUS);
	F.cfg.status = 0;
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_false(dev.info.has_status);
	assert_true(vv_dev_link_up(&dev));
	vv_dev_close(&dev);

	/* A config space holding only the MAC: nothing read past it. */
	fake_reset();
	F.config_size = 6;
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_true(dev.info.has_mac);
	assert_false(dev.info.has_status);
	assert_false(dev.info.has_mtu);
	vv_dev_close(&dev);

	/* Speed when offered and known. */
	fake_reset();
	F.features |= VV_BIT(VIRTIO_NET_F_SPEED_DUPLEX);
	F.cfg.speed = 25000;
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_true(dev.info.has_speed);
	assert_int_equal(dev.info.speed, 25000);
	vv_dev_close(&dev);

	/* An unreadable config space is not fatal: defaults and a warning. */
	fake_reset();
	log_reset();
	F.fail_kind = C_IOCTL;
	F.fail_req = VHOST_VDPA_GET_CONFIG;
	F.fail_errno = EIO;
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_false(dev.info.has_mac);
	assert_false(dev.info.has_status);
	assert_non_null(strstr(log_text, "config space is unreadable"));
	vv_dev_close(&dev);
	assert_no_fd_open();
}

/* ---------------------------------------------------------------------- */
/* Every error path                                                        */

/* Calls whose failure the driver survives on purpose. */
static bool
tolerated(const struct call *c)
{
	/* The config interrupt's eventfd, made right after the config read. */
	if (c->kind == C_EVENTFD && c > F.calls && c[-1].kind == C_IOCTL &&
	    c[-1].req == VHOST_VDPA_GET_CONFIG)
		return true;
	/* The sysfs entry, looked for after the limits: no removal watch. */
	if (c->kind == C_STAT && c > F.calls && c[-1].kind == C_IOCTL &&
	    c[-1].req == VHOST_VDPA_GET_IOVA_RANGE)
		return true;
	if (c->kind != C_IOCTL)
		return false;
	switch (c->req) {
	case VHOST_VDPA_SET_CONFIG_CALL:	/* link seen only when polled */
	case VHOST_VDPA_GET_VQS_COUNT:	/* older kernels lack the limits */
	case VHOST_VDPA_GET_VRING_NUM:
	case VHOST_VDPA_GET_CONFIG_SIZE:
	case VHOST_VDPA_GET_IOVA_RANGE:
	case VHOST_VDPA_GET_CONFIG:	/* defaults and a warning */
		return true;
	default:
		return false;
	}
}

static void
error_paths(int err_ioctl, int err_other)
{
	enum call_kind kinds[MAX_CALLS];
	unsigned int total = 0, i, k;

	/* The bring-up once without faults: which calls, in which order. */
	assert_int_equal(open_map_start(), 0);
	for (i = 0; i < F.ncalls; i++)
		if (F.calls[i].kind != C_CLOSE)
			kinds[total++] = F.calls[i].kind;
	assert_int_equal(total, F.nfailable);
	assert_true(total > 40);
	vv_dev_close(&dev);

	for (k = 0; k < total; k++) {
		const struct call *c;
		int ret;

		fake_reset();
		log_reset();
		F.fail_at = (int)k;
		F.fail_errno = kinds[k] == C_IOCTL ? err_ioctl : err_other;
		ret = vv_dev_open(&dev, &params);
		/* A failed open leaves nothing open behind it. */
		if (ret < 0 && fds_open() != 0)
			fail_msg("call %u: failed open left %u fds open", k,
				 fds_open());
		if (ret == 0)
			ret = vv_dev_mem_add(&dev, MEM1, MEM_LEN);
		if (ret == 0)
			ret = vv_dev_mem_add(&dev, MEM2, MEM_LEN);
		if (ret == 0)
			ret = vv_dev_start(&dev, vrings, 2);
		assert_true(F.failed_call >= 0);
		c = &F.calls[F.failed_call];
		assert_int_equal(c->kind, kinds[k]);
		if (tolerated(c)) {
			if (ret != 0)
				fail_msg("failing %s (call %u) with %s should be survived, got %d; log:\n%s",
					 call_name(c), k, strerror(F.fail_errno),
					 ret, log_text);
		} else {
			if (ret >= 0)
				fail_msg("failing %s (call %u) with %s went unnoticed",
					 call_name(c), k, strerror(F.fail_errno));
			if (log_errors == 0)
				fail_msg("failing %s (call %u) with %s logged no error; log:\n%s",
					 call_name(c), k, strerror(F.fail_errno),
					 log_text);
			assert_false(dev.started);
			/* A failed start leaves the device reset. */
			if (F.vdpa_fd >= 0 && F.status != 0)
				fail_msg("failing %s (call %u) left status 0x%x; log:\n%s",
					 call_name(c), k, F.status, log_text);
		}
		if (F.violation != NULL)
			fail_msg("failing %s (call %u): %s", call_name(c), k,
				 F.violation);
		vv_dev_close(&dev);
		if (fds_open() != 0 || F.bad_closes != 0)
			fail_msg("failing %s (call %u): %u fds left open, %u bad closes",
				 call_name(c), k, fds_open(), F.bad_closes);
		assert_int_equal(F.closes, F.opens + F.eventfds);

		/* Whatever failed, the device can be brought up afterwards. */
		F.fail_at = -1;
		log_reset();
		assert_int_equal(open_map_start(), 0);
		vv_dev_close(&dev);
		assert_int_equal(fds_open(), 0);
	}
}

static void
test_every_call_fails_eio(void **state)
{
	(void)state;
	error_paths(EIO, EIO);
}

static void
test_every_call_fails_other(void **state)
{
	(void)state;
	/* ENOTTY is an old kernel's answer to an ioctl it lacks; EMFILE
	 * runs out of fds for open/eventfd and is odd but possible for
	 * stat and write. */
	error_paths(ENOTTY, EMFILE);
}

/* ---------------------------------------------------------------------- */
/* Specific causes, specific messages                                      */

static void
expect_open_fails(int err, const char *needle)
{
	log_reset();
	assert_int_equal(vv_dev_open(&dev, &params), err);
	assert_logged(needle);
	assert_int_equal(fds_open(), 0);
	vv_dev_close(&dev);
	assert_no_fd_open();
}

static void
test_bad_params(void **state)
{
	char long_path[VV_PATH_MAX + 8];

	(void)state;
	params.path = NULL;
	expect_open_fails(-EINVAL, "path=");
	params.path = "";
	expect_open_fails(-EINVAL, "path=");
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	params.path = long_path;
	expect_open_fails(-ENAMETOOLONG, "longer than");
	params.path = NODE;
	params.queue_pairs = 0;
	expect_open_fails(-EINVAL, "queues=0");
	params.queue_pairs = VV_MAX_QUEUE_PAIRS + 1;
	expect_open_fails(-EINVAL, "queues=");
	assert_int_equal(F.ncalls, 0);
}

static void
test_path_problems(void **state)
{
	(void)state;
	params.path = "/dev/vhost-vdpa-9";
	expect_open_fails(-ENOENT, "does not exist");
	assert_logged("vdpa dev add");
	params.path = NODE;

	F.fail_kind = C_STAT;
	F.fail_errno = EACCES;
	expect_open_fails(-EACCES, "cannot stat");

	fake_reset();
	F.mode = S_IFSOCK | 0600;
	expect_open_fails(-ECONNREFUSED, "nothing listens on this socket");
	fake_reset();
	F.mode = S_IFREG | 0600;
	expect_open_fails(-ENODEV, "/dev/vhost-vdpa-N or the socket");
	fake_reset();
	F.mode = S_IFDIR | 0700;
	expect_open_fails(-ENODEV, "neither");
	assert_int_equal(F.opens, 0);
}

static void
test_open_errors(void **state)
{
	(void)state;
	/* strerror() alone would say "busy" too: check for the advice. */
	F.fail_kind = C_OPEN;
	F.fail_errno = EBUSY;
	expect_open_fails(-EBUSY, "busy");
	assert_logged("fuser -v " NODE);
	fake_reset();
	F.fail_kind = C_OPEN;
	F.fail_errno = EACCES;
	expect_open_fails(-EACCES, "permission");
	assert_logged("run as root");
	fake_reset();
	F.fail_kind = C_OPEN;
	F.fail_errno = EPERM;
	expect_open_fails(-EPERM, "permission");
	assert_logged("run as root");
	fake_reset();
	F.fail_kind = C_OPEN;
	F.fail_errno = ENXIO;
	expect_open_fails(-ENXIO, "gone away");

	/* The real thing: a second opener of a node already open. */
	fake_reset();
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	{
		struct vv_dev second;

		log_reset();
		assert_int_equal(vv_dev_open(&second, &params), -EBUSY);
		assert_logged("another process");
		vv_dev_close(&second);
	}
	vv_dev_close(&dev);
	assert_no_fd_open();
}

static void
test_identify_errors(void **state)
{
	(void)state;
	F.fail_kind = C_IOCTL;
	F.fail_req = VHOST_VDPA_GET_DEVICE_ID;
	F.fail_errno = ENOTTY;
	expect_open_fails(-ENOTTY, "not a vhost-vdpa");
	fake_reset();
	F.device_id = 2;	/* block */
	expect_open_fails(-ENODEV, "not a network device");
	fake_reset();
	F.fail_kind = C_IOCTL;
	F.fail_req = VHOST_SET_OWNER;
	F.fail_errno = EBUSY;
	expect_open_fails(-EBUSY, "owns the device");
	fake_reset();
	F.features &= ~VV_BIT(VIRTIO_F_VERSION_1);
	expect_open_fails(-ENOTSUP, "VERSION_1");
}

static void
test_limits_errors(void **state)
{
	(void)state;
	params.queue_size = 1024;
	expect_open_fails(-EINVAL, "queue_size=1024");
	assert_logged("queue_size=256");

	fake_reset();
	params.queue_size = 256;
	F.vqs = 2;
	params.queue_pairs = 2;
	expect_open_fails(-EINVAL, "queues=2");
	assert_logged("queues=1");

	/* Enough vqs but no MQ: one pair only. */
	fake_reset();
	F.vqs = 5;
	expect_open_fails(-EINVAL, "VIRTIO_NET_F_MQ");

	/* MQ offered, but the config space says one pair. */
	fake_reset();
	F.vqs = 5;
	F.features |= VV_BIT(VIRTIO_NET_F_MQ);
	F.cfg.max_virtqueue_pairs = 1;
	expect_open_fails(-EINVAL, "offers 1 queue pairs");

	/* MQ and pairs enough, but nobody to drive the control queue. */
	fake_reset();
	F.vqs = 5;
	F.features |= VV_BIT(VIRTIO_NET_F_MQ);
	F.cfg.max_virtqueue_pairs = 2;
	expect_open_fails(-ENOTSUP, "control queue");

	/* With MQ but without CTRL_VQ the pair count cannot be set. */
	fake_reset();
	F.vqs = 5;
	F.features |= VV_BIT(VIRTIO_NET_F_MQ);
	F.features &= ~VV_BIT(VIRTIO_NET_F_CTRL_VQ);
	F.cfg.max_virtqueue_pairs = 2;
	params.wish.ctrl_vq = true;
	expect_open_fails(-ENOTSUP, "VIRTIO_NET_F_CTRL_VQ");
	params.wish.ctrl_vq = false;

	/* packed_vq=1 on a device without packed rings. */
	fake_reset();
	params.queue_pairs = 1;
	params.wish.packed_vq = true;
	F.features &= ~VV_BIT(VIRTIO_F_RING_PACKED);
	expect_open_fails(-ENOTSUP, "VIRTIO_F_RING_PACKED");
}

static void
test_features_ok_rejected(void **state)
{
	(void)state;
	F.status_drop = S_FOK;
	assert_int_equal(open_map_start(), -EIO);
	assert_logged("rejected the negotiated features");
	assert_false(dev.started);
	assert_int_equal(F.status, 0);
	assert_int_equal(F.ntlb, 0);	/* nothing mapped for a dead device */
	assert_null(F.violation);
	vv_dev_close(&dev);
	assert_no_fd_open();
}

/*
 * After a failure past the first status step the driver tells the device
 * it gave up (FAILED) before resetting. The kernel refuses a status that
 * drops bits, so FAILED must be added to the bits already set.
 */
static void
test_failed_status_is_accepted(void **state)
{
	unsigned int i;
	bool seen = false;

	(void)state;
	F.fail_kind = C_IOCTL;
	F.fail_req = VHOST_SET_VRING_ADDR;
	F.fail_errno = EIO;
	assert_int_equal(open_map_start(), -EIO);
	assert_logged("VHOST_SET_VRING_ADDR");
	for (i = (unsigned int)F.failed_call; i < F.ncalls; i++) {
		const struct call *c = &F.calls[i];

		if (c->kind == C_IOCTL && c->req == VHOST_VDPA_SET_STATUS &&
		    (c->val & VIRTIO_CONFIG_S_FAILED)) {
			seen = true;
			assert_int_equal(c->val, S_ACK | S_DRV | S_FOK |
					 VIRTIO_CONFIG_S_FAILED);
			/* Accepted: the next status call is the reset. */
			assert_int_equal(F.calls[i + 1].req,
					 VHOST_VDPA_SET_STATUS);
			assert_int_equal(F.calls[i + 1].val, 0);
		}
	}
	assert_true(seen);
	assert_int_equal(F.status, 0);
	vv_dev_close(&dev);
	assert_no_fd_open();
}

static void
test_iotlb_enomem(void **state)
{
	(void)state;
	F.fail_kind = C_WRITE;
	F.fail_errno = ENOMEM;
	assert_int_equal(open_map_start(), -ENOMEM);
	assert_logged("ulimit -l");
	assert_int_equal(F.status, 0);
	vv_dev_close(&dev);
	assert_no_fd_open();

	/* Same when memory arrives after start. */
	fake_reset();
	log_reset();
	assert_int_equal(open_map_start(), 0);
	F.fail_kind = C_WRITE;
	F.fail_errno = ENOMEM;
	assert_int_equal(vv_dev_mem_add(&dev, 0x7f0001000000ull, MEM_LEN),
			 -ENOMEM);
	assert_logged("ulimit -l");
	vv_dev_close(&dev);
	assert_no_fd_open();
}

/* Some kernels report a memlock limit that is too low as EFAULT. */
static void
test_iotlb_efault_memlock(void **state)
{
	struct rlimit saved, low;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &saved), 0);
	low = saved;
	low.rlim_cur = 64 * 1024;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &low), 0);
	F.fail_kind = C_WRITE;
	F.fail_errno = EFAULT;
	assert_int_equal(open_map_start(), -EFAULT);
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &saved), 0);
	assert_logged("ulimit -l unlimited");
	assert_logged("LimitMEMLOCK");
	assert_logged("RLIMIT_MEMLOCK (0 MiB)");
	vv_dev_close(&dev);
	assert_no_fd_open();

	/* A limit above what is mapped: not the cause, not named. */
	fake_reset();
	log_reset();
	F.fail_kind = C_WRITE;
	F.fail_errno = EFAULT;
	if (saved.rlim_cur == RLIM_INFINITY || saved.rlim_cur > (1ull << 40)) {
		assert_int_equal(open_map_start(), -EFAULT);
		assert_not_logged("RLIMIT_MEMLOCK");
		vv_dev_close(&dev);
	}
	assert_no_fd_open();
}

/* path= may name the vDPA device; sysfs gives its vhost-vdpa node. */
static void
test_path_vdpa_name(void **state)
{
	char root[] = "/tmp/vv-sysfs-XXXXXX", p[256];
	const char *saved = vv_sysfs_root;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "mkdir -p %s/bus/vdpa/devices/dut/vhost-vdpa-0 %s/bus/vdpa/devices/other",
		 root, root);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/bus/vdpa/devices/other/driver", root);
	assert_int_equal(symlink("../../../../bus/vdpa/drivers/virtio_vdpa", p), 0);
	vv_sysfs_root = root;

	params.path = "dut";
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_string_equal(dev.path, NODE);
	vv_dev_close(&dev);
	assert_no_fd_open();

	params.path = "other";
	expect_open_fails(-ENODEV, "bound to virtio_vdpa, not vhost_vdpa");
	assert_logged("/sys/bus/vdpa/drivers/vhost_vdpa/bind");
	snprintf(p, sizeof(p), "%s/bus/vdpa/devices/other/driver", root);
	assert_int_equal(unlink(p), 0);
	expect_open_fails(-ENODEV, "bound to no driver, not vhost_vdpa");
	assert_not_logged("<driver>");
	params.path = "nosuch";
	expect_open_fails(-ENOENT, "or the name of a vDPA device");
	params.path = NODE;
	vv_sysfs_root = saved;

	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	assert_int_equal(system(p), 0);
}

static void
test_iotlb_short_write(void **state)
{
	(void)state;
	F.short_write = true;
	assert_int_equal(open_map_start(), -EIO);
	assert_logged("IOTLB");
	vv_dev_close(&dev);
	assert_no_fd_open();
}

static void
test_memory_outside_iova_range(void **state)
{
	(void)state;
	F.iova_first = 0x1000;
	F.iova_last = 0xffffffffull;
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_int_equal(vv_dev_mem_add(&dev, MEM1, MEM_LEN), -ERANGE);
	assert_logged("outside the IOVA range");
	log_reset();
	/* Straddling either end is outside too. */
	assert_int_equal(vv_dev_mem_add(&dev, 0xfffff000ull, 0x2000), -ERANGE);
	assert_logged("outside the IOVA range");
	assert_int_equal(vv_dev_mem_add(&dev, 0, 0x2000), -ERANGE);
	/* Exactly the range is fine, and start invalidates just that. */
	assert_int_equal(vv_dev_mem_add(&dev, 0x1000, 0x100000), 0);
	assert_int_equal(vv_dev_mem_add(&dev, 0xfff00000ull, 0x100000), 0);
	assert_int_equal(dev.memmap.n, 2);
	vrings[0].desc = 0x10000;
	vrings[0].avail = 0x11000;
	vrings[0].used = 0x12000;
	vrings[1].desc = 0x20000;
	vrings[1].avail = 0x21000;
	vrings[1].used = 0x22000;
	assert_int_equal(vv_dev_start(&dev, vrings, 2), 0);
	assert_int_equal(F.msgs[1].iotlb.iova, 0x1000);
	assert_int_equal(F.msgs[1].iotlb.size, 0xffffffffull - 0x1000 + 1);
	assert_null(F.violation);
	vv_dev_close(&dev);
	assert_no_fd_open();
}

static void
test_start_bad_vring_count(void **state)
{
	(void)state;
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_int_equal(vv_dev_start(&dev, vrings, 0), -EINVAL);
	assert_int_equal(vv_dev_start(&dev, vrings, 3), -EINVAL);
	assert_int_equal(F.eventfds, 1);
	vv_dev_close(&dev);
	assert_no_fd_open();
}

static void
test_reset_takes_time(void **state)
{
	unsigned int i, first = 0, reads = 0;

	(void)state;
	F.reset_reads = 3;
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_int_equal(vv_dev_mem_add(&dev, MEM1, MEM_LEN), 0);
	F.status = S_ACK;	/* left over from an earlier user */
	first = F.ncalls;
	assert_int_equal(vv_dev_start(&dev, vrings, 2), 0);
	/* Past the eventfds, the reset: polled until it reads 0. */
	while (F.calls[first].kind != C_IOCTL)
		first++;
	assert_int_equal(F.calls[first].req, VHOST_VDPA_SET_STATUS);
	assert_int_equal(F.calls[first].val, 0);
	for (i = first + 1; F.calls[i].req == VHOST_VDPA_GET_STATUS; i++)
		reads++;
	assert_int_equal(reads, 4);
	assert_int_equal(F.calls[i - 1].val, 0);
	assert_int_equal(F.status, S_ACK | S_DRV | S_FOK | S_DOK);
	vv_dev_close(&dev);
	assert_no_fd_open();
}

static void
test_reset_never_completes(void **state)
{
	(void)state;
	assert_int_equal(open_map_start(), 0);
	F.reset_reads = INT_MAX;
	log_reset();
	/* Without a confirmed reset, buffers must not be freed: say so. */
	assert_int_equal(vv_dev_stop(&dev), -ETIMEDOUT);
	assert_logged("did not complete its reset");
	assert_logged("did not confirm the reset");
	vv_dev_close(&dev);
	assert_no_fd_open();
}


/* ---------------------------------------------------------------------- */
/* The device's control queue                                              */

static void *ctrl_shm;
static void *ctrl_priv;

/* A device with MQ and CTRL_VQ, four pairs, probed for `pairs`. */
static void
ctrl_device(uint16_t pairs)
{
	F.features |= VV_BIT(VIRTIO_NET_F_MQ) | VV_BIT(VIRTIO_NET_F_CTRL_RX) |
		VV_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR);
	F.cfg.max_virtqueue_pairs = 4;
	F.vqs = 9;
	params.queue_pairs = pairs;
	params.wish.ctrl_vq = true;
}

/* Opens, maps, gives the control queue real memory and starts 2 x pairs. */
static int
ctrl_open_start(unsigned int pairs)
{
	size_t len = (vv_ctrl_shared_size() + 4095) & ~(size_t)4095;
	struct vv_vring_addr vr[8];
	unsigned int i;
	int ret;

	ctrl_shm = aligned_alloc(4096, len);
	ctrl_priv = malloc(vv_ctrl_priv_size());
	assert_non_null(ctrl_shm);
	assert_non_null(ctrl_priv);
	memset(ctrl_shm, 0, len);
	for (i = 0; i < 2 * pairs; i++) {
		vr[i] = vrings[0];
		vr[i].desc = MEM1 + i * 0x10000;
		vr[i].avail = vr[i].desc + 0x1000;
		vr[i].used = vr[i].desc + 0x2000;
	}
	ret = vv_dev_open(&dev, &params);
	if (ret < 0)
		return ret;
	assert_true(vv_dev_has_ctrl(&dev));
	vv_dev_set_ctrl_mem(&dev, ctrl_shm, ctrl_priv);
	assert_int_equal(vv_dev_mem_add(&dev, MEM1, MEM_LEN), 0);
	assert_int_equal(vv_dev_mem_add(&dev, (uintptr_t)ctrl_shm, len), 0);
	return vv_dev_start(&dev, vr, 2 * pairs);
}

static void
ctrl_done(void)
{
	vv_dev_close(&dev);
	assert_no_fd_open();
	free(ctrl_shm);
	free(ctrl_priv);
	ctrl_shm = ctrl_priv = NULL;
}

static void
test_ctrl_sets_pairs_and_filters(void **state)
{
	static const uint8_t mac[6] = { 0x02, 1, 2, 3, 4, 5 };
	const struct fake_vring *cq = &F.vr[8];

	(void)state;
	ctrl_device(2);
	assert_int_equal(ctrl_open_start(2), 0);
	assert_null(F.violation);
	assert_true(F.acked & VV_BIT(VIRTIO_NET_F_CTRL_VQ));
	assert_true(F.acked & VV_BIT(VIRTIO_NET_F_MQ));
	/* Its ring suppresses interrupts the EVENT_IDX way. */
	assert_true(F.acked & VV_BIT(VIRTIO_RING_F_EVENT_IDX));
	assert_int_equal(dev.ctrl.ring.split.avail->flags, 0);
	assert_int_equal(*vv_split_used_event(&dev.ctrl.ring.split), 0xffff);
	/* After every data queue the device has, not after those in use. */
	assert_true(cq->enabled);
	assert_int_equal(cq->num, VV_CTRL_RING_SIZE);
	assert_false(F.vr[4].enabled);
	/* The device runs one pair until told: told right at start. */
	assert_int_equal(F.nctrl, 1);
	assert_int_equal(F.ctrl_cmds[0].cls, VIRTIO_NET_CTRL_MQ);
	assert_int_equal(F.ctrl_cmds[0].cmd, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET);
	assert_int_equal(F.ctrl_cmds[0].len, 2);
	assert_int_equal(F.ctrl_cmds[0].data[0], 2);

	assert_int_equal(vv_dev_ctrl_rx(&dev, VIRTIO_NET_CTRL_RX_PROMISC,
					false), 0);
	assert_int_equal(vv_dev_ctrl_rx(&dev, VIRTIO_NET_CTRL_RX_ALLMULTI,
					true), 0);
	assert_int_equal(vv_dev_ctrl_mac(&dev, mac), 0);
	assert_int_equal(F.nctrl, 4);
	assert_int_equal(F.ctrl_cmds[1].cls, VIRTIO_NET_CTRL_RX);
	assert_int_equal(F.ctrl_cmds[1].cmd, VIRTIO_NET_CTRL_RX_PROMISC);
	assert_int_equal(F.ctrl_cmds[1].len, 1);
	assert_int_equal(F.ctrl_cmds[1].data[0], 0);
	assert_int_equal(F.ctrl_cmds[2].cmd, VIRTIO_NET_CTRL_RX_ALLMULTI);
	assert_int_equal(F.ctrl_cmds[2].data[0], 1);
	assert_int_equal(F.ctrl_cmds[3].cls, VIRTIO_NET_CTRL_MAC);
	assert_int_equal(F.ctrl_cmds[3].cmd, VIRTIO_NET_CTRL_MAC_ADDR_SET);
	assert_memory_equal(F.ctrl_cmds[3].data, mac, 6);

	/* Stopped: nothing is sent; the caller applies its state at start. */
	assert_int_equal(vv_dev_stop(&dev), 0);
	assert_int_equal(vv_dev_ctrl_rx(&dev, VIRTIO_NET_CTRL_RX_PROMISC,
					true), 0);
	assert_int_equal(F.nctrl, 4);
	ctrl_done();
}

/* One pair: the control queue sits at index 2 and no pair count is sent. */
static void
test_ctrl_single_pair(void **state)
{
	(void)state;
	F.features |= VV_BIT(VIRTIO_NET_F_CTRL_RX);
	params.wish.ctrl_vq = true;
	assert_int_equal(ctrl_open_start(1), 0);
	assert_null(F.violation);
	assert_true(F.vr[2].enabled);
	assert_false(F.acked & VV_BIT(VIRTIO_NET_F_MQ));
	assert_int_equal(F.nctrl, 0);
	assert_int_equal(vv_dev_ctrl_rx(&dev, VIRTIO_NET_CTRL_RX_PROMISC,
					true), 0);
	assert_int_equal(F.nctrl, 1);
	/* CTRL_MAC_ADDR was not offered. */
	assert_int_equal(vv_dev_ctrl_mac(&dev, F.cfg.mac), -ENOTSUP);
	ctrl_done();
}

static void
test_ctrl_refused(void **state)
{
	(void)state;
	ctrl_device(2);
	F.ctrl_nack_class = VIRTIO_NET_CTRL_MQ + 1;
	assert_int_equal(ctrl_open_start(2), -EIO);
	assert_logged("refused 2 queue pairs");
	/* A failed start leaves the device reset, not half running. */
	assert_int_equal(F.status, 0);
	ctrl_done();
}

static void
test_ctrl_silent(void **state)
{
	unsigned int saved = vv_ctrl_timeout_ms;

	(void)state;
	ctrl_device(2);
	F.ctrl_silent = true;
	vv_ctrl_timeout_ms = 50;
	assert_int_equal(ctrl_open_start(2), -ETIMEDOUT);
	vv_ctrl_timeout_ms = saved;
	assert_logged("did not answer");
	assert_logged("looks hung");
	assert_int_equal(F.status, 0);
	ctrl_done();
}

/* A queue that timed out takes no more commands until it is laid anew. */
static void
test_ctrl_stuck_until_restart(void **state)
{
	unsigned int saved = vv_ctrl_timeout_ms;

	(void)state;
	F.features |= VV_BIT(VIRTIO_NET_F_CTRL_RX);
	params.wish.ctrl_vq = true;
	assert_int_equal(ctrl_open_start(1), 0);
	F.ctrl_silent = true;
	vv_ctrl_timeout_ms = 50;
	assert_int_equal(vv_dev_ctrl_rx(&dev, VIRTIO_NET_CTRL_RX_PROMISC,
					true), -ETIMEDOUT);
	vv_ctrl_timeout_ms = saved;
	F.ctrl_silent = false;
	assert_int_equal(vv_dev_ctrl_rx(&dev, VIRTIO_NET_CTRL_RX_PROMISC,
					true), -EBUSY);
	assert_logged("restart the port");
	assert_int_equal(vv_dev_stop(&dev), 0);
	assert_int_equal(vv_dev_start(&dev, vrings, 2), 0);
	assert_int_equal(vv_dev_ctrl_rx(&dev, VIRTIO_NET_CTRL_RX_PROMISC,
					true), 0);
	ctrl_done();
}

/*
 * The address table goes as one command, unicast then multicast; VLANs are
 * filtered only when the port asked for it at start (CTRL_VLAN acked then,
 * and only then); the link announcement is acknowledged.
 */
static void
test_ctrl_tables_vlan_announce(void **state)
{
	static const uint8_t uc[2][6] = { { 2, 0, 0, 0, 0, 1 },
					  { 2, 0, 0, 0, 0, 2 } };
	static const uint8_t mc[1][6] = { { 1, 0, 0x5e, 1, 2, 3 } };
	static uint8_t many[VV_MAC_TABLE_MAX + 1][6];
	uint32_t n;

	(void)state;
	F.features |= VV_BIT(VIRTIO_NET_F_CTRL_RX) |
		VV_BIT(VIRTIO_NET_F_CTRL_VLAN) |
		VV_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE);
	params.wish.ctrl_vq = true;
	assert_int_equal(ctrl_open_start(1), 0);
	assert_null(F.violation);
	/* Not asked for at start: the device filters no VLAN at all. */
	assert_false(F.acked & VV_BIT(VIRTIO_NET_F_CTRL_VLAN));
	assert_int_equal(vv_dev_ctrl_vlan(&dev, 100, true), 0);
	assert_int_equal(F.nctrl, 0);

	assert_int_equal(vv_dev_ctrl_mac_table(&dev, uc, 2, mc, 1), 0);
	assert_int_equal(F.nctrl, 1);
	assert_int_equal(F.ctrl_cmds[0].cls, VIRTIO_NET_CTRL_MAC);
	assert_int_equal(F.ctrl_cmds[0].cmd, VIRTIO_NET_CTRL_MAC_TABLE_SET);
	assert_int_equal(F.ctrl_cmds[0].len, 4 + 12 + 4 + 6);
	memcpy(&n, F.ctrl_cmds[0].data, 4);
	assert_int_equal(n, 2);
	assert_memory_equal(F.ctrl_cmds[0].data + 4, uc, 12);
	memcpy(&n, F.ctrl_cmds[0].data + 16, 4);
	assert_int_equal(n, 1);
	assert_memory_equal(F.ctrl_cmds[0].data + 20, mc, 6);
	/* An empty table is a command too: it drops every extra address. */
	assert_int_equal(vv_dev_ctrl_mac_table(&dev, NULL, 0, NULL, 0), 0);
	assert_int_equal(F.ctrl_cmds[1].len, 8);
	assert_int_equal(vv_dev_ctrl_mac_table(&dev, many,
					       VV_MAC_TABLE_MAX + 1, NULL, 0),
			 -ENOSPC);
	assert_logged("at most 32 unicast");
	assert_int_equal(F.nctrl, 2);

	assert_int_equal(vv_dev_ctrl_announce_ack(&dev), 0);
	assert_int_equal(F.ctrl_cmds[2].cls, VIRTIO_NET_CTRL_ANNOUNCE);
	assert_int_equal(F.ctrl_cmds[2].cmd, VIRTIO_NET_CTRL_ANNOUNCE_ACK);
	assert_int_equal(F.ctrl_cmds[2].len, 0);

	/* Asked for: CTRL_VLAN is acked and the table edited one id at a time. */
	assert_int_equal(vv_dev_stop(&dev), 0);
	dev.vlan_filter = true;
	assert_int_equal(vv_dev_start(&dev, vrings, 2), 0);
	assert_true(F.acked & VV_BIT(VIRTIO_NET_F_CTRL_VLAN));
	F.nctrl = 0;
	assert_int_equal(vv_dev_ctrl_vlan(&dev, 100, true), 0);
	assert_int_equal(vv_dev_ctrl_vlan(&dev, 100, false), 0);
	assert_int_equal(vv_dev_ctrl_vlan(&dev, 4096, true), -EINVAL);
	assert_int_equal(F.nctrl, 2);
	assert_int_equal(F.ctrl_cmds[0].cls, VIRTIO_NET_CTRL_VLAN);
	assert_int_equal(F.ctrl_cmds[0].cmd, VIRTIO_NET_CTRL_VLAN_ADD);
	assert_int_equal(F.ctrl_cmds[0].len, 2);
	assert_int_equal(F.ctrl_cmds[0].data[0] | F.ctrl_cmds[0].data[1] << 8,
			 100);
	assert_int_equal(F.ctrl_cmds[1].cmd, VIRTIO_NET_CTRL_VLAN_DEL);
	ctrl_done();

	/* Features the device lacks are refused, not faked. */
	fake_reset();
	F.features |= VV_BIT(VIRTIO_NET_F_CTRL_RX);
	params.wish.ctrl_vq = true;
	assert_int_equal(ctrl_open_start(1), 0);
	assert_int_equal(vv_dev_ctrl_vlan(&dev, 1, true), -ENOTSUP);
	assert_int_equal(vv_dev_ctrl_announce_ack(&dev), -ENOTSUP);
	ctrl_done();
}

/*
 * Config interrupts: the eventfd is armed at every start (a reset forgets
 * it), and an event tells a link change and an announce request apart.
 */
static void
test_config_interrupt(void **state)
{
	bool up = false;
	int fd;

	(void)state;
	F.features |= VV_BIT(VIRTIO_NET_F_CTRL_RX) |
		VV_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE);
	F.cfg.status = VIRTIO_NET_S_LINK_UP;
	params.wish.ctrl_vq = true;
	assert_int_equal(ctrl_open_start(1), 0);
	fd = vv_dev_config_fd(&dev);
	assert_true(fd >= 0);
	assert_int_equal(F.config_call, fd);
	assert_int_equal(vv_dev_config_event(&dev, &up), 0);
	assert_true(up);

	fake_config_change(0);
	assert_int_equal(vv_dev_config_event(&dev, &up),
			 VV_CONFIG_LINK_CHANGED);
	assert_false(up);
	assert_int_equal(F.config_signals, 0);
	assert_int_equal(vv_dev_config_event(&dev, &up), 0);
	fake_config_change(VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	assert_int_equal(vv_dev_config_event(&dev, &up),
			 VV_CONFIG_LINK_CHANGED | VV_CONFIG_ANNOUNCE);
	assert_true(up);

	assert_int_equal(vv_dev_stop(&dev), 0);
	assert_int_equal(F.config_call, -1);
	assert_int_equal(vv_dev_start(&dev, vrings, 2), 0);
	assert_int_equal(F.config_call, fd);
	ctrl_done();

	/* Without STATUS there is no link to follow, and no eventfd. */
	fake_reset();
	F.features &= ~VV_BIT(VIRTIO_NET_F_STATUS);
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_int_equal(vv_dev_config_fd(&dev), -1);
	vv_dev_close(&dev);
	assert_no_fd_open();
}

/*
 * Doorbells: a device with a notification page per vring gets it mapped
 * once, kept across restarts and unmapped at close; without one, the kick
 * eventfd serves and the reason is said.
 */
static void
test_doorbells(void **state)
{
	(void)state;
	F.doorbells = true;
	assert_int_equal(open_map_start(), 0);
	assert_int_equal(F.doorbell_maps, 2);
	assert_ptr_equal(vv_dev_doorbell(&dev, 0), doorbell_pages[0]);
	assert_ptr_equal(vv_dev_doorbell(&dev, 1), doorbell_pages[1]);
	assert_int_equal(vv_dev_stop(&dev), 0);
	assert_int_equal(vv_dev_start(&dev, vrings, 2), 0);
	assert_int_equal(F.doorbell_maps, 2);
	vv_dev_close(&dev);
	assert_int_equal(F.doorbell_unmaps, 2);
	assert_null(vv_dev_doorbell(&dev, 0));
	assert_no_fd_open();

	fake_reset();
	log_reset();
	assert_int_equal(open_map_start(), 0);
	assert_null(vv_dev_doorbell(&dev, 0));
	assert_int_equal(F.doorbell_unmaps, 0);
	assert_true(log_has(VV_LOG_INFO, "kicks go through the eventfd"));
	vv_dev_close(&dev);
	assert_int_equal(F.doorbell_unmaps, 0);
	assert_no_fd_open();
}

/*
 * An unplugged device keeps its fd working until closed; only its sysfs
 * entry tells. The watch sees it once, the link goes down for good, stop
 * and close finish, and the port cannot start again.
 */
static void
test_device_removed(void **state)
{
	(void)state;
	assert_int_equal(open_map_start(), 0);
	assert_true(vv_dev_needs_watch(&dev));
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_UP);
	assert_true(vv_dev_link_up(&dev));
	F.unplugged = true;
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_LOST);
	assert_logged("was removed");
	assert_logged("stop and close the port");
	assert_false(vv_dev_link_up(&dev));
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_DOWN);
	assert_int_equal(vv_dev_stop(&dev), 0);
	assert_int_equal(F.status, 0);
	log_reset();
	assert_int_equal(vv_dev_start(&dev, vrings, 2), -ENODEV);
	assert_logged("close the port and probe it again");
	assert_false(dev.started);
	vv_dev_close(&dev);
	assert_no_fd_open();

	/* Where sysfs does not show the node, nothing is taken for removal. */
	fake_reset();
	log_reset();
	F.unplugged = true;
	assert_int_equal(open_map_start(), 0);
	assert_true(log_has(VV_LOG_INFO, "an unplugged device goes unnoticed"));
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_UP);
	assert_true(vv_dev_link_up(&dev));
	vv_dev_close(&dev);
	assert_no_fd_open();
}

static void
test_ctrl_without_memory(void **state)
{
	(void)state;
	F.features |= VV_BIT(VIRTIO_NET_F_CTRL_RX);
	params.wish.ctrl_vq = true;
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_int_equal(vv_dev_mem_add(&dev, MEM1, MEM_LEN), 0);
	assert_int_equal(vv_dev_mem_add(&dev, MEM2, MEM_LEN), 0);
	assert_int_equal(vv_dev_start(&dev, vrings, 2), -EINVAL);
	assert_logged("no memory was given for the control queue");
	vv_dev_close(&dev);
	assert_no_fd_open();

	/* Without CTRL_RX, filters are not the device's to change. */
	fake_reset();
	F.features &= ~VV_BIT(VIRTIO_NET_F_CTRL_VQ);
	assert_int_equal(open_map_start(), 0);
	assert_false(vv_dev_has_ctrl(&dev));
	assert_int_equal(vv_dev_ctrl_rx(&dev, VIRTIO_NET_CTRL_RX_PROMISC,
					false), -ENOTSUP);
	vv_dev_close(&dev);
	assert_no_fd_open();
}

static void
test_stop_reset_fails(void **state)
{
	(void)state;
	assert_int_equal(open_map_start(), 0);
	F.fail_kind = C_IOCTL;
	F.fail_req = VHOST_VDPA_SET_STATUS;
	F.fail_errno = EIO;
	log_reset();
	assert_true(vv_dev_stop(&dev) < 0);
	assert_logged("did not confirm the reset");
	vv_dev_close(&dev);
	assert_no_fd_open();
}

/*
 * RSS: taken with MQ when offered, its limits read from the config space;
 * while on, each start and each change send RSS_CONFIG (which also sets
 * the pair count) in the layout the spec gives; off goes back to
 * VQ_PAIRS_SET; a table, key, queue or hash type beyond the device is
 * refused before anything is sent.
 */
static void
test_ctrl_rss(void **state)
{
	struct vv_rss_conf r;
	const uint8_t *d;
	uint32_t u32;
	uint16_t u16, i;

	(void)state;
	ctrl_device(2);
	F.features |= VV_BIT(VIRTIO_NET_F_RSS);
	F.cfg.rss_max_key_size = 40;
	F.cfg.rss_max_indirection_table_length = 128;
	F.cfg.supported_hash_types = VIRTIO_NET_RSS_HASH_TYPE_IPv4 |
		VIRTIO_NET_RSS_HASH_TYPE_TCPv4;
	memset(&r, 0, sizeof(r));
	r.on = true;
	r.hash_types = VIRTIO_NET_RSS_HASH_TYPE_IPv4;
	r.key_len = 40;
	for (i = 0; i < 40; i++)
		r.key[i] = (uint8_t)(i + 1);
	r.reta_len = 128;
	for (i = 0; i < 128; i++)
		r.reta[i] = i % 2;
	assert_int_equal(ctrl_open_start(2), 0);
	assert_true(dev.info.has_rss);
	assert_int_equal(dev.info.rss_max_key_size, 40);
	assert_int_equal(dev.info.rss_max_reta_len, 128);
	assert_true(F.acked & VV_BIT(VIRTIO_NET_F_RSS));
	/* Off until asked for: the pair count alone. */
	assert_int_equal(F.nctrl, 1);
	assert_int_equal(F.ctrl_cmds[0].cmd, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET);
	/* A running port sends it at once, and every start again. */
	assert_int_equal(vv_dev_rss_set(&dev, &r), 0);
	assert_int_equal(vv_dev_stop(&dev), 0);
	assert_int_equal(vv_dev_start(&dev, dev.vrings, 4), 0);
	assert_int_equal(F.nctrl, 3);
	assert_memory_equal(F.ctrl_cmds[1].data, F.ctrl_cmds[2].data,
			    F.ctrl_cmds[1].len);
	F.ctrl_cmds[0] = F.ctrl_cmds[2];
	F.nctrl = 1;
	assert_int_equal(F.ctrl_cmds[0].cls, VIRTIO_NET_CTRL_MQ);
	assert_int_equal(F.ctrl_cmds[0].cmd, VIRTIO_NET_CTRL_MQ_RSS_CONFIG);
	assert_int_equal(F.ctrl_cmds[0].len, 4 + 2 + 2 + 256 + 2 + 1 + 40);
	d = F.ctrl_cmds[0].data;
	memcpy(&u32, d, 4);
	assert_int_equal(u32, VIRTIO_NET_RSS_HASH_TYPE_IPv4);
	memcpy(&u16, d + 4, 2);
	assert_int_equal(u16, 127);	/* indirection_table_mask */
	memcpy(&u16, d + 6, 2);
	assert_int_equal(u16, 0);	/* unclassified_queue */
	memcpy(&u16, d + 8 + 2 * 5, 2);
	assert_int_equal(u16, 1);
	memcpy(&u16, d + 8 + 256, 2);
	assert_int_equal(u16, 2);	/* max_tx_vq */
	assert_int_equal(d[8 + 256 + 2], 40);
	assert_memory_equal(d + 8 + 256 + 3, r.key, 40);

	/* A change on a running port goes at once. */
	for (i = 0; i < 128; i++)
		r.reta[i] = 1;
	assert_int_equal(vv_dev_rss_set(&dev, &r), 0);
	assert_int_equal(F.nctrl, 2);
	memcpy(&u16, F.ctrl_cmds[1].data + 8, 2);
	assert_int_equal(u16, 1);

	/* Beyond the device: refused, nothing sent, the old one kept. */
	r.reta[3] = 2;
	assert_int_equal(vv_dev_rss_set(&dev, &r), -EINVAL);
	assert_logged("names queue 2");
	r.reta[3] = 0;
	r.reta_len = 256;
	assert_int_equal(vv_dev_rss_set(&dev, &r), -EINVAL);
	assert_logged("up to 128");
	r.reta_len = 96;
	assert_int_equal(vv_dev_rss_set(&dev, &r), -EINVAL);
	r.reta_len = 128;
	r.key_len = 41;
	assert_int_equal(vv_dev_rss_set(&dev, &r), -EINVAL);
	assert_logged("takes 1 to 40");
	r.key_len = 40;
	r.hash_types |= VIRTIO_NET_RSS_HASH_TYPE_UDPv6;
	assert_int_equal(vv_dev_rss_set(&dev, &r), -EINVAL);
	assert_logged("not among those the device supports");
	assert_int_equal(F.nctrl, 2);
	assert_int_equal(dev.rss.reta[3], 1);

	/* Off: the device steers by itself again, told the pair count. */
	r.on = false;
	assert_int_equal(vv_dev_rss_set(&dev, &r), 0);
	assert_int_equal(F.nctrl, 3);
	assert_int_equal(F.ctrl_cmds[2].cmd, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET);
	assert_null(F.violation);
	ctrl_done();
}

/*
 * HASH_REPORT comes with RSS, and is handed to the device only at a start
 * that asks for it: it changes the header both ways.
 */
static void
test_hash_report_per_start(void **state)
{
	(void)state;
	ctrl_device(2);
	F.features |= VV_BIT(VIRTIO_NET_F_RSS) |
		VV_BIT(VIRTIO_NET_F_HASH_REPORT);
	F.cfg.rss_max_key_size = 40;
	F.cfg.rss_max_indirection_table_length = 128;
	F.cfg.supported_hash_types = VIRTIO_NET_RSS_HASH_TYPE_IPv4;
	assert_int_equal(ctrl_open_start(2), 0);
	assert_true(dev.features & VV_BIT(VIRTIO_NET_F_HASH_REPORT));
	assert_false(F.acked & VV_BIT(VIRTIO_NET_F_HASH_REPORT));
	assert_int_equal(vv_net_hdr_size(vv_dev_features_in_use(&dev)), 12);
	assert_int_equal(vv_dev_stop(&dev), 0);
	dev.hash_report = true;
	assert_int_equal(vv_dev_start(&dev, dev.vrings, 4), 0);
	assert_true(F.acked & VV_BIT(VIRTIO_NET_F_HASH_REPORT));
	assert_int_equal(vv_net_hdr_size(vv_dev_features_in_use(&dev)), 20);
	ctrl_done();

	/* Without RSS (one queue pair) it is not taken at all. */
	fake_reset();
	log_reset();
	ctrl_device(1);
	F.features |= VV_BIT(VIRTIO_NET_F_RSS) |
		VV_BIT(VIRTIO_NET_F_HASH_REPORT);
	assert_int_equal(ctrl_open_start(1), 0);
	assert_false(dev.features & VV_BIT(VIRTIO_NET_F_HASH_REPORT));
	ctrl_done();
}

/* Without RSS offered, nothing changes: VQ_PAIRS_SET, and -ENOTSUP. */
static void
test_ctrl_rss_not_offered(void **state)
{
	struct vv_rss_conf r = { .on = true };

	(void)state;
	ctrl_device(2);
	assert_int_equal(ctrl_open_start(2), 0);
	assert_false(F.acked & VV_BIT(VIRTIO_NET_F_RSS));
	assert_false(dev.info.has_rss);
	assert_int_equal(F.ctrl_cmds[0].cmd, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET);
	assert_int_equal(vv_dev_rss_set(&dev, &r), -ENOTSUP);
	ctrl_done();
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_happy_path_sequence),
		T(test_stop_and_close),
		T(test_stop_without_suspend),
		T(test_close_without_start),
		T(test_restart),
		T(test_mem_events_after_start),
		T(test_backend_without_batch),
		T(test_backend_without_msg_v2),
		T(test_old_kernel_without_limits),
		T(test_config_fields),
		T(test_every_call_fails_eio),
		T(test_every_call_fails_other),
		T(test_bad_params),
		T(test_path_problems),
		T(test_open_errors),
		T(test_identify_errors),
		T(test_limits_errors),
		T(test_features_ok_rejected),
		T(test_failed_status_is_accepted),
		T(test_iotlb_enomem),
		T(test_iotlb_efault_memlock),
		T(test_path_vdpa_name),
		T(test_iotlb_short_write),
		T(test_memory_outside_iova_range),
		T(test_start_bad_vring_count),
		T(test_reset_takes_time),
		T(test_reset_never_completes),
		T(test_stop_reset_fails),
		T(test_ctrl_sets_pairs_and_filters),
		T(test_ctrl_single_pair),
		T(test_ctrl_refused),
		T(test_ctrl_silent),
		T(test_ctrl_stuck_until_restart),
		T(test_ctrl_tables_vlan_announce),
		T(test_ctrl_rss),
		T(test_ctrl_rss_not_offered),
		T(test_hash_report_per_start),
		T(test_config_interrupt),
		T(test_doorbells),
		T(test_ctrl_without_memory),
		T(test_device_removed),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}

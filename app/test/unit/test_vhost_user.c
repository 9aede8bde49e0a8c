/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vhost-user backend, driven through the public vv_dev API against a
 * scripted peer.
 *
 * The peer is a thread on the far end of a real AF_UNIX socketpair, so the
 * backend's framing, SCM_RIGHTS fds and socket timeouts meet the kernel's
 * own behaviour. Only stat, socket and connect are intercepted, to hand the
 * backend our end of the pair; the server-mode tests use the real libc
 * throughout. The peer records every message and can refuse, garble, fall
 * silent or vanish at a chosen request, so each failure a user can meet is
 * driven and its message checked, and no fd or thread outlives a test.
 *
 * The protocol constants are written here from the vhost-user
 * specification rather than shared with the backend, so a backend that
 * drifts from the specification fails here.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/vhost_types.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vv_dev.h"
#include "vv_log.h"
#include "log_capture.h"
#include "vv_sys.h"

/* ---------------------------------------------------------------------- */
/* The protocol, from the specification                                   */

enum {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_SET_MEM_TABLE = 5,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
	VU_REQ_MAX = 19,
};

#define VU_F_PROTOCOL_FEATURES 30
#define VU_PROTOCOL_F_MQ 0
#define VU_PROTOCOL_F_LOG_SHMFD 1
#define VU_PROTOCOL_F_RARP 2
#define VU_PROTOCOL_F_REPLY_ACK 3
#define VU_PROTOCOL_F_CONFIG 9

#define VU_VERSION 0x1u
#define VU_FLAG_REPLY 0x4u
#define VU_FLAG_NEED_REPLY 0x8u
#define VU_VRING_NOFD (1u << 8)
#define VU_MAX_REGIONS 8

/* Flags of a request without, and with, an ack asked for. */
#define F_PLAIN VU_VERSION
#define F_ACKED (VU_VERSION | VU_FLAG_NEED_REPLY)

struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

struct vu_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

struct vu_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vu_region regions[VU_MAX_REGIONS];
};

static const char *
vu_name(uint32_t req)
{
	static const char *const names[VU_REQ_MAX] = {
		[VU_GET_FEATURES] = "GET_FEATURES",
		[VU_SET_FEATURES] = "SET_FEATURES",
		[VU_SET_OWNER] = "SET_OWNER",
		[VU_SET_MEM_TABLE] = "SET_MEM_TABLE",
		[VU_SET_VRING_NUM] = "SET_VRING_NUM",
		[VU_SET_VRING_ADDR] = "SET_VRING_ADDR",
		[VU_SET_VRING_BASE] = "SET_VRING_BASE",
		[VU_GET_VRING_BASE] = "GET_VRING_BASE",
		[VU_SET_VRING_KICK] = "SET_VRING_KICK",
		[VU_SET_VRING_CALL] = "SET_VRING_CALL",
		[VU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
		[VU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
		[VU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
		[VU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	};

	return req < VU_REQ_MAX && names[req] != NULL ? names[req] : "?";
}

/* ---------------------------------------------------------------------- */
/* The fake peer                                                          */

/*
 * Runs in its own thread and never calls cmocka: a failed assertion
 * longjmps, which must only happen on the test's own stack. Problems are
 * kept in `error` for the test to check after the peer has ended.
 */

#define PEER_PAYLOAD_MAX 512
#define PEER_MAX_MSGS 128
#define PEER_FDS_DESCRIBED 8
#define MAX_PEERS 8
#define PEER_WAIT_MS 2000
/* A driver blocked for good ends the run (SIGALRM) rather than hang it. */
#define TEST_ALARM_S 20

struct peer_fd {
	dev_t dev;
	ino_t ino;
	char link[64];		/* readlink of /proc/self/fd/N */
};

struct peer_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	uint8_t payload[PEER_PAYLOAD_MAX];
	unsigned int nfds;
	struct peer_fd fd[PEER_FDS_DESCRIBED];
};

/* What a peer is like; 0 in a *_req field means "no such request". */
struct peer_cfg {
	uint64_t features;
	uint64_t protocol;
	uint64_t queue_num;
	uint32_t vring_base[VV_MAX_VRINGS];	/* GET_VRING_BASE answers */
	uint32_t nack_req;	/* acked with status 1 */
	uint32_t vanish_req;	/* closes the socket on receipt */
	uint32_t silent_req;	/* never answered */
	uint32_t garble_req;	/* answered with a 4-byte payload */
	const char *connect_path;	/* server mode: connect here first */
};

struct peer {
	struct peer_cfg cfg;
	pthread_t tid;
	bool joined;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* Under lock. */
	int fd;
	bool stop;
	bool done;
	unsigned int nmsgs;	/* msgs[0..nmsgs) are final */
	/* Written by the peer before done. */
	bool eof;		/* the driver closed its end */
	int error;		/* what ended the peer otherwise */
	struct peer_msg msgs[PEER_MAX_MSGS];
};

static struct peer peers[MAX_PEERS];
static unsigned int npeers;
/* What the next peer is like. */
static struct peer_cfg peer_cfg;

static void
peer_describe_fd(struct peer_fd *d, int fd)
{
	char proc[64];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) == 0) {
		d->dev = st.st_dev;
		d->ino = st.st_ino;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, d->link, sizeof(d->link) - 1);
	d->link[n > 0 ? n : 0] = '\0';
}

/* Describes and closes the fds a message brought, so none leaks. */
static void
peer_take_fds(struct peer_msg *m, struct msghdr *mh)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		size_t i, n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (m->nfds < PEER_FDS_DESCRIBED)
				peer_describe_fd(&m->fd[m->nfds], fd);
			m->nfds++;
			close(fd);
		}
	}
}

/* 1: got len bytes; 0: the driver closed before any; -errno otherwise. */
static int
peer_read(struct peer *p, void *buf, size_t len, struct peer_msg *m)
{
	size_t got = 0;

	while (got < len) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 16)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = {
			.iov_base = (char *)buf + got,
			.iov_len = len - got,
		};
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n;

		n = recvmsg(p->fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return got == 0 ? 0 : -EPIPE;
		peer_take_fds(m, &mh);
		if (mh.msg_flags & MSG_CTRUNC)
			return -EMSGSIZE;
		got += (size_t)n;
	}
	return 1;
}

static int
peer_reply(struct peer *p, uint32_t req, const void *payload, uint32_t size)
{
	uint8_t buf[sizeof(struct vu_hdr) + 64];
	struct vu_hdr h = {
		.request = req,
		.flags = VU_VERSION | VU_FLAG_REPLY,
		.size = size,
	};
	size_t len = sizeof(h) + size;

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), payload, size);
	if (send(p->fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		return errno != 0 ? errno : EIO;
	return 0;
}

/* GET_* get their value; anything else an ack only if it asked for one. */
static int
peer_answer(struct peer *p, const struct peer_msg *m)
{
	const struct peer_cfg *c = &p->cfg;
	struct vhost_vring_state s;
	uint64_t v = 0;

	if (m->request == c->garble_req) {
		uint32_t half = 0;

		return peer_reply(p, m->request, &half, sizeof(half));
	}
	switch (m->request) {
	case VU_GET_FEATURES:
		v = c->features;
		break;
	case VU_GET_PROTOCOL_FEATURES:
		v = c->protocol;
		break;
	case VU_GET_QUEUE_NUM:
		v = c->queue_num;
		break;
	case VU_GET_VRING_BASE:
		memcpy(&s, m->payload, sizeof(s));
		s.num = s.index < VV_MAX_VRINGS ? c->vring_base[s.index] : 0;
		return peer_reply(p, m->request, &s, sizeof(s));
	default:
		if (!(m->flags & VU_FLAG_NEED_REPLY))
			return 0;
		v = m->request == c->nack_req ? 1 : 0;
		break;
	}
	return peer_reply(p, m->request, &v, sizeof(v));
}

static bool
peer_stopping(struct peer *p)
{
	bool stop;

	pthread_mutex_lock(&p->lock);
	stop = p->stop;
	pthread_mutex_unlock(&p->lock);
	return stop;
}

/* Server mode: keeps trying until the driver listens, as a switch would. */
static int
peer_connect(struct peer *p)
{
	struct timespec pause = { 0, 1000 * 1000 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int i, fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->cfg.connect_path);
	for (i = 0; i < PEER_WAIT_MS && !peer_stopping(p); i++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			bool stop;

			/* Published under the lock, so a hangup can reach it. */
			pthread_mutex_lock(&p->lock);
			stop = p->stop;
			if (!stop)
				p->fd = fd;
			pthread_mutex_unlock(&p->lock);
			if (stop) {
				close(fd);
				return ECANCELED;
			}
			return 0;
		}
		close(fd);
		nanosleep(&pause, NULL);
	}
	return ETIMEDOUT;
}

static void *
peer_main(void *arg)
{
	struct peer *p = arg;
	int err = 0;

	if (p->cfg.connect_path != NULL)
		err = peer_connect(p);
	while (err == 0) {
		struct peer_msg *m;
		struct vu_hdr h;
		int r;

		if (p->nmsgs == PEER_MAX_MSGS) {
			err = ENOBUFS;
			break;
		}
		m = &p->msgs[p->nmsgs];
		memset(m, 0, sizeof(*m));
		r = peer_read(p, &h, sizeof(h), m);
		if (r == 0) {
			p->eof = true;
			break;
		}
		if (r < 0) {
			err = -r;
			break;
		}
		m->request = h.request;
		m->flags = h.flags;
		m->size = h.size;
		if (h.size > sizeof(m->payload)) {
			err = EMSGSIZE;
			break;
		}
		if (h.size > 0) {
			r = peer_read(p, m->payload, h.size, m);
			if (r <= 0) {
				err = r < 0 ? -r : EPIPE;
				break;
			}
		}
		pthread_mutex_lock(&p->lock);
		p->nmsgs++;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		if (h.request == p->cfg.vanish_req)
			break;
		if (h.request != p->cfg.silent_req)
			err = peer_answer(p, m);
	}
	pthread_mutex_lock(&p->lock);
	p->error = err;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->done = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Starts the next peer on fd (-1 with cfg.connect_path); NULL on failure. */
static struct peer *
peer_new(int fd)
{
	struct peer *p;
	pthread_condattr_t ca;

	if (npeers == MAX_PEERS)
		return NULL;
	p = &peers[npeers];
	memset(p, 0, sizeof(*p));
	p->cfg = peer_cfg;
	p->fd = fd;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&p->tid, NULL, peer_main, p) != 0) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		return NULL;
	}
	npeers++;
	return p;
}

static struct timespec
deadline_in(unsigned int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

static void
peer_reap(struct peer *p)
{
	pthread_join(p->tid, NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	p->joined = true;
}

/* The peer closes its end now, as a switch that exits or crashes. */
static void
peer_hangup(struct peer *p)
{
	if (p->joined)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	/* Wakes a blocked recvmsg; the thread closes the fd itself. */
	if (p->fd >= 0)
		shutdown(p->fd, SHUT_RDWR);
	pthread_mutex_unlock(&p->lock);
	peer_reap(p);
}

/*
 * Waits for the peer to end by itself: it does when the driver closes its
 * end, so this is how a test sees that the driver let the socket go.
 */
static void
peer_join(struct peer *p)
{
	struct timespec dl = deadline_in(PEER_WAIT_MS);
	bool done;

	if (p->joined)
		return;
	pthread_mutex_lock(&p->lock);
	while (!p->done &&
	       pthread_cond_timedwait(&p->cond, &p->lock, &dl) == 0)
		;
	done = p->done;
	pthread_mutex_unlock(&p->lock);
	if (!done) {
		peer_hangup(p);
		fail_msg("peer %u still connected after %u ms: the driver kept its socket open",
			 (unsigned int)(p - peers), PEER_WAIT_MS);
	}
	peer_reap(p);
}

/* Messages received so far; they stay as they are once counted. */
static unsigned int
peer_msgs(struct peer *p)
{
	unsigned int n;

	/* Joined, the record is final and the lock is gone. */
	if (p->joined)
		return p->nmsgs;
	pthread_mutex_lock(&p->lock);
	n = p->nmsgs;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* For a peer still connected: waits until it has received n messages. */
static unsigned int
peer_wait_msgs(struct peer *p, unsigned int n)
{
	struct timespec dl = deadline_in(PEER_WAIT_MS);
	unsigned int got;

	if (p->joined)
		return p->nmsgs;
	pthread_mutex_lock(&p->lock);
	while (p->nmsgs < n && !p->done &&
	       pthread_cond_timedwait(&p->cond, &p->lock, &dl) == 0)
		;
	got = p->nmsgs;
	pthread_mutex_unlock(&p->lock);
	return got;
}

static void
peer_hangup_all(void)
{
	unsigned int i;

	for (i = 0; i < npeers; i++)
		peer_hangup(&peers[i]);
}

static const char *
peer_dump(struct peer *p)
{
	static char buf[16384];
	unsigned int i, n = peer_msgs(p);
	size_t off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < sizeof(buf); i++) {
		const struct peer_msg *m = &p->msgs[i];
		uint64_t v = 0;
		int k;

		memcpy(&v, m->payload, sizeof(v));
		k = snprintf(buf + off, sizeof(buf) - off,
			     "  #%u %s flags 0x%x size %u fds %u first8 0x%llx\n",
			     i, vu_name(m->request), m->flags, m->size,
			     m->nfds, (unsigned long long)v);
		if (k < 0)
			break;
		off += (size_t)k;
	}
	return buf;
}

/* ---------------------------------------------------------------------- */
/* The system calls the backend sees                                      */

/* Nothing exists at this path: stat and socket make it a peer's socket. */
#define VU_PATH "/tmp/vv-test-vhost-user-fake.sock"

static struct vv_sys_ops fake_ops;
static int connect_errno;	/* connect fails with it when non-zero */
static unsigned int nconnects;
static char connect_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static int
fake_stat(const char *path, struct stat *st)
{
	if (strcmp(path, VU_PATH) != 0)
		return stat(path, st);
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFSOCK | 0755;
	return 0;
}

/* Each socket is one end of a fresh pair, a new peer on the other end. */
static int
fake_socket(int domain, int type, int protocol)
{
	int sv[2];

	if (socketpair(domain, type, protocol, sv) < 0)
		return -1;
	if (peer_new(sv[1]) == NULL) {
		close(sv[0]);
		close(sv[1]);
		errno = EMFILE;
		return -1;
	}
	return sv[0];
}

static int
fake_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	const struct sockaddr_un *sa = (const void *)addr;

	(void)fd;
	nconnects++;
	if (addr->sa_family == AF_UNIX && len > offsetof(struct sockaddr_un,
							 sun_path))
		snprintf(connect_path, sizeof(connect_path), "%s",
			 sa->sun_path);
	if (connect_errno != 0) {
		errno = connect_errno;
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Fixture and helpers                                                    */

#define MEM1 0x7f0000000000ull
#define MEM_LEN 0x200000ull
#define RING_SIZE 256
#define RING_STRIDE 0x4000
#define SHM_LEN 0x10000

#define OFFERED_PROTOCOL (VV_BIT(VU_PROTOCOL_F_MQ) | \
			  VV_BIT(VU_PROTOCOL_F_LOG_SHMFD) | \
			  VV_BIT(VU_PROTOCOL_F_RARP) | \
			  VV_BIT(VU_PROTOCOL_F_REPLY_ACK) | \
			  VV_BIT(VU_PROTOCOL_F_CONFIG))
#define USED_PROTOCOL (VV_BIT(VU_PROTOCOL_F_MQ) | \
		       VV_BIT(VU_PROTOCOL_F_REPLY_ACK))

/* What DPDK's vhost offers, less what does not matter here. */
static const uint64_t offered =
	VV_BIT(VIRTIO_F_VERSION_1) | VV_BIT(VIRTIO_NET_F_MRG_RXBUF) |
	VV_BIT(VIRTIO_F_IN_ORDER) | VV_BIT(VIRTIO_F_ACCESS_PLATFORM) |
	VV_BIT(VIRTIO_RING_F_EVENT_IDX) |
	VV_BIT(VIRTIO_NET_F_MAC) | VV_BIT(VIRTIO_NET_F_STATUS) |
	VV_BIT(VIRTIO_NET_F_MTU) | VV_BIT(VIRTIO_NET_F_SPEED_DUPLEX) |
	VV_BIT(VIRTIO_NET_F_CSUM) | VV_BIT(VU_F_PROTOCOL_FEATURES);
/* Without a config space or IOTLB channel, these must not reach vv_dev. */
static const uint64_t device_expected =
	VV_BIT(VIRTIO_F_VERSION_1) | VV_BIT(VIRTIO_NET_F_MRG_RXBUF) |
	VV_BIT(VIRTIO_F_IN_ORDER) | VV_BIT(VIRTIO_RING_F_EVENT_IDX) |
	VV_BIT(VIRTIO_NET_F_CSUM);
static const uint64_t negotiated =
	VV_BIT(VIRTIO_F_VERSION_1) | VV_BIT(VIRTIO_NET_F_MRG_RXBUF) |
	VV_BIT(VIRTIO_F_IN_ORDER) | VV_BIT(VIRTIO_RING_F_EVENT_IDX);

static struct vv_dev dev, dev2;
static struct vv_dev_params params;
static struct vv_vring_addr vrings[2];
/* The rings behind vrings, which a resume reads its base from. */
static struct vv_ring rings[2];
static uint8_t ring_priv[2][4096];
static uint8_t ring_shm_fake[2][0x4000] __attribute__((aligned(4096)));
static unsigned int saved_timeout_ms, saved_server_wait_ms;

/* A memfd, mapped: rings live in it as they live in DPDK's hugepages. */
static struct {
	int fd;
	uint8_t *base;
	struct stat st;
} shm = { .fd = -1 };

static char tmpdir[64];
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static void
shm_create(void)
{
	shm.fd = memfd_create("vv-test-vhost-user", MFD_CLOEXEC);
	assert_true(shm.fd >= 0);
	assert_int_equal(ftruncate(shm.fd, SHM_LEN), 0);
	shm.base = mmap(NULL, SHM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
			shm.fd, 0);
	assert_true(shm.base != MAP_FAILED);
	assert_int_equal(fstat(shm.fd, &shm.st), 0);
}

static void
shm_release(void)
{
	if (shm.base != NULL && shm.base != MAP_FAILED)
		munmap(shm.base, SHM_LEN);
	if (shm.fd >= 0)
		close(shm.fd);
	shm.base = NULL;
	shm.fd = -1;
}

static void
rings_in_shm(void)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		uint64_t desc = (uint64_t)(uintptr_t)(shm.base +
						      i * RING_STRIDE);

		assert_int_equal(vv_ring_init(&rings[i], false,
					      (void *)(uintptr_t)desc,
					      ring_priv[i], RING_SIZE, 0), 0);
		vv_vring_addr_of(&rings[i], &vrings[i]);
	}
}

static struct vring_used *
ring_used(unsigned int i)
{
	return (struct vring_used *)(uintptr_t)vrings[i].used;
}

static unsigned int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

#define assert_fds(before) do { \
	unsigned int now_ = count_fds(); \
	if (now_ != (before)) \
		fail_msg("%u fds open, %u before: the driver leaked %d", \
			 now_, (unsigned int)(before), \
			 (int)now_ - (int)(before)); \
} while (0)

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vv-vu-test-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(sock_path, sizeof(sock_path), "%s/vu.sock", tmpdir);
}

static bool
path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int
setup(void **state)
{
	unsigned int i;

	(void)state;
	npeers = 0;
	memset(&peer_cfg, 0, sizeof(peer_cfg));
	peer_cfg.features = offered;
	peer_cfg.protocol = OFFERED_PROTOCOL;
	peer_cfg.queue_num = 4;
	for (i = 0; i < VV_MAX_VRINGS; i++)
		peer_cfg.vring_base[i] = 100 + i;
	connect_errno = 0;
	nconnects = 0;
	connect_path[0] = '\0';
	fake_ops = vv_sys_libc;
	fake_ops.stat = fake_stat;
	fake_ops.socket = fake_socket;
	fake_ops.connect = fake_connect;
	vv_sys_set_ops(&fake_ops);
	log_reset();
	vv_log_set_sink(capture);
	/* Short enough that a driver waiting on a bug fails fast. */
	saved_timeout_ms = vv_vhost_user_timeout_ms;
	saved_server_wait_ms = vv_vhost_user_server_wait_ms;
	vv_vhost_user_timeout_ms = 2000;
	vv_vhost_user_server_wait_ms = 2000;
	memset(&dev, 0, sizeof(dev));
	memset(&dev2, 0, sizeof(dev2));
	memset(&params, 0, sizeof(params));
	params.path = VU_PATH;
	params.queue_pairs = 1;
	params.queue_size = RING_SIZE;
	params.wish.mrg_rxbuf = true;
	params.wish.in_order = true;
	/*
	 * Addresses in the peer's table, not memory we touch: a resume
	 * reads its base from rings of our own (zero: fresh).
	 */
	for (i = 0; i < 2; i++) {
		assert_int_equal(vv_ring_init(&rings[i], false,
					      ring_shm_fake[i], ring_priv[i],
					      RING_SIZE, 0), 0);
		vrings[i].size = RING_SIZE;
		vrings[i].base = 0;
		vrings[i].desc = MEM1 + i * RING_STRIDE;
		vrings[i].avail = vrings[i].desc + 0x1000;
		vrings[i].used = vrings[i].desc + 0x2000;
		vrings[i].ring = &rings[i];
	}
	tmpdir[0] = '\0';
	sock_path[0] = '\0';
	alarm(TEST_ALARM_S);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	alarm(0);
	/* Peers first: then a failed test's close cannot wait on one. */
	peer_hangup_all();
	vv_dev_close(&dev);
	vv_dev_close(&dev2);
	vv_sys_set_ops(NULL);
	vv_log_set_sink(NULL);
	vv_vhost_user_timeout_ms = saved_timeout_ms;
	vv_vhost_user_server_wait_ms = saved_server_wait_ms;
	shm_release();
	if (tmpdir[0] != '\0') {
		unlink(sock_path);
		rmdir(tmpdir);
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Checking what the peer received                                        */

#define SIZE_ANY UINT32_MAX

struct expect {
	uint32_t req;
	uint32_t flags;
	uint32_t size;
	unsigned int nfds;
};

static void
assert_msgs(struct peer *p, unsigned int first, const struct expect *e,
	    unsigned int n)
{
	unsigned int i, have = peer_msgs(p);

	for (i = 0; i < n; i++) {
		const struct peer_msg *m = &p->msgs[first + i];

		if (first + i >= have)
			fail_msg("message #%u missing: expected %s; the peer got:\n%s",
				 first + i, vu_name(e[i].req), peer_dump(p));
		if (m->request != e[i].req || m->flags != e[i].flags ||
		    (e[i].size != SIZE_ANY && m->size != e[i].size) ||
		    m->nfds != e[i].nfds)
			fail_msg("message #%u: expected %s flags 0x%x size %u fds %u; the peer got:\n%s",
				 first + i, vu_name(e[i].req), e[i].flags,
				 e[i].size, e[i].nfds, peer_dump(p));
	}
}

static void
assert_msg_count(struct peer *p, unsigned int n)
{
	if (peer_msgs(p) != n)
		fail_msg("the peer got %u messages, expected %u:\n%s",
			 peer_msgs(p), n, peer_dump(p));
}

static uint64_t
msg_u64(const struct peer_msg *m)
{
	uint64_t v;

	memcpy(&v, m->payload, sizeof(v));
	return v;
}

static struct vhost_vring_state
msg_state(const struct peer_msg *m)
{
	struct vhost_vring_state s;

	memcpy(&s, m->payload, sizeof(s));
	return s;
}

static struct vu_memory
msg_memory(const struct peer_msg *m)
{
	struct vu_memory mem;

	memset(&mem, 0, sizeof(mem));
	memcpy(&mem, m->payload,
	       m->size < sizeof(mem) ? m->size : sizeof(mem));
	return mem;
}

/* The nth (from 0) message of request req, or NULL. */
static const struct peer_msg *
peer_find(struct peer *p, uint32_t req, unsigned int nth)
{
	unsigned int i, n = peer_msgs(p);

	for (i = 0; i < n; i++)
		if (p->msgs[i].request == req && nth-- == 0)
			return &p->msgs[i];
	return NULL;
}

static const struct peer_msg *
must_find(struct peer *p, uint32_t req, unsigned int nth)
{
	const struct peer_msg *m = peer_find(p, req, nth);

	if (m == NULL)
		fail_msg("the peer got no %s #%u:\n%s", vu_name(req), nth,
			 peer_dump(p));
	return m;
}

static uint32_t
last_request(struct peer *p)
{
	unsigned int n = peer_msgs(p);

	if (n == 0)
		fail_msg("the peer got nothing");
	return p->msgs[n - 1].request;
}

static void
assert_no_request(struct peer *p, uint32_t req)
{
	if (peer_find(p, req, 0) != NULL)
		fail_msg("the peer got %s, which it should not:\n%s",
			 vu_name(req), peer_dump(p));
}

/*
 * The greeting a new connection gets; returns how many messages it is.
 * Nothing asks for an ack yet: REPLY_ACK is not agreed until the end.
 */
static unsigned int
assert_handshake(struct peer *p)
{
	const struct peer_cfg *c = &p->cfg;
	bool proto = (c->features & VV_BIT(VU_F_PROTOCOL_FEATURES)) != 0;
	uint64_t used = c->protocol & USED_PROTOCOL;
	struct expect e[5];
	unsigned int n = 0;

	e[n++] = (struct expect){ VU_SET_OWNER, F_PLAIN, 0, 0 };
	e[n++] = (struct expect){ VU_GET_FEATURES, F_PLAIN, 0, 0 };
	if (proto) {
		e[n++] = (struct expect){ VU_GET_PROTOCOL_FEATURES, F_PLAIN,
					  0, 0 };
		e[n++] = (struct expect){ VU_SET_PROTOCOL_FEATURES, F_PLAIN,
					  8, 0 };
		if (used & VV_BIT(VU_PROTOCOL_F_MQ))
			e[n++] = (struct expect){ VU_GET_QUEUE_NUM, F_PLAIN,
						  0, 0 };
	}
	assert_msgs(p, 0, e, n);
	if (proto)
		assert_int_equal(msg_u64(&p->msgs[3]), used);
	return n;
}

static void
assert_region(const struct vu_region *r, uint64_t addr, uint64_t len,
	      uint64_t offset)
{
	assert_int_equal(r->guest_phys_addr, addr);
	assert_int_equal(r->userspace_addr, addr);
	assert_int_equal(r->memory_size, len);
	assert_int_equal(r->mmap_offset, offset);
}

static void
assert_fd_is_shm(const struct peer_fd *f)
{
	assert_int_equal(f->dev, shm.st.st_dev);
	assert_int_equal(f->ino, shm.st.st_ino);
}

/* The table is sent whole, at least as long as its regions need. */
static struct vu_memory
assert_mem_table(const struct peer_msg *m, unsigned int nregions)
{
	struct vu_memory mem;

	assert_non_null(m);
	assert_int_equal(m->request, VU_SET_MEM_TABLE);
	assert_true(m->size >= 8 + nregions * sizeof(struct vu_region));
	assert_true(m->size <= sizeof(struct vu_memory));
	mem = msg_memory(m);
	assert_int_equal(mem.nregions, nregions);
	assert_int_equal(m->nfds, nregions);
	return mem;
}

/*
 * The device setup of vv_dev_start (and of a resume) from message
 * `first`: features, the table of the shm alone, then every vring with
 * base[i]. Returns the index past it.
 */
static unsigned int
assert_bringup(struct peer *p, unsigned int first, bool proto, bool ack,
	       const uint32_t *base)
{
	uint32_t fl = ack ? F_ACKED : F_PLAIN;
	const struct expect head[] = {
		{ VU_SET_FEATURES, fl, 8, 0 },
		{ VU_SET_MEM_TABLE, fl, SIZE_ANY, 1 },
	};
	const struct expect ring[] = {
		{ VU_SET_VRING_NUM, fl, sizeof(struct vhost_vring_state), 0 },
		{ VU_SET_VRING_BASE, fl, sizeof(struct vhost_vring_state), 0 },
		{ VU_SET_VRING_ADDR, fl, sizeof(struct vhost_vring_addr), 0 },
		{ VU_SET_VRING_KICK, fl, 8, 1 },
		{ VU_SET_VRING_CALL, fl, 8, 1 },
		{ VU_SET_VRING_ENABLE, fl, sizeof(struct vhost_vring_state),
		  0 },
	};
	/* Without protocol features there is no SET_VRING_ENABLE. */
	unsigned int per_ring = proto ? 6 : 5;
	unsigned int i, k = first;
	struct vu_memory mem;

	assert_msgs(p, k, head, 2);
	assert_int_equal(msg_u64(&p->msgs[k]),
			 negotiated |
			 (proto ? VV_BIT(VU_F_PROTOCOL_FEATURES) : 0));
	mem = assert_mem_table(&p->msgs[k + 1], 1);
	assert_region(&mem.regions[0], (uint64_t)(uintptr_t)shm.base,
		      SHM_LEN, 0);
	assert_fd_is_shm(&p->msgs[k + 1].fd[0]);
	k += 2;
	for (i = 0; i < 2; i++, k += per_ring) {
		const struct peer_msg *m = &p->msgs[k];
		struct vhost_vring_addr a;
		struct vhost_vring_state s;

		assert_msgs(p, k, ring, per_ring);
		s = msg_state(&m[0]);
		assert_int_equal(s.index, i);
		assert_int_equal(s.num, RING_SIZE);
		s = msg_state(&m[1]);
		assert_int_equal(s.index, i);
		assert_int_equal(s.num, base[i]);
		memcpy(&a, m[2].payload, sizeof(a));
		assert_int_equal(a.index, i);
		assert_int_equal(a.desc_user_addr, vrings[i].desc);
		assert_int_equal(a.avail_user_addr, vrings[i].avail);
		assert_int_equal(a.used_user_addr, vrings[i].used);
		/* Index, no NOFD bit, and an eventfd along. */
		assert_int_equal(msg_u64(&m[3]), i);
		assert_string_equal(m[3].fd[0].link, "anon_inode:[eventfd]");
		assert_int_equal(msg_u64(&m[4]), i);
		assert_string_equal(m[4].fd[0].link, "anon_inode:[eventfd]");
		if (proto) {
			s = msg_state(&m[5]);
			assert_int_equal(s.index, i);
			assert_int_equal(s.num, 1);
		}
	}
	return k;
}

/* What an eventfd counted since the last read (0: nothing). */
static uint64_t
drain_eventfd(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return 0;
	return n;
}

/* The reset at stop: each live vring taken back. */
static unsigned int
assert_rings_stopped(struct peer *p, unsigned int first)
{
	const struct expect e[] = {
		{ VU_GET_VRING_BASE, F_PLAIN, 8, 0 },
		{ VU_GET_VRING_BASE, F_PLAIN, 8, 0 },
	};
	unsigned int i;

	assert_msgs(p, first, e, 2);
	for (i = 0; i < 2; i++)
		assert_int_equal(msg_state(&p->msgs[first + i]).index, i);
	return first + 2;
}

/* ---------------------------------------------------------------------- */
/* Client mode: the whole life of a port                                  */

static void
test_happy_path(void **state)
{
	static const uint32_t fresh[2] = { 0, 0 };
	unsigned int fds, k;
	struct peer *p;

	(void)state;
	shm_create();
	rings_in_shm();
	fds = count_fds();

	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_int_equal(npeers, 1);
	assert_int_equal(nconnects, 1);
	assert_string_equal(connect_path, VU_PATH);
	assert_true(vv_dev_needs_mem_fds(&dev));
	assert_true(vv_dev_peer_can_leave(&dev));
	assert_int_equal(dev.info.device_features, device_expected);
	/* CSUM is taken when offered, and sent only once an app asks. */
	assert_int_equal(dev.features, negotiated | VV_BIT(VIRTIO_NET_F_CSUM));
	assert_int_equal(dev.info.max_vrings, 2 * peer_cfg.queue_num);
	assert_false(dev.info.has_mac);
	assert_false(dev.info.has_status);

	assert_int_equal(vv_dev_mem_add_fd(&dev, (uintptr_t)shm.base, SHM_LEN,
					   shm.fd, 0), 0);
	assert_int_equal(vv_dev_start(&dev, vrings, 2), 0);
	assert_true(vv_dev_link_up(&dev));
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_UP);
	assert_int_equal(vv_dev_stop(&dev), 0);
	vv_dev_close(&dev);

	p = &peers[0];
	peer_join(p);
	assert_true(p->eof);
	assert_int_equal(p->error, 0);
	k = assert_handshake(p);
	assert_int_equal(k, 5);
	assert_int_equal(msg_u64(&p->msgs[3]), USED_PROTOCOL);
	k = assert_bringup(p, k, true, true, fresh);
	k = assert_rings_stopped(p, k);
	assert_msg_count(p, k);
	assert_int_equal(npeers, 1);
	assert_int_equal(log_errors, 0);
	assert_fds(fds);
}

static void
test_handshake_without_mq(void **state)
{
	struct peer *p;

	(void)state;
	peer_cfg.protocol = VV_BIT(VU_PROTOCOL_F_REPLY_ACK);
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	/* No GET_QUEUE_NUM: the number of rings is not known. */
	assert_int_equal(dev.info.max_vrings, 0);
	vv_dev_close(&dev);
	p = &peers[0];
	peer_join(p);
	assert_int_equal(assert_handshake(p), 4);
	assert_int_equal(msg_u64(&p->msgs[3]), VV_BIT(VU_PROTOCOL_F_REPLY_ACK));
	assert_msg_count(p, 4);
	assert_no_request(p, VU_GET_QUEUE_NUM);
}

static void
test_without_protocol_features(void **state)
{
	static const uint32_t fresh[2] = { 0, 0 };
	unsigned int i, k, n;
	struct peer *p;

	(void)state;
	peer_cfg.features = offered & ~VV_BIT(VU_F_PROTOCOL_FEATURES);
	shm_create();
	rings_in_shm();
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_int_equal(dev.info.device_features, device_expected);
	assert_int_equal(dev.info.max_vrings, 0);
	assert_int_equal(vv_dev_mem_add_fd(&dev, (uintptr_t)shm.base, SHM_LEN,
					   shm.fd, 0), 0);
	assert_int_equal(vv_dev_start(&dev, vrings, 2), 0);
	assert_int_equal(vv_dev_stop(&dev), 0);
	vv_dev_close(&dev);

	p = &peers[0];
	peer_join(p);
	assert_int_equal(p->error, 0);
	k = assert_handshake(p);
	assert_int_equal(k, 2);
	k = assert_bringup(p, k, false, false, fresh);
	k = assert_rings_stopped(p, k);
	assert_msg_count(p, k);
	assert_no_request(p, VU_GET_PROTOCOL_FEATURES);
	assert_no_request(p, VU_SET_PROTOCOL_FEATURES);
	assert_no_request(p, VU_SET_VRING_ENABLE);
	n = peer_msgs(p);
	for (i = 0; i < n; i++)
		if (p->msgs[i].flags & VU_FLAG_NEED_REPLY)
			fail_msg("message #%u asks for an ack the peer never offered:\n%s",
				 i, peer_dump(p));
	assert_int_equal(log_errors, 0);
}

/* ---------------------------------------------------------------------- */
/* The memory table                                                       */

struct range {
	uint64_t addr;
	uint64_t len;
	int fd;
	uint64_t offset;
};

/* Opens, adds the ranges, starts; returns what start returned. */
static int
open_add_start(const struct range *r, unsigned int n)
{
	unsigned int i;

	assert_int_equal(vv_dev_open(&dev, &params), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(vv_dev_mem_add_fd(&dev, r[i].addr, r[i].len,
						   r[i].fd, r[i].offset), 0);
	return vv_dev_start(&dev, vrings, 2);
}

static void
test_mem_table_merges_neighbours(void **state)
{
	const struct peer_msg *m;
	struct range r[2];
	struct vu_memory mem;
	struct peer *p;

	(void)state;
	shm_create();
	/* Two pieces of one file, back to back in memory and in the file. */
	r[0] = (struct range){ MEM1, MEM_LEN, shm.fd, 0 };
	r[1] = (struct range){ MEM1 + MEM_LEN, MEM_LEN, shm.fd, MEM_LEN };
	assert_int_equal(open_add_start(r, 2), 0);
	vv_dev_close(&dev);
	p = &peers[0];
	peer_join(p);
	m = must_find(p, VU_SET_MEM_TABLE, 0);
	mem = assert_mem_table(m, 1);
	assert_region(&mem.regions[0], MEM1, 2 * MEM_LEN, 0);
	assert_fd_is_shm(&m->fd[0]);
	assert_int_equal(log_errors, 0);
}

static void
test_mem_table_keeps_gaps(void **state)
{
	struct range r[2];
	const struct peer_msg *m;
	struct vu_memory mem;
	struct peer *p;

	(void)state;
	shm_create();
	/* Neighbours in memory, not in the file: mapping them as one is wrong. */
	r[0] = (struct range){ MEM1, MEM_LEN, shm.fd, 0 };
	r[1] = (struct range){ MEM1 + MEM_LEN, MEM_LEN, shm.fd, 3 * MEM_LEN };
	assert_int_equal(open_add_start(r, 2), 0);
	vv_dev_close(&dev);
	p = &peers[0];
	peer_join(p);
	m = must_find(p, VU_SET_MEM_TABLE, 0);
	mem = assert_mem_table(m, 2);
	assert_region(&mem.regions[0], MEM1, MEM_LEN, 0);
	assert_region(&mem.regions[1], MEM1 + MEM_LEN, MEM_LEN, 3 * MEM_LEN);
	assert_fd_is_shm(&m->fd[0]);
	assert_fd_is_shm(&m->fd[1]);
}

static void
test_mem_change_after_start_resends_table(void **state)
{
	struct range r = { MEM1, MEM_LEN, -1, 0 };
	const struct peer_msg *m;
	struct vu_memory mem;
	struct peer *p;

	(void)state;
	shm_create();
	r.fd = shm.fd;
	assert_int_equal(open_add_start(&r, 1), 0);
	/* The peer maps the table whole: a change is the whole table again. */
	assert_int_equal(vv_dev_mem_add_fd(&dev, MEM1 + 4 * MEM_LEN, MEM_LEN,
					   shm.fd, 8 * MEM_LEN), 0);
	assert_int_equal(vv_dev_mem_remove(&dev, MEM1, MEM_LEN), 0);
	vv_dev_close(&dev);
	p = &peers[0];
	peer_join(p);
	m = must_find(p, VU_SET_MEM_TABLE, 1);
	assert_int_equal(m->flags, F_ACKED);
	mem = assert_mem_table(m, 2);
	assert_region(&mem.regions[0], MEM1, MEM_LEN, 0);
	assert_region(&mem.regions[1], MEM1 + 4 * MEM_LEN, MEM_LEN,
		      8 * MEM_LEN);
	mem = assert_mem_table(must_find(p, VU_SET_MEM_TABLE, 2), 1);
	assert_region(&mem.regions[0], MEM1 + 4 * MEM_LEN, MEM_LEN,
		      8 * MEM_LEN);
	assert_null(peer_find(p, VU_SET_MEM_TABLE, 3));
	assert_int_equal(log_errors, 0);
}

static void
test_mem_table_too_many_regions(void **state)
{
	struct range r[VU_MAX_REGIONS + 1];
	struct vu_memory mem;
	unsigned int i;
	struct peer *p;

	(void)state;
	shm_create();
	/* Adjacent in memory, apart in the file: nothing merges. */
	for (i = 0; i <= VU_MAX_REGIONS; i++)
		r[i] = (struct range){ MEM1 + i * MEM_LEN, MEM_LEN, shm.fd,
				       2 * i * MEM_LEN };

	/* The protocol's limit itself is fine. */
	assert_int_equal(open_add_start(r, VU_MAX_REGIONS), 0);
	vv_dev_close(&dev);
	p = &peers[0];
	peer_join(p);
	mem = assert_mem_table(must_find(p, VU_SET_MEM_TABLE, 0),
			       VU_MAX_REGIONS);
	for (i = 0; i < VU_MAX_REGIONS; i++)
		assert_region(&mem.regions[i], r[i].addr, MEM_LEN,
			      r[i].offset);

	/* One more cannot be shared; the user is told how to have fewer. */
	log_reset();
	assert_int_equal(open_add_start(r, VU_MAX_REGIONS + 1), -E2BIG);
	assert_logged("--single-file-segments");
	vv_dev_close(&dev);
	p = &peers[1];
	peer_join(p);
	assert_no_request(p, VU_SET_MEM_TABLE);
	assert_no_request(p, VU_SET_VRING_KICK);
}

static void
test_mem_without_fd(void **state)
{
	struct range r = { MEM1, MEM_LEN, -1, 0 };
	struct peer *p;

	(void)state;
	assert_int_equal(open_add_start(&r, 1), -EINVAL);
	assert_logged("not backed by a file");
	vv_dev_close(&dev);
	p = &peers[0];
	peer_join(p);
	assert_no_request(p, VU_SET_MEM_TABLE);
	assert_no_request(p, VU_SET_VRING_KICK);
}

/* ---------------------------------------------------------------------- */
/* A peer that refuses, garbles, stays silent or is not there             */

static void
test_peer_refuses_mem_table(void **state)
{
	struct range r = { MEM1, MEM_LEN, -1, 0 };
	struct peer *p;

	(void)state;
	shm_create();
	r.fd = shm.fd;
	peer_cfg.nack_req = VU_SET_MEM_TABLE;
	assert_int_equal(open_add_start(&r, 1), -EINVAL);
	assert_logged("refused SET_MEM_TABLE");
	/* The peer is still there; only the device setup failed. */
	assert_true(dev.fd >= 0);
	vv_dev_close(&dev);
	p = &peers[0];
	peer_join(p);
	assert_int_equal(p->error, 0);
	/* Nothing is built on a table the peer did not take. */
	assert_int_equal(last_request(p), VU_SET_MEM_TABLE);
	assert_no_request(p, VU_SET_VRING_NUM);
}

static void
test_peer_silent(void **state)
{
	const struct expect e[] = {
		{ VU_SET_OWNER, F_PLAIN, 0, 0 },
		{ VU_GET_FEATURES, F_PLAIN, 0, 0 },
	};
	unsigned int fds;
	uint64_t t0, took;
	struct peer *p;

	(void)state;
	peer_cfg.silent_req = VU_GET_FEATURES;
	vv_vhost_user_timeout_ms = 200;
	fds = count_fds();
	t0 = now_ms();
	assert_int_equal(vv_dev_open(&dev, &params), -ETIMEDOUT);
	took = now_ms() - t0;
	assert_logged("did not answer");
	assert_logged("GET_FEATURES");
	if (took < 150 || took > 1000)
		fail_msg("open gave up after %llu ms; the timeout is 200 ms",
			 (unsigned long long)took);
	/* The peer ends by itself only if the driver closed its end. */
	p = &peers[0];
	peer_join(p);
	assert_msgs(p, 0, e, 2);
	assert_msg_count(p, 2);
	assert_fds(fds);
}

static void
test_peer_garbles_reply(void **state)
{
	unsigned int fds;

	(void)state;
	peer_cfg.garble_req = VU_GET_FEATURES;
	fds = count_fds();
	assert_int_equal(vv_dev_open(&dev, &params), -EPROTO);
	assert_logged("expected a 8-byte reply");
	/* The stream is out of step: the connection must be dropped. */
	peer_join(&peers[0]);
	assert_fds(fds);
}

static void
test_connect_refused(void **state)
{
	unsigned int fds;

	(void)state;
	connect_errno = ECONNREFUSED;
	fds = count_fds();
	assert_int_equal(vv_dev_open(&dev, &params), -ECONNREFUSED);
	assert_logged("nothing listens on this socket");
	peer_join(&peers[0]);
	assert_msg_count(&peers[0], 0);
	assert_fds(fds);
}

/* ---------------------------------------------------------------------- */
/* A peer that vanishes and returns                                       */

static void
test_peer_vanishes_and_returns(void **state)
{
	const uint32_t resumed[2] = { 7, 300 }, fresh[2] = { 0, 0 };
	unsigned int fds, k;
	struct peer *p;

	(void)state;
	shm_create();
	rings_in_shm();
	peer_cfg.vanish_req = VU_SET_VRING_KICK;
	fds = count_fds();
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_int_equal(vv_dev_mem_add_fd(&dev, (uintptr_t)shm.base, SHM_LEN,
					   shm.fd, 0), 0);

	/* A start the peer walks out of fails, and says what to do. */
	assert_int_equal(vv_dev_start(&dev, vrings, 2), -ENOTCONN);
	assert_logged("closed the connection (during SET_VRING_KICK)");
	assert_logged("went away during the start");
	assert_false(dev.started);
	assert_false(vv_dev_link_up(&dev));
	p = &peers[0];
	peer_join(p);
	assert_int_equal(last_request(p), VU_SET_VRING_KICK);

	peer_cfg.vanish_req = 0;
	connect_errno = ECONNREFUSED;
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_DOWN);
	assert_false(vv_dev_link_up(&dev));
	assert_int_equal(npeers, 2);
	peer_join(&peers[1]);
	assert_msg_count(&peers[1], 0);

	/* Back, it gets the greeting only: the port is not started. */
	connect_errno = 0;
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_BACK);
	assert_int_equal(npeers, 3);
	p = &peers[2];
	k = assert_handshake(p);
	assert_msg_count(p, k);
	assert_int_equal(vv_dev_start(&dev, vrings, 2), 0);
	k = assert_bringup(p, k, true, true, fresh);
	assert_msg_count(p, k);

	/* It leaves while the rings move on; its successor starts there. */
	connect_errno = ECONNREFUSED;
	peer_hangup(p);
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_LOST);
	ring_used(0)->idx = resumed[0];
	ring_used(1)->idx = resumed[1];
	for (k = 0; k < 2; k++)
		drain_eventfd(dev.kick_fd[k]);
	connect_errno = 0;
	log_reset();
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_BACK);
	assert_int_equal(log_errors, 0);
	assert_true(vv_dev_link_up(&dev));
	assert_int_equal(npeers, 4);
	p = &peers[3];
	/* Every request was acked, so all of it has arrived already. */
	k = assert_handshake(p);
	k = assert_bringup(p, k, true, true, resumed);
	assert_msg_count(p, k);
	/* And each ring is kicked, for what was posted while it was away. */
	for (k = 0; k < 2; k++)
		assert_int_equal(drain_eventfd(dev.kick_fd[k]), 1);
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_UP);

	/* The peer goes away while the port runs: noticed once. */
	connect_errno = ECONNREFUSED;
	peer_hangup(p);
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_LOST);
	assert_warned("went away");
	assert_false(vv_dev_link_up(&dev));
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_DOWN);
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_DOWN);
	assert_false(vv_dev_link_up(&dev));

	/* Stopping and closing with the peer away neither waits nor fails. */
	assert_int_equal(vv_dev_stop(&dev), 0);
	vv_dev_close(&dev);
	for (k = 4; k < npeers; k++) {
		peer_join(&peers[k]);
		assert_msg_count(&peers[k], 0);
	}
	assert_fds(fds);
}

/* A peer that takes the connection but never answers is not retried at once. */
static void
test_hung_peer_backs_off(void **state)
{
	unsigned int fds, n;

	(void)state;
	shm_create();
	rings_in_shm();
	fds = count_fds();
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_int_equal(vv_dev_mem_add_fd(&dev, (uintptr_t)shm.base, SHM_LEN,
					   shm.fd, 0), 0);
	assert_int_equal(vv_dev_start(&dev, vrings, 2), 0);
	peer_hangup(&peers[0]);
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_LOST);

	peer_cfg.silent_req = VU_GET_FEATURES;
	vv_vhost_user_timeout_ms = 200;
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_DOWN);
	assert_logged("did not answer");
	n = npeers;
	/* The next polls come at once: no new connection, no new timeout. */
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_DOWN);
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_DOWN);
	assert_int_equal(npeers, n);

	/* Once the pause is over, a healthy peer is taken back. */
	peer_cfg.silent_req = 0;
	dev.peer_retry_ms = 0;
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_BACK);
	assert_true(vv_dev_link_up(&dev));
	assert_int_equal(npeers, n + 1);

	assert_int_equal(vv_dev_stop(&dev), 0);
	vv_dev_close(&dev);
	peer_hangup_all();
	assert_fds(fds);
}

/* A returning peer without a feature in use cannot take the rings back. */
static void
test_peer_returns_lacking_features(void **state)
{
	unsigned int fds, n;

	(void)state;
	shm_create();
	rings_in_shm();
	fds = count_fds();
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_true(dev.features & VV_BIT(VIRTIO_NET_F_MRG_RXBUF));
	assert_int_equal(vv_dev_mem_add_fd(&dev, (uintptr_t)shm.base, SHM_LEN,
					   shm.fd, 0), 0);
	assert_int_equal(vv_dev_start(&dev, vrings, 2), 0);
	peer_hangup(&peers[0]);
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_LOST);

	peer_cfg.features &= ~VV_BIT(VIRTIO_NET_F_MRG_RXBUF);
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_DOWN);
	assert_logged("lacks features in use (MRG_RXBUF)");
	assert_logged("probe it again");
	assert_false(vv_dev_link_up(&dev));
	/* Refused, it is not asked again at once. */
	n = npeers;
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_DOWN);
	assert_int_equal(npeers, n);

	assert_int_equal(vv_dev_stop(&dev), 0);
	vv_dev_close(&dev);
	peer_hangup_all();
	assert_fds(fds);
}

/* With the peer away, start still refuses a table that can never be sent. */
static void
test_start_while_away_checks_table(void **state)
{
	unsigned int fds;

	(void)state;
	shm_create();
	rings_in_shm();
	fds = count_fds();
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_int_equal(vv_dev_mem_add_fd(&dev, (uintptr_t)shm.base, SHM_LEN,
					   -1, 0), 0);
	connect_errno = ECONNREFUSED;
	peer_hangup(&peers[0]);
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_LOST);
	assert_int_equal(vv_dev_start(&dev, vrings, 2), -EINVAL);
	assert_logged("not backed by a file");
	assert_false(vv_dev_link_up(&dev));
	vv_dev_close(&dev);
	peer_hangup_all();
	assert_fds(fds);
}

/* ---------------------------------------------------------------------- */
/* Server mode, on the real libc                                          */

static void
server_params(void)
{
	vv_sys_set_ops(NULL);
	make_tmpdir();
	params.path = sock_path;
	params.server = true;
}

static void
test_server_no_peer(void **state)
{
	unsigned int fds;
	uint64_t t0, took;
	int ret;

	(void)state;
	server_params();
	vv_vhost_user_server_wait_ms = 200;
	fds = count_fds();
	t0 = now_ms();
	ret = vv_dev_open(&dev, &params);
	took = now_ms() - t0;
	assert_int_equal(ret, -ETIMEDOUT);
	assert_logged("no vhost-user peer connected");
	if (took < 150 || took > 1000)
		fail_msg("open gave up after %llu ms; the wait is 200 ms",
			 (unsigned long long)took);
	/* A socket file left behind would look like a live port. */
	assert_false(path_exists(sock_path));
	assert_fds(fds);
}

static void
test_server_peer_connects(void **state)
{
	unsigned int fds;
	struct stat st;
	struct peer *p;

	(void)state;
	server_params();
	fds = count_fds();
	peer_cfg.connect_path = sock_path;
	p = peer_new(-1);
	assert_non_null(p);
	assert_int_equal(vv_dev_open(&dev, &params), 0);
	assert_int_equal(stat(sock_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(dev.info.device_features, device_expected);
	vv_dev_close(&dev);
	assert_false(path_exists(sock_path));
	peer_join(p);
	assert_int_equal(p->error, 0);
	assert_msg_count(p, assert_handshake(p));
	assert_int_equal(log_errors, 0);
	assert_fds(fds);
}

static void
test_server_stale_and_busy_socket(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct peer *p;
	int fd;

	(void)state;
	server_params();
	/* A socket file of a process that died: nobody listens on it. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_true(path_exists(sock_path));

	peer_cfg.connect_path = sock_path;
	p = peer_new(-1);
	assert_non_null(p);
	assert_int_equal(vv_dev_open(&dev, &params), 0);

	/* A live one is not taken over. */
	assert_int_equal(vv_dev_open(&dev2, &params), -EADDRINUSE);
	assert_logged("another process listens");
	assert_true(path_exists(sock_path));
	assert_true(vv_dev_link_up(&dev));

	vv_dev_close(&dev);
	assert_false(path_exists(sock_path));
	peer_join(p);
}

static void
test_server_peer_returns(void **state)
{
	enum vv_watch_event ev = VV_WATCH_DOWN;
	unsigned int fds, i;
	struct peer *p;

	(void)state;
	server_params();
	fds = count_fds();
	peer_cfg.connect_path = sock_path;
	p = peer_new(-1);
	assert_non_null(p);
	assert_int_equal(vv_dev_open(&dev, &params), 0);

	peer_hangup(p);
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_LOST);
	assert_int_equal(vv_dev_watch(&dev), VV_WATCH_DOWN);
	/* Still listening: the switch can come back. */
	assert_true(path_exists(sock_path));

	p = peer_new(-1);
	assert_non_null(p);
	/* Polls do not wait, and the peer connects in its own time. */
	for (i = 0; i < 2000 && ev == VV_WATCH_DOWN; i++) {
		struct timespec pause = { 0, 1000 * 1000 };

		ev = vv_dev_watch(&dev);
		if (ev == VV_WATCH_DOWN)
			nanosleep(&pause, NULL);
	}
	assert_int_equal(ev, VV_WATCH_BACK);
	assert_true(vv_dev_link_up(&dev));
	assert_int_equal(peer_wait_msgs(p, 5), 5);
	vv_dev_close(&dev);
	assert_false(path_exists(sock_path));
	peer_join(p);
	assert_msg_count(p, assert_handshake(p));
	assert_fds(fds);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_happy_path),
		T(test_handshake_without_mq),
		T(test_without_protocol_features),
		T(test_mem_table_merges_neighbours),
		T(test_mem_table_keeps_gaps),
		T(test_mem_change_after_start_resends_table),
		T(test_mem_table_too_many_regions),
		T(test_mem_without_fd),
		T(test_peer_refuses_mem_table),
		T(test_peer_silent),
		T(test_peer_garbles_reply),
		T(test_connect_refused),
		T(test_peer_vanishes_and_returns),
		T(test_server_no_peer),
		T(test_server_peer_connects),
		T(test_server_stale_and_busy_socket),
		T(test_server_peer_returns),
		T(test_hung_peer_backs_off),
		T(test_peer_returns_lacking_features),
		T(test_start_while_away_checks_table),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user backend: the same control sequence as vhost-vdpa, spoken as
 * messages on a unix socket to a software switch (DPDK vhost, OVS-DPDK,
 * VPP). Memory is shared by passing the files behind it; the peer may go
 * away and come back, so the connection is kept apart from the device state.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/vhost_types.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vv_dev.h"
#include "vv_log.h"
#include "vv_sys.h"

/* Requests of the vhost-user specification used here. */
enum vu_request {
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
};

#define VU_F_PROTOCOL_FEATURES 30
#define VU_PROTOCOL_F_MQ 0
#define VU_PROTOCOL_F_REPLY_ACK 3

#define VU_VERSION 0x1
#define VU_FLAG_REPLY (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)
#define VU_VRING_NOFD (1u << 8)
#define VU_MAX_REGIONS 8

/* Only what we ask for: an unasked feature is one more way to disagree. */
#define VU_PROTOCOL_WANTED (VV_BIT(VU_PROTOCOL_F_MQ) | \
			    VV_BIT(VU_PROTOCOL_F_REPLY_ACK))

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

struct vu_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	union {
		uint64_t u64;
		struct vhost_vring_state state;
		struct vhost_vring_addr addr;
		struct vu_memory memory;
	} payload;
} __attribute__((packed));

#define VU_HDR_SIZE offsetof(struct vu_msg, payload)

/* What this backend keeps per device, behind vv_dev's backend pointer. */
struct vu_state {
	int listen_fd;		/* server=1: the socket the peer connects to */
	/* vhost-user has no status register: the status lives here. */
	uint8_t status;
	uint32_t live_vrings;	/* bit i: vring i given to the peer */
	uint64_t protocol;	/* protocol features in use, and bit 30 */
};

static inline struct vu_state *
vu_of(const struct vv_dev *d)
{
	return d->backend;
}

unsigned int vv_vhost_user_timeout_ms = 5000;
unsigned int vv_vhost_user_server_wait_ms = 30000;

static const char *
vu_request_name(uint32_t req)
{
	static const char *const names[] = {
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

	if (req < sizeof(names) / sizeof(names[0]) && names[req] != NULL)
		return names[req];
	return "?";
}

/*
 * Drops the connection, not the device state: the vrings and memory stay
 * recorded so a returning peer can be given them again.
 */
static void
vu_disconnect(struct vv_dev *d)
{
	if (d->fd >= 0)
		vv_sys->close(d->fd);
	d->fd = -1;
	vu_of(d)->live_vrings = 0;
}

/* A failed exchange: log it, and drop a connection the peer has closed. */
static int
vu_fail(struct vv_dev *d, uint32_t req, int err)
{
	if (err == EPIPE || err == ECONNRESET || err == ENOTCONN ||
	    err == ESHUTDOWN) {
		VV_ERR("%s: the vhost-user peer closed the connection (during %s); the port stays down until it comes back",
		       d->path, vu_request_name(req));
		vu_disconnect(d);
		return -ENOTCONN;
	}
	if (err == EAGAIN || err == EWOULDBLOCK) {
		VV_ERR("%s: the vhost-user peer did not answer %s within %u ms; is it hung?",
		       d->path, vu_request_name(req), vv_vhost_user_timeout_ms);
		vu_disconnect(d);
		return -ETIMEDOUT;
	}
	if (err == EIO) {
		/* Half a message went: the stream is out of step for good. */
		VV_ERR("%s: vhost-user %s was cut short; dropping the connection",
		       d->path, vu_request_name(req));
		vu_disconnect(d);
		return -EIO;
	}
	VV_ERR("%s: vhost-user %s failed: %s", d->path, vu_request_name(req),
	       strerror(err));
	return -err;
}

static int
vu_send(struct vv_dev *d, struct vu_msg *m, const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VU_MAX_REGIONS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = m, .iov_len = VU_HDR_SIZE + m->size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (d->fd < 0)
		return -ENOTCONN;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	m->flags |= VU_VERSION;
	/* MSG_NOSIGNAL: a vanished peer is an error code, not a SIGPIPE. */
	do {
		n = vv_sys->sendmsg(d->fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return vu_fail(d, m->request, errno);
	if ((size_t)n != iov.iov_len)
		return vu_fail(d, m->request, EIO);
	VV_DEBUG("%s: vhost-user %s sent", d->path, vu_request_name(m->request));
	return 0;
}

static int
vu_recv_bytes(struct vv_dev *d, uint32_t req, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	do {
		n = vv_sys->recvmsg(d->fd, &mh, MSG_WAITALL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return vu_fail(d, req, errno);
	if (n == 0)
		return vu_fail(d, req, ECONNRESET);
	if ((size_t)n != len)
		return vu_fail(d, req, EIO);
	return 0;
}

/* Reads the reply to `req`, of exactly `size` payload bytes. */
static int
vu_recv_reply(struct vv_dev *d, uint32_t req, struct vu_msg *r, uint32_t size)
{
	int ret;

	ret = vu_recv_bytes(d, req, r, VU_HDR_SIZE);
	if (ret < 0)
		return ret;
	if (r->request != req || !(r->flags & VU_FLAG_REPLY) ||
	    r->size != size) {
		VV_ERR("%s: the vhost-user peer answered %s with request %u, flags 0x%x, %u bytes; expected a %u-byte reply",
		       d->path, vu_request_name(req), r->request, r->flags,
		       r->size, size);
		vu_disconnect(d);
		return -EPROTO;
	}
	return vu_recv_bytes(d, req, (char *)r + VU_HDR_SIZE, size);
}

/*
 * Sends a request that has no answer of its own. With REPLY_ACK the peer
 * confirms it, so a refusal is seen here rather than as a silent stall.
 */
static int
vu_request(struct vv_dev *d, struct vu_msg *m, const int *fds,
	   unsigned int nfds)
{
	bool ack = (vu_of(d)->protocol & VV_BIT(VU_PROTOCOL_F_REPLY_ACK)) != 0;
	uint32_t req = m->request;
	struct vu_msg r;
	int ret;

	if (ack)
		m->flags |= VU_FLAG_NEED_REPLY;
	ret = vu_send(d, m, fds, nfds);
	if (ret < 0 || !ack)
		return ret;
	ret = vu_recv_reply(d, req, &r, sizeof(r.payload.u64));
	if (ret < 0)
		return ret;
	if (r.payload.u64 != 0) {
		VV_ERR("%s: the vhost-user peer refused %s (status %llu)",
		       d->path, vu_request_name(req),
		       (unsigned long long)r.payload.u64);
		return -EINVAL;
	}
	return 0;
}

static int
vu_get_u64(struct vv_dev *d, uint32_t req, uint64_t *val)
{
	struct vu_msg m = { .request = req };
	int ret;

	ret = vu_send(d, &m, NULL, 0);
	if (ret == 0)
		ret = vu_recv_reply(d, req, &m, sizeof(m.payload.u64));
	if (ret == 0)
		*val = m.payload.u64;
	return ret;
}

static int
vu_set_u64(struct vv_dev *d, uint32_t req, uint64_t val)
{
	struct vu_msg m = {
		.request = req,
		.size = sizeof(m.payload.u64),
		.payload.u64 = val,
	};

	return vu_request(d, &m, NULL, 0);
}

static int
vu_set_state(struct vv_dev *d, uint32_t req, unsigned int idx, uint32_t num)
{
	struct vu_msg m = {
		.request = req,
		.size = sizeof(m.payload.state),
		.payload.state = { .index = idx, .num = num },
	};

	return vu_request(d, &m, NULL, 0);
}

static int
vu_set_vring_fd(struct vv_dev *d, uint32_t req, unsigned int idx, int fd)
{
	struct vu_msg m = {
		.request = req,
		.size = sizeof(m.payload.u64),
		.payload.u64 = idx | (fd < 0 ? VU_VRING_NOFD : 0),
	};

	return vu_request(d, &m, fd < 0 ? NULL : &fd, fd < 0 ? 0 : 1);
}

static int
vu_sockaddr(const struct vv_dev *d, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(d->path) >= sizeof(sa->sun_path)) {
		VV_ERR("%s: a unix socket path must be shorter than %zu bytes",
		       d->path, sizeof(sa->sun_path));
		return -ENAMETOOLONG;
	}
	strcpy(sa->sun_path, d->path);
	return 0;
}

static int
vu_set_timeouts(struct vv_dev *d, int fd)
{
	struct timeval tv = {
		.tv_sec = vv_vhost_user_timeout_ms / 1000,
		.tv_usec = (vv_vhost_user_timeout_ms % 1000) * 1000,
	};

	if (vv_sys->setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			       sizeof(tv)) < 0 ||
	    vv_sys->setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
			       sizeof(tv)) < 0) {
		int err = errno;

		VV_ERR("%s: cannot set socket timeouts: %s", d->path,
		       strerror(err));
		return -err;
	}
	return 0;
}

/* Makes a connected socket the device's, with deadlines on every exchange. */
static int
vu_adopt(struct vv_dev *d, int fd)
{
	int ret = vu_set_timeouts(d, fd);

	if (ret < 0) {
		vv_sys->close(fd);
		return ret;
	}
	d->fd = fd;
	return 0;
}

/* Client side: one connect attempt, without waiting for the peer. */
static int
vu_connect(struct vv_dev *d, bool quiet)
{
	struct sockaddr_un sa;
	int fd, err, ret;

	ret = vu_sockaddr(d, &sa);
	if (ret < 0)
		return ret;
	fd = vv_sys->socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
		VV_ERR("%s: cannot create a unix socket: %s", d->path,
		       strerror(err));
		return -err;
	}
	if (vv_sys->connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		vv_sys->close(fd);
		if (quiet)
			return -err;
		if (err == ECONNREFUSED)
			VV_ERR("%s: nothing listens on this socket: start the vhost-user backend (the switch) first, or give server=1 so that it connects to us",
			       d->path);
		else if (err == EACCES || err == EPERM)
			VV_ERR("%s: permission denied connecting to the socket: run as root or give this user write access to it",
			       d->path);
		else
			VV_ERR("%s: cannot connect to the vhost-user socket: %s",
			       d->path, strerror(err));
		return -err;
	}
	return vu_adopt(d, fd);
}

/*
 * Server side: takes a waiting peer from the listening socket. wait_ms 0
 * only looks; -EAGAIN means nobody has connected yet.
 */
static int
vu_accept(struct vv_dev *d, int wait_ms)
{
	struct pollfd pfd = { .fd = vu_of(d)->listen_fd, .events = POLLIN };
	uint64_t end = vv_now_ms() + (uint64_t)wait_ms;
	int fd, err, ret;

	/* A signal must not cut the wait short. */
	for (;;) {
		uint64_t now = vv_now_ms();

		ret = poll(&pfd, 1, now < end ? (int)(end - now) : 0);
		if (ret >= 0 || errno != EINTR)
			break;
	}
	if (ret == 0)
		return -EAGAIN;
	if (ret < 0) {
		err = errno;
		VV_ERR("%s: waiting for the vhost-user peer failed: %s",
		       d->path, strerror(err));
		return -err;
	}
	fd = vv_sys->accept4(vu_of(d)->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
			return -EAGAIN;
		VV_ERR("%s: accept failed: %s", d->path, strerror(err));
		return -err;
	}
	return vu_adopt(d, fd);
}

/* A socket file nobody listens on is left over from a process that died. */
static bool
vu_socket_is_stale(const struct vv_dev *d)
{
	struct sockaddr_un sa;
	int fd, ret;

	if (vu_sockaddr(d, &sa) < 0)
		return false;
	fd = vv_sys->socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	ret = vv_sys->connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	vv_sys->close(fd);
	return ret < 0 && errno == ECONNREFUSED;
}

static int
vu_listen(struct vv_dev *d)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, err, ret;

	ret = vu_sockaddr(d, &sa);
	if (ret < 0)
		return ret;
	if (vv_sys->stat(d->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			VV_ERR("server=1: %s exists and is not a socket; give a path where the socket can be created",
			       d->path);
			return -EEXIST;
		}
		if (!vu_socket_is_stale(d)) {
			VV_ERR("server=1: another process listens on %s already; give another path, or connect to it without server=1",
			       d->path);
			return -EADDRINUSE;
		}
		vv_sys->unlink(d->path);
	}
	fd = vv_sys->socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
			    SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = errno;
		VV_ERR("%s: cannot create a unix socket: %s", d->path,
		       strerror(err));
		return -err;
	}
	if (vv_sys->bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    vv_sys->listen(fd, 1) < 0) {
		err = errno;
		vv_sys->close(fd);
		if (err == ENOENT || err == ENOTDIR)
			VV_ERR("server=1: the folder of %s does not exist; create it first",
			       d->path);
		else
			VV_ERR("server=1: cannot listen on %s: %s", d->path,
			       strerror(err));
		return -err;
	}
	vu_of(d)->listen_fd = fd;
	return 0;
}

/* The greeting every new connection gets, before any device setup. */
static int
vu_handshake(struct vv_dev *d)
{
	uint64_t features = 0, offered = 0, qnum = 0;
	struct vu_msg owner = { .request = VU_SET_OWNER };
	int ret;

	vu_of(d)->protocol = 0;
	vu_of(d)->live_vrings = 0;
	ret = vu_request(d, &owner, NULL, 0);
	if (ret == 0)
		ret = vu_get_u64(d, VU_GET_FEATURES, &features);
	if (ret < 0)
		return ret;
	if (features & VV_BIT(VU_F_PROTOCOL_FEATURES)) {
		ret = vu_get_u64(d, VU_GET_PROTOCOL_FEATURES, &offered);
		if (ret < 0)
			return ret;
		ret = vu_set_u64(d, VU_SET_PROTOCOL_FEATURES,
				 offered & VU_PROTOCOL_WANTED);
		if (ret < 0)
			return ret;
		/* Only now: SET_PROTOCOL_FEATURES itself was not acked. */
		vu_of(d)->protocol = (offered & VU_PROTOCOL_WANTED) |
			VV_BIT(VU_F_PROTOCOL_FEATURES);
	}
	d->info.max_vrings = 0;
	if (vu_of(d)->protocol & VV_BIT(VU_PROTOCOL_F_MQ)) {
		ret = vu_get_u64(d, VU_GET_QUEUE_NUM, &qnum);
		if (ret < 0)
			return ret;
		/* Queue pairs, as DPDK's vhost and QEMU count them. */
		if (qnum > 0)
			d->info.max_vrings = 2 * (uint32_t)(qnum < VV_MAX_QUEUE_PAIRS ?
						       qnum : VV_MAX_QUEUE_PAIRS);
	}
	/*
	 * ACCESS_PLATFORM would make the peer translate through an IOTLB
	 * fed over a second channel; the shared memory table is simpler.
	 * There is no config space to read MAC, STATUS, MTU or speed from.
	 */
	d->info.device_features = features &
		~(VV_BIT(VU_F_PROTOCOL_FEATURES) |
		  VV_BIT(VIRTIO_F_ACCESS_PLATFORM) |
		  VV_BIT(VIRTIO_NET_F_MAC) | VV_BIT(VIRTIO_NET_F_STATUS) |
		  VV_BIT(VIRTIO_NET_F_MTU) | VV_BIT(VIRTIO_NET_F_SPEED_DUPLEX));
	return 0;
}

static void
vu_close(struct vv_dev *d)
{
	if (d->backend == NULL)
		return;
	vu_disconnect(d);
	if (vu_of(d)->listen_fd >= 0) {
		vv_sys->close(vu_of(d)->listen_fd);
		vv_sys->unlink(d->path);
	}
	free(d->backend);
	d->backend = NULL;
}

static int
vu_open(struct vv_dev *d)
{
	int ret;

	d->fd = -1;
	d->backend = calloc(1, sizeof(struct vu_state));
	if (d->backend == NULL) {
		VV_ERR("%s: out of memory for the vhost-user state", d->path);
		return -ENOMEM;
	}
	vu_of(d)->listen_fd = -1;
	d->info.iova_first = 0;
	d->info.iova_last = UINT64_MAX;
	if (d->server) {
		ret = vu_listen(d);
		if (ret < 0) {
			vu_close(d);
			return ret;
		}
		VV_INFO("%s: waiting up to %u ms for the vhost-user peer to connect",
			d->path, vv_vhost_user_server_wait_ms);
		ret = vu_accept(d, (int)vv_vhost_user_server_wait_ms);
		if (ret == -EAGAIN) {
			ret = -ETIMEDOUT;
			VV_ERR("server=1: no vhost-user peer connected to %s within %u ms; start the backend in client mode (for DPDK's vhost: client=1) pointing at this socket",
			       d->path, vv_vhost_user_server_wait_ms);
		}
	} else {
		ret = vu_connect(d, false);
	}
	if (ret == 0)
		ret = vu_handshake(d);
	if (ret < 0) {
		vu_close(d);
		return ret;
	}
	VV_INFO("%s: vhost-user peer connected (%s)", d->path,
		d->server ? "it connected to us" : "we connected to it");
	return 0;
}

static bool
vu_peer_alive(struct vv_dev *d)
{
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN | POLLRDHUP };

	if (d->fd < 0)
		return false;
	/* The peer never speaks first on this socket: anything is a hang-up. */
	return poll(&pfd, 1, 0) == 0;
}

static int
vu_reconnect(struct vv_dev *d)
{
	int ret;

	if (d->fd >= 0)
		return 0;
	ret = d->server ? vu_accept(d, 0) : vu_connect(d, true);
	if (ret < 0)
		return ret == -ENOENT || ret == -ECONNREFUSED ? -EAGAIN : ret;
	ret = vu_handshake(d);
	if (ret < 0)
		vu_disconnect(d);
	return ret;
}

/*
 * vhost-user has no status register. Reset is what the peer understands
 * as stopping a ring: GET_VRING_BASE, after whose answer it no longer
 * touches that ring's memory.
 */
static int
vu_set_status(struct vv_dev *d, uint8_t status)
{
	unsigned int i;
	int ret;

	if (status == 0) {
		for (i = 0; i < VV_MAX_VRINGS && d->fd >= 0; i++) {
			struct vu_msg m = {
				.request = VU_GET_VRING_BASE,
				.size = sizeof(m.payload.state),
				.payload.state = { .index = i },
			};

			if (!(vu_of(d)->live_vrings & (1u << i)))
				continue;
			ret = vu_send(d, &m, NULL, 0);
			if (ret == 0)
				ret = vu_recv_reply(d, VU_GET_VRING_BASE, &m,
						    sizeof(m.payload.state));
			/* A peer that is gone touches nothing either. */
			if (ret < 0 && d->fd >= 0)
				return ret;
			vu_of(d)->live_vrings &= ~(1u << i);
		}
		vu_of(d)->live_vrings = 0;
	}
	vu_of(d)->status = status;
	return 0;
}

static int
vu_get_status(struct vv_dev *d, uint8_t *status)
{
	*status = vu_of(d)->status;
	return 0;
}

static int
vu_set_features(struct vv_dev *d, uint64_t features)
{
	if (vu_of(d)->protocol & VV_BIT(VU_F_PROTOCOL_FEATURES))
		features |= VV_BIT(VU_F_PROTOCOL_FEATURES);
	return vu_set_u64(d, VU_SET_FEATURES, features);
}

static int
vu_read_config(struct vv_dev *d, uint32_t off, void *buf, uint32_t len)
{
	(void)d;
	(void)off;
	(void)buf;
	(void)len;
	return -ENOTSUP;
}

/*
 * The memory table, with neighbouring ranges of one file merged: with
 * --single-file-segments all of DPDK's memory is a handful of entries,
 * and the protocol takes only VU_MAX_REGIONS.
 */
static int
vu_build_table(struct vv_dev *d, struct vu_memory *mem, int *fds)
{
	const struct vv_memmap *mm = &d->memmap;
	unsigned int i, n = 0;

	memset(mem, 0, sizeof(*mem));
	for (i = 0; i < mm->n; i++) {
		const struct vv_region *r = &mm->regions[i];
		struct vu_region *last = n > 0 ? &mem->regions[n - 1] : NULL;

		if (r->fd < 0) {
			VV_ERR("%s: memory at 0x%llx is not backed by a file, and vhost-user shares memory by file: run DPDK on hugepages (or --no-huge, which uses memfd), not on anonymous memory",
			       d->path, (unsigned long long)r->addr);
			return -EINVAL;
		}
		if (last != NULL && fds[n - 1] == r->fd &&
		    last->userspace_addr + last->memory_size == r->addr &&
		    last->mmap_offset + last->memory_size == r->fd_offset) {
			last->memory_size += r->len;
			continue;
		}
		if (n == VU_MAX_REGIONS) {
			VV_ERR("%s: DPDK memory is in more than %u pieces, the most vhost-user can share: start DPDK with --single-file-segments (or with fewer, larger hugepages)",
			       d->path, VU_MAX_REGIONS);
			return -E2BIG;
		}
		/* Descriptors carry our addresses, so guest-physical = ours. */
		mem->regions[n].guest_phys_addr = r->addr;
		mem->regions[n].userspace_addr = r->addr;
		mem->regions[n].memory_size = r->len;
		mem->regions[n].mmap_offset = r->fd_offset;
		fds[n] = r->fd;
		n++;
	}
	mem->nregions = n;
	return (int)n;
}

static int
vu_mem_replace(struct vv_dev *d)
{
	struct vu_msg m = {
		.request = VU_SET_MEM_TABLE,
		.size = sizeof(m.payload.memory),
	};
	struct vu_memory mem;
	int fds[VU_MAX_REGIONS];
	int n;

	n = vu_build_table(d, &mem, fds);
	if (n < 0)
		return n;
	m.payload.memory = mem;
	if (d->fd < 0)
		return 0;
	return vu_request(d, &m, fds, (unsigned int)n);
}

/* The peer maps the table whole, so a change is the whole table again. */
static int
vu_mem_apply(struct vv_dev *d, const struct vv_memmap_op *ops, unsigned int n)
{
	(void)ops;
	(void)n;
	return vu_mem_replace(d);
}

static int
vu_vring_setup(struct vv_dev *d, unsigned int idx,
	       const struct vv_vring_addr *a, int kick_fd, int call_fd)
{
	struct vu_msg m = {
		.request = VU_SET_VRING_ADDR,
		.size = sizeof(m.payload.addr),
		.payload.addr = {
			.index = idx,
			.desc_user_addr = a->desc,
			.used_user_addr = a->used,
			.avail_user_addr = a->avail,
		},
	};
	int ret;

	ret = vu_set_state(d, VU_SET_VRING_NUM, idx, a->size);
	if (ret == 0)
		ret = vu_set_state(d, VU_SET_VRING_BASE, idx, a->base);
	if (ret == 0)
		ret = vu_request(d, &m, NULL, 0);
	if (ret == 0)
		ret = vu_set_vring_fd(d, VU_SET_VRING_KICK, idx, kick_fd);
	if (ret == 0)
		ret = vu_set_vring_fd(d, VU_SET_VRING_CALL, idx, call_fd);
	if (ret < 0)
		return ret;
	vu_of(d)->live_vrings |= 1u << idx;
	return 0;
}

static int
vu_vring_enable(struct vv_dev *d, unsigned int idx, bool on)
{
	/* Without protocol features a ring runs as soon as it is kicked. */
	if (!(vu_of(d)->protocol & VV_BIT(VU_F_PROTOCOL_FEATURES)))
		return 0;
	return vu_set_state(d, VU_SET_VRING_ENABLE, idx, on ? 1 : 0);
}

const struct vv_backend_ops vv_backend_vhost_user = {
	.name = "vhost-user",
	.caps = VV_CAP_MEM_BY_FD | VV_CAP_PEER_CAN_LEAVE,
	.open = vu_open,
	.close = vu_close,
	.set_status = vu_set_status,
	.get_status = vu_get_status,
	.set_features = vu_set_features,
	.read_config = vu_read_config,
	.mem_apply = vu_mem_apply,
	.mem_replace = vu_mem_replace,
	.vring_setup = vu_vring_setup,
	.vring_enable = vu_vring_enable,
	.peer_alive = vu_peer_alive,
	.reconnect = vu_reconnect,
	.disconnect = vu_disconnect,
};

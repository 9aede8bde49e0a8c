/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <linux/virtio_net.h>

#include "vv_ctrl.h"
#include "vv_sys.h"

#define CTRL_HDR_LEN 2
#define CTRL_ACK_OFF (CTRL_HDR_LEN + VV_CTRL_DATA_MAX)
#define CTRL_BUF_LEN (CTRL_ACK_OFF + 1)

unsigned int vv_ctrl_timeout_ms = 3000;

/* Either layout fits: the buffer follows the larger of the two. */
static size_t
ctrl_ring_bytes(void)
{
	size_t split = vv_ring_shared_size(false, VV_CTRL_RING_SIZE);
	size_t packed = vv_ring_shared_size(true, VV_CTRL_RING_SIZE);

	return split > packed ? split : packed;
}

size_t
vv_ctrl_shared_size(void)
{
	return ctrl_ring_bytes() + CTRL_BUF_LEN;
}

size_t
vv_ctrl_priv_size(void)
{
	size_t split = vv_ring_priv_size(false, VV_CTRL_RING_SIZE);
	size_t packed = vv_ring_priv_size(true, VV_CTRL_RING_SIZE);

	return split > packed ? split : packed;
}

int
vv_ctrl_init(struct vv_ctrl *c, void *shm, void *priv, bool packed,
	     bool event_idx)
{
	int ret;

	/* Commands always kick; EVENT_IDX only shapes the interrupt side. */
	ret = vv_ring_init(&c->ring, packed, shm, priv, VV_CTRL_RING_SIZE,
			   event_idx ? VV_RING_EVENT_IDX : 0);
	if (ret < 0)
		return ret;
	c->buf = (uint8_t *)shm + ctrl_ring_bytes();
	memset(c->buf, 0, CTRL_BUF_LEN);
	c->stuck = false;
	return 0;
}

struct ctrl_part {
	const void *addr;
	uint32_t len;
	bool device_writes;
};

/* Posts the command's parts as one chain; returns its head or id. */
static int
ctrl_post(struct vv_ring *ring, const struct ctrl_part *parts, uint16_t n)
{
	uint16_t i, id;
	int head;

	if (ring->is_packed) {
		struct vv_packed_ring *r = &ring->packed;

		head = vv_packed_id_alloc(r, n, 1);
		if (head < 0)
			return -1;
		for (i = 0; i < n; i++)
			vv_packed_desc_put(r, (uint16_t)head,
					   (uint64_t)(uintptr_t)parts[i].addr,
					   parts[i].len, parts[i].device_writes,
					   i + 1 < n);
		vv_packed_avail_publish(r);
		return head;
	}
	head = vv_split_chain_alloc(&ring->split, n, 1);
	if (head < 0)
		return -1;
	for (i = 0, id = (uint16_t)head; i < n; i++) {
		struct vring_desc *d = &ring->split.desc[id];

		d->addr = (uint64_t)(uintptr_t)parts[i].addr;
		d->len = parts[i].len;
		if (parts[i].device_writes)
			d->flags |= VRING_DESC_F_WRITE;
		id = vv_split_chain_next(&ring->split, id);
	}
	vv_split_avail_push(&ring->split, (uint16_t)head);
	vv_split_avail_publish(&ring->split);
	return head;
}

/*
 * The device's answer to the chain at head: 1 once it came and named head
 * (its descriptors are then free again), 0 while it has not come, -1 if it
 * named anything else.
 */
static int
ctrl_answered(struct vv_ring *ring, uint16_t head)
{
	uint32_t written;
	uint16_t id = 0;
	enum vv_used u;

	if (ring->is_packed) {
		u = vv_packed_used_read(&ring->packed, &id, &written);
		if (u == VV_USED_NONE)
			return 0;
		if (u != VV_USED_OK || id != head)
			return -1;
		vv_packed_used_take(&ring->packed, id);
		return 1;
	}
	if (vv_split_used_pending(&ring->split) == 0)
		return 0;
	if (vv_split_used_pop(&ring->split, &written) != head)
		return -1;
	vv_split_chain_free(&ring->split, head);
	return 1;
}

int
vv_ctrl_send(struct vv_ctrl *c, int kick_fd, uint8_t cls, uint8_t cmd,
	     const void *data, uint16_t len, unsigned int timeout_ms)
{
	static const uint64_t one = 1;
	struct timespec pause = { 0, 20 * 1000 };
	volatile uint8_t *ack = &c->buf[CTRL_ACK_OFF];
	struct ctrl_part parts[3];
	uint16_t n = 0;
	uint64_t deadline;
	int head, got;

	if (len > VV_CTRL_DATA_MAX)
		return -EINVAL;
	if (c->stuck)
		return -EBUSY;
	c->buf[0] = cls;
	c->buf[1] = cmd;
	if (len > 0)
		memcpy(&c->buf[CTRL_HDR_LEN], data, len);
	*ack = VIRTIO_NET_ERR;
	parts[n++] = (struct ctrl_part){ c->buf, CTRL_HDR_LEN, false };
	if (len > 0)
		parts[n++] = (struct ctrl_part){ &c->buf[CTRL_HDR_LEN], len,
						 false };
	parts[n++] = (struct ctrl_part){ (const void *)ack, 1, true };
	head = ctrl_post(&c->ring, parts, n);
	if (head < 0)
		return -EBUSY;
	/* Control commands are rare: always kick, whatever the device asks. */
	if (vv_sys->write(kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;

	deadline = vv_now_us() + (uint64_t)timeout_ms * 1000;
	while ((got = ctrl_answered(&c->ring, (uint16_t)head)) == 0) {
		if (vv_now_us() >= deadline) {
			c->stuck = true;
			return -ETIMEDOUT;
		}
		nanosleep(&pause, NULL);
	}
	if (got < 0) {
		c->stuck = true;
		return -EPROTO;
	}
	return *ack == VIRTIO_NET_OK ? 0 : -EIO;
}

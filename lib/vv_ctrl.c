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

size_t
vv_ctrl_shared_size(void)
{
	return vv_split_ring_shared_size(VV_CTRL_RING_SIZE) + CTRL_BUF_LEN;
}

size_t
vv_ctrl_priv_size(void)
{
	return vv_split_ring_priv_size(VV_CTRL_RING_SIZE);
}

int
vv_ctrl_init(struct vv_ctrl *c, void *shm, void *priv, bool event_idx)
{
	int ret;

	/* Commands always kick; EVENT_IDX only shapes the interrupt side. */
	ret = vv_split_ring_init(&c->ring, shm, priv, VV_CTRL_RING_SIZE,
				 event_idx ? VV_SPLIT_EVENT_IDX : 0);
	if (ret < 0)
		return ret;
	c->buf = (uint8_t *)shm + vv_split_ring_shared_size(VV_CTRL_RING_SIZE);
	memset(c->buf, 0, CTRL_BUF_LEN);
	c->stuck = false;
	return 0;
}

static void
ctrl_desc(struct vv_split_ring *r, uint16_t id, const void *addr,
	  uint32_t len, bool device_writes)
{
	r->desc[id].addr = (uint64_t)(uintptr_t)addr;
	r->desc[id].len = len;
	if (device_writes)
		r->desc[id].flags |= VRING_DESC_F_WRITE;
}

int
vv_ctrl_send(struct vv_ctrl *c, int kick_fd, uint8_t cls, uint8_t cmd,
	     const void *data, uint16_t len, unsigned int timeout_ms)
{
	static const uint64_t one = 1;
	struct vv_split_ring *r = &c->ring;
	struct timespec pause = { 0, 20 * 1000 };
	uint16_t ndesc = len > 0 ? 3 : 2, id;
	volatile uint8_t *ack = &c->buf[CTRL_ACK_OFF];
	uint64_t deadline;
	uint32_t written;
	int head;

	if (len > VV_CTRL_DATA_MAX)
		return -EINVAL;
	if (c->stuck)
		return -EBUSY;
	head = vv_split_chain_alloc(r, ndesc, 1);
	if (head < 0)
		return -EBUSY;
	c->buf[0] = cls;
	c->buf[1] = cmd;
	if (len > 0)
		memcpy(&c->buf[CTRL_HDR_LEN], data, len);
	*ack = VIRTIO_NET_ERR;
	id = (uint16_t)head;
	ctrl_desc(r, id, c->buf, CTRL_HDR_LEN, false);
	if (len > 0) {
		id = vv_split_chain_next(r, id);
		ctrl_desc(r, id, &c->buf[CTRL_HDR_LEN], len, false);
	}
	id = vv_split_chain_next(r, id);
	ctrl_desc(r, id, (const void *)&c->buf[CTRL_ACK_OFF], 1, true);
	vv_split_avail_push(r, (uint16_t)head);
	vv_split_avail_publish(r);
	/* Control commands are rare: always kick, whatever the device asks. */
	if (vv_sys->write(kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;

	deadline = vv_now_us() + (uint64_t)timeout_ms * 1000;
	while (vv_split_used_pending(r) == 0) {
		if (vv_now_us() >= deadline) {
			c->stuck = true;
			return -ETIMEDOUT;
		}
		nanosleep(&pause, NULL);
	}
	if (vv_split_used_pop(r, &written) != head) {
		c->stuck = true;
		return -EPROTO;
	}
	vv_split_chain_free(r, (uint16_t)head);
	return *ack == VIRTIO_NET_OK ? 0 : -EIO;
}

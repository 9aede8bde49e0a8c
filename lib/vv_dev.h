/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_DEV_H
#define VV_DEV_H

/*
 * The control path of one virtio-net device behind a vhost backend: open and
 * identify it, negotiate, map memory, bring the vrings up and take them down.
 * Backend-neutral; the backend (vhost-vdpa today) sits behind ops.
 */

#include <stdbool.h>
#include <stdint.h>

#include "vv_features.h"
#include "vv_memmap.h"

#define VV_MAX_QUEUE_PAIRS 16
#define VV_MAX_VRINGS (2 * VV_MAX_QUEUE_PAIRS)
#define VV_PATH_MAX 256

struct vv_dev;

struct vv_dev_params {
	const char *path;
	uint16_t queue_pairs;
	uint16_t queue_size;
	struct vv_feature_wish wish;
};

/* What the device reported at open. has_* say which config fields exist. */
struct vv_dev_info {
	uint64_t device_features;
	uint32_t config_size;
	uint32_t max_vrings;	/* 0: the kernel cannot tell */
	uint16_t max_ring_size;	/* 0: the kernel cannot tell */
	uint64_t iova_first;
	uint64_t iova_last;
	uint8_t mac[6];
	bool has_mac;
	bool has_status;
	bool has_mtu;
	bool has_speed;
	uint16_t mtu;
	uint16_t max_queue_pairs;
	uint32_t speed;		/* Mbps, from config; 0 if unknown */
};

/* Where one vring lives; addresses are our virtual addresses. */
struct vv_vring_addr {
	uint16_t size;
	uint64_t desc;
	uint64_t avail;
	uint64_t used;
};

struct vv_backend_ops {
	const char *name;
	int (*open)(struct vv_dev *d);
	void (*close)(struct vv_dev *d);
	int (*set_status)(struct vv_dev *d, uint8_t status);
	int (*get_status)(struct vv_dev *d, uint8_t *status);
	int (*set_features)(struct vv_dev *d, uint64_t features);
	int (*read_config)(struct vv_dev *d, uint32_t off, void *buf,
			   uint32_t len);
	/* Applies map/unmap operations as one batch. */
	int (*mem_apply)(struct vv_dev *d, const struct vv_memmap_op *ops,
			 unsigned int n);
	/* Drops every mapping and maps the whole memmap again. */
	int (*mem_replace)(struct vv_dev *d);
	int (*vring_setup)(struct vv_dev *d, unsigned int idx,
			   const struct vv_vring_addr *a, int kick_fd,
			   int call_fd);
	int (*vring_enable)(struct vv_dev *d, unsigned int idx, bool on);
};

struct vv_dev {
	const struct vv_backend_ops *ops;
	char path[VV_PATH_MAX];
	int fd;
	uint16_t queue_pairs;
	uint16_t queue_size;
	struct vv_feature_wish wish;
	struct vv_dev_info info;
	uint64_t backend_features;
	uint64_t features;	/* negotiated */
	struct vv_memmap memmap;
	unsigned int nr_vrings;
	int kick_fd[VV_MAX_VRINGS];
	int call_fd[VV_MAX_VRINGS];
	bool started;
	bool mapped;		/* device IOTLB mirrors memmap */
};

extern const struct vv_backend_ops vv_backend_vdpa;

/*
 * Opens and identifies the device and checks the parameters against its
 * limits, before anything is programmed. Returns 0 or -errno with the cause
 * and the fix logged. On failure nothing stays open.
 */
int vv_dev_open(struct vv_dev *d, const struct vv_dev_params *p);

/* Resets the device and releases everything; the device is reusable. */
void vv_dev_close(struct vv_dev *d);

/* Records memory the device may DMA; applied at once if already mapped. */
int vv_dev_mem_add(struct vv_dev *d, uint64_t addr, uint64_t len);
int vv_dev_mem_remove(struct vv_dev *d, uint64_t addr, uint64_t len);

/*
 * Full bring-up: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK (read
 * back), all memory mapped in one batch, every vring programmed and enabled,
 * DRIVER_OK. vrings[2i] is Rx of pair i, vrings[2i+1] its Tx.
 */
int vv_dev_start(struct vv_dev *d, const struct vv_vring_addr *vrings,
		 unsigned int nr_vrings);

/*
 * Resets the device. When it returns the device no longer touches our
 * memory, so buffers may be freed.
 */
int vv_dev_stop(struct vv_dev *d);

/* Link state from the config space; up when the device has no STATUS. */
bool vv_dev_link_up(struct vv_dev *d);

static inline int
vv_dev_kick_fd(const struct vv_dev *d, unsigned int vring)
{
	return d->kick_fd[vring];
}

#endif

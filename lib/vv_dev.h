/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_DEV_H
#define VV_DEV_H

/*
 * The control path of one virtio-net device behind a vhost backend: open and
 * identify it, negotiate, map memory, bring the vrings up and take them down.
 * Backend-neutral: vhost-vdpa and vhost-user sit behind ops.
 */

#include <stdbool.h>
#include <stdint.h>

#include "vv_ctrl.h"
#include "vv_features.h"
#include "vv_memmap.h"

#define VV_MAX_QUEUE_PAIRS 16
#define VV_MAX_VRINGS (2 * VV_MAX_QUEUE_PAIRS)
#define VV_PATH_MAX 256
/* Unicast and multicast addresses each, in the device's filter table. */
#define VV_MAC_TABLE_MAX 32
/* The largest RSS key and indirection table this driver hands a device. */
#define VV_RSS_KEY_MAX 64
#define VV_RSS_RETA_MAX 512

struct vv_dev;

struct vv_dev_params {
	/* /dev/vhost-vdpa-N, a vDPA device name, or a vhost-user socket */
	const char *path;
	bool server;		/* vhost-user: listen on path for the peer */
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
	/* VIRTIO_NET_F_RSS offered: its limits and VIRTIO_NET_RSS_HASH_TYPE_* */
	bool has_rss;
	uint8_t rss_max_key_size;
	uint16_t rss_max_reta_len;
	uint32_t rss_hash_types;
};

/*
 * Receive-side scaling as the device applies it (VIRTIO_NET_CTRL_MQ_RSS_
 * CONFIG): a hash over hash_types with key selects reta[hash % reta_len],
 * a queue pair index; packets of no listed type go to pair 0.
 */
struct vv_rss_conf {
	bool on;
	uint32_t hash_types;
	uint8_t key_len;
	uint8_t key[VV_RSS_KEY_MAX];
	uint16_t reta_len;	/* a power of two */
	uint16_t reta[VV_RSS_RETA_MAX];
};

/*
 * Where one vring lives; addresses are our virtual addresses. avail and
 * used are the driver and device areas: for a packed ring, its two event
 * suppression structures.
 */
struct vv_vring_addr {
	uint16_t size;
	uint32_t base;		/* SET_VRING_BASE (vv_ring_base_fresh) */
	uint64_t desc;
	uint64_t avail;
	uint64_t used;
	/* The ring itself, for the base a returning peer resumes from. */
	const struct vv_ring *ring;
};

/* The vring of ring r, as a fresh start hands it to the device. */
void vv_vring_addr_of(const struct vv_ring *r, struct vv_vring_addr *a);

/* What a backend can do, beyond the ops every backend has. */
enum vv_backend_caps {
	/* Memory reaches the device as files (vv_dev_mem_add_fd), not IOTLB. */
	VV_CAP_MEM_BY_FD = 1u << 0,
	/*
	 * The device lives in a peer process that may leave and come back
	 * (peer_alive, reconnect and disconnect are set); the driver then
	 * runs queue pairs by enabling vrings, with no control queue.
	 */
	VV_CAP_PEER_CAN_LEAVE = 1u << 1,
	/* The device signals config changes on an eventfd (set_config_call). */
	VV_CAP_CONFIG_IRQ = 1u << 2,
	/* A vring's doorbell may be mapped into the process (map_doorbell). */
	VV_CAP_DOORBELL = 1u << 3,
	/*
	 * The device can be unplugged under an open fd, which keeps working
	 * until closed (present tells when): the driver then takes the link
	 * down for good.
	 */
	VV_CAP_REMOVABLE = 1u << 4,
};

/*
 * The contract between the generic device (vv_dev) and a control backend.
 * Every op returns 0 or a negative errno, and logs the cause and the fix
 * itself when the user can act on it; vv_dev adds the step it was at.
 */
struct vv_backend_ops {
	/* Names the backend in messages: "vhost-vdpa", "vhost-user". */
	const char *name;
	uint32_t caps;		/* enum vv_backend_caps */
	/*
	 * Opens d->path, fills d->info (features, limits, config size) and
	 * d->fd; on failure nothing stays open.
	 */
	int (*open)(struct vv_dev *d);
	/* Releases everything open took; never fails, safe to call twice. */
	void (*close)(struct vv_dev *d);
	/* The virtio status byte; set_status(0) is a reset and may be slow. */
	int (*set_status)(struct vv_dev *d, uint8_t status);
	int (*get_status)(struct vv_dev *d, uint8_t *status);
	/*
	 * Optional: stops the device's datapath where it stands; once it
	 * returns 0 the device writes no more of our memory. -ENOTSUP where
	 * the device cannot (vhost-vdpa without VHOST_BACKEND_F_SUSPEND).
	 */
	int (*suspend)(struct vv_dev *d);
	/* Between DRIVER and FEATURES_OK; vv_dev reads FEATURES_OK back. */
	int (*set_features)(struct vv_dev *d, uint64_t features);
	/* The device config space; -ENOTSUP where there is none. */
	int (*read_config)(struct vv_dev *d, uint32_t off, void *buf,
			   uint32_t len);
	/*
	 * Applies map/unmap operations as one batch. On success the device
	 * reaches exactly the memmap; on failure nothing of the batch holds.
	 */
	int (*mem_apply)(struct vv_dev *d, const struct vv_memmap_op *ops,
			 unsigned int n);
	/* Drops every mapping and maps the whole memmap again. */
	int (*mem_replace)(struct vv_dev *d);
	/* Size, base, addresses and eventfds of vring idx, before enable. */
	int (*vring_setup)(struct vv_dev *d, unsigned int idx,
			   const struct vv_vring_addr *a, int kick_fd,
			   int call_fd);
	int (*vring_enable)(struct vv_dev *d, unsigned int idx, bool on);
	/*
	 * VV_CAP_CONFIG_IRQ: the eventfd the device signals on a config
	 * change (-1: none). Forgotten by a reset, so set at every start.
	 */
	int (*set_config_call)(struct vv_dev *d, int fd);
	/*
	 * VV_CAP_DOORBELL: maps vring idx's notification page; NULL (with
	 * the reason logged at info) where the device offers none, and the
	 * kick eventfd serves instead. *len is what to unmap.
	 */
	void *(*map_doorbell)(struct vv_dev *d, unsigned int idx, size_t *len);
	/*
	 * VV_CAP_PEER_CAN_LEAVE only. peer_alive notices a hang-up without
	 * blocking. reconnect does not wait: -EAGAIN means no peer yet.
	 * disconnect drops the peer and keeps the device state for its return.
	 */
	bool (*peer_alive)(struct vv_dev *d);
	int (*reconnect)(struct vv_dev *d);
	void (*disconnect)(struct vv_dev *d);
	/*
	 * VV_CAP_REMOVABLE only: false once the device was unplugged.
	 * Polled from the control thread; it must not block.
	 */
	bool (*present)(struct vv_dev *d);
};

struct vv_dev {
	const struct vv_backend_ops *ops;
	char path[VV_PATH_MAX];
	uint64_t node_rdev;	/* a character device's number, else 0 */
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
	/* Mapped notification pages, kept from the first start to close. */
	void *doorbell[VV_MAX_VRINGS];
	size_t doorbell_len[VV_MAX_VRINGS];
	bool started;
	bool mapped;		/* device IOTLB mirrors memmap */
	bool removed;		/* unplugged: never started again */
	/* The last stop suspended the device before its reset. */
	bool suspended;
	/* What the last start handed the device, for a returning peer. */
	struct vv_vring_addr vrings[VV_MAX_VRINGS];
	bool server;		/* vhost-user: we listen, the peer connects */
	/* The backend's own state, from its open to its close. */
	void *backend;
	uint64_t peer_retry_ms;	/* no reconnect try before (monotonic) */
	/*
	 * The device's control queue, when CTRL_VQ is negotiated; its memory
	 * is the caller's (vv_dev_set_ctrl_mem), in reach of the device.
	 */
	struct vv_ctrl ctrl;
	void *ctrl_shm;
	void *ctrl_priv;
	int ctrl_kick_fd;
	int ctrl_call_fd;
	bool ctrl_live;
	/* Signalled by the device on a config change (VV_CAP_CONFIG_IRQ). */
	int config_fd;
	bool link_was_up;	/* as the last config event saw it */
	/*
	 * The device filters VLANs only while this is set at start: without
	 * it CTRL_VLAN is left out of the features, and every VLAN passes.
	 */
	bool vlan_filter;
	/*
	 * HASH_REPORT is in use only while this is set at start: the header
	 * then grows to struct virtio_net_hdr_v1_hash, both ways.
	 */
	bool hash_report;
	/*
	 * The offload features (VV_OFFLOAD_FEATURES) the app asked for, set
	 * before every start: the rest are left out of the features, so a
	 * device never does work nobody reads.
	 */
	uint64_t offloads_wanted;
	/* Sent at every start in place of VQ_PAIRS_SET while rss.on. */
	struct vv_rss_conf rss;
};

extern const struct vv_backend_ops vv_backend_vdpa;
extern const struct vv_backend_ops vv_backend_vhost_user;

/*
 * How long a vhost-user request waits for the peer to take or answer it
 * before failing with -ETIMEDOUT, so a hung peer cannot hang the driver.
 * Read at open; tests shorten it.
 */
extern unsigned int vv_vhost_user_timeout_ms;
/* How long open with server=1 waits for the peer's first connection. */
extern unsigned int vv_vhost_user_server_wait_ms;

/* Where sysfs is, for finding a vDPA device by name; tests move it. */
extern const char *vv_sysfs_root;

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
/*
 * As vv_dev_mem_add, naming the file that backs the memory and where addr
 * sits in it: vhost-user shares memory by passing that fd to its peer.
 * The fd stays the caller's and must stay open while the memory is added.
 */
int vv_dev_mem_add_fd(struct vv_dev *d, uint64_t addr, uint64_t len, int fd,
		      uint64_t fd_offset);
int vv_dev_mem_remove(struct vv_dev *d, uint64_t addr, uint64_t len);

/*
 * Full bring-up: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK (read
 * back), all memory mapped in one batch, every vring programmed and enabled,
 * DRIVER_OK. vrings[2i] is Rx of pair i, vrings[2i+1] its Tx.
 */
int vv_dev_start(struct vv_dev *d, const struct vv_vring_addr *vrings,
		 unsigned int nr_vrings);

/*
 * Suspends the device where it can (then d->suspended), and resets it.
 * When the reset is confirmed the device no longer touches our memory,
 * so buffers may be freed; a device that was not suspended may still
 * finish its last burst (see the driver's quiesce).
 */
int vv_dev_stop(struct vv_dev *d);

/*
 * Link state: down while a vhost-user peer is away; else from the config
 * space, and up when the device has no STATUS.
 */
bool vv_dev_link_up(struct vv_dev *d);

/*
 * True when CTRL_VQ was negotiated: the caller must then give the control
 * queue vv_ctrl_shared_size() bytes of device-reachable memory (mapped like
 * the rings) and vv_ctrl_priv_size() private bytes before start.
 */
bool vv_dev_has_ctrl(const struct vv_dev *d);
void vv_dev_set_ctrl_mem(struct vv_dev *d, void *shm, void *priv);

/*
 * Receive filters through the control queue: cmd is VIRTIO_NET_CTRL_RX_
 * PROMISC or _ALLMULTI. -ENOTSUP without CTRL_RX; 0 without a running
 * device (the state is the caller's to apply at start).
 */
int vv_dev_ctrl_rx(struct vv_dev *d, uint8_t cmd, bool on);
/* The device's receive address (CTRL_MAC_ADDR); same returns. */
int vv_dev_ctrl_mac(struct vv_dev *d, const uint8_t mac[6]);
/*
 * The extra addresses the device accepts (MAC_TABLE_SET, needs CTRL_RX):
 * unicast ones beside its own address, and multicast ones. -ENOSPC beyond
 * VV_MAC_TABLE_MAX of either; otherwise the same returns.
 */
int vv_dev_ctrl_mac_table(struct vv_dev *d, const uint8_t (*uc)[6],
			  unsigned int n_uc, const uint8_t (*mc)[6],
			  unsigned int n_mc);
/*
 * Adds or removes vid (< 4096) in the device's VLAN filter (CTRL_VLAN).
 * Nothing is sent while vlan_filter is off: then every VLAN passes.
 */
int vv_dev_ctrl_vlan(struct vv_dev *d, uint16_t vid, bool add);
/*
 * Sets receive-side scaling (VIRTIO_NET_F_RSS), applied at once on a
 * running device and at every start; rss->on false goes back to the
 * device's own steering. -ENOTSUP without RSS, -EINVAL (logged, naming the
 * device's limit) for a key, table, queue or hash type beyond the device.
 */
int vv_dev_rss_set(struct vv_dev *d, const struct vv_rss_conf *rss);
/* Tells the device the driver announced itself (GUEST_ANNOUNCE). */
int vv_dev_ctrl_announce_ack(struct vv_dev *d);

/* The features the device gets at start: negotiated, less what is off. */
uint64_t vv_dev_features_in_use(const struct vv_dev *d);

/*
 * The eventfd the device signals when its config space changes (link state,
 * announce requests), for the caller's event loop; -1 when the backend has
 * none. Valid from open to close; re-armed at every start.
 */
int vv_dev_config_fd(const struct vv_dev *d);

/* What a config interrupt told: bits of enum vv_config_event. */
enum vv_config_event {
	VV_CONFIG_LINK_CHANGED = 1u << 0,
	VV_CONFIG_ANNOUNCE = 1u << 1,	/* the device asks for an announcement */
};

/*
 * Drains the config eventfd and reads the status field; link_up tells the
 * state now. Returns the events seen since the last call (0: none).
 */
unsigned int vv_dev_config_event(struct vv_dev *d, bool *link_up);

/* True when memory must be added with its file (vv_dev_mem_add_fd). */
bool vv_dev_needs_mem_fds(const struct vv_dev *d);

/* True for a backend whose peer can go away and return (vhost-user). */
static inline bool
vv_dev_peer_can_leave(const struct vv_dev *d)
{
	return d->ops != NULL && (d->ops->caps & VV_CAP_PEER_CAN_LEAVE);
}

/* True when the device can leave under an open port: vv_dev_watch it. */
static inline bool
vv_dev_needs_watch(const struct vv_dev *d)
{
	return d->ops != NULL &&
		(d->ops->caps & (VV_CAP_PEER_CAN_LEAVE | VV_CAP_REMOVABLE));
}

enum vv_watch_event {
	VV_WATCH_UP,	/* there, nothing changed */
	VV_WATCH_DOWN,	/* still away */
	VV_WATCH_LOST,	/* went away just now: the link is down */
	VV_WATCH_BACK,	/* came back; a started device runs again */
};

/*
 * Watches a device that can leave under an open port, without blocking.
 * A vhost-user peer: notices a hang-up, and reconnects, handing a started
 * device's vrings to the returning peer where they stand. A vhost-vdpa
 * device: notices that it was unplugged (VV_WATCH_LOST once, then
 * VV_WATCH_DOWN); it never comes back to this fd, so the link stays down
 * and start fails until the port is closed. Callers serialise it with the
 * other control calls.
 */
enum vv_watch_event vv_dev_watch(struct vv_dev *d);

static inline int
vv_dev_kick_fd(const struct vv_dev *d, unsigned int vring)
{
	return d->kick_fd[vring];
}

/* The eventfd the device signals for the vring (its "call"). */
static inline int
vv_dev_call_fd(const struct vv_dev *d, unsigned int vring)
{
	return d->call_fd[vring];
}

/*
 * The vring's mapped doorbell, or NULL: then kick through vv_dev_kick_fd.
 * A kick is one 16-bit store of the vring's index, after the avail index
 * is visible. Valid from start to close, in this process only.
 */
static inline volatile uint16_t *
vv_dev_doorbell(const struct vv_dev *d, unsigned int vring)
{
	return d->doorbell[vring];
}

#endif

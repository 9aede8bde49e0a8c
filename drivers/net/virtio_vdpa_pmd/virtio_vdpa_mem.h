/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTIO_VDPA_MEM_H
#define VIRTIO_VDPA_MEM_H

#include "vv_dev.h"

/*
 * Mirrors DPDK's memory into the device's address space: every memseg now,
 * and each hot-plugged or freed range as the EAL reports it.
 */
int virtio_vdpa_mem_attach(struct vv_dev *d, const char *name);
void virtio_vdpa_mem_detach(struct vv_dev *d, const char *name);

/* Serialise control-path use of the memmap against memory events. */
void virtio_vdpa_mem_lock(void);
void virtio_vdpa_mem_unlock(void);

#endif

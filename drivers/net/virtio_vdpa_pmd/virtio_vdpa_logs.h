/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTIO_VDPA_LOGS_H
#define VIRTIO_VDPA_LOGS_H

#include <rte_log.h>

extern int virtio_vdpa_logtype;
extern int virtio_vdpa_logtype_init;
extern int virtio_vdpa_logtype_rx;
extern int virtio_vdpa_logtype_tx;

#define VV_PMD_LOG(type, level, ...) \
	rte_log(RTE_LOG_ ## level, type, "virtio_vdpa: " __VA_ARGS__)

#define PMD_LOG(level, ...) VV_PMD_LOG(virtio_vdpa_logtype, level, __VA_ARGS__)
#define PMD_INIT_LOG(level, ...) \
	VV_PMD_LOG(virtio_vdpa_logtype_init, level, __VA_ARGS__)

#endif

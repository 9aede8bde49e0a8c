/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTIO_VDPA_RXINTR_H
#define VIRTIO_VDPA_RXINTR_H

#include <ethdev_driver.h>

/*
 * Rx interrupts (intr_conf.rxq): each Rx queue's call eventfd becomes an
 * event fd of the port's interrupt handle, for rte_eth_dev_rx_intr_ctl_q;
 * enable and disable switch the ring's interrupt suppression.
 */

/* At start, once the device runs: -errno with the cause logged. */
int virtio_vdpa_rxintr_start(struct rte_eth_dev *eth);
/* At stop and close: the handle no longer names the queues' fds. */
void virtio_vdpa_rxintr_stop(struct rte_eth_dev *eth);

int virtio_vdpa_rx_intr_enable(struct rte_eth_dev *eth, uint16_t qid);
int virtio_vdpa_rx_intr_disable(struct rte_eth_dev *eth, uint16_t qid);

#endif

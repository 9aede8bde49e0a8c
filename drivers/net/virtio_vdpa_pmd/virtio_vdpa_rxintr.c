/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <rte_interrupts.h>

#include "virtio_vdpa_logs.h"
#include "virtio_vdpa_private.h"
#include "virtio_vdpa_rxintr.h"
#include "virtio_vdpa_rxtx.h"

int
virtio_vdpa_rxintr_start(struct rte_eth_dev *eth)
{
	struct virtio_vdpa_private *p = priv_of(eth);
	uint16_t i, nq = eth->data->nb_rx_queues;
	struct rte_intr_handle *h;

	if (!eth->data->dev_conf.intr_conf.rxq)
		return 0;
	if (eth->intr_handle == NULL) {
		eth->intr_handle =
			rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
		if (eth->intr_handle == NULL)
			goto fail;
	}
	h = eth->intr_handle;
	/*
	 * VDEV: EAL reads efd_counter_size bytes from a signalled fd, which
	 * clears an eventfd's count, and never touches the device.
	 */
	if (rte_intr_type_set(h, RTE_INTR_HANDLE_VDEV) < 0 ||
	    rte_intr_nb_efd_set(h, nq) < 0 ||
	    rte_intr_max_intr_set(h, nq + 1) < 0 ||
	    rte_intr_efd_counter_size_set(h, sizeof(uint64_t)) < 0 ||
	    rte_intr_vec_list_alloc(h, "vv_rx_intr", nq) < 0)
		goto fail;
	for (i = 0; i < nq; i++) {
		struct virtio_vdpa_rxq *q = eth->data->rx_queues[i];

		if (rte_intr_efds_index_set(h, i,
				vv_dev_call_fd(&p->dev, 2u * i)) < 0 ||
		    rte_intr_vec_list_index_set(h, i,
				RTE_INTR_VEC_RXTX_OFFSET + i) < 0)
			goto fail;
		/* Off until the app asks: it polls first. */
		vv_ring_intr_set(&q->ring, false);
	}
	return 0;
fail:
	PMD_INIT_LOG(ERR, "port %u: cannot set up Rx interrupts (%s); start without intr_conf.rxq\n",
		     eth->data->port_id, rte_strerror(rte_errno));
	virtio_vdpa_rxintr_stop(eth);
	return -ENOMEM;
}

void
virtio_vdpa_rxintr_stop(struct rte_eth_dev *eth)
{
	if (eth->intr_handle == NULL)
		return;
	rte_intr_vec_list_free(eth->intr_handle);
	rte_intr_nb_efd_set(eth->intr_handle, 0);
}

static int
rx_intr_set(struct rte_eth_dev *eth, uint16_t qid, bool on)
{
	struct virtio_vdpa_rxq *q = eth->data->rx_queues[qid];

	if (!eth->data->dev_conf.intr_conf.rxq) {
		PMD_LOG(ERR, "port %u: Rx interrupts were not configured; set intr_conf.rxq = 1 before rte_eth_dev_configure\n",
			eth->data->port_id);
		return -ENOTSUP;
	}
	if (q == NULL || !eth->data->dev_started)
		return -EINVAL;
	vv_ring_intr_set(&q->ring, on);
	q->stats.intr_enables += on;
	return 0;
}

int
virtio_vdpa_rx_intr_enable(struct rte_eth_dev *eth, uint16_t qid)
{
	return rx_intr_set(eth, qid, true);
}

int
virtio_vdpa_rx_intr_disable(struct rte_eth_dev *eth, uint16_t qid)
{
	return rx_intr_set(eth, qid, false);
}

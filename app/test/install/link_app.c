/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Linked against the installed driver through pkg-config only. Passes when
 * the driver is present without -d: probing a bogus path must reach our
 * driver (its message names the path) rather than "unknown device".
 */
#include <stdio.h>

#include <rte_bus.h>
#include <rte_eal.h>
#include <rte_dev.h>

int
main(int argc, char **argv)
{
	int ret = rte_eal_init(argc, argv);

	if (ret < 0)
		return 2;
	ret = rte_eal_hotplug_add("vdev", "net_virtio_vdpa0",
				  "path=/nonexistent/vhost-vdpa-9");
	printf("hotplug_add: %d\n", ret);
	rte_eal_cleanup();
	/* -ENOENT from our probe; an unknown driver gives -ENOTSUP/-EINVAL. */
	return ret == -2 ? 0 : 1;
}

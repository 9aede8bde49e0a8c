/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Feature negotiation: what the driver acks decides the ring format and the
 * header layout on the wire, so a bit acked by mistake corrupts traffic
 * instead of failing loudly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vv_features.h"
#include "vv_log.h"

static char log_text[4096];
static unsigned int log_errors;

static void
capture(enum vv_log_level level, const char *msg)
{
	size_t used = strlen(log_text);

	snprintf(log_text + used, sizeof(log_text) - used, "%s\n", msg);
	if (level == VV_LOG_ERR)
		log_errors++;
}

static int
setup(void **state)
{
	(void)state;
	log_text[0] = '\0';
	log_errors = 0;
	vv_log_set_sink(capture);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	vv_log_set_sink(NULL);
	return 0;
}

/* A typical virtio-net vDPA device: much more than the driver handles. */
static const uint64_t typical_device =
	VV_BIT(VIRTIO_F_VERSION_1) | VV_BIT(VIRTIO_F_ACCESS_PLATFORM) |
	VV_BIT(VIRTIO_F_IN_ORDER) | VV_BIT(VIRTIO_F_RING_PACKED) |
	VV_BIT(VIRTIO_RING_F_EVENT_IDX) | VV_BIT(VIRTIO_RING_F_INDIRECT_DESC) |
	VV_BIT(VIRTIO_NET_F_MRG_RXBUF) | VV_BIT(VIRTIO_NET_F_MAC) |
	VV_BIT(VIRTIO_NET_F_STATUS) | VV_BIT(VIRTIO_NET_F_MTU) |
	VV_BIT(VIRTIO_NET_F_CTRL_VQ) | VV_BIT(VIRTIO_NET_F_MQ) |
	VV_BIT(VIRTIO_NET_F_CSUM) | VV_BIT(VIRTIO_NET_F_GUEST_CSUM) |
	VV_BIT(VIRTIO_NET_F_HOST_TSO4) | VV_BIT(VIRTIO_NET_F_GUEST_TSO4);

static const struct vv_feature_wish wish_all = {
	.mrg_rxbuf = true, .in_order = true,
};

static void
test_version_1_required(void **state)
{
	uint64_t driver = 0x1234;

	(void)state;
	assert_int_equal(vv_features_negotiate(typical_device &
					       ~VV_BIT(VIRTIO_F_VERSION_1),
					       &wish_all, &driver), -ENOTSUP);
	/* The result is only written on success. */
	assert_int_equal(driver, 0x1234);
	assert_true(log_errors > 0);
	assert_non_null(strstr(log_text, "VERSION_1"));
	assert_non_null(strstr(log_text, "legacy"));
}

static void
test_packed_vq(void **state)
{
	struct vv_feature_wish w = wish_all;
	uint64_t driver = 0x1234;

	(void)state;
	/* Asked for, and the device lacks it: refused, naming the fix. */
	w.packed_vq = true;
	assert_int_equal(vv_features_negotiate(typical_device &
					       ~VV_BIT(VIRTIO_F_RING_PACKED),
					       &w, &driver), -ENOTSUP);
	assert_int_equal(driver, 0x1234);
	assert_non_null(strstr(log_text, "VIRTIO_F_RING_PACKED"));
	assert_non_null(strstr(log_text, "packed_vq=0"));
	/* Asked for and offered: taken. */
	assert_int_equal(vv_features_negotiate(typical_device |
					       VV_BIT(VIRTIO_F_RING_PACKED),
					       &w, &driver), 0);
	assert_true(driver & VV_BIT(VIRTIO_F_RING_PACKED));
	/* Offered but not asked for: split rings, as net_virtio_user. */
	w.packed_vq = false;
	assert_int_equal(vv_features_negotiate(typical_device |
					       VV_BIT(VIRTIO_F_RING_PACKED),
					       &w, &driver), 0);
	assert_false(driver & VV_BIT(VIRTIO_F_RING_PACKED));
}

static void
test_mq_refused(void **state)
{
	struct vv_feature_wish w = wish_all;
	uint64_t driver = 0x1234;

	(void)state;
	w.mq = true;
	assert_int_equal(vv_features_negotiate(typical_device, &w, &driver),
			 -ENOTSUP);
	assert_int_equal(driver, 0x1234);
	assert_non_null(strstr(log_text, "queues=1"));
}

/* vhost-user: the queue count is what the driver enables, no cvq needed. */
static void
test_mq_by_enable(void **state)
{
	struct vv_feature_wish w = wish_all;
	uint64_t driver = 0;

	(void)state;
	w.mq = true;
	w.mq_by_enable = true;
	assert_int_equal(vv_features_negotiate(typical_device |
					       VV_BIT(VIRTIO_NET_F_MQ) |
					       VV_BIT(VIRTIO_NET_F_CTRL_VQ),
					       &w, &driver), 0);
	assert_true(driver & VV_BIT(VIRTIO_NET_F_MQ));
	assert_false(driver & VV_BIT(VIRTIO_NET_F_CTRL_VQ));

	/* Without a wish for it, MQ stays off even where offered. */
	w.mq = false;
	assert_int_equal(vv_features_negotiate(typical_device |
					       VV_BIT(VIRTIO_NET_F_MQ),
					       &w, &driver), 0);
	assert_false(driver & VV_BIT(VIRTIO_NET_F_MQ));

	/* A device without MQ cannot run several pairs. */
	w.mq = true;
	driver = 0x1234;
	assert_int_equal(vv_features_negotiate(typical_device &
					       ~VV_BIT(VIRTIO_NET_F_MQ),
					       &w, &driver), -ENOTSUP);
	assert_int_equal(driver, 0x1234);
	assert_non_null(strstr(log_text, "VIRTIO_NET_F_MQ"));
}

static void
test_typical_device(void **state)
{
	uint64_t driver = 0;

	(void)state;
	assert_int_equal(vv_features_negotiate(typical_device, &wish_all,
					       &driver), 0);
	assert_int_equal(driver,
			 VV_BIT(VIRTIO_F_VERSION_1) |
			 VV_BIT(VIRTIO_F_ACCESS_PLATFORM) |
			 VV_BIT(VIRTIO_F_IN_ORDER) |
			 VV_BIT(VIRTIO_RING_F_EVENT_IDX) |
			 VV_BIT(VIRTIO_NET_F_MRG_RXBUF) |
			 VV_BIT(VIRTIO_NET_F_MAC) | VV_BIT(VIRTIO_NET_F_STATUS) |
			 VV_BIT(VIRTIO_NET_F_MTU) |
			 VV_BIT(VIRTIO_NET_F_CSUM) |
			 VV_BIT(VIRTIO_NET_F_GUEST_CSUM) |
			 VV_BIT(VIRTIO_NET_F_HOST_TSO4) |
			 VV_BIT(VIRTIO_NET_F_GUEST_TSO4));
	assert_int_equal(log_errors, 0);
}

/*
 * The spec's dependencies: a segmentation feature without its checksum
 * feature fails FEATURES_OK on a strict device, and GUEST_TSO frames of
 * 64 KiB need mergeable buffers here.
 */
static void
test_offload_dependencies(void **state)
{
	const uint64_t tso = VV_BIT(VIRTIO_NET_F_HOST_TSO4) |
		VV_BIT(VIRTIO_NET_F_HOST_TSO6) |
		VV_BIT(VIRTIO_NET_F_GUEST_TSO4) |
		VV_BIT(VIRTIO_NET_F_GUEST_TSO6);
	const uint64_t all = VV_BIT(VIRTIO_F_VERSION_1) |
		VV_BIT(VIRTIO_NET_F_MRG_RXBUF) | VV_OFFLOAD_FEATURES;
	struct vv_feature_wish w = wish_all;
	uint64_t driver = 0;

	(void)state;
	assert_int_equal(vv_features_negotiate(all, &w, &driver), 0);
	assert_int_equal(driver, all);
	assert_int_equal(vv_features_negotiate(all & ~VV_BIT(VIRTIO_NET_F_CSUM),
					       &w, &driver), 0);
	assert_int_equal(driver & (VV_BIT(VIRTIO_NET_F_CSUM) | tso),
			 VV_BIT(VIRTIO_NET_F_GUEST_TSO4) |
			 VV_BIT(VIRTIO_NET_F_GUEST_TSO6));
	assert_int_equal(vv_features_negotiate(all &
					       ~VV_BIT(VIRTIO_NET_F_GUEST_CSUM),
					       &w, &driver), 0);
	assert_int_equal(driver & (VV_BIT(VIRTIO_NET_F_GUEST_CSUM) | tso),
			 VV_BIT(VIRTIO_NET_F_HOST_TSO4) |
			 VV_BIT(VIRTIO_NET_F_HOST_TSO6));
	w.mrg_rxbuf = false;
	assert_int_equal(vv_features_negotiate(all, &w, &driver), 0);
	assert_int_equal(driver & tso, VV_BIT(VIRTIO_NET_F_HOST_TSO4) |
			 VV_BIT(VIRTIO_NET_F_HOST_TSO6));
	assert_true(driver & VV_BIT(VIRTIO_NET_F_GUEST_CSUM));
	assert_int_equal(log_errors, 0);
}

/*
 * EVENT_IDX is taken whenever offered, whatever the devargs: it only
 * changes how notifications are suppressed, never the frames.
 */
static void
test_event_idx_when_offered(void **state)
{
	static const struct vv_feature_wish wishes[] = {
		{ 0 },
		{ .mrg_rxbuf = true, .in_order = true },
		{ .in_order = true, .ctrl_vq = true },
	};
	uint64_t driver = 0;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(wishes) / sizeof(wishes[0]); i++) {
		assert_int_equal(vv_features_negotiate(typical_device,
						       &wishes[i], &driver), 0);
		assert_true(driver & VV_BIT(VIRTIO_RING_F_EVENT_IDX));
		assert_int_equal(vv_features_negotiate(typical_device &
						       ~VV_BIT(VIRTIO_RING_F_EVENT_IDX),
						       &wishes[i], &driver), 0);
		assert_false(driver & VV_BIT(VIRTIO_RING_F_EVENT_IDX));
	}
	assert_int_equal(vv_features_negotiate(VV_BIT(VIRTIO_F_VERSION_1) |
					       VV_BIT(VIRTIO_RING_F_EVENT_IDX),
					       &wish_all, &driver), 0);
	assert_int_equal(driver, VV_BIT(VIRTIO_F_VERSION_1) |
			 VV_BIT(VIRTIO_RING_F_EVENT_IDX));
	assert_true(vv_features_supported() & VV_BIT(VIRTIO_RING_F_EVENT_IDX));
	assert_string_equal(vv_feature_name(VIRTIO_RING_F_EVENT_IDX),
			    "EVENT_IDX");
	assert_int_equal(log_errors, 0);
}

static void
test_wishes_off_strip_bits(void **state)
{
	struct vv_feature_wish w = wish_all;
	uint64_t driver = 0;

	(void)state;
	w.mrg_rxbuf = false;
	assert_int_equal(vv_features_negotiate(typical_device, &w, &driver),
			 0);
	assert_int_equal(driver & VV_BIT(VIRTIO_NET_F_MRG_RXBUF), 0);
	assert_true(driver & VV_BIT(VIRTIO_F_IN_ORDER));

	w = wish_all;
	w.in_order = false;
	assert_int_equal(vv_features_negotiate(typical_device, &w, &driver),
			 0);
	assert_int_equal(driver & VV_BIT(VIRTIO_F_IN_ORDER), 0);
	assert_true(driver & VV_BIT(VIRTIO_NET_F_MRG_RXBUF));

	w.mrg_rxbuf = false;
	assert_int_equal(vv_features_negotiate(typical_device, &w, &driver),
			 0);
	assert_int_equal(driver & (VV_BIT(VIRTIO_F_IN_ORDER) |
				   VV_BIT(VIRTIO_NET_F_MRG_RXBUF)), 0);
	assert_true(driver & VV_BIT(VIRTIO_F_VERSION_1));
}

static void
test_wish_without_device_support(void **state)
{
	uint64_t device = VV_BIT(VIRTIO_F_VERSION_1);
	uint64_t driver = 0;

	(void)state;
	/* Wishing for what the device lacks is not an error, just absent. */
	assert_int_equal(vv_features_negotiate(device, &wish_all, &driver), 0);
	assert_int_equal(driver, VV_BIT(VIRTIO_F_VERSION_1));
	assert_int_equal(log_errors, 0);
	/* The missing MRG_RXBUF limits frame size: worth telling. */
	assert_non_null(strstr(log_text, "MRG_RXBUF"));
}

static void
test_unsupported_bits_never_acked(void **state)
{
	static const unsigned int never[] = {
		VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, VIRTIO_NET_F_GSO,
		VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_UFO,
		VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_UFO,
		VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_CTRL_RX,
		VIRTIO_NET_F_CTRL_VLAN, VIRTIO_NET_F_GUEST_ANNOUNCE,
		VIRTIO_NET_F_MQ, VIRTIO_NET_F_CTRL_MAC_ADDR,
		VIRTIO_F_NOTIFY_ON_EMPTY, VIRTIO_RING_F_INDIRECT_DESC,
		VIRTIO_F_ORDER_PLATFORM, VIRTIO_F_SR_IOV, 38 /* NOTIF_DATA */,
		VIRTIO_NET_F_RSS, VIRTIO_NET_F_HASH_REPORT,
	};
	uint64_t driver = 0;
	unsigned int i;

	(void)state;
	/* A device offering every bit gets back exactly what we implement. */
	assert_int_equal(vv_features_negotiate(UINT64_MAX, &wish_all, &driver),
			 0);
	/* RING_PACKED only on request (packed_vq=1). */
	assert_int_equal(driver, vv_features_supported() &
			 ~VV_BIT(VIRTIO_F_RING_PACKED));
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		assert_int_equal(driver & VV_BIT(never[i]), 0);
	/* And whatever the supported set: never a bit the device lacks. */
	for (i = 0; i < 64; i++) {
		uint64_t device = VV_BIT(VIRTIO_F_VERSION_1) | VV_BIT(i);

		assert_int_equal(vv_features_negotiate(device, &wish_all,
						       &driver), 0);
		assert_int_equal(driver & ~device, 0);
	}
}

static void
test_access_platform_kept(void **state)
{
	uint64_t device = VV_BIT(VIRTIO_F_VERSION_1) |
		VV_BIT(VIRTIO_F_ACCESS_PLATFORM);
	struct vv_feature_wish w = { 0 };
	uint64_t driver = 0;

	(void)state;
	/* A device behind an IOMMU fails FEATURES_OK if this is dropped. */
	assert_int_equal(vv_features_negotiate(device, &w, &driver), 0);
	assert_int_equal(driver, device);
	assert_int_equal(vv_features_negotiate(device, &wish_all, &driver), 0);
	assert_int_equal(driver, device);
}

static void
test_net_hdr_size(void **state)
{
	(void)state;
	/* virtio 1.x: num_buffers is always there, 12 bytes. */
	assert_int_equal(vv_net_hdr_size(VV_BIT(VIRTIO_F_VERSION_1)), 12);
	assert_int_equal(vv_net_hdr_size(VV_BIT(VIRTIO_F_VERSION_1) |
					 VV_BIT(VIRTIO_NET_F_MRG_RXBUF)), 12);
	/* Legacy layout, for completeness. */
	assert_int_equal(vv_net_hdr_size(VV_BIT(VIRTIO_NET_F_MRG_RXBUF)), 12);
	assert_int_equal(vv_net_hdr_size(0), 10);
	assert_int_equal(vv_net_hdr_size(VV_BIT(VIRTIO_F_VERSION_1) |
					 VV_BIT(VIRTIO_NET_F_HASH_REPORT)), 20);
	assert_int_equal(vv_net_hdr_size(VV_BIT(VIRTIO_NET_F_MAC)), 10);
}

static void
test_feature_name(void **state)
{
	(void)state;
	assert_string_equal(vv_feature_name(VIRTIO_NET_F_MAC), "MAC");
	assert_string_equal(vv_feature_name(VIRTIO_F_VERSION_1), "VERSION_1");
	assert_string_equal(vv_feature_name(63), "SPEED_DUPLEX");
	assert_null(vv_feature_name(40));
	assert_null(vv_feature_name(64));
	assert_null(vv_feature_name(~0u));
}

static void
test_format(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(vv_features_format(0, buf, sizeof(buf)), "");
	assert_string_equal(vv_features_format(VV_BIT(VIRTIO_NET_F_MAC),
					       buf, sizeof(buf)), "MAC");
	/* Ascending bit order; unnamed bits by number. */
	assert_string_equal(vv_features_format(VV_BIT(VIRTIO_F_VERSION_1) |
					       VV_BIT(VIRTIO_NET_F_MAC) |
					       VV_BIT(40), buf, sizeof(buf)),
			    "MAC|VERSION_1|bit40");
	assert_ptr_equal(vv_features_format(1, buf, sizeof(buf)), buf);
}

/*
 * Every buffer length, up to and past the full text: the output is always
 * a terminated prefix of the full text and nothing past len is touched.
 */
static void
test_format_truncation(void **state)
{
	static const uint64_t sets[] = {
		UINT64_MAX, VV_BIT(VIRTIO_F_VERSION_1) | VV_BIT(40) | VV_BIT(0),
		VV_BIT(39) | VV_BIT(41) | VV_BIT(42),
	};
	char full[2048], buf[2048 + 16];
	unsigned int s;

	(void)state;
	for (s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		size_t flen, len, i;

		vv_features_format(sets[s], full, sizeof(full));
		flen = strlen(full);
		assert_true(flen > 0 && flen < sizeof(full) - 1);
		for (len = 0; len <= flen + 2; len++) {
			memset(buf, 'X', sizeof(buf));
			assert_ptr_equal(vv_features_format(sets[s], buf, len),
					 buf);
			if (len == 0) {
				assert_int_equal(buf[0], 'X');
				continue;
			}
			assert_true(strlen(buf) < len);
			assert_memory_equal(buf, full, strlen(buf));
			/* As much as fits: no shortcut at a separator. */
			assert_int_equal(strlen(buf),
					 len - 1 < flen ? len - 1 : flen);
			/* Nothing written past len, however far. */
			for (i = len; i < sizeof(buf); i++)
				assert_int_equal(buf[i], 'X');
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_offload_dependencies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_version_1_required, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_packed_vq, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mq_by_enable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mq_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_typical_device, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_when_offered,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_wishes_off_strip_bits,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_wish_without_device_support,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_bits_never_acked,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_platform_kept,
						setup, teardown),
		cmocka_unit_test(test_net_hdr_size),
		cmocka_unit_test(test_feature_name),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

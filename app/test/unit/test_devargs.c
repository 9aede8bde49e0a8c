/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vdev argument parser. A user sees only the log line when a port does
 * not come up, so every refusal is checked for naming the key at fault.
 * rte_kvargs, rte_ether and rte_log work without EAL init; the log stream
 * is pointed at a memory buffer to read the messages back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_log.h>

#include "virtio_vdpa_devargs.h"

/* Defined by the ethdev glue, which is not linked here. */
int virtio_vdpa_logtype_init;

static FILE *log_stream;
static char *log_buf;
static size_t log_size;

static int
setup(void **state)
{
	(void)state;
	log_stream = open_memstream(&log_buf, &log_size);
	assert_non_null(log_stream);
	assert_int_equal(rte_openlog_stream(log_stream), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rte_openlog_stream(NULL);
	fclose(log_stream);
	free(log_buf);
	log_buf = NULL;
	return 0;
}

/* Empties the captured log. */
static void
log_clear(void)
{
	fflush(log_stream);
	rewind(log_stream);
	fflush(log_stream);
	if (log_size > 0)
		log_buf[0] = '\0';
}

static const char *
log_text(void)
{
	fflush(log_stream);
	return log_size > 0 ? log_buf : "";
}

static int
parse(const char *args, struct virtio_vdpa_devargs *a)
{
	log_clear();
	return virtio_vdpa_devargs_parse(args, a);
}

#define assert_logged(needle) do { \
	if (strstr(log_text(), needle) == NULL) \
		fail_msg("log lacks \"%s\"; log:\n%s", needle, log_text()); \
} while (0)

static void
test_defaults(void **state)
{
	struct virtio_vdpa_devargs a;

	(void)state;
	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(parse("path=/dev/vhost-vdpa-0", &a), 0);
	assert_string_equal(a.path, "/dev/vhost-vdpa-0");
	assert_int_equal(a.queues, 1);
	assert_int_equal(a.queue_size, 256);
	assert_true(a.mrg_rxbuf);
	assert_true(a.in_order);
	assert_false(a.packed_vq);
	assert_int_equal(a.speed, 0);
	assert_false(a.mac_set);
	assert_false(a.server);
	/* A clean parse says nothing. */
	assert_string_equal(log_text(), "");
}

static void
test_every_key(void **state)
{
	struct virtio_vdpa_devargs a;

	(void)state;
	assert_int_equal(parse("path=/dev/vhost-vdpa-3,queues=16,queue_size=4096,"
			       "mac=02:11:22:aa:BB:cc,mrg_rxbuf=0,in_order=0,"
			       "packed_vq=0,speed=25000,server=1", &a), 0);
	assert_string_equal(a.path, "/dev/vhost-vdpa-3");
	assert_int_equal(a.queues, 16);
	assert_int_equal(a.queue_size, 4096);
	assert_true(a.mac_set);
	assert_int_equal(a.mac.addr_bytes[0], 0x02);
	assert_int_equal(a.mac.addr_bytes[3], 0xaa);
	assert_int_equal(a.mac.addr_bytes[4], 0xbb);
	assert_int_equal(a.mac.addr_bytes[5], 0xcc);
	assert_false(a.mrg_rxbuf);
	assert_false(a.in_order);
	assert_false(a.packed_vq);
	assert_int_equal(a.speed, 25000);
	assert_true(a.server);

	/* Order does not matter; booleans flip. */
	assert_int_equal(parse("mrg_rxbuf=1,in_order=1,server=0,path=/x", &a),
			 0);
	assert_true(a.mrg_rxbuf);
	assert_true(a.in_order);
	assert_false(a.server);
	assert_string_equal(a.path, "/x");
}

static void
test_boundaries_and_forms(void **state)
{
	static const uint32_t speeds[] = {
		10, 100, 1000, 2500, 5000, 10000, 20000, 25000, 40000, 50000,
		56000, 100000, 200000,
	};
	struct virtio_vdpa_devargs a;
	char args[128];
	unsigned int i;

	(void)state;
	assert_int_equal(parse("path=/x,queues=1,queue_size=64", &a), 0);
	assert_int_equal(a.queues, 1);
	assert_int_equal(a.queue_size, 64);
	assert_int_equal(parse("path=/x,queue_size=32768", &a), 0);
	assert_int_equal(a.queue_size, 32768);
	/* Decimal only: a leading zero must not turn 010 into octal 8. */
	assert_int_equal(parse("path=/x,queues=010", &a), 0);
	assert_int_equal(a.queues, 10);
	assert_int_equal(parse("path=/x,queues=0x10", &a), -EINVAL);
	/* The 16-bit MAC form rte_ether also accepts. */
	assert_int_equal(parse("path=/x,mac=0211:2233:4455", &a), 0);
	assert_int_equal(a.mac.addr_bytes[0], 0x02);
	assert_int_equal(a.mac.addr_bytes[5], 0x55);
	for (i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++) {
		snprintf(args, sizeof(args), "path=/x,speed=%u", speeds[i]);
		assert_int_equal(parse(args, &a), 0);
		assert_int_equal(a.speed, speeds[i]);
	}
	/* A path just short of the limit. */
	{
		char path[VV_PATH_MAX - 1 + 6];

		strcpy(path, "path=");
		memset(path + 5, 'p', VV_PATH_MAX - 1);
		path[5 + VV_PATH_MAX - 1] = '\0';
		assert_int_equal(parse(path, &a), 0);
		assert_int_equal(strlen(a.path), VV_PATH_MAX - 1);
	}
}

static void
test_bad_values(void **state)
{
	static const struct {
		const char *args;
		const char *key;
	} bad[] = {
		{ "queues=0", "queues" },
		{ "queues=17", "queues" },
		{ "queues=abc", "queues" },
		{ "queues=1x", "queues" },
		{ "queues=2 ", "queues" },
		{ "queues= 2", "queues" },
		{ "queues=-1", "queues" },
		{ "queues=+1", "queues" },
		{ "queues=1.0", "queues" },
		{ "queues=99999999999999999999999", "queues" },
		{ "queues=4294967297", "queues" },	/* 2^32 + 1 */
		{ "queues=0x", "queues" },
		{ "queue_size=0", "queue_size" },
		{ "queue_size=32", "queue_size" },
		{ "queue_size=100", "queue_size" },
		{ "queue_size=65536", "queue_size" },
		{ "queue_size=256k", "queue_size" },
		{ "queue_size=-256", "queue_size" },
		{ "queue_size=18446744073709551872", "queue_size" },
		{ "mrg_rxbuf=2", "mrg_rxbuf" },
		{ "mrg_rxbuf=yes", "mrg_rxbuf" },
		{ "mrg_rxbuf=true", "mrg_rxbuf" },
		{ "mrg_rxbuf=00", "mrg_rxbuf" },
		{ "in_order=-1", "in_order" },
		{ "in_order=1 ", "in_order" },
		{ "packed_vq=x", "packed_vq" },
		{ "server=2", "server" },
		{ "server=on", "server" },
		{ "speed=0", "speed" },
		{ "speed=1234", "speed" },
		{ "speed=10G", "speed" },
		{ "speed=-10", "speed" },
		{ "speed=4294977296", "speed" },	/* 2^32 + 10000 */
		{ "mac=zz:11:22:33:44:55", "mac" },
		{ "mac=02:11:22:33:44", "mac" },
		{ "mac=02:11:22:33:44:55:66", "mac" },
		{ "mac=02-11-22-33-44-55", "mac" },
		{ "mac=01:00:5e:00:00:01", "mac" },	/* multicast */
		{ "mac=ff:ff:ff:ff:ff:ff", "mac" },	/* broadcast */
		{ "mac=00:00:00:00:00:00", "mac" },
	};
	struct virtio_vdpa_devargs a;
	char args[256], want[64];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(args, sizeof(args), "path=/x,%s", bad[i].args);
		if (parse(args, &a) != -EINVAL)
			fail_msg("\"%s\" was accepted", args);
		/* The message quotes key=value as given. */
		snprintf(want, sizeof(want), "invalid %s", bad[i].args);
		assert_logged(want);
	}
}

static void
test_path_too_long(void **state)
{
	char args[VV_PATH_MAX + 16];
	struct virtio_vdpa_devargs a;

	(void)state;
	strcpy(args, "path=");
	memset(args + 5, 'p', VV_PATH_MAX);
	args[5 + VV_PATH_MAX] = '\0';
	assert_int_equal(parse(args, &a), -EINVAL);
	assert_logged("invalid path=");
	assert_logged("shorter than 256");
}

static void
test_unknown_key(void **state)
{
	struct virtio_vdpa_devargs a;

	(void)state;
	assert_int_equal(parse("path=/x,queue=2", &a), -EINVAL);
	assert_logged("unknown argument 'queue'");
	/* And the list to pick from. */
	assert_logged("queues=<1-16>");
	assert_int_equal(parse("path=/x,iface=foo", &a), -EINVAL);
	assert_logged("'iface'");
	/* Keys are case sensitive, as everywhere in DPDK. */
	assert_int_equal(parse("PATH=/x", &a), -EINVAL);
	assert_logged("'PATH'");
}

static void
test_key_without_value(void **state)
{
	static const char *const cases[][2] = {
		{ "path", "path" },
		{ "path=", "path" },
		{ "path=/x,queues", "queues" },
		{ "path=/x,queues=", "queues" },
		{ "path=/x,mac=", "mac" },
		{ "speed,path=/x", "speed" },
		{ "path=/x,server", "server" },
	};
	struct virtio_vdpa_devargs a;
	char want[64];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i][0], &a) != -EINVAL)
			fail_msg("\"%s\" was accepted", cases[i][0]);
		snprintf(want, sizeof(want), "%s is given without a value",
			 cases[i][1]);
		assert_logged(want);
	}
}

static void
test_duplicate_key(void **state)
{
	struct virtio_vdpa_devargs a;

	(void)state;
	assert_int_equal(parse("path=/x,queues=1,queues=2", &a), -EINVAL);
	assert_logged("queues is given more than once");
	assert_int_equal(parse("path=/x,path=/y", &a), -EINVAL);
	assert_logged("path is given more than once");
	/* Even with the same value: one of them is a typo. */
	assert_int_equal(parse("path=/x,speed=10,speed=10", &a), -EINVAL);
	assert_logged("speed is given more than once");
}

static void
test_missing_path(void **state)
{
	struct virtio_vdpa_devargs a;

	(void)state;
	assert_int_equal(parse(NULL, &a), -EINVAL);
	assert_logged("missing path=");
	assert_int_equal(parse("", &a), -EINVAL);
	assert_logged("missing path=");
	assert_int_equal(parse("queues=1,queue_size=512", &a), -EINVAL);
	assert_logged("missing path=");
	/* Empty pairs are skipped, not taken for a path. */
	assert_int_equal(parse(",,", &a), -EINVAL);
	assert_logged("missing path=");
}

static void
test_packed_vq(void **state)
{
	struct virtio_vdpa_devargs a;

	(void)state;
	assert_int_equal(parse("path=/x,packed_vq=1", &a), 0);
	assert_true(a.packed_vq);
	assert_int_equal(parse("path=/x,packed_vq=0", &a), 0);
	assert_false(a.packed_vq);
}

static void
test_too_many_pairs(void **state)
{
	struct virtio_vdpa_devargs a;
	char args[512] = "path=/x";
	int i;

	(void)state;
	/* Beyond what rte_kvargs holds: a parse error, not a crash. */
	for (i = 0; i < 40; i++)
		strcat(args, ",a=1");
	assert_int_equal(parse(args, &a), -EINVAL);
	assert_logged("cannot parse arguments");
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_every_key),
		T(test_boundaries_and_forms),
		T(test_bad_values),
		T(test_path_too_long),
		T(test_unknown_key),
		T(test_key_without_value),
		T(test_duplicate_key),
		T(test_missing_path),
		T(test_packed_vq),
		T(test_too_many_pairs),
	};
#undef T

	/* Every level through, to a type of our own. */
	virtio_vdpa_logtype_init = rte_log_register_type_and_pick_level(
		"pmd.net.virtio_vdpa.init", RTE_LOG_DEBUG);
	if (virtio_vdpa_logtype_init < 0)
		return 1;
	rte_log_set_level(virtio_vdpa_logtype_init, RTE_LOG_DEBUG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

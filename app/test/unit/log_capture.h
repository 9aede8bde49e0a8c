/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_TEST_LOG_CAPTURE_H
#define VV_TEST_LOG_CAPTURE_H

/*
 * What the core logs, kept for the unit tests to check: each line is
 * "LEVEL:message". Point vv_log_set_sink() at capture(). Include after
 * cmocka.h; every test program has its own copy.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vv_log.h"

static char log_text[1 << 16];
static size_t log_len;
static unsigned int log_errors;

static void
capture(enum vv_log_level level, const char *msg)
{
	int n;

	if (level == VV_LOG_ERR)
		log_errors++;
	/* A polling loop logs thousands of debug lines; keep room for errors. */
	if (level == VV_LOG_DEBUG && log_len > sizeof(log_text) / 2)
		return;
	n = snprintf(log_text + log_len, sizeof(log_text) - log_len,
		     "%d:%s\n", (int)level, msg);
	if (n > 0)
		log_len += (size_t)n;
	if (log_len >= sizeof(log_text))
		log_len = sizeof(log_text) - 1;
}

static void
log_reset(void)
{
	log_text[0] = '\0';
	log_len = 0;
	log_errors = 0;
}

/* A line of the given level containing needle. */
static bool
log_has(enum vv_log_level level, const char *needle)
{
	char prefix[8];
	const char *p = log_text;

	snprintf(prefix, sizeof(prefix), "%d:", (int)level);
	while ((p = strstr(p, prefix)) != NULL) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char line[1024];

		if (p == log_text || p[-1] == '\n') {
			snprintf(line, sizeof(line), "%.*s", (int)n, p);
			if (strstr(line, needle) != NULL)
				return true;
		}
		p += 2;
	}
	return false;
}

#define assert_logged_at(level, what, needle) do { \
	if (!log_has(level, needle)) \
		fail_msg("no %s logged with \"%s\"; log:\n%s", what, needle, \
			 log_text); \
} while (0)
#define assert_logged(needle) assert_logged_at(VV_LOG_ERR, "error", needle)
#define assert_not_logged(needle) do { \
	if (log_has(VV_LOG_ERR, needle)) \
		fail_msg("an error with \"%s\" was logged; log:\n%s", needle, \
			 log_text); \
} while (0)
#define assert_warned(needle) \
	assert_logged_at(VV_LOG_WARNING, "warning", needle)

#endif

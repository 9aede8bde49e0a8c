/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>

#include "vv_log.h"

static void
vv_log_stderr(enum vv_log_level level, const char *msg)
{
	if (level <= VV_LOG_WARNING)
		fprintf(stderr, "virtio_vdpa: %s\n", msg);
}

static vv_log_sink_t vv_log_sink = vv_log_stderr;

void
vv_log_set_sink(vv_log_sink_t sink)
{
	vv_log_sink = sink != NULL ? sink : vv_log_stderr;
}

void
vv_log(enum vv_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vv_log_sink(level, msg);
}

/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_LOG_H
#define VV_LOG_H

/*
 * The core has no DPDK dependency, so it reports through a sink that the
 * ethdev glue points at rte_log (and unit tests at a capture buffer).
 */
enum vv_log_level {
	VV_LOG_ERR = 1,
	VV_LOG_WARNING,
	VV_LOG_INFO,
	VV_LOG_DEBUG,
};

typedef void (*vv_log_sink_t)(enum vv_log_level level, const char *msg);

/* NULL restores the default sink (stderr, errors and warnings only). */
void vv_log_set_sink(vv_log_sink_t sink);

void vv_log(enum vv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define VV_ERR(...) vv_log(VV_LOG_ERR, __VA_ARGS__)
#define VV_WARN(...) vv_log(VV_LOG_WARNING, __VA_ARGS__)
#define VV_INFO(...) vv_log(VV_LOG_INFO, __VA_ARGS__)
#define VV_DEBUG(...) vv_log(VV_LOG_DEBUG, __VA_ARGS__)

#endif

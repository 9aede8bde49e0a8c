/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_SYS_H
#define VV_SYS_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * Every system call of the control path goes through this table so unit
 * tests can make any single one fail and check the error path it takes.
 */
struct vv_sys_ops {
	int (*open)(const char *path, int flags);
	int (*close)(int fd);
	int (*ioctl)(int fd, unsigned long request, void *arg);
	ssize_t (*write)(int fd, const void *buf, size_t len);
	int (*stat)(const char *path, struct stat *st);
	int (*eventfd)(unsigned int initval, int flags);
};

extern const struct vv_sys_ops *vv_sys;

/* NULL restores the libc implementation. */
void vv_sys_set_ops(const struct vv_sys_ops *ops);

extern const struct vv_sys_ops vv_sys_libc;

#endif

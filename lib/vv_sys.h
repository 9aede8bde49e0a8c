/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VV_SYS_H
#define VV_SYS_H

#include <stddef.h>
#include <sys/socket.h>
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
	ssize_t (*read)(int fd, void *buf, size_t len);
	ssize_t (*write)(int fd, const void *buf, size_t len);
	int (*stat)(const char *path, struct stat *st);
	int (*eventfd)(unsigned int initval, int flags);
	/* A vring's doorbell page, mapped from the vhost-vdpa fd. */
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off);
	int (*munmap)(void *addr, size_t len);
	/* The vhost-user backend's socket calls. */
	int (*socket)(int domain, int type, int protocol);
	int (*connect)(int fd, const struct sockaddr *addr, socklen_t len);
	int (*setsockopt)(int fd, int level, int name, const void *val,
			  socklen_t len);
	ssize_t (*sendmsg)(int fd, const struct msghdr *msg, int flags);
	ssize_t (*recvmsg)(int fd, struct msghdr *msg, int flags);
	int (*bind)(int fd, const struct sockaddr *addr, socklen_t len);
	int (*listen)(int fd, int backlog);
	int (*accept4)(int fd, struct sockaddr *addr, socklen_t *len,
		       int flags);
	int (*unlink)(const char *path);
};

extern const struct vv_sys_ops *vv_sys;

/* Monotonic time for the control path's deadlines. */
uint64_t vv_now_us(void);

static inline uint64_t
vv_now_ms(void)
{
	return vv_now_us() / 1000;
}

/* NULL restores the libc implementation. */
void vv_sys_set_ops(const struct vv_sys_ops *ops);

extern const struct vv_sys_ops vv_sys_libc;

#endif

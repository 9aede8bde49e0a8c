/* SPDX-License-Identifier: BSD-3-Clause */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vv_sys.h"

static int
libc_open(const char *path, int flags)
{
	return open(path, flags);
}

static int
libc_ioctl(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg);
}

static int
libc_eventfd(unsigned int initval, int flags)
{
	return eventfd(initval, flags);
}

const struct vv_sys_ops vv_sys_libc = {
	.open = libc_open,
	.close = close,
	.ioctl = libc_ioctl,
	.read = read,
	.write = write,
	.mmap = mmap,
	.munmap = munmap,
	.stat = stat,
	.eventfd = libc_eventfd,
	.socket = socket,
	.connect = connect,
	.setsockopt = setsockopt,
	.sendmsg = sendmsg,
	.recvmsg = recvmsg,
	.bind = bind,
	.listen = listen,
	.accept4 = accept4,
	.unlink = unlink,
};

const struct vv_sys_ops *vv_sys = &vv_sys_libc;

void
vv_sys_set_ops(const struct vv_sys_ops *ops)
{
	vv_sys = ops != NULL ? ops : &vv_sys_libc;
}

uint64_t
vv_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

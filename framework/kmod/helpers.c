// SPDX-License-Identifier: GPL-2.0
/*
 * Host services for the Cervus engine that need C: inline kernel functions
 * and the file-position logic of write(2). Called from the engine on its
 * private stack, in the context of the task that called into the engine.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/uio.h>

ssize_t cervus_host_stdio_write(unsigned int fd, const void *buf, size_t len);
void cervus_host_yield(void);

/*
 * Write to the calling process's standard stream @fd (0..2), as write(2)
 * would: same file, same position, same checks. vfs_iter_write() rather
 * than kernel_write(), which refuses files whose driver has both ->write and
 * ->write_iter (/dev/null, for one). Files without ->write_iter get -EINVAL.
 */
ssize_t cervus_host_stdio_write(unsigned int fd, const void *buf, size_t len)
{
	struct kvec kvec = { .iov_base = (void *)buf, .iov_len = min_t(size_t, len, MAX_RW_COUNT) };
	struct iov_iter iter;
	struct file *file;
	bool lock_pos;
	loff_t pos;
	ssize_t ret;

	if (fd > 2)
		return -EBADF;
	file = fget(fd);
	if (!file)
		return -EBADF;
	iov_iter_kvec(&iter, ITER_SOURCE, &kvec, 1, kvec.iov_len);
	if (file->f_mode & FMODE_STREAM) {
		ret = vfs_iter_write(file, &iter, NULL, 0);
	} else {
		lock_pos = file->f_mode & FMODE_ATOMIC_POS;
		if (lock_pos)
			mutex_lock(&file->f_pos_lock);
		pos = file->f_pos;
		ret = vfs_iter_write(file, &iter, &pos, 0);
		if (ret > 0)
			file->f_pos = pos;
		if (lock_pos)
			mutex_unlock(&file->f_pos_lock);
	}
	fput(file);
	return ret;
}

/* Let other tasks run between execution slices. */
void cervus_host_yield(void)
{
	cond_resched();
}

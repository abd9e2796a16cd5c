// SPDX-License-Identifier: GPL-2.0
/*
 * Host services for the Cervus engine that need C: inline kernel functions
 * and the file-position logic of write(2). Called from the engine on its
 * private stack, in the context of the task that called into the engine.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/sched.h>

ssize_t cervus_host_stdio_write(unsigned int fd, const void *buf, size_t len);
void cervus_host_yield(void);

/*
 * Write to the calling process's standard stream @fd (0..2), as write(2)
 * would: same file, same position, same permission checks.
 */
ssize_t cervus_host_stdio_write(unsigned int fd, const void *buf, size_t len)
{
	struct file *file;
	bool lock_pos;
	loff_t pos;
	ssize_t ret;

	if (fd > 2)
		return -EBADF;
	file = fget(fd);
	if (!file)
		return -EBADF;
	/* kernel_write() warns on a file not opened for writing. */
	if (!(file->f_mode & FMODE_WRITE)) {
		fput(file);
		return -EBADF;
	}
	if (file->f_mode & FMODE_STREAM) {
		ret = kernel_write(file, buf, len, NULL);
	} else {
		lock_pos = file->f_mode & FMODE_ATOMIC_POS;
		if (lock_pos)
			mutex_lock(&file->f_pos_lock);
		pos = file->f_pos;
		ret = kernel_write(file, buf, len, &pos);
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

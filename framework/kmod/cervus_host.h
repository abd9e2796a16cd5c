/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host services the Cervus engine calls, implemented in C (files.c,
 * helpers.c, jit.c). The engine declares the same functions in
 * framework/engine/src/host.rs; the layout constants below are mirrored in
 * framework/engine/src/call.rs (HOST_* constants) and must stay equal.
 *
 * Every file operation names the calling instance (@owner); handles of
 * other instances are refused with -EBADF.
 */
#ifndef CERVUS_HOST_H
#define CERVUS_HOST_H

#include <linux/types.h>

/* cervus_host_file_stat(): dev, ino, kind, nlink, size, atime, mtime, ctime. */
#define CERVUS_STAT_WORDS 8
/* cervus_host_file_read_dir(): next cookie, ino, kind, name length. */
#define CERVUS_DIRENT_WORDS 4
/* cervus_host_file_status() bits; the WASI file type is in bits 8-15. */
#define CERVUS_STATUS_READ 1
#define CERVUS_STATUS_WRITE 2
#define CERVUS_STATUS_APPEND 4
#define CERVUS_STATUS_NONBLOCK 8
#define CERVUS_STATUS_KIND_SHIFT 8

u64 cervus_host_file_stdio(u32 owner, unsigned int fd);
long cervus_host_file_open(u32 owner, const char *path, size_t len, int flags, u64 *handle);
long cervus_host_file_open_at(u32 owner, u64 dir, const char *path, size_t len, int flags, u32 mode, u64 *handle);
void cervus_host_file_close(u32 owner, u64 handle);
void cervus_host_files_release(u32 owner);
long cervus_host_file_read(u32 owner, u64 handle, void *buf, size_t len, u64 offset, bool at);
long cervus_host_file_write(u32 owner, u64 handle, const void *buf, size_t len, u64 offset, bool at);
long cervus_host_file_seek(u32 owner, u64 handle, s64 offset, int whence, u64 *pos);
long cervus_host_file_stat(u32 owner, u64 handle, u64 out[CERVUS_STAT_WORDS]);
long cervus_host_file_stat_at(u32 owner, u64 dir, const char *path, size_t len, bool follow,
			      u64 out[CERVUS_STAT_WORDS]);
long cervus_host_file_status(u32 owner, u64 handle, u32 *status);
long cervus_host_file_set_status(u32 owner, u64 handle, bool append, bool nonblock);
long cervus_host_file_read_dir(u32 owner, u64 dir, u64 cookie, u64 *entries, size_t max, u8 *names,
			       size_t names_cap, size_t *count);
long cervus_host_file_mkdir_at(u32 owner, u64 dir, const char *path, size_t len);
long cervus_host_file_rmdir_at(u32 owner, u64 dir, const char *path, size_t len);
long cervus_host_file_unlink_at(u32 owner, u64 dir, const char *path, size_t len);
long cervus_host_file_rename_at(u32 owner, u64 old_dir, const char *old_path, size_t old_len, u64 new_dir,
				const char *new_path, size_t new_len);
long cervus_host_file_symlink_at(u32 owner, const char *target, size_t target_len, u64 dir, const char *path,
				 size_t len);
long cervus_host_file_readlink_at(u32 owner, u64 dir, const char *path, size_t len, u8 *buf, size_t cap);
long cervus_host_file_sync(u32 owner, u64 handle, bool data_only);
long cervus_host_file_set_size(u32 owner, u64 handle, u64 size);
bool cervus_host_file_readable_now(u32 owner, u64 handle);

u64 cervus_host_now(u32 clock);
bool cervus_host_sleep_ns(u64 ns);
void cervus_host_random(u8 *buf, size_t len);
bool cervus_host_capable_sys_admin(void);
void cervus_host_interrupt_task(unsigned long task);
void cervus_host_yield(void);

/* jit.c: code memory for the JIT, and entering compiled code. */
void *cervus_host_jit_arena(size_t *size);
long cervus_host_jit_write(void *dst, const void *src, size_t len);
long cervus_host_jit_enter(const void *entry, void *vmctx, u64 *values, bool fpu);
void cervus_host_fpu_begin(void);
void cervus_host_fpu_end(void);
void cervus_host_jit_abort(void);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * Files for the Cervus engine: a table of the files it holds, and the
 * file-system operations WASI and CommonWA need, done as the calling
 * process would do them (its credentials, its working directory).
 *
 * The engine never sees a struct file pointer. It gets a handle: a number
 * from this table, tagged with the instance that opened it. Every operation
 * names the calling instance and is refused with -EBADF unless the handle
 * is its own, so no bug in the engine can reach another instance's file or
 * a freed one. After an engine panic, cervus_host_files_release() closes
 * everything the dead instance held.
 *
 * Paths under a directory handle are resolved beneath it, as openat2()
 * RESOLVE_BENEATH does: LOOKUP_BENEATH refuses "..", absolute symbolic
 * links and magic links that would leave the directory (-EXDEV), and
 * absolute paths are refused here before any lookup. file_open_root(),
 * which has no resolve flags, is only given an already resolved path ("")
 * or a single path component with O_NOFOLLOW.
 */

#include <linux/capability.h>
#include <linux/delayed_call.h>
#include <linux/file.h>
#include <linux/filelock.h>
#include <linux/fs.h>
#include <linux/fs_dirent.h>
#include <linux/hrtimer.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/poll.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uio.h>
#include <linux/xarray.h>

#include "cervus_host.h"

#define BENEATH (LOOKUP_BENEATH | LOOKUP_NO_MAGICLINKS)
/* Concurrent renames anywhere make BENEATH lookups return -EAGAIN. */
#define EAGAIN_RETRIES 16
#define MAX_PATH_BYTES PATH_MAX

struct cervus_file {
	struct file *file;
	u32 owner;
};

static DEFINE_XARRAY_ALLOC1(cervus_files);

/* Adds @file (whose reference the table takes over) for instance @owner. */
static long add_file(struct file *file, u32 owner, u64 *handle)
{
	struct cervus_file *entry;
	u32 id;
	int err;

	entry = kmalloc(sizeof(*entry), GFP_KERNEL);
	if (!entry) {
		fput(file);
		return -ENOMEM;
	}
	entry->file = file;
	entry->owner = owner;
	err = xa_alloc(&cervus_files, &id, entry, xa_limit_31b, GFP_KERNEL);
	if (err) {
		kfree(entry);
		fput(file);
		return err;
	}
	*handle = id;
	return 0;
}

/*
 * The file behind @handle, if instance @owner holds it. Only the task
 * running @owner uses or closes its handles, so the entry stays valid
 * until that task closes it.
 */
static struct file *lookup(u64 handle, u32 owner)
{
	struct cervus_file *entry;

	if (handle == 0 || handle > U32_MAX)
		return NULL;
	entry = xa_load(&cervus_files, handle);
	if (!entry || entry->owner != owner)
		return NULL;
	return entry->file;
}

/* Closes now, as close(2) does: fput() would defer the release until the
 * ioctl returns to user space, keeping unlinked files and leases alive. */
static void close_file(struct file *file)
{
	if (file->f_op->flush)
		file->f_op->flush(file, NULL);
	__fput_sync(file);
}

static void drop_entry(u64 id)
{
	struct cervus_file *entry = xa_erase(&cervus_files, id);

	if (entry) {
		close_file(entry->file);
		kfree(entry);
	}
}

/* A kernel copy of a (pointer, length) string from the engine. */
static char *copy_path(const char *path, size_t len)
{
	if (len == 0)
		return ERR_PTR(-ENOENT);
	if (len >= MAX_PATH_BYTES)
		return ERR_PTR(-ENAMETOOLONG);
	if (memchr(path, 0, len))
		return ERR_PTR(-EINVAL);
	return kmemdup_nul(path, len, GFP_KERNEL) ?: ERR_PTR(-ENOMEM);
}

/* openat2(RESOLVE_BENEATH) refuses these before walking. */
static int check_relative(const char *name)
{
	return name[0] == '/' ? -EXDEV : 0;
}

static int lookup_beneath(const struct path *root, const char *name, unsigned int flags, struct path *out)
{
	int err = check_relative(name), tries = 0;

	if (err)
		return err;
	do
		err = vfs_path_lookup(root->dentry, root->mnt, name, flags | BENEATH, out);
	while (err == -EAGAIN && ++tries < EAGAIN_RETRIES);
	return err;
}

/* Resolves all but the last component of @fn beneath @root. */
static int parent_beneath(const struct path *root, struct filename *fn, struct path *parent, struct qstr *last)
{
	int err, tries = 0;

	if (IS_ERR(fn))
		return PTR_ERR(fn);
	err = check_relative(fn->name);
	if (err)
		return err;
	do
		err = vfs_path_parent_lookup(fn, BENEATH, parent, last, root);
	while (err == -EAGAIN && ++tries < EAGAIN_RETRIES);
	return err;
}

/* Opens @name beneath @root with open(2) semantics (permission checks,
 * O_CREAT/O_EXCL/O_TRUNC, umask). */
static struct file *open_beneath(const struct path *root, const char *name, int flags, umode_t mode)
{
	struct path p;
	struct file *f;
	int err;

	flags |= O_LARGEFILE;
	if (!(flags & O_CREAT)) {
		err = lookup_beneath(root, name,
				     ((flags & O_NOFOLLOW) ? 0 : LOOKUP_FOLLOW) |
				     ((flags & O_DIRECTORY) ? LOOKUP_DIRECTORY : 0), &p);
		if (err)
			return ERR_PTR(err);
		f = file_open_root(&p, "", flags, 0);
		path_put(&p);
		return f;
	} else {
		CLASS(filename_kernel, fn)(name);
		struct qstr last;
		char *component;

		err = parent_beneath(root, fn, &p, &last);
		if (err)
			return ERR_PTR(err);
		if (last.name[last.len]) {	/* "dir/" with O_CREAT */
			path_put(&p);
			return ERR_PTR(-EISDIR);
		}
		component = kmemdup_nul(last.name, last.len, GFP_KERNEL);
		if (!component) {
			path_put(&p);
			return ERR_PTR(-ENOMEM);
		}
		/* One component, rooted at its parent, never followed. */
		f = file_open_root(&p, component, flags | O_NOFOLLOW, mode);
		kfree(component);
		path_put(&p);
		if (f == ERR_PTR(-ELOOP) && !(flags & (O_NOFOLLOW | O_EXCL))) {
			/* The last component is a symbolic link: follow it beneath. */
			err = lookup_beneath(root, name, LOOKUP_FOLLOW, &p);
			if (err)
				return ERR_PTR(err == -ENOENT ? -ELOOP : err);
			f = d_is_dir(p.dentry) ? ERR_PTR(-EISDIR) :
				file_open_root(&p, "", flags & ~(O_CREAT | O_EXCL), 0);
			path_put(&p);
		}
		return f;
	}
}

u64 cervus_host_file_stdio(u32 owner, unsigned int fd)
{
	struct file *file;
	u64 handle;

	if (fd > 2)
		return 0;
	file = fget(fd);
	if (!file)
		return 0;
	return add_file(file, owner, &handle) ? 0 : handle;
}

long cervus_host_file_open(u32 owner, const char *path, size_t len, int flags, u64 *handle)
{
	char *name = copy_path(path, len);
	struct file *f;

	if (IS_ERR(name))
		return PTR_ERR(name);
	f = filp_open(name, flags | O_LARGEFILE, 0666);
	kfree(name);
	if (IS_ERR(f))
		return PTR_ERR(f);
	return add_file(f, owner, handle);
}

long cervus_host_file_open_at(u32 owner, u64 dir, const char *path, size_t len, int flags, u32 mode, u64 *handle)
{
	struct file *root = lookup(dir, owner), *f;
	char *name;

	if (!root)
		return -EBADF;
	name = copy_path(path, len);
	if (IS_ERR(name))
		return PTR_ERR(name);
	f = open_beneath(&root->f_path, name, flags, mode);
	kfree(name);
	if (IS_ERR(f))
		return PTR_ERR(f);
	return add_file(f, owner, handle);
}

void cervus_host_file_close(u32 owner, u64 handle)
{
	if (lookup(handle, owner))
		drop_entry(handle);
}

void cervus_host_files_release(u32 owner)
{
	struct cervus_file *entry;
	unsigned long id;

	xa_for_each(&cervus_files, id, entry)
		if (entry->owner == owner)
			drop_entry(id);
}

/* Reads or writes at the file position (as read(2)/write(2), with the
 * position lock) or at @offset (as pread(2)/pwrite(2)). */
static long rw(u32 owner, u64 handle, void *buf, size_t len, u64 offset, bool at, bool write)
{
	struct file *file = lookup(handle, owner);
	struct kvec kvec = { .iov_base = buf, .iov_len = min_t(size_t, len, MAX_RW_COUNT) };
	struct iov_iter iter;
	bool lock_pos;
	loff_t pos;
	long ret;

	if (!file)
		return -EBADF;
	iov_iter_kvec(&iter, write ? ITER_SOURCE : ITER_DEST, &kvec, 1, kvec.iov_len);
	if (at) {
		if (!(file->f_mode & (write ? FMODE_PWRITE : FMODE_PREAD)))
			return -ESPIPE;
		pos = offset;
		return write ? vfs_iter_write(file, &iter, &pos, 0) : vfs_iter_read(file, &iter, &pos, 0);
	}
	if (file->f_mode & FMODE_STREAM)
		return write ? vfs_iter_write(file, &iter, NULL, 0) : vfs_iter_read(file, &iter, NULL, 0);
	lock_pos = file->f_mode & FMODE_ATOMIC_POS;
	if (lock_pos)
		mutex_lock(&file->f_pos_lock);
	pos = file->f_pos;
	ret = write ? vfs_iter_write(file, &iter, &pos, 0) : vfs_iter_read(file, &iter, &pos, 0);
	if (ret > 0)
		file->f_pos = pos;
	if (lock_pos)
		mutex_unlock(&file->f_pos_lock);
	return ret;
}

long cervus_host_file_read(u32 owner, u64 handle, void *buf, size_t len, u64 offset, bool at)
{
	return rw(owner, handle, buf, len, offset, at, false);
}

long cervus_host_file_write(u32 owner, u64 handle, const void *buf, size_t len, u64 offset, bool at)
{
	return rw(owner, handle, (void *)buf, len, offset, at, true);
}

long cervus_host_file_seek(u32 owner, u64 handle, s64 offset, int whence, u64 *pos)
{
	struct file *file = lookup(handle, owner);
	loff_t ret;

	if (!file)
		return -EBADF;
	ret = vfs_llseek(file, offset, whence);
	if (ret < 0)
		return ret;
	*pos = ret;
	return 0;
}

/* WASI file types (filetype). */
static u64 file_kind(umode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFBLK: return 1;
	case S_IFCHR: return 2;
	case S_IFDIR: return 3;
	case S_IFREG: return 4;
	case S_IFSOCK: return 6;
	case S_IFLNK: return 7;
	default: return 0;
	}
}

/* WASI file types from directory-entry types. */
static u64 dirent_kind(unsigned int type)
{
	switch (type) {
	case DT_BLK: return 1;
	case DT_CHR: return 2;
	case DT_DIR: return 3;
	case DT_REG: return 4;
	case DT_SOCK: return 6;
	case DT_LNK: return 7;
	default: return 0;
	}
}

static void fill_stat(const struct kstat *st, u64 out[CERVUS_STAT_WORDS])
{
	out[0] = new_encode_dev(st->dev);
	out[1] = st->ino;
	out[2] = file_kind(st->mode);
	out[3] = st->nlink;
	out[4] = st->size;
	out[5] = timespec64_to_ns(&st->atime);
	out[6] = timespec64_to_ns(&st->mtime);
	out[7] = timespec64_to_ns(&st->ctime);
}

long cervus_host_file_stat(u32 owner, u64 handle, u64 out[CERVUS_STAT_WORDS])
{
	struct file *file = lookup(handle, owner);
	struct kstat st;
	int err;

	if (!file)
		return -EBADF;
	err = vfs_getattr(&file->f_path, &st, STATX_BASIC_STATS, AT_STATX_SYNC_AS_STAT);
	if (!err)
		fill_stat(&st, out);
	return err;
}

long cervus_host_file_stat_at(u32 owner, u64 dir, const char *path, size_t len, bool follow,
			      u64 out[CERVUS_STAT_WORDS])
{
	struct file *root = lookup(dir, owner);
	struct kstat st;
	struct path p;
	char *name;
	int err;

	if (!root)
		return -EBADF;
	name = copy_path(path, len);
	if (IS_ERR(name))
		return PTR_ERR(name);
	err = lookup_beneath(&root->f_path, name, follow ? LOOKUP_FOLLOW : 0, &p);
	kfree(name);
	if (err)
		return err;
	err = vfs_getattr(&p, &st, STATX_BASIC_STATS, AT_STATX_SYNC_AS_STAT);
	path_put(&p);
	if (!err)
		fill_stat(&st, out);
	return err;
}

long cervus_host_file_status(u32 owner, u64 handle, u32 *status)
{
	struct file *file = lookup(handle, owner);

	if (!file)
		return -EBADF;
	*status = ((file->f_mode & FMODE_READ) ? CERVUS_STATUS_READ : 0) |
		  ((file->f_mode & FMODE_WRITE) ? CERVUS_STATUS_WRITE : 0) |
		  ((file->f_flags & O_APPEND) ? CERVUS_STATUS_APPEND : 0) |
		  ((file->f_flags & O_NONBLOCK) ? CERVUS_STATUS_NONBLOCK : 0) |
		  (u32)file_kind(file_inode(file)->i_mode) << CERVUS_STATUS_KIND_SHIFT;
	return 0;
}

/* fcntl(F_SETFL) for O_APPEND and O_NONBLOCK (setfl() is static). */
long cervus_host_file_set_status(u32 owner, u64 handle, bool append, bool nonblock)
{
	const unsigned int mask = O_APPEND | O_NONBLOCK;
	struct file *file = lookup(handle, owner);
	unsigned int flags;
	int err;

	if (!file)
		return -EBADF;
	flags = (append ? O_APPEND : 0) | (nonblock ? O_NONBLOCK : 0);
	if (((flags ^ file->f_flags) & O_APPEND) && IS_APPEND(file_inode(file)))
		return -EPERM;
	if (file->f_op->check_flags) {
		err = file->f_op->check_flags(flags);
		if (err)
			return err;
	}
	spin_lock(&file->f_lock);
	file->f_flags = flags | (file->f_flags & ~mask);
	file->f_iocb_flags = iocb_flags(file);
	spin_unlock(&file->f_lock);
	return 0;
}

struct read_dir {
	struct dir_context ctx;
	u64 *entries;
	size_t max, count;
	u8 *names;
	size_t names_cap, names_used;
};

static bool read_dir_actor(struct dir_context *ctx, const char *name, int len, loff_t pos, u64 ino,
			   unsigned int type)
{
	struct read_dir *rd = container_of(ctx, struct read_dir, ctx);
	u64 *e;

	if (rd->count == rd->max || rd->names_used + len > rd->names_cap)
		return false;	/* this entry is not consumed */
	/* An entry's "next" cookie is the position of the entry after it. */
	if (rd->count > 0)
		rd->entries[(rd->count - 1) * CERVUS_DIRENT_WORDS] = pos;
	e = &rd->entries[rd->count * CERVUS_DIRENT_WORDS];
	e[1] = ino;
	e[2] = dirent_kind(type & S_DT_MASK);
	e[3] = len;
	memcpy(rd->names + rd->names_used, name, len);
	rd->names_used += len;
	rd->count++;
	return true;
}

long cervus_host_file_read_dir(u32 owner, u64 dir, u64 cookie, u64 *entries, size_t max, u8 *names,
			       size_t names_cap, size_t *count)
{
	struct file *file = lookup(dir, owner);
	struct read_dir rd = {
		.ctx.actor = read_dir_actor,
		.entries = entries, .max = max, .names = names, .names_cap = names_cap,
	};
	loff_t r;
	int err;

	if (!file)
		return -EBADF;
	r = vfs_llseek(file, cookie, SEEK_SET);
	if (r < 0)
		return r;
	err = iterate_dir(file, &rd.ctx);
	if (err)
		return err;
	if (rd.count > 0)
		entries[(rd.count - 1) * CERVUS_DIRENT_WORDS] = rd.ctx.pos;
	*count = rd.count;
	return 0;
}

/* The directory operations: resolve the parent beneath @dir, then do what
 * the system call does, with its locking and delegation protocol. */

long cervus_host_file_mkdir_at(u32 owner, u64 dir, const char *path, size_t len)
{
	struct file *root = lookup(dir, owner);
	struct delegated_inode di = { };
	struct mnt_idmap *idmap;
	struct path parent;
	struct qstr last;
	struct dentry *d;
	char *name;
	int err;

	if (!root)
		return -EBADF;
	name = copy_path(path, len);
	if (IS_ERR(name))
		return PTR_ERR(name);
	{
		CLASS(filename_kernel, fn)(name);

		err = parent_beneath(&root->f_path, fn, &parent, &last);
		if (err)
			goto out;
		idmap = mnt_idmap(parent.mnt);
retry:
		err = mnt_want_write(parent.mnt);
		if (err)
			goto put;
		d = start_creating(idmap, parent.dentry, &last);
		if (IS_ERR(d)) {
			err = PTR_ERR(d);
			goto drop;
		}
		err = security_path_mkdir(&parent, d, mode_strip_umask(d_inode(parent.dentry), 0777));
		if (err) {
			end_creating(d);
			goto drop;
		}
		d = vfs_mkdir(idmap, d_inode(parent.dentry), d, 0777, &di);
		err = PTR_ERR_OR_ZERO(d);
		end_creating(d);
drop:
		mnt_drop_write(parent.mnt);
		if (is_delegated(&di) && !break_deleg_wait(&di))
			goto retry;
put:
		path_put(&parent);
	}
out:
	kfree(name);
	return err;
}

long cervus_host_file_rmdir_at(u32 owner, u64 dir, const char *path, size_t len)
{
	struct file *root = lookup(dir, owner);
	struct mnt_idmap *idmap;
	struct path parent;
	struct qstr last;
	struct dentry *d;
	char *name;
	int err;

	if (!root)
		return -EBADF;
	name = copy_path(path, len);
	if (IS_ERR(name))
		return PTR_ERR(name);
	{
		CLASS(filename_kernel, fn)(name);

		err = parent_beneath(&root->f_path, fn, &parent, &last);
		if (err)
			goto out;
		idmap = mnt_idmap(parent.mnt);
		err = mnt_want_write(parent.mnt);
		if (err)
			goto put;
		d = start_removing(idmap, parent.dentry, &last);
		if (IS_ERR(d)) {
			err = PTR_ERR(d);
			goto drop;
		}
		err = vfs_rmdir(idmap, d_inode(parent.dentry), d, NULL);
		end_removing(d);
drop:
		mnt_drop_write(parent.mnt);
put:
		path_put(&parent);
	}
out:
	kfree(name);
	return err;
}

long cervus_host_file_unlink_at(u32 owner, u64 dir, const char *path, size_t len)
{
	struct file *root = lookup(dir, owner);
	struct delegated_inode di = { };
	struct inode *victim;
	struct mnt_idmap *idmap;
	struct path parent;
	struct qstr last;
	struct dentry *d;
	char *name;
	int err;

	if (!root)
		return -EBADF;
	name = copy_path(path, len);
	if (IS_ERR(name))
		return PTR_ERR(name);
	{
		CLASS(filename_kernel, fn)(name);

		err = parent_beneath(&root->f_path, fn, &parent, &last);
		if (err) {
			err = err == -EINVAL ? -EISDIR : err;
			goto out;
		}
		idmap = mnt_idmap(parent.mnt);
		err = mnt_want_write(parent.mnt);
		if (err)
			goto put;
retry:
		d = start_removing(idmap, parent.dentry, &last);
		if (IS_ERR(d)) {
			err = PTR_ERR(d);
			goto drop;
		}
		if (last.name[last.len]) {	/* "name/" */
			err = d_is_dir(d) ? -EISDIR : -ENOTDIR;
			end_removing(d);
			goto drop;
		}
		victim = d_inode(d);
		ihold(victim);
		err = security_path_unlink(&parent, d);
		if (!err)
			err = vfs_unlink(idmap, d_inode(parent.dentry), d, &di);
		end_removing(d);
		iput(victim);	/* the last reference goes outside the directory lock */
		if (is_delegated(&di) && !break_deleg_wait(&di))
			goto retry;
drop:
		mnt_drop_write(parent.mnt);
put:
		path_put(&parent);
	}
out:
	kfree(name);
	return err;
}

long cervus_host_file_rename_at(u32 owner, u64 old_dir, const char *old_path, size_t old_len, u64 new_dir,
				const char *new_path, size_t new_len)
{
	struct file *old_root = lookup(old_dir, owner), *new_root = lookup(new_dir, owner);
	struct delegated_inode di = { };
	struct path op, np;
	struct qstr ol, nl;
	struct renamedata rd;
	char *oname, *nname;
	int err;

	if (!old_root || !new_root)
		return -EBADF;
	oname = copy_path(old_path, old_len);
	if (IS_ERR(oname))
		return PTR_ERR(oname);
	nname = copy_path(new_path, new_len);
	if (IS_ERR(nname)) {
		kfree(oname);
		return PTR_ERR(nname);
	}
	{
		CLASS(filename_kernel, ofn)(oname);
		CLASS(filename_kernel, nfn)(nname);

		err = parent_beneath(&old_root->f_path, ofn, &op, &ol);
		if (err) {
			err = err == -EINVAL ? -EBUSY : err;
			goto out;
		}
		err = parent_beneath(&new_root->f_path, nfn, &np, &nl);
		if (err)
			goto put_old;
		err = -EXDEV;
		if (op.mnt != np.mnt)
			goto put_new;
		err = mnt_want_write(op.mnt);
		if (err)
			goto put_new;
retry:
		rd = (struct renamedata){
			.mnt_idmap = mnt_idmap(op.mnt),
			.old_parent = op.dentry,
			.new_parent = np.dentry,
			.delegated_inode = &di,
			.flags = 0,
		};
		err = start_renaming(&rd, 0, &ol, &nl);
		if (err)
			goto drop;
		if (!d_is_dir(rd.old_dentry) && (ol.name[ol.len] || nl.name[nl.len])) {
			err = -ENOTDIR;
			goto unlock;
		}
		err = security_path_rename(&op, rd.old_dentry, &np, rd.new_dentry, 0);
		if (!err)
			err = vfs_rename(&rd);
unlock:
		end_renaming(&rd);
		if (is_delegated(&di) && !break_deleg_wait(&di))
			goto retry;
drop:
		mnt_drop_write(op.mnt);
put_new:
		path_put(&np);
put_old:
		path_put(&op);
	}
out:
	kfree(oname);
	kfree(nname);
	return err;
}

long cervus_host_file_symlink_at(u32 owner, const char *target, size_t target_len, u64 dir, const char *path,
				 size_t len)
{
	struct file *root = lookup(dir, owner);
	struct mnt_idmap *idmap;
	struct path parent;
	struct qstr last;
	struct dentry *d;
	char *name, *to;
	int err;

	if (!root)
		return -EBADF;
	to = copy_path(target, target_len);
	if (IS_ERR(to))
		return PTR_ERR(to);
	name = copy_path(path, len);
	if (IS_ERR(name)) {
		kfree(to);
		return PTR_ERR(name);
	}
	{
		CLASS(filename_kernel, fn)(name);

		err = parent_beneath(&root->f_path, fn, &parent, &last);
		if (err) {
			err = err == -EINVAL ? -EEXIST : err;
			goto out;
		}
		idmap = mnt_idmap(parent.mnt);
		err = mnt_want_write(parent.mnt);
		if (err)
			goto put;
		d = start_creating(idmap, parent.dentry, &last);
		if (IS_ERR(d)) {
			err = PTR_ERR(d);
			goto drop;
		}
		err = vfs_symlink(idmap, d_inode(parent.dentry), d, to, NULL);
		end_creating(d);
drop:
		mnt_drop_write(parent.mnt);
put:
		path_put(&parent);
	}
out:
	kfree(name);
	kfree(to);
	return err;
}

long cervus_host_file_readlink_at(u32 owner, u64 dir, const char *path, size_t len, u8 *buf, size_t cap)
{
	struct file *root = lookup(dir, owner);
	DEFINE_DELAYED_CALL(done);
	const char *link;
	struct path p;
	char *name;
	long err;

	if (!root)
		return -EBADF;
	name = copy_path(path, len);
	if (IS_ERR(name))
		return PTR_ERR(name);
	err = lookup_beneath(&root->f_path, name, 0, &p);
	kfree(name);
	if (err)
		return err;
	if (!d_is_symlink(p.dentry)) {
		err = -EINVAL;
		goto out;
	}
	touch_atime(&p);
	link = vfs_get_link(p.dentry, &done);
	if (IS_ERR(link)) {
		err = PTR_ERR(link);
		goto out;
	}
	err = min(strlen(link), cap);
	memcpy(buf, link, err);
	do_delayed_call(&done);
out:
	path_put(&p);
	return err;
}

long cervus_host_file_sync(u32 owner, u64 handle, bool data_only)
{
	struct file *file = lookup(handle, owner);

	return file ? vfs_fsync(file, data_only) : -EBADF;
}

long cervus_host_file_set_size(u32 owner, u64 handle, u64 size)
{
	struct file *file = lookup(handle, owner);

	if (!file)
		return -EBADF;
	if (size > S64_MAX)
		return -EINVAL;
	if (!S_ISREG(file_inode(file)->i_mode) || !(file->f_mode & FMODE_WRITE))
		return -EINVAL;
	return vfs_truncate(&file->f_path, size);
}

bool cervus_host_file_readable_now(u32 owner, u64 handle)
{
	struct file *file = lookup(handle, owner);

	if (!file)
		return true;	/* the read will report the error */
	return vfs_poll(file, NULL) & (EPOLLIN | EPOLLRDNORM | EPOLLHUP | EPOLLERR);
}

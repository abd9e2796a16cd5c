// SPDX-License-Identifier: GPL-2.0

//! What the core needs from the system it runs in.
//!
//! In the kernel every method acts on behalf of the task that called into
//! the engine (the process blocked in the ioctl): files are opened with its
//! credentials and relative to its working directory, its standard streams
//! are its file descriptors 0-2, and a signal pending for it interrupts
//! blocking calls. The host-side tests implement the same trait over `std`.

use alloc::sync::Arc;
use core::fmt;

use crate::registry::InstanceId;

/// A Linux errno value (positive), as the system reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SysError(pub i32);

#[allow(missing_docs)]
impl SysError {
    pub const EPERM: SysError = SysError(1);
    pub const ENOENT: SysError = SysError(2);
    pub const EINTR: SysError = SysError(4);
    pub const EIO: SysError = SysError(5);
    pub const EBADF: SysError = SysError(9);
    pub const EAGAIN: SysError = SysError(11);
    pub const ENOMEM: SysError = SysError(12);
    pub const EACCES: SysError = SysError(13);
    pub const EFAULT: SysError = SysError(14);
    pub const EBUSY: SysError = SysError(16);
    pub const EEXIST: SysError = SysError(17);
    pub const EXDEV: SysError = SysError(18);
    pub const ENODEV: SysError = SysError(19);
    pub const ENOTDIR: SysError = SysError(20);
    pub const EISDIR: SysError = SysError(21);
    pub const EINVAL: SysError = SysError(22);
    pub const EMFILE: SysError = SysError(24);
    /// Inappropriate ioctl for device.
    pub const ENOTTY: SysError = SysError(25);
    pub const EFBIG: SysError = SysError(27);
    pub const ENOSPC: SysError = SysError(28);
    pub const ESPIPE: SysError = SysError(29);
    pub const EROFS: SysError = SysError(30);
    pub const EMLINK: SysError = SysError(31);
    pub const EPIPE: SysError = SysError(32);
    pub const ERANGE: SysError = SysError(34);
    pub const ENAMETOOLONG: SysError = SysError(36);
    pub const ENOSYS: SysError = SysError(38);
    pub const ENOTEMPTY: SysError = SysError(39);
    pub const ELOOP: SysError = SysError(40);
    pub const EOVERFLOW: SysError = SysError(75);
    pub const ENOTSUP: SysError = SysError(95);
    pub const ETXTBSY: SysError = SysError(26);
    pub const EDQUOT: SysError = SysError(122);
    /// The kernel's internal "restart the system call", seen when a signal
    /// interrupts a blocking operation.
    pub const ERESTARTSYS: SysError = SysError(512);

    /// Whether a signal interrupted the operation.
    pub fn is_interruption(self) -> bool {
        matches!(self.0, 4 | 512..=516)
    }
}

/// An open file of the host, identified by an opaque non-zero number.
///
/// The kernel keeps its own table of the files it handed out and refuses
/// any other number, so a bug in the core cannot reach a stale file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HostFile(pub u64);

/// How to open a file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenFlags {
    /// Open for reading.
    pub read: bool,
    /// Open for writing.
    pub write: bool,
    /// Create the file if it does not exist.
    pub create: bool,
    /// With `create`: fail if it exists.
    pub exclusive: bool,
    /// Truncate to zero length.
    pub truncate: bool,
    /// Fail unless it is a directory.
    pub directory: bool,
    /// Do not follow a symbolic link in the last component.
    pub nofollow: bool,
    /// Every write appends.
    pub append: bool,
    /// Reads and writes do not block.
    pub nonblock: bool,
}

/// Where `seek` counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whence {
    /// The start of the file.
    Set,
    /// The current position.
    Current,
    /// The end of the file.
    End,
}

/// File types, numbered as WASI's `filetype`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// Unknown.
    Unknown = 0,
    /// A block device.
    BlockDevice = 1,
    /// A character device.
    CharDevice = 2,
    /// A directory.
    Directory = 3,
    /// A regular file.
    Regular = 4,
    /// A datagram socket.
    SocketDgram = 5,
    /// A stream socket.
    SocketStream = 6,
    /// A symbolic link.
    Symlink = 7,
}

/// A file's attributes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileStat {
    /// Device id.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// File type ([`FileKind`] as a number).
    pub kind: u8,
    /// Hard links.
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// Last access, ns since the epoch.
    pub atime_ns: u64,
    /// Last modification, ns since the epoch.
    pub mtime_ns: u64,
    /// Last status change, ns since the epoch.
    pub ctime_ns: u64,
}

/// The status flags of an open file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileStatus {
    /// Open for reading.
    pub readable: bool,
    /// Open for writing.
    pub writable: bool,
    /// `O_APPEND`.
    pub append: bool,
    /// `O_NONBLOCK`.
    pub nonblock: bool,
    /// The file's type ([`FileKind`] as a number).
    pub kind: u8,
}

/// One directory entry, as `read_dir` reports it.
#[derive(Clone, Copy, Debug)]
pub struct DirEntry<'a> {
    /// The cookie that continues after this entry.
    pub next: u64,
    /// Inode number.
    pub ino: u64,
    /// File type ([`FileKind`] as a number).
    pub kind: u8,
    /// The entry's name.
    pub name: &'a [u8],
}

/// Clocks, numbered as WASI's `clockid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Wall-clock time.
    Realtime = 0,
    /// Time since an arbitrary point, never going back.
    Monotonic = 1,
    /// CPU time of the calling process.
    ProcessCpu = 2,
    /// CPU time of the calling thread.
    ThreadCpu = 3,
}

/// One of the calling process's standard streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdio {
    /// File descriptor 0.
    Stdin = 0,
    /// File descriptor 1.
    Stdout = 1,
    /// File descriptor 2.
    Stderr = 2,
}

/// Log severity, mapped to the kernel's log levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `KERN_ERR`.
    Error,
    /// `KERN_WARNING`.
    Warning,
    /// `KERN_INFO`.
    Info,
}

/// The engine's use of the system allocator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes held.
    pub bytes: u64,
    /// Allocations held.
    pub allocations: u64,
}

/// An opaque token for a task (thread) of the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskToken(pub usize);

/// Services of the system the core runs in. See the module documentation
/// for whose behalf they act on.
pub trait Platform: Sync {
    /// Takes a reference to the calling process's standard stream `stdio`;
    /// `None` if that descriptor is closed.
    fn stdio(&self, stdio: Stdio) -> Option<HostFile>;

    /// Opens `path` as the calling process would (its working directory,
    /// its credentials). For `file://` URLs and preopened directories.
    fn open(&self, path: &str, flags: OpenFlags) -> Result<HostFile, SysError>;

    /// Opens `path` beneath directory `dir`: `..`, absolute paths and
    /// symbolic links may not leave `dir` (as `openat2` `RESOLVE_BENEATH`).
    fn open_at(&self, dir: HostFile, path: &str, flags: OpenFlags, mode: u32) -> Result<HostFile, SysError>;

    /// Releases a file.
    fn close(&self, file: HostFile);

    /// Reads at the file position (`at == None`) or at an offset.
    fn read(&self, file: HostFile, buf: &mut [u8], at: Option<u64>) -> Result<usize, SysError>;

    /// Writes at the file position (`at == None`) or at an offset.
    fn write(&self, file: HostFile, buf: &[u8], at: Option<u64>) -> Result<usize, SysError>;

    /// Moves the file position; returns the new one.
    fn seek(&self, file: HostFile, offset: i64, whence: Whence) -> Result<u64, SysError>;

    /// A file's attributes.
    fn stat(&self, file: HostFile) -> Result<FileStat, SysError>;

    /// The attributes of `path` beneath `dir`.
    fn stat_at(&self, dir: HostFile, path: &str, follow: bool) -> Result<FileStat, SysError>;

    /// An open file's status flags.
    fn status(&self, file: HostFile) -> Result<FileStatus, SysError>;

    /// Sets or clears `O_APPEND` and `O_NONBLOCK`.
    fn set_status(&self, file: HostFile, append: bool, nonblock: bool) -> Result<(), SysError>;

    /// Calls `entry` for the entries of directory `dir` from `cookie` on,
    /// until it returns `false` or the directory ends.
    fn read_dir(
        &self,
        dir: HostFile,
        cookie: u64,
        entry: &mut dyn FnMut(&DirEntry<'_>) -> bool,
    ) -> Result<(), SysError>;

    /// Creates directory `path` beneath `dir`.
    fn mkdir_at(&self, dir: HostFile, path: &str) -> Result<(), SysError>;

    /// Removes empty directory `path` beneath `dir`.
    fn rmdir_at(&self, dir: HostFile, path: &str) -> Result<(), SysError>;

    /// Removes non-directory `path` beneath `dir`.
    fn unlink_at(&self, dir: HostFile, path: &str) -> Result<(), SysError>;

    /// Renames `old` beneath `old_dir` to `new` beneath `new_dir`.
    fn rename_at(&self, old_dir: HostFile, old: &str, new_dir: HostFile, new: &str) -> Result<(), SysError>;

    /// Creates symbolic link `path` beneath `dir`, pointing at `target`.
    fn symlink_at(&self, target: &str, dir: HostFile, path: &str) -> Result<(), SysError>;

    /// Reads symbolic link `path` beneath `dir` into `buf`; returns the
    /// length (truncated to `buf`).
    fn readlink_at(&self, dir: HostFile, path: &str, buf: &mut [u8]) -> Result<usize, SysError>;

    /// Flushes a file to storage.
    fn sync(&self, file: HostFile, data_only: bool) -> Result<(), SysError>;

    /// Truncates or extends a file.
    fn set_size(&self, file: HostFile, size: u64) -> Result<(), SysError>;

    /// Whether reading `file` would not block now.
    fn readable_now(&self, file: HostFile) -> bool;

    /// A clock's time, in nanoseconds.
    fn now(&self, clock: Clock) -> u64;

    /// Sleeps up to `ns` nanoseconds; returns `false` if a signal cut it short.
    fn sleep(&self, ns: u64) -> bool;

    /// Fills `buf` from the system's CSPRNG.
    fn random(&self, buf: &mut [u8]);

    /// Whether the calling process has CAP_SYS_ADMIN.
    fn capable_sys_admin(&self) -> bool;

    /// The calling task.
    fn current_task(&self) -> TaskToken;

    /// Makes `task`'s blocking waits return as if interrupted, without
    /// sending it a signal (so a killed instance stops waiting). `task`
    /// must be inside the engine, running an instance.
    fn interrupt_task(&self, task: TaskToken);

    /// Whether a signal is pending for the calling task.
    fn interrupted(&self) -> bool;

    /// Gives other tasks a chance to run (between execution slices).
    fn yield_now(&self);

    /// Writes a line to the system log.
    fn log(&self, level: Level, args: fmt::Arguments<'_>);

    /// The allocator counters.
    fn heap_stats(&self) -> HeapStats;

    /// Records which instance the calling task is executing, so that a fault
    /// (an engine panic) can be pinned on it. `None` when it stops.
    fn set_running(&self, instance: Option<InstanceId>);

    /// Device access, for drivers.
    fn devices(&self) -> &dyn crate::driver::Devices;

    /// Makes a JIT code image executable, never writable through the same
    /// mapping; `floats` says it uses SSE registers. Freed when the last
    /// reference is dropped.
    fn load_code(&self, image: &[u8], floats: bool) -> Result<Arc<dyn cervus_jit::runtime::Code>, SysError>;

    /// The lowest stack address JIT-compiled code may start a function at,
    /// for a call made by the calling task now: what lies below is left to
    /// the function's frame (at most [`cervus_jit::MAX_FRAME`]) and to the
    /// hostcalls it makes.
    fn jit_stack_limit(&self) -> u64;
}

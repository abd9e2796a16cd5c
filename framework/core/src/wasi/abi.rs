// SPDX-License-Identifier: GPL-2.0

//! WASI preview 1 constants and structure layouts (from the witx
//! definitions of `wasi_snapshot_preview1`).

use crate::platform::SysError;

/// A WASI errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub u16);

#[allow(missing_docs)]
impl Errno {
    pub const SUCCESS: Errno = Errno(0);
    pub const TOOBIG: Errno = Errno(1);
    pub const ACCES: Errno = Errno(2);
    pub const AGAIN: Errno = Errno(6);
    pub const BADF: Errno = Errno(8);
    pub const BUSY: Errno = Errno(10);
    pub const DQUOT: Errno = Errno(19);
    pub const EXIST: Errno = Errno(20);
    pub const FAULT: Errno = Errno(21);
    pub const FBIG: Errno = Errno(22);
    pub const INTR: Errno = Errno(27);
    pub const INVAL: Errno = Errno(28);
    pub const IO: Errno = Errno(29);
    pub const ISDIR: Errno = Errno(31);
    pub const LOOP: Errno = Errno(32);
    pub const MFILE: Errno = Errno(33);
    pub const MLINK: Errno = Errno(34);
    pub const NAMETOOLONG: Errno = Errno(37);
    pub const NOENT: Errno = Errno(44);
    pub const NOMEM: Errno = Errno(48);
    pub const NOSPC: Errno = Errno(51);
    pub const NOSYS: Errno = Errno(52);
    pub const NOTDIR: Errno = Errno(54);
    pub const NOTEMPTY: Errno = Errno(55);
    pub const NOTSUP: Errno = Errno(58);
    pub const OVERFLOW: Errno = Errno(61);
    pub const PERM: Errno = Errno(63);
    pub const PIPE: Errno = Errno(64);
    pub const RANGE: Errno = Errno(68);
    pub const ROFS: Errno = Errno(69);
    pub const SPIPE: Errno = Errno(70);
    pub const TXTBSY: Errno = Errno(74);
    pub const XDEV: Errno = Errno(75);
    pub const NOTCAPABLE: Errno = Errno(76);
}

impl From<SysError> for Errno {
    fn from(e: SysError) -> Self {
        match e {
            SysError::EPERM => Errno::PERM,
            SysError::ENOENT => Errno::NOENT,
            SysError::EIO => Errno::IO,
            SysError::EBADF => Errno::BADF,
            SysError::EAGAIN => Errno::AGAIN,
            SysError::ENOMEM => Errno::NOMEM,
            SysError::EACCES => Errno::ACCES,
            SysError::EFAULT => Errno::FAULT,
            SysError::EBUSY => Errno::BUSY,
            SysError::EEXIST => Errno::EXIST,
            // Resolving beneath a preopen refused to leave it.
            SysError::EXDEV => Errno::NOTCAPABLE,
            SysError::ENOTDIR => Errno::NOTDIR,
            SysError::EISDIR => Errno::ISDIR,
            SysError::EINVAL => Errno::INVAL,
            SysError::EMFILE => Errno::MFILE,
            SysError::EFBIG => Errno::FBIG,
            SysError::ENOSPC => Errno::NOSPC,
            SysError::ESPIPE => Errno::SPIPE,
            SysError::EROFS => Errno::ROFS,
            SysError::EMLINK => Errno::MLINK,
            SysError::EPIPE => Errno::PIPE,
            SysError::ERANGE => Errno::RANGE,
            SysError::ENAMETOOLONG => Errno::NAMETOOLONG,
            SysError::ENOSYS => Errno::NOSYS,
            SysError::ENOTEMPTY => Errno::NOTEMPTY,
            SysError::ELOOP => Errno::LOOP,
            SysError::EOVERFLOW => Errno::OVERFLOW,
            SysError::ENOTSUP => Errno::NOTSUP,
            SysError::ETXTBSY => Errno::TXTBSY,
            SysError::EDQUOT => Errno::DQUOT,
            e if e.is_interruption() => Errno::INTR,
            _ => Errno::IO,
        }
    }
}

impl From<cervus_hostcalls::Errno> for Errno {
    fn from(e: cervus_hostcalls::Errno) -> Self {
        use cervus_hostcalls::Errno as H;
        match e {
            H::BadPointer => Errno::FAULT,
            H::InvalidArgument => Errno::INVAL,
            H::NoMemory => Errno::NOMEM,
            H::QuotaExceeded => Errno::MFILE,
            H::NotFound => Errno::NOENT,
            H::PermissionDenied => Errno::ACCES,
            _ => Errno::IO,
        }
    }
}

/// `oflags`.
pub mod oflags {
    /// Create if missing.
    pub const CREAT: u16 = 1;
    /// Fail unless a directory.
    pub const DIRECTORY: u16 = 2;
    /// With `CREAT`: fail if it exists.
    pub const EXCL: u16 = 4;
    /// Truncate.
    pub const TRUNC: u16 = 8;
}

/// `fdflags`.
pub mod fdflags {
    /// Append on every write.
    pub const APPEND: u16 = 1;
    /// Synchronized data writes.
    pub const DSYNC: u16 = 2;
    /// Non-blocking.
    pub const NONBLOCK: u16 = 4;
    /// Synchronized reads.
    pub const RSYNC: u16 = 8;
    /// Synchronized writes.
    pub const SYNC: u16 = 16;
}

/// `lookupflags`: follow a final symbolic link.
pub const LOOKUP_SYMLINK_FOLLOW: u32 = 1;

/// `rights` bits, named as in the witx definition.
#[allow(missing_docs)]
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;

    /// Every right of a regular file.
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;

    /// Every right of a directory.
    pub const DIRECTORY: u64 = FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_ADVISE
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;

    /// Rights of the standard streams.
    pub const STDIO: u64 = FD_READ | FD_WRITE | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE;
}

/// `whence`.
pub mod whence {
    /// From the start.
    pub const SET: u8 = 0;
    /// From the current position.
    pub const CUR: u8 = 1;
    /// From the end.
    pub const END: u8 = 2;
}

/// `eventtype`.
pub mod eventtype {
    /// A clock subscription fired.
    pub const CLOCK: u8 = 0;
    /// A descriptor is readable.
    pub const FD_READ: u8 = 1;
    /// A descriptor is writable.
    pub const FD_WRITE: u8 = 2;
}

/// `subclockflags`: the timeout is an absolute time.
pub const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1;

/// Size of `fdstat`.
pub const FDSTAT_SIZE: usize = 24;
/// Size of `filestat`.
pub const FILESTAT_SIZE: usize = 64;
/// Size of `prestat`.
pub const PRESTAT_SIZE: usize = 8;
/// Size of a `dirent` header (the name follows).
pub const DIRENT_SIZE: usize = 24;
/// Size of `subscription`.
pub const SUBSCRIPTION_SIZE: usize = 48;
/// Size of `event`.
pub const EVENT_SIZE: usize = 32;
/// Size of `iovec` / `ciovec`.
pub const IOVEC_SIZE: usize = 8;

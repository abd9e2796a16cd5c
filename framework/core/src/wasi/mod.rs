// SPDX-License-Identifier: GPL-2.0

//! WASI preview 1, import module `wasi_snapshot_preview1`.
//!
//! File-system calls work beneath the directories preopened with
//! `cvctl run --dir`: the kernel resolves every path beneath the
//! descriptor's directory (as `openat2` `RESOLVE_BENEATH`), so `..`,
//! absolute paths and symbolic links cannot leave it (`ENOTCAPABLE`).
//! Unimplemented calls return `ENOSYS`.

pub mod abi;
mod fd;

use alloc::vec;
use alloc::vec::Vec;

use crate::guest::Caller;

use abi::{Errno, eventtype, fdflags, oflags, rights, whence};
pub use fd::{Fd, FdKind, FdTable};

use crate::guest_memory::{self, Claim};
use crate::hostcalls::Host;
use crate::instance::{HostState, OwnedFile, Stop};
use crate::platform::{Clock, FileKind, HostFile, OpenFlags, Whence};

/// Most `iovec`s in one call (Linux's `IOV_MAX`).
const IOV_MAX: usize = 1024;
/// Longest path accepted.
const PATH_MAX: usize = 4096;
/// Longest a `poll_oneoff` sleeps between readiness checks.
const POLL_STEP_NS: u64 = 10_000_000;

/// How a WASI call fails: an errno for the guest, or the instance stops.
enum Failure {
    Errno(Errno),
    Stop(Stop),
}

impl From<Errno> for Failure {
    fn from(e: Errno) -> Self {
        Failure::Errno(e)
    }
}

impl From<Stop> for Failure {
    fn from(s: Stop) -> Self {
        Failure::Stop(s)
    }
}

impl From<crate::platform::SysError> for Failure {
    fn from(e: crate::platform::SysError) -> Self {
        Failure::Errno(e.into())
    }
}

type WasiResult = Result<(), Failure>;

/// Runs a WASI call with the caller's memory and state.
fn call(
    caller: &mut Caller<'_>,
    f: impl FnOnce(&mut Mem<'_>, &mut HostState) -> WasiResult,
) -> Result<i32, wasmi::Error> {
    let (memory, state) = match guest_memory::memory_and_state(caller) {
        Ok(m) => m,
        Err(_) => return Ok(i32::from(Errno::FAULT.0)),
    };
    match f(&mut Mem(memory), state) {
        Ok(()) => Ok(0),
        Err(Failure::Errno(e)) => Ok(i32::from(e.0)),
        Err(Failure::Stop(s)) => Err(wasmi::Error::host(s)),
    }
}

/// The guest's linear memory, accessed through checked claims.
struct Mem<'a>(&'a mut [u8]);

impl Mem<'_> {
    fn bytes(&self, ptr: i32, len: usize) -> Result<&[u8], Errno> {
        let len = i32::try_from(len).map_err(|_| Errno::FAULT)?;
        guest_memory::read(self.0, Claim::new(ptr, len)).map_err(|_| Errno::FAULT)
    }

    fn bytes_mut(&mut self, ptr: i32, len: usize) -> Result<&mut [u8], Errno> {
        let len = i32::try_from(len).map_err(|_| Errno::FAULT)?;
        guest_memory::write(self.0, Claim::new(ptr, len)).map_err(|_| Errno::FAULT)
    }

    fn put(&mut self, ptr: i32, bytes: &[u8]) -> Result<(), Errno> {
        self.bytes_mut(ptr, bytes.len())?.copy_from_slice(bytes);
        Ok(())
    }

    fn put_u32(&mut self, ptr: i32, v: u32) -> Result<(), Errno> {
        self.put(ptr, &v.to_le_bytes())
    }

    fn put_u64(&mut self, ptr: i32, v: u64) -> Result<(), Errno> {
        self.put(ptr, &v.to_le_bytes())
    }

    fn path(&self, ptr: i32, len: i32) -> Result<&str, Errno> {
        let len = usize::try_from(len).map_err(|_| Errno::INVAL)?;
        if len > PATH_MAX {
            return Err(Errno::NAMETOOLONG);
        }
        let bytes = self.bytes(ptr, len)?;
        let path = core::str::from_utf8(bytes).map_err(|_| Errno::INVAL)?;
        if path.contains('\0') {
            return Err(Errno::INVAL);
        }
        Ok(path)
    }

    /// The number of entries of an `iovec` array, checked against memory.
    fn iovec_count(&self, ptr: i32, count: i32) -> Result<usize, Errno> {
        let count = usize::try_from(count).map_err(|_| Errno::INVAL)?;
        if count > IOV_MAX {
            return Err(Errno::INVAL);
        }
        self.bytes(ptr, count * abi::IOVEC_SIZE)?;
        Ok(count)
    }

    /// Entry `i` of the `iovec` array at `ptr`: its (pointer, length). The
    /// array is re-read for each entry, since writing into a buffer may
    /// have overwritten it.
    fn iovec(&self, ptr: i32, i: usize) -> Result<(i32, usize), Errno> {
        let c = self.bytes(ptr.wrapping_add((i * abi::IOVEC_SIZE) as i32), abi::IOVEC_SIZE)?;
        let buf = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i32;
        let len = u32::from_le_bytes([c[4], c[5], c[6], c[7]]) as usize;
        Ok((buf, len))
    }
}

/// The host file behind descriptor `n`.
fn file_of(state: &HostState, n: i32) -> Result<HostFile, Errno> {
    match &state.fds.get(n)?.kind {
        FdKind::Stdio(s) => state.stdio(*s).ok_or(Errno::BADF),
        FdKind::File(f) | FdKind::Dir { file: f, .. } => Ok(f.handle()),
    }
}

/// The directory behind descriptor `n`, for `path_*` calls.
fn dir_of(state: &HostState, n: i32, right: u64) -> Result<HostFile, Errno> {
    let fd = state.fds.get(n)?;
    match &fd.kind {
        FdKind::Dir { file, .. } => {
            fd.require(right)?;
            Ok(file.handle())
        }
        _ => Err(Errno::NOTDIR),
    }
}

/// Turns an interrupted system call into a stop if the instance must stop.
fn interrupted(state: &HostState, e: crate::platform::SysError) -> Failure {
    if e.is_interruption()
        && let Err(stop) = state.check_stop()
    {
        return stop.into();
    }
    e.into()
}

fn write_strings(mem: &mut Mem<'_>, list: &[alloc::boxed::Box<str>], pointers: i32, buf: i32) -> WasiResult {
    let mut offset = 0u32;
    for (i, s) in list.iter().enumerate() {
        let at = buf.wrapping_add(offset as i32);
        mem.put_u32(pointers.wrapping_add(4 * i as i32), at as u32)?;
        mem.put(at, s.as_bytes())?;
        mem.put(at.wrapping_add(s.len() as i32), &[0])?;
        offset += s.len() as u32 + 1;
    }
    Ok(())
}

fn sizes(mem: &mut Mem<'_>, list: &[alloc::boxed::Box<str>], count_ptr: i32, size_ptr: i32) -> WasiResult {
    mem.put_u32(count_ptr, list.len() as u32)?;
    mem.put_u32(size_ptr, list.iter().map(|s| s.len() as u32 + 1).sum())?;
    Ok(())
}

fn clock(id: i32) -> Result<Clock, Errno> {
    match id {
        0 => Ok(Clock::Realtime),
        1 => Ok(Clock::Monotonic),
        2 => Ok(Clock::ProcessCpu),
        3 => Ok(Clock::ThreadCpu),
        _ => Err(Errno::INVAL),
    }
}

fn filestat_bytes(st: &crate::platform::FileStat) -> [u8; abi::FILESTAT_SIZE] {
    let mut b = [0u8; abi::FILESTAT_SIZE];
    b[0..8].copy_from_slice(&st.dev.to_le_bytes());
    b[8..16].copy_from_slice(&st.ino.to_le_bytes());
    b[16] = st.kind;
    b[24..32].copy_from_slice(&st.nlink.to_le_bytes());
    b[32..40].copy_from_slice(&st.size.to_le_bytes());
    b[40..48].copy_from_slice(&st.atime_ns.to_le_bytes());
    b[48..56].copy_from_slice(&st.mtime_ns.to_le_bytes());
    b[56..64].copy_from_slice(&st.ctime_ns.to_le_bytes());
    b
}

/// Reads into each buffer in turn until a short read.
fn read_iovecs(
    mem: &mut Mem<'_>,
    state: &HostState,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    mut offset: Option<u64>,
) -> Result<u32, Failure> {
    state.fds.get(fd)?.require(rights::FD_READ)?;
    let file = file_of(state, fd)?;
    let mut total = 0usize;
    for i in 0..mem.iovec_count(iovs, iovs_len)? {
        let (buf, len) = mem.iovec(iovs, i)?;
        let dest = mem.bytes_mut(buf, len)?;
        let n = match state.platform.read(file, dest, offset) {
            Ok(n) => n,
            Err(_) if total > 0 => break,
            Err(e) => return Err(interrupted(state, e)),
        };
        total += n;
        offset = offset.map(|o| o + n as u64);
        if n < len {
            break;
        }
    }
    Ok(total.min(u32::MAX as usize) as u32)
}

/// Writes each buffer in turn until a short write.
fn write_iovecs(
    mem: &mut Mem<'_>,
    state: &HostState,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    mut offset: Option<u64>,
) -> Result<u32, Failure> {
    state.fds.get(fd)?.require(rights::FD_WRITE)?;
    let file = file_of(state, fd)?;
    let mut total = 0usize;
    for i in 0..mem.iovec_count(iovs, iovs_len)? {
        let (buf, len) = mem.iovec(iovs, i)?;
        let src = mem.bytes(buf, len)?;
        let n = match state.platform.write(file, src, offset) {
            Ok(n) => n,
            Err(_) if total > 0 => break,
            Err(e) => return Err(interrupted(state, e)),
        };
        total += n;
        offset = offset.map(|o| o + n as u64);
        if n < len {
            break;
        }
    }
    Ok(total.min(u32::MAX as usize) as u32)
}

/// Opens the preopened directory `host` as descriptor 3, 4, ... named `guest`.
pub(crate) fn preopen(state: &mut HostState, host: &str, guest: &str) -> Result<u32, crate::platform::SysError> {
    let flags = OpenFlags { read: true, directory: true, ..OpenFlags::default() };
    let dir = state.platform.open(host, flags)?;
    let file = OwnedFile::new(state.platform, dir);
    let fd = Fd {
        kind: FdKind::Dir { file, preopen: Some(guest.into()) },
        rights: rights::DIRECTORY,
        inheriting: rights::DIRECTORY | rights::FILE,
    };
    Ok(state.fds.insert(fd))
}

/// An implemented-nowhere call: `ENOSYS`, with no side effect.
fn nosys() -> Result<i32, wasmi::Error> {
    Ok(i32::from(Errno::NOSYS.0))
}

type HostResult = Result<i32, wasmi::Error>;

impl Host {
    pub(crate) fn args_get(c: &mut Caller<'_>, argv: i32, argv_buf: i32) -> HostResult {
        call(c, |mem, st| write_strings(mem, &st.args, argv, argv_buf))
    }

    pub(crate) fn args_sizes_get(c: &mut Caller<'_>, argc: i32, size: i32) -> HostResult {
        call(c, |mem, st| sizes(mem, &st.args, argc, size))
    }

    pub(crate) fn environ_get(c: &mut Caller<'_>, environ: i32, buf: i32) -> HostResult {
        call(c, |mem, st| write_strings(mem, &st.env, environ, buf))
    }

    pub(crate) fn environ_sizes_get(c: &mut Caller<'_>, count: i32, size: i32) -> HostResult {
        call(c, |mem, st| sizes(mem, &st.env, count, size))
    }

    pub(crate) fn clock_res_get(c: &mut Caller<'_>, id: i32, res: i32) -> HostResult {
        call(c, |mem, _| {
            clock(id)?;
            // The kernel's clocks count nanoseconds.
            Ok(mem.put_u64(res, 1)?)
        })
    }

    pub(crate) fn clock_time_get(c: &mut Caller<'_>, id: i32, _precision: i64, time: i32) -> HostResult {
        call(c, |mem, st| Ok(mem.put_u64(time, st.platform.now(clock(id)?))?))
    }

    pub(crate) fn fd_advise(_: &mut Caller<'_>, _: i32, _: i64, _: i64, _: i32) -> HostResult {
        nosys()
    }

    pub(crate) fn fd_allocate(_: &mut Caller<'_>, _: i32, _: i64, _: i64) -> HostResult {
        nosys()
    }

    pub(crate) fn fd_close(c: &mut Caller<'_>, fd: i32) -> HostResult {
        call(c, |_, st| {
            st.fds.remove(fd)?;
            Ok(())
        })
    }

    pub(crate) fn fd_datasync(c: &mut Caller<'_>, fd: i32) -> HostResult {
        call(c, |_, st| {
            st.fds.get(fd)?.require(rights::FD_DATASYNC)?;
            Ok(st.platform.sync(file_of(st, fd)?, true)?)
        })
    }

    pub(crate) fn fd_fdstat_get(c: &mut Caller<'_>, fd: i32, stat: i32) -> HostResult {
        call(c, |mem, st| {
            let entry = st.fds.get(fd)?;
            let (rights, inheriting) = (entry.rights, entry.inheriting);
            let status = st.platform.status(file_of(st, fd)?)?;
            let mut flags = 0u16;
            if status.append {
                flags |= fdflags::APPEND;
            }
            if status.nonblock {
                flags |= fdflags::NONBLOCK;
            }
            let mut b = [0u8; abi::FDSTAT_SIZE];
            b[0] = status.kind;
            b[2..4].copy_from_slice(&flags.to_le_bytes());
            b[8..16].copy_from_slice(&rights.to_le_bytes());
            b[16..24].copy_from_slice(&inheriting.to_le_bytes());
            Ok(mem.put(stat, &b)?)
        })
    }

    pub(crate) fn fd_fdstat_set_flags(c: &mut Caller<'_>, fd: i32, flags: i32) -> HostResult {
        call(c, |_, st| {
            st.fds.get(fd)?.require(rights::FD_FDSTAT_SET_FLAGS)?;
            let flags = flags as u16;
            if flags & !(fdflags::APPEND | fdflags::NONBLOCK) != 0 {
                return Err(Errno::NOTSUP.into());
            }
            let file = file_of(st, fd)?;
            Ok(st.platform.set_status(file, flags & fdflags::APPEND != 0, flags & fdflags::NONBLOCK != 0)?)
        })
    }

    pub(crate) fn fd_fdstat_set_rights(c: &mut Caller<'_>, fd: i32, base: i64, inheriting: i64) -> HostResult {
        call(c, |_, st| {
            let entry = st.fds.get_mut(fd)?;
            let (base, inheriting) = (base as u64, inheriting as u64);
            if base & !entry.rights != 0 || inheriting & !entry.inheriting != 0 {
                return Err(Errno::NOTCAPABLE.into());
            }
            entry.rights = base;
            entry.inheriting = inheriting;
            Ok(())
        })
    }

    pub(crate) fn fd_filestat_get(c: &mut Caller<'_>, fd: i32, buf: i32) -> HostResult {
        call(c, |mem, st| {
            st.fds.get(fd)?.require(rights::FD_FILESTAT_GET)?;
            let stat = st.platform.stat(file_of(st, fd)?)?;
            Ok(mem.put(buf, &filestat_bytes(&stat))?)
        })
    }

    pub(crate) fn fd_filestat_set_size(c: &mut Caller<'_>, fd: i32, size: i64) -> HostResult {
        call(c, |_, st| {
            st.fds.get(fd)?.require(rights::FD_FILESTAT_SET_SIZE)?;
            let size = u64::try_from(size).map_err(|_| Errno::INVAL)?;
            Ok(st.platform.set_size(file_of(st, fd)?, size)?)
        })
    }

    pub(crate) fn fd_filestat_set_times(_: &mut Caller<'_>, _: i32, _: i64, _: i64, _: i32) -> HostResult {
        nosys()
    }

    pub(crate) fn fd_pread(c: &mut Caller<'_>, fd: i32, iovs: i32, len: i32, offset: i64, nread: i32) -> HostResult {
        call(c, |mem, st| {
            let offset = u64::try_from(offset).map_err(|_| Errno::INVAL)?;
            let n = read_iovecs(mem, st, fd, iovs, len, Some(offset))?;
            Ok(mem.put_u32(nread, n)?)
        })
    }

    pub(crate) fn fd_prestat_get(c: &mut Caller<'_>, fd: i32, prestat: i32) -> HostResult {
        call(c, |mem, st| match &st.fds.get(fd)?.kind {
            FdKind::Dir { preopen: Some(name), .. } => {
                let mut b = [0u8; abi::PRESTAT_SIZE];
                b[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
                Ok(mem.put(prestat, &b)?)
            }
            _ => Err(Errno::BADF.into()),
        })
    }

    pub(crate) fn fd_prestat_dir_name(c: &mut Caller<'_>, fd: i32, path: i32, len: i32) -> HostResult {
        call(c, |mem, st| match &st.fds.get(fd)?.kind {
            FdKind::Dir { preopen: Some(name), .. } => {
                let len = usize::try_from(len).map_err(|_| Errno::INVAL)?;
                if len < name.len() {
                    return Err(Errno::NAMETOOLONG.into());
                }
                Ok(mem.put(path, name.as_bytes())?)
            }
            _ => Err(Errno::BADF.into()),
        })
    }

    pub(crate) fn fd_pwrite(
        c: &mut Caller<'_>,
        fd: i32,
        iovs: i32,
        len: i32,
        offset: i64,
        nwritten: i32,
    ) -> HostResult {
        call(c, |mem, st| {
            let offset = u64::try_from(offset).map_err(|_| Errno::INVAL)?;
            let n = write_iovecs(mem, st, fd, iovs, len, Some(offset))?;
            Ok(mem.put_u32(nwritten, n)?)
        })
    }

    pub(crate) fn fd_read(c: &mut Caller<'_>, fd: i32, iovs: i32, len: i32, nread: i32) -> HostResult {
        call(c, |mem, st| {
            let n = read_iovecs(mem, st, fd, iovs, len, None)?;
            Ok(mem.put_u32(nread, n)?)
        })
    }

    pub(crate) fn fd_readdir(
        c: &mut Caller<'_>,
        fd: i32,
        buf: i32,
        buf_len: i32,
        cookie: i64,
        used: i32,
    ) -> HostResult {
        call(c, |mem, st| {
            let dir = dir_of(st, fd, rights::FD_READDIR)?;
            let buf_len = usize::try_from(buf_len).map_err(|_| Errno::INVAL)?;
            let out = mem.bytes_mut(buf, buf_len)?;
            let mut filled = 0usize;
            st.platform.read_dir(dir, cookie as u64, &mut |entry| {
                let mut header = [0u8; abi::DIRENT_SIZE];
                header[0..8].copy_from_slice(&entry.next.to_le_bytes());
                header[8..16].copy_from_slice(&entry.ino.to_le_bytes());
                header[16..20].copy_from_slice(&(entry.name.len() as u32).to_le_bytes());
                header[20] = entry.kind;
                // As much of the entry as fits; a full buffer tells the
                // guest to call again from its last complete entry.
                for part in [&header[..], entry.name] {
                    let n = part.len().min(out.len() - filled);
                    out[filled..filled + n].copy_from_slice(&part[..n]);
                    filled += n;
                }
                filled < out.len()
            })?;
            Ok(mem.put_u32(used, filled as u32)?)
        })
    }

    pub(crate) fn fd_renumber(c: &mut Caller<'_>, fd: i32, to: i32) -> HostResult {
        call(c, |_, st| Ok(st.fds.renumber(fd, to)?))
    }

    pub(crate) fn fd_seek(c: &mut Caller<'_>, fd: i32, offset: i64, how: i32, new: i32) -> HostResult {
        call(c, |mem, st| {
            st.fds.get(fd)?.require(rights::FD_SEEK)?;
            let how = match how as u8 {
                whence::SET => Whence::Set,
                whence::CUR => Whence::Current,
                whence::END => Whence::End,
                _ => return Err(Errno::INVAL.into()),
            };
            let pos = st.platform.seek(file_of(st, fd)?, offset, how)?;
            Ok(mem.put_u64(new, pos)?)
        })
    }

    pub(crate) fn fd_sync(c: &mut Caller<'_>, fd: i32) -> HostResult {
        call(c, |_, st| {
            st.fds.get(fd)?.require(rights::FD_SYNC)?;
            Ok(st.platform.sync(file_of(st, fd)?, false)?)
        })
    }

    pub(crate) fn fd_tell(c: &mut Caller<'_>, fd: i32, offset: i32) -> HostResult {
        call(c, |mem, st| {
            st.fds.get(fd)?.require(rights::FD_TELL)?;
            let pos = st.platform.seek(file_of(st, fd)?, 0, Whence::Current)?;
            Ok(mem.put_u64(offset, pos)?)
        })
    }

    pub(crate) fn fd_write(c: &mut Caller<'_>, fd: i32, iovs: i32, len: i32, nwritten: i32) -> HostResult {
        call(c, |mem, st| {
            let n = write_iovecs(mem, st, fd, iovs, len, None)?;
            Ok(mem.put_u32(nwritten, n)?)
        })
    }

    pub(crate) fn path_create_directory(c: &mut Caller<'_>, fd: i32, path: i32, len: i32) -> HostResult {
        call(c, |mem, st| {
            let dir = dir_of(st, fd, rights::PATH_CREATE_DIRECTORY)?;
            Ok(st.platform.mkdir_at(dir, mem.path(path, len)?)?)
        })
    }

    pub(crate) fn path_filestat_get(
        c: &mut Caller<'_>,
        fd: i32,
        flags: i32,
        path: i32,
        len: i32,
        buf: i32,
    ) -> HostResult {
        call(c, |mem, st| {
            let dir = dir_of(st, fd, rights::PATH_FILESTAT_GET)?;
            let follow = flags as u32 & abi::LOOKUP_SYMLINK_FOLLOW != 0;
            let stat = st.platform.stat_at(dir, mem.path(path, len)?, follow)?;
            Ok(mem.put(buf, &filestat_bytes(&stat))?)
        })
    }

    #[expect(clippy::too_many_arguments, reason = "the WASI signature")]
    pub(crate) fn path_filestat_set_times(
        _: &mut Caller<'_>,
        _: i32,
        _: i32,
        _: i32,
        _: i32,
        _: i64,
        _: i64,
        _: i32,
    ) -> HostResult {
        nosys()
    }

    #[expect(clippy::too_many_arguments, reason = "the WASI signature")]
    pub(crate) fn path_link(_: &mut Caller<'_>, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32) -> HostResult {
        nosys()
    }

    #[expect(clippy::too_many_arguments, reason = "the WASI signature")]
    pub(crate) fn path_open(
        c: &mut Caller<'_>,
        fd: i32,
        dirflags: i32,
        path: i32,
        len: i32,
        oflags: i32,
        base: i64,
        inheriting: i64,
        fdflags: i32,
        opened: i32,
    ) -> HostResult {
        call(c, |mem, st| {
            let parent = st.fds.get(fd)?;
            let (parent_inheriting, dir) = match &parent.kind {
                FdKind::Dir { file, .. } => (parent.inheriting, file.handle()),
                _ => return Err(Errno::NOTDIR.into()),
            };
            parent.require(rights::PATH_OPEN)?;
            if !st.may_open_file() {
                return Err(Errno::MFILE.into());
            }
            let (oflags, fdflags, base) = (oflags as u16, fdflags as u16, base as u64);
            let directory = oflags & oflags::DIRECTORY != 0;
            let write =
                !directory && base & (rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE) != 0;
            let read = base & (rights::FD_READ | rights::FD_READDIR) != 0 || !write;
            let flags = OpenFlags {
                read,
                write,
                create: oflags & oflags::CREAT != 0,
                exclusive: oflags & oflags::EXCL != 0,
                truncate: oflags & oflags::TRUNC != 0,
                directory,
                nofollow: dirflags as u32 & abi::LOOKUP_SYMLINK_FOLLOW == 0,
                append: fdflags & fdflags::APPEND != 0,
                nonblock: fdflags & fdflags::NONBLOCK != 0,
            };
            let file = st.platform.open_at(dir, mem.path(path, len)?, flags, 0o666)?;
            let file = OwnedFile::new(st.platform, file);
            let kind = st.platform.status(file.handle())?.kind;
            let is_dir = kind == FileKind::Directory as u8;
            let (own, entry_kind) = if is_dir {
                (rights::DIRECTORY, FdKind::Dir { file, preopen: None })
            } else {
                (rights::FILE, FdKind::File(file))
            };
            let entry = Fd {
                kind: entry_kind,
                rights: base & own & parent_inheriting,
                inheriting: inheriting as u64 & parent_inheriting,
            };
            let n = st.fds.insert(entry);
            Ok(mem.put_u32(opened, n)?)
        })
    }

    pub(crate) fn path_readlink(
        c: &mut Caller<'_>,
        fd: i32,
        path: i32,
        len: i32,
        buf: i32,
        buf_len: i32,
        used: i32,
    ) -> HostResult {
        call(c, |mem, st| {
            let dir = dir_of(st, fd, rights::PATH_READLINK)?;
            let mut target = vec![0u8; PATH_MAX];
            let n = st.platform.readlink_at(dir, mem.path(path, len)?, &mut target)?;
            let buf_len = usize::try_from(buf_len).map_err(|_| Errno::INVAL)?;
            let n = n.min(buf_len);
            mem.put(buf, &target[..n])?;
            Ok(mem.put_u32(used, n as u32)?)
        })
    }

    pub(crate) fn path_remove_directory(c: &mut Caller<'_>, fd: i32, path: i32, len: i32) -> HostResult {
        call(c, |mem, st| {
            let dir = dir_of(st, fd, rights::PATH_REMOVE_DIRECTORY)?;
            Ok(st.platform.rmdir_at(dir, mem.path(path, len)?)?)
        })
    }

    pub(crate) fn path_rename(
        c: &mut Caller<'_>,
        fd: i32,
        old: i32,
        old_len: i32,
        new_fd: i32,
        new: i32,
        new_len: i32,
    ) -> HostResult {
        call(c, |mem, st| {
            let old_dir = dir_of(st, fd, rights::PATH_RENAME_SOURCE)?;
            let new_dir = dir_of(st, new_fd, rights::PATH_RENAME_TARGET)?;
            Ok(st.platform.rename_at(old_dir, mem.path(old, old_len)?, new_dir, mem.path(new, new_len)?)?)
        })
    }

    pub(crate) fn path_symlink(
        c: &mut Caller<'_>,
        old: i32,
        old_len: i32,
        fd: i32,
        new: i32,
        new_len: i32,
    ) -> HostResult {
        call(c, |mem, st| {
            let dir = dir_of(st, fd, rights::PATH_SYMLINK)?;
            let target = mem.path(old, old_len)?;
            // A link pointing outside its preopen could not be followed by
            // the app anyway; refusing it keeps host processes from being
            // led out of the directory by it.
            if target.starts_with('/') {
                return Err(Errno::NOTCAPABLE.into());
            }
            Ok(st.platform.symlink_at(target, dir, mem.path(new, new_len)?)?)
        })
    }

    pub(crate) fn path_unlink_file(c: &mut Caller<'_>, fd: i32, path: i32, len: i32) -> HostResult {
        call(c, |mem, st| {
            let dir = dir_of(st, fd, rights::PATH_UNLINK_FILE)?;
            Ok(st.platform.unlink_at(dir, mem.path(path, len)?)?)
        })
    }

    pub(crate) fn poll_oneoff(c: &mut Caller<'_>, subs: i32, events: i32, count: i32, nevents: i32) -> HostResult {
        call(c, |mem, st| poll_oneoff(mem, st, subs, events, count, nevents))
    }

    pub(crate) fn proc_exit(_: &mut Caller<'_>, code: i32) -> Result<(), wasmi::Error> {
        Err(wasmi::Error::i32_exit(code))
    }

    pub(crate) fn proc_raise(_: &mut Caller<'_>, _: i32) -> HostResult {
        nosys()
    }

    pub(crate) fn sched_yield(c: &mut Caller<'_>) -> HostResult {
        c.data().platform.yield_now();
        Ok(0)
    }

    pub(crate) fn random_get(c: &mut Caller<'_>, buf: i32, len: i32) -> HostResult {
        call(c, |mem, st| {
            let len = usize::try_from(len).map_err(|_| Errno::INVAL)?;
            st.platform.random(mem.bytes_mut(buf, len)?);
            Ok(())
        })
    }

    pub(crate) fn sock_accept(_: &mut Caller<'_>, _: i32, _: i32, _: i32) -> HostResult {
        nosys()
    }

    pub(crate) fn sock_recv(_: &mut Caller<'_>, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32) -> HostResult {
        nosys()
    }

    pub(crate) fn sock_send(_: &mut Caller<'_>, _: i32, _: i32, _: i32, _: i32, _: i32) -> HostResult {
        nosys()
    }

    pub(crate) fn sock_shutdown(_: &mut Caller<'_>, _: i32, _: i32) -> HostResult {
        nosys()
    }
}

/// One parsed subscription.
enum Subscription {
    Clock { deadline: u64, clock: Clock },
    Read(i32),
    Write(i32),
}

fn poll_oneoff(mem: &mut Mem<'_>, st: &mut HostState, subs: i32, events: i32, count: i32, nevents: i32) -> WasiResult {
    let count = usize::try_from(count).map_err(|_| Errno::INVAL)?;
    if count == 0 || count > IOV_MAX {
        return Err(Errno::INVAL.into());
    }
    let raw = mem.bytes(subs, count * abi::SUBSCRIPTION_SIZE)?.to_vec();
    let mut parsed = Vec::with_capacity(count);
    for s in raw.chunks_exact(abi::SUBSCRIPTION_SIZE) {
        let userdata = u64::from_le_bytes(s[0..8].try_into().unwrap_or_default());
        let u32_at = |o: usize| u32::from_le_bytes(s[o..o + 4].try_into().unwrap_or_default());
        let u64_at = |o: usize| u64::from_le_bytes(s[o..o + 8].try_into().unwrap_or_default());
        let sub = match s[8] {
            eventtype::CLOCK => {
                let clock = clock(u32_at(16) as i32)?;
                let timeout = u64_at(24);
                let flags = u16::from_le_bytes([s[40], s[41]]);
                let deadline = if flags & abi::SUBSCRIPTION_CLOCK_ABSTIME != 0 {
                    timeout
                } else {
                    st.platform.now(clock).saturating_add(timeout)
                };
                Subscription::Clock { deadline, clock }
            }
            eventtype::FD_READ => Subscription::Read(u32_at(16) as i32),
            eventtype::FD_WRITE => Subscription::Write(u32_at(16) as i32),
            _ => return Err(Errno::INVAL.into()),
        };
        parsed.push((userdata, sub));
    }
    loop {
        let mut fired = Vec::new();
        let mut wait = u64::MAX;
        for (userdata, sub) in &parsed {
            match sub {
                Subscription::Clock { deadline, clock } => {
                    let now = st.platform.now(*clock);
                    if now >= *deadline {
                        fired.push((*userdata, Errno::SUCCESS, eventtype::CLOCK));
                    } else {
                        wait = wait.min(deadline - now);
                    }
                }
                Subscription::Read(fd) => match file_of(st, *fd) {
                    Ok(file) if st.platform.readable_now(file) => {
                        fired.push((*userdata, Errno::SUCCESS, eventtype::FD_READ))
                    }
                    Ok(_) => wait = wait.min(POLL_STEP_NS),
                    Err(e) => fired.push((*userdata, e, eventtype::FD_READ)),
                },
                Subscription::Write(fd) => match file_of(st, *fd) {
                    Ok(_) => fired.push((*userdata, Errno::SUCCESS, eventtype::FD_WRITE)),
                    Err(e) => fired.push((*userdata, e, eventtype::FD_WRITE)),
                },
            }
        }
        if !fired.is_empty() {
            for (i, (userdata, error, kind)) in fired.iter().enumerate() {
                let mut e = [0u8; abi::EVENT_SIZE];
                e[0..8].copy_from_slice(&userdata.to_le_bytes());
                e[8..10].copy_from_slice(&error.0.to_le_bytes());
                e[10] = *kind;
                if *kind != eventtype::CLOCK && *error == Errno::SUCCESS {
                    // The byte count is not known; at least one is ready.
                    e[16..24].copy_from_slice(&1u64.to_le_bytes());
                }
                mem.put(events.wrapping_add((i * abi::EVENT_SIZE) as i32), &e)?;
            }
            return Ok(mem.put_u32(nevents, fired.len() as u32)?);
        }
        st.sleep(wait)?;
    }
}

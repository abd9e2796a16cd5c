// SPDX-License-Identifier: GPL-2.0

//! The core's [`Platform`], implemented with the glue's host services.
//!
//! File operations name the instance the calling task is running (from the
//! supervisor), and the glue refuses handles that instance does not hold.

use alloc::sync::Arc;
use cervus_core::platform::{Clock, DirEntry, FileStat, FileStatus, HostFile, OpenFlags, SysError, TaskToken, Whence};

use cervus_core::{HeapStats, InstanceId, Level, Platform, Stdio};
use cervus_jit::runtime::Code;

use crate::call::{
    HOST_DIRENT_WORDS, HOST_STAT_WORDS, HOST_STATUS_APPEND, HOST_STATUS_KIND_SHIFT, HOST_STATUS_NONBLOCK,
    HOST_STATUS_READ, HOST_STATUS_WRITE,
};
use crate::host::{self, LogLevel};
use crate::{heap, supervisor};

/// Stack left below JIT-compiled code's frames for the hostcalls it makes
/// (the core's hostcall, then the kernel's file, device and network
/// services). The private stack is 256 KiB (`framework/kmod/stack.rs`).
const HOSTCALL_STACK: usize = 96 * 1024;

/// The kernel, as seen by the core.
pub struct KernelPlatform;

/// The one platform instance.
pub static PLATFORM: KernelPlatform = KernelPlatform;

/// Linux `open(2)` flags (x86-64 UAPI values).
mod o {
    pub const RDONLY: i32 = 0;
    pub const WRONLY: i32 = 0o1;
    pub const RDWR: i32 = 0o2;
    pub const CREAT: i32 = 0o100;
    pub const EXCL: i32 = 0o200;
    pub const TRUNC: i32 = 0o1000;
    pub const APPEND: i32 = 0o2000;
    pub const NONBLOCK: i32 = 0o4000;
    pub const DIRECTORY: i32 = 0o200000;
    pub const NOFOLLOW: i32 = 0o400000;
}

fn open_flags(f: OpenFlags) -> i32 {
    let access = match (f.read, f.write) {
        (_, false) => o::RDONLY,
        (false, true) => o::WRONLY,
        (true, true) => o::RDWR,
    };
    let bit = |on: bool, flag: i32| if on { flag } else { 0 };
    access
        | bit(f.create, o::CREAT)
        | bit(f.exclusive, o::EXCL)
        | bit(f.truncate, o::TRUNC)
        | bit(f.directory, o::DIRECTORY)
        | bit(f.nofollow, o::NOFOLLOW)
        | bit(f.append, o::APPEND)
        | bit(f.nonblock, o::NONBLOCK)
}

fn stat(words: [u64; HOST_STAT_WORDS]) -> FileStat {
    FileStat {
        dev: words[0],
        ino: words[1],
        kind: words[2] as u8,
        nlink: words[3],
        size: words[4],
        atime_ns: words[5],
        mtime_ns: words[6],
        ctime_ns: words[7],
    }
}

/// The instance the calling task runs: the owner its file handles carry.
fn owner() -> u32 {
    supervisor::running_instance()
}

fn sys<T>(r: host::HostResult<T>) -> Result<T, SysError> {
    r.map_err(SysError)
}

impl Platform for KernelPlatform {
    fn stdio(&self, stdio: Stdio) -> Option<HostFile> {
        match host::file_stdio(owner(), stdio as u32) {
            0 => None,
            handle => Some(HostFile(handle)),
        }
    }

    fn open(&self, path: &str, flags: OpenFlags) -> Result<HostFile, SysError> {
        sys(host::file_open(owner(), path, open_flags(flags))).map(HostFile)
    }

    fn open_at(&self, dir: HostFile, path: &str, flags: OpenFlags, mode: u32) -> Result<HostFile, SysError> {
        sys(host::file_open_at(owner(), dir.0, path, open_flags(flags), mode)).map(HostFile)
    }

    fn close(&self, file: HostFile) {
        host::file_close(owner(), file.0)
    }

    fn read(&self, file: HostFile, buf: &mut [u8], at: Option<u64>) -> Result<usize, SysError> {
        sys(host::file_read(owner(), file.0, buf, at))
    }

    fn write(&self, file: HostFile, buf: &[u8], at: Option<u64>) -> Result<usize, SysError> {
        sys(host::file_write(owner(), file.0, buf, at))
    }

    fn seek(&self, file: HostFile, offset: i64, whence: Whence) -> Result<u64, SysError> {
        let whence = match whence {
            Whence::Set => 0,
            Whence::Current => 1,
            Whence::End => 2,
        };
        sys(host::file_seek(owner(), file.0, offset, whence))
    }

    fn stat(&self, file: HostFile) -> Result<FileStat, SysError> {
        sys(host::file_stat(owner(), file.0)).map(stat)
    }

    fn stat_at(&self, dir: HostFile, path: &str, follow: bool) -> Result<FileStat, SysError> {
        sys(host::file_stat_at(owner(), dir.0, path, follow)).map(stat)
    }

    fn status(&self, file: HostFile) -> Result<FileStatus, SysError> {
        let bits = sys(host::file_status(owner(), file.0))?;
        Ok(FileStatus {
            readable: bits & HOST_STATUS_READ != 0,
            writable: bits & HOST_STATUS_WRITE != 0,
            append: bits & HOST_STATUS_APPEND != 0,
            nonblock: bits & HOST_STATUS_NONBLOCK != 0,
            kind: (bits >> HOST_STATUS_KIND_SHIFT) as u8,
        })
    }

    fn set_status(&self, file: HostFile, append: bool, nonblock: bool) -> Result<(), SysError> {
        sys(host::file_set_status(owner(), file.0, append, nonblock))
    }

    fn read_dir(
        &self,
        dir: HostFile,
        mut cookie: u64,
        entry: &mut dyn FnMut(&DirEntry<'_>) -> bool,
    ) -> Result<(), SysError> {
        const BATCH: usize = 32;
        let mut entries = [0u64; BATCH * HOST_DIRENT_WORDS];
        let mut names = [0u8; 4096];
        loop {
            let count = sys(host::file_read_dir(owner(), dir.0, cookie, &mut entries, &mut names))?;
            if count == 0 {
                return Ok(());
            }
            let mut offset = 0;
            for e in entries.chunks_exact(HOST_DIRENT_WORDS).take(count) {
                let len = e[3] as usize;
                let name = names.get(offset..offset + len).ok_or(SysError::EIO)?;
                offset += len;
                if !entry(&DirEntry { next: e[0], ino: e[1], kind: e[2] as u8, name }) {
                    return Ok(());
                }
                cookie = e[0];
            }
        }
    }

    fn mkdir_at(&self, dir: HostFile, path: &str) -> Result<(), SysError> {
        sys(host::file_mkdir_at(owner(), dir.0, path))
    }

    fn rmdir_at(&self, dir: HostFile, path: &str) -> Result<(), SysError> {
        sys(host::file_rmdir_at(owner(), dir.0, path))
    }

    fn unlink_at(&self, dir: HostFile, path: &str) -> Result<(), SysError> {
        sys(host::file_unlink_at(owner(), dir.0, path))
    }

    fn rename_at(&self, old_dir: HostFile, old: &str, new_dir: HostFile, new: &str) -> Result<(), SysError> {
        sys(host::file_rename_at(owner(), old_dir.0, old, new_dir.0, new))
    }

    fn symlink_at(&self, target: &str, dir: HostFile, path: &str) -> Result<(), SysError> {
        sys(host::file_symlink_at(owner(), target, dir.0, path))
    }

    fn readlink_at(&self, dir: HostFile, path: &str, buf: &mut [u8]) -> Result<usize, SysError> {
        sys(host::file_readlink_at(owner(), dir.0, path, buf))
    }

    fn sync(&self, file: HostFile, data_only: bool) -> Result<(), SysError> {
        sys(host::file_sync(owner(), file.0, data_only))
    }

    fn set_size(&self, file: HostFile, size: u64) -> Result<(), SysError> {
        sys(host::file_set_size(owner(), file.0, size))
    }

    fn readable_now(&self, file: HostFile) -> bool {
        host::file_readable_now(owner(), file.0)
    }

    fn now(&self, clock: Clock) -> u64 {
        host::now(clock as u32)
    }

    fn sleep(&self, ns: u64) -> bool {
        host::sleep_ns(ns)
    }

    fn random(&self, buf: &mut [u8]) {
        host::random(buf)
    }

    fn capable_sys_admin(&self) -> bool {
        host::capable_sys_admin()
    }

    fn current_task(&self) -> TaskToken {
        TaskToken(host::current_task())
    }

    fn interrupt_task(&self, task: TaskToken) {
        // SAFETY: the registry calls this under its lock, for the task of a
        // live instance, which cannot leave the engine meanwhile.
        unsafe { host::interrupt_task(task.0) }
    }

    fn interrupted(&self) -> bool {
        host::signal_pending()
    }

    fn yield_now(&self) {
        host::yield_now()
    }

    fn log(&self, level: Level, args: core::fmt::Arguments<'_>) {
        let level = match level {
            Level::Error => LogLevel::Error,
            Level::Warning => LogLevel::Warning,
            Level::Info => LogLevel::Info,
        };
        let mut line = heapless::String::<256>::new();
        supervisor::format_bounded(&mut line, args);
        host::log(level, &line);
    }

    fn heap_stats(&self) -> HeapStats {
        heap::stats()
    }

    fn set_running(&self, instance: Option<InstanceId>) {
        supervisor::set_running(instance)
    }

    fn devices(&self) -> &dyn cervus_core::driver::Devices {
        &crate::devices::KernelDevices
    }

    fn load_code(&self, image: &[u8], floats: bool) -> Result<Arc<dyn Code>, SysError> {
        crate::code::load(image, floats)
    }

    fn jit_stack_limit(&self) -> u64 {
        match supervisor::stack_base() {
            // Not in an engine call: no stack to give, every call traps.
            0 => u64::MAX,
            base => (base + HOSTCALL_STACK + cervus_jit::MAX_FRAME as usize) as u64,
        }
    }
}

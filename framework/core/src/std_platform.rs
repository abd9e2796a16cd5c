// SPDX-License-Identifier: GPL-2.0

//! A [`Platform`] over `std`, for running the core in user space: the
//! host-side tests, the `run` example, and differential testing.
//!
//! Standard streams are either this process's own or in-memory buffers.
//! "Beneath a directory" is enforced lexically (no absolute paths, no `..`
//! above the directory) and by canonicalising the result, which is enough
//! to exercise the core; the kernel does the real thing with
//! `LOOKUP_BENEATH`.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::string::{String, ToString};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use std::vec::Vec;

use crate::platform::{
    Clock, DirEntry, FileKind, FileStat, FileStatus, HeapStats, HostFile, Level, OpenFlags, Platform, Stdio, SysError,
    TaskToken, Whence,
};
use crate::registry::InstanceId;

const STDIN: u64 = 1;
const STDOUT: u64 = 2;
const STDERR: u64 = 3;

enum Entry {
    File(File),
    Dir(PathBuf),
}

/// The core's platform in user space.
#[derive(Default)]
pub struct StdPlatform {
    /// Use this process's standard streams instead of the buffers below.
    pub inherit_stdio: bool,
    /// Input for standard input (when not inherited).
    pub stdin: Mutex<Vec<u8>>,
    /// What was written to standard output (when not inherited).
    pub stdout: Mutex<Vec<u8>>,
    /// What was written to standard error (when not inherited).
    pub stderr: Mutex<Vec<u8>>,
    /// Lines logged.
    pub log: Mutex<Vec<String>>,
    /// Yields so far.
    pub yields: AtomicU64,
    /// Report a signal once this many yields have happened (0 = never).
    pub signal_after_yields: AtomicU64,
    /// Every `set_running` call, in order.
    pub running: Mutex<Vec<Option<InstanceId>>>,
    /// What `capable_sys_admin` answers.
    pub sys_admin: AtomicBool,
    files: Mutex<HashMap<u64, Entry>>,
    next: AtomicU64,
    /// Open host files (not counting standard streams).
    pub open_files: AtomicU64,
    /// The device drivers get: a fake `edu`.
    pub edu: crate::fake_edu::FakeEdu,
}

fn sys(e: std::io::Error) -> SysError {
    SysError(e.raw_os_error().unwrap_or(5))
}

fn kind_of(meta: &fs::Metadata) -> u8 {
    let t = meta.file_type();
    (if t.is_dir() {
        FileKind::Directory
    } else if t.is_symlink() {
        FileKind::Symlink
    } else if t.is_file() {
        FileKind::Regular
    } else {
        FileKind::Unknown
    }) as u8
}

fn stat_of(meta: &fs::Metadata) -> FileStat {
    FileStat {
        dev: meta.dev(),
        ino: meta.ino(),
        kind: kind_of(meta),
        nlink: meta.nlink(),
        size: meta.size(),
        atime_ns: meta.atime() as u64 * 1_000_000_000,
        mtime_ns: meta.mtime() as u64 * 1_000_000_000,
        ctime_ns: meta.ctime() as u64 * 1_000_000_000,
    }
}

impl StdPlatform {
    /// A platform using this process's standard streams.
    pub fn inheriting_stdio() -> Self {
        StdPlatform { inherit_stdio: true, ..Default::default() }
    }

    fn add(&self, entry: Entry) -> HostFile {
        let id = 100 + self.next.fetch_add(1, Ordering::Relaxed);
        self.files.lock().unwrap().insert(id, entry);
        self.open_files.fetch_add(1, Ordering::Relaxed);
        HostFile(id)
    }

    fn dir_path(&self, dir: HostFile) -> Result<PathBuf, SysError> {
        match self.files.lock().unwrap().get(&dir.0) {
            Some(Entry::Dir(p)) => Ok(p.clone()),
            Some(Entry::File(_)) => Err(SysError::ENOTDIR),
            None => Err(SysError::EBADF),
        }
    }

    /// `path` beneath `dir`, or EXDEV.
    fn beneath(&self, dir: HostFile, path: &str, follow: bool) -> Result<PathBuf, SysError> {
        let base = self.dir_path(dir)?;
        if path.is_empty() {
            return Err(SysError::ENOENT);
        }
        let mut out = base.clone();
        for c in Path::new(path).components() {
            match c {
                Component::RootDir | Component::Prefix(_) => return Err(SysError::EXDEV),
                Component::CurDir => {}
                Component::ParentDir => {
                    if out == base {
                        return Err(SysError::EXDEV);
                    }
                    out.pop();
                }
                Component::Normal(n) => out.push(n),
            }
        }
        let check = if follow {
            fs::canonicalize(&out)
        } else {
            out.parent().map_or(Ok(out.clone()), fs::canonicalize).map(|p| p.join(out.file_name().unwrap_or_default()))
        };
        if let Ok(real) = check
            && !real.starts_with(fs::canonicalize(&base).map_err(sys)?)
        {
            return Err(SysError::EXDEV);
        }
        Ok(out)
    }

    fn with_file<R>(&self, file: HostFile, f: impl FnOnce(&mut File) -> std::io::Result<R>) -> Result<R, SysError> {
        let mut files = self.files.lock().unwrap();
        match files.get_mut(&file.0) {
            Some(Entry::File(fh)) => f(fh).map_err(sys),
            Some(Entry::Dir(_)) => Err(SysError::EISDIR),
            None => Err(SysError::EBADF),
        }
    }

    fn open_path(&self, path: &Path, flags: OpenFlags, mode: u32) -> Result<HostFile, SysError> {
        let meta = if flags.nofollow { fs::symlink_metadata(path) } else { fs::metadata(path) };
        match meta {
            Ok(m) if m.file_type().is_symlink() => return Err(SysError::ELOOP),
            Ok(m) if m.is_dir() => {
                if flags.write {
                    return Err(SysError::EISDIR);
                }
                return Ok(self.add(Entry::Dir(path.to_path_buf())));
            }
            Ok(_) if flags.directory => return Err(SysError::ENOTDIR),
            _ => {}
        }
        let file = OpenOptions::new()
            .read(flags.read || !flags.write)
            .write(flags.write && !flags.append)
            .append(flags.append)
            .create(flags.create && !flags.exclusive)
            .create_new(flags.create && flags.exclusive)
            .truncate(flags.truncate)
            .mode(mode)
            .open(path)
            .map_err(sys)?;
        Ok(self.add(Entry::File(file)))
    }
}

impl Platform for StdPlatform {
    fn stdio(&self, stdio: Stdio) -> Option<HostFile> {
        Some(HostFile(match stdio {
            Stdio::Stdin => STDIN,
            Stdio::Stdout => STDOUT,
            Stdio::Stderr => STDERR,
        }))
    }

    fn open(&self, path: &str, flags: OpenFlags) -> Result<HostFile, SysError> {
        self.open_path(Path::new(path), flags, 0o644)
    }

    fn open_at(&self, dir: HostFile, path: &str, flags: OpenFlags, mode: u32) -> Result<HostFile, SysError> {
        let p = self.beneath(dir, path, !flags.nofollow)?;
        self.open_path(&p, flags, mode)
    }

    fn close(&self, file: HostFile) {
        if file.0 >= 100 && self.files.lock().unwrap().remove(&file.0).is_some() {
            self.open_files.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn read(&self, file: HostFile, buf: &mut [u8], at: Option<u64>) -> Result<usize, SysError> {
        match file.0 {
            STDIN if self.inherit_stdio => std::io::stdin().read(buf).map_err(sys),
            STDIN => {
                let mut input = self.stdin.lock().unwrap();
                let n = buf.len().min(input.len());
                buf[..n].copy_from_slice(&input[..n]);
                input.drain(..n);
                Ok(n)
            }
            STDOUT | STDERR => Err(SysError::EBADF),
            _ => self.with_file(file, |f| match at {
                Some(off) => f.read_at(buf, off),
                None => f.read(buf),
            }),
        }
    }

    fn write(&self, file: HostFile, buf: &[u8], at: Option<u64>) -> Result<usize, SysError> {
        match file.0 {
            STDIN => Err(SysError::EBADF),
            STDOUT if self.inherit_stdio => std::io::stdout().write(buf).map_err(sys),
            STDERR if self.inherit_stdio => std::io::stderr().write(buf).map_err(sys),
            STDOUT => Ok(self.stdout.lock().unwrap().write(buf).unwrap()),
            STDERR => Ok(self.stderr.lock().unwrap().write(buf).unwrap()),
            _ => self.with_file(file, |f| match at {
                Some(off) => f.write_at(buf, off),
                None => f.write(buf),
            }),
        }
    }

    fn seek(&self, file: HostFile, offset: i64, whence: Whence) -> Result<u64, SysError> {
        if file.0 < 100 {
            return Err(SysError::ESPIPE);
        }
        let pos = match whence {
            Whence::Set => SeekFrom::Start(u64::try_from(offset).map_err(|_| SysError::EINVAL)?),
            Whence::Current => SeekFrom::Current(offset),
            Whence::End => SeekFrom::End(offset),
        };
        self.with_file(file, |f| f.seek(pos))
    }

    fn stat(&self, file: HostFile) -> Result<FileStat, SysError> {
        if file.0 < 100 {
            return Ok(FileStat { kind: FileKind::CharDevice as u8, ..FileStat::default() });
        }
        if let Ok(p) = self.dir_path(file) {
            return fs::metadata(p).map(|m| stat_of(&m)).map_err(sys);
        }
        self.with_file(file, |f| f.metadata()).map(|m| stat_of(&m))
    }

    fn stat_at(&self, dir: HostFile, path: &str, follow: bool) -> Result<FileStat, SysError> {
        let p = self.beneath(dir, path, follow)?;
        let m = if follow { fs::metadata(p) } else { fs::symlink_metadata(p) };
        m.map(|m| stat_of(&m)).map_err(sys)
    }

    fn status(&self, file: HostFile) -> Result<FileStatus, SysError> {
        let kind = self.stat(file)?.kind;
        Ok(FileStatus { readable: true, writable: true, append: false, nonblock: false, kind })
    }

    fn set_status(&self, _: HostFile, _: bool, _: bool) -> Result<(), SysError> {
        Ok(())
    }

    fn read_dir(
        &self,
        dir: HostFile,
        cookie: u64,
        entry: &mut dyn FnMut(&DirEntry<'_>) -> bool,
    ) -> Result<(), SysError> {
        let path = self.dir_path(dir)?;
        let mut names: Vec<(String, u64, u8)> = fs::read_dir(&path)
            .map_err(sys)?
            .filter_map(Result::ok)
            .map(|e| {
                let m = e.metadata().unwrap();
                (e.file_name().to_string_lossy().into_owned(), m.ino(), kind_of(&m))
            })
            .collect();
        names.sort();
        for (i, (name, ino, kind)) in names.iter().enumerate().skip(cookie as usize) {
            if !entry(&DirEntry { next: i as u64 + 1, ino: *ino, kind: *kind, name: name.as_bytes() }) {
                break;
            }
        }
        Ok(())
    }

    fn mkdir_at(&self, dir: HostFile, path: &str) -> Result<(), SysError> {
        fs::create_dir(self.beneath(dir, path, false)?).map_err(sys)
    }

    fn rmdir_at(&self, dir: HostFile, path: &str) -> Result<(), SysError> {
        fs::remove_dir(self.beneath(dir, path, false)?).map_err(sys)
    }

    fn unlink_at(&self, dir: HostFile, path: &str) -> Result<(), SysError> {
        fs::remove_file(self.beneath(dir, path, false)?).map_err(sys)
    }

    fn rename_at(&self, old_dir: HostFile, old: &str, new_dir: HostFile, new: &str) -> Result<(), SysError> {
        fs::rename(self.beneath(old_dir, old, false)?, self.beneath(new_dir, new, false)?).map_err(sys)
    }

    fn symlink_at(&self, target: &str, dir: HostFile, path: &str) -> Result<(), SysError> {
        std::os::unix::fs::symlink(target, self.beneath(dir, path, false)?).map_err(sys)
    }

    fn readlink_at(&self, dir: HostFile, path: &str, buf: &mut [u8]) -> Result<usize, SysError> {
        let target = fs::read_link(self.beneath(dir, path, false)?).map_err(sys)?;
        let bytes = target.as_os_str().as_encoded_bytes();
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        Ok(n)
    }

    fn sync(&self, file: HostFile, _: bool) -> Result<(), SysError> {
        self.with_file(file, |f| f.sync_all())
    }

    fn set_size(&self, file: HostFile, size: u64) -> Result<(), SysError> {
        self.with_file(file, |f| f.set_len(size))
    }

    fn readable_now(&self, file: HostFile) -> bool {
        file.0 != STDIN || self.inherit_stdio || !self.stdin.lock().unwrap().is_empty()
    }

    fn now(&self, clock: Clock) -> u64 {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        match clock {
            Clock::Realtime => SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64,
            _ => START.get_or_init(Instant::now).elapsed().as_nanos() as u64,
        }
    }

    fn sleep(&self, ns: u64) -> bool {
        std::thread::sleep(Duration::from_nanos(ns));
        true
    }

    /// Deterministic bytes, so runs can be compared.
    fn random(&self, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(151).wrapping_add(7);
        }
    }

    fn capable_sys_admin(&self) -> bool {
        self.sys_admin.load(Ordering::Relaxed)
    }

    fn current_task(&self) -> TaskToken {
        TaskToken(1)
    }

    fn interrupt_task(&self, _task: TaskToken) {}

    fn interrupted(&self) -> bool {
        let after = self.signal_after_yields.load(Ordering::Relaxed);
        after != 0 && self.yields.load(Ordering::Relaxed) >= after
    }

    fn yield_now(&self) {
        self.yields.fetch_add(1, Ordering::Relaxed);
    }

    fn log(&self, _level: Level, args: core::fmt::Arguments<'_>) {
        if self.inherit_stdio {
            std::eprintln!("cervus: {args}");
        }
        self.log.lock().unwrap().push(args.to_string());
    }

    fn heap_stats(&self) -> HeapStats {
        HeapStats::default()
    }

    fn set_running(&self, instance: Option<InstanceId>) {
        self.running.lock().unwrap().push(instance);
    }

    fn devices(&self) -> &dyn crate::driver::Devices {
        &self.edu
    }

    fn load_code(&self, image: &[u8], _floats: bool) -> Result<Arc<dyn cervus_jit::runtime::Code>, SysError> {
        let code = cervus_jit::user::MmapCode::new(image).ok_or(SysError::ENOMEM)?;
        Ok(Arc::new(code))
    }

    fn jit_stack_limit(&self) -> u64 {
        // Test threads have 2 MiB stacks; leave compiled code 256 KiB of
        // its own and the rest to hostcalls and the harness.
        let here = 0u8;
        (core::hint::black_box(&here) as *const u8 as u64).saturating_sub(256 * 1024)
    }
}

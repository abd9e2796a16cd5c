// SPDX-License-Identifier: GPL-2.0

//! Drivers' character devices, `/dev/NAME`.
//!
//! The module reserves a range of minors and a device class at load
//! ([`Chrdevs`]); a driver's `chrdev_register` adds a `cdev` and a device
//! node (under its PCI device in sysfs). The node belongs to the device: it
//! stays through a hot swap, and goes when the device is released. Every file operation is a driver
//! call through the engine, in the calling task (so the driver's
//! `user_read`/`user_write` copy from and to that task's buffer).
//!
//! Not a `miscdevice`: `misc_open` calls `open` under the global misc
//! mutex, and a driver's `open` takes the driver's lock, which a driver
//! holds while it registers its device (under the misc mutex):
//! deadlock. `chrdev_open` holds no lock across `open`.
//!
//! A `read` or `write` the driver answers with `WOULD_BLOCK` waits, unless
//! the file is non-blocking, until the driver sets `POLL_IN` (`POLL_OUT`)
//! again, the driver stops, or a signal arrives; then it is retried.

use kernel::ffi::{c_char, c_int, c_uint, c_ulong};

use kernel::{
    bindings,
    error::to_result,
    fs::File,
    prelude::*,
    sync::{
        atomic::{ordering, Atomic},
        poll::PollTable,
        Arc, ArcBorrow,
    },
};

use super::context::DevCtx;
use crate::call::{EngineEvent, EVENT_CHR_IOCTL, EVENT_CHR_OPEN, EVENT_CHR_READ, EVENT_CHR_RELEASE, EVENT_CHR_WRITE};
use crate::engine;

/// Character devices at once (one per driver).
pub(crate) const MINORS: usize = 16;
/// `driver::POLL_IN`.
const POLL_IN: u32 = 1;
/// `driver::POLL_OUT`.
const POLL_OUT: u32 = 4;
/// `poll(2)` bits (`include/uapi/asm-generic/poll.h`).
const EPOLLIN: u32 = 0x1;
const EPOLLOUT: u32 = 0x4;
const EPOLLERR: u32 = 0x8;
const EPOLLHUP: u32 = 0x10;
const EPOLLRDNORM: u32 = 0x40;
const EPOLLWRNORM: u32 = 0x100;
/// Bits of a `dev_t` that hold the minor.
const MINOR_BITS: u32 = 20;

kernel::sync::global_lock! {
    // SAFETY: initialised by `Chrdevs::new` before any other use.
    unsafe(uninit) static NODES: Mutex<[Option<Arc<DevCtx>>; MINORS]> = [const { None }; MINORS];
}

/// The first `dev_t` of the module's range (0 before `Chrdevs::new`).
static BASE: Atomic<u32> = Atomic::new(0);
/// The device class, as an address (0 before `Chrdevs::new`).
static CLASS: Atomic<usize> = Atomic::new(0);

/// The module's minors and device class; released on drop.
pub(crate) struct Chrdevs;

impl Chrdevs {
    /// Reserves the minors and creates the class.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: called once, at module load, before any use of `NODES`.
        unsafe { NODES.init() };
        let mut base: bindings::dev_t = 0;
        // SAFETY: `base` is valid for writing; the name is a static C string.
        to_result(unsafe { bindings::alloc_chrdev_region(&mut base, 0, MINORS as u32, c"cervus".as_ptr().cast()) })?;
        // SAFETY: a static C string.
        let class = unsafe { bindings::class_create(c"cervus".as_ptr().cast()) };
        if let Err(e) = kernel::error::from_err_ptr(class) {
            // SAFETY: reserved just above.
            unsafe { bindings::unregister_chrdev_region(base, MINORS as u32) };
            return Err(e);
        }
        BASE.store(base, ordering::Release);
        CLASS.store(class as usize, ordering::Release);
        Ok(Chrdevs)
    }
}

impl Drop for Chrdevs {
    fn drop(&mut self) {
        // Every driver was unloaded, so every node was removed.
        // SAFETY: created and reserved in `new`; no node uses them.
        unsafe {
            bindings::class_destroy(CLASS.xchg(0, ordering::Full) as *const bindings::class);
            bindings::unregister_chrdev_region(BASE.load(ordering::Acquire), MINORS as u32);
        }
    }
}

/// A registered `/dev/NAME`; removed with [`Node::remove`].
pub(crate) struct Node {
    index: usize,
    cdev: *mut bindings::cdev,
    name: [u8; 32],
}

impl Node {
    /// Removes the device node and the `cdev`. Open files keep working
    /// until closed (each call then fails with `ENODEV`).
    pub(crate) fn remove(self) {
        let devt = BASE.load(ordering::Acquire) + self.index as u32;
        // SAFETY: the node and the `cdev` were added by `DevCtx::chrdev_register`
        // and are removed once, here.
        unsafe {
            bindings::device_destroy(CLASS.load(ordering::Acquire) as *const bindings::class, devt);
            bindings::cdev_del(self.cdev);
        }
        NODES.lock()[self.index] = None;
    }
}

impl DevCtx {
    /// Registers `/dev/NAME` for this device.
    pub(crate) fn chrdev_register(this: ArcBorrow<'_, Self>, name: &[u8]) -> Result {
        let valid = !name.is_empty()
            && name.len() <= 31
            && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_');
        if !valid {
            return Err(EINVAL);
        }
        let mut cname = [0u8; 32];
        cname[..name.len()].copy_from_slice(name);
        let mut state = this.bound_state()?;
        if let Some(node) = state.chrdev.as_ref() {
            // The device's node outlives its driver instances: a new
            // version (hot swap) registering the same name gets it, and the
            // files open on it, back.
            return if node.name == cname { Ok(()) } else { Err(EBUSY) };
        }
        let index = {
            let mut nodes = NODES.lock();
            let index = nodes.iter().position(Option::is_none).ok_or(ENOSPC)?;
            nodes[index] = Some(this.into());
            index
        };
        let unreserve = || NODES.lock()[index] = None;
        let devt = BASE.load(ordering::Acquire) + index as u32;
        // SAFETY: plain allocation.
        let cdev = unsafe { bindings::cdev_alloc() };
        if cdev.is_null() {
            unreserve();
            return Err(ENOMEM);
        }
        // SAFETY: `cdev` is a fresh `cdev`; `FOPS` is static; the module
        // outlives the `cdev` (removed before unload).
        let added = unsafe {
            (*cdev).owner = OWNER;
            (*cdev).ops = &FOPS;
            to_result(bindings::cdev_add(cdev, devt, 1))
        };
        if let Err(e) = added {
            // SAFETY: allocated above; `cdev_del` of an unadded cdev drops it.
            unsafe { bindings::kobject_put(core::ptr::addr_of_mut!((*cdev).kobj)) };
            unreserve();
            return Err(e);
        }
        // SAFETY: the class exists while the module is loaded; the parent is
        // the bound PCI device; the format takes one C string, `cname`.
        let node = unsafe {
            bindings::device_create(
                CLASS.load(ordering::Acquire) as *const bindings::class,
                this.raw_dev(),
                devt,
                core::ptr::null_mut(),
                c"%s".as_ptr().cast(),
                cname.as_ptr(),
            )
        };
        if let Err(e) = kernel::error::from_err_ptr(node) {
            // SAFETY: added above.
            unsafe { bindings::cdev_del(cdev) };
            unreserve();
            return Err(e);
        }
        state.chrdev = Some(Node { index, cdev, name: cname });
        Ok(())
    }

    /// Sets the readiness and wakes waiters and pollers.
    pub(crate) fn chrdev_set_ready(&self, mask: u32) {
        {
            let mut ready = self.ready.lock();
            if ready.dead {
                return;
            }
            ready.mask = mask;
            ready.generation += 1;
        }
        self.ready_changed.notify_all();
    }

    /// Waits until the driver sets `bit` after generation `seen`, or stops.
    fn wait_ready(&self, seen: u64, bit: u32) -> Result {
        let mut ready = self.ready.lock();
        while !ready.dead && !(ready.generation != seen && ready.mask & bit != 0) {
            if self.ready_changed.wait_interruptible(&mut ready) {
                return Err(ERESTARTSYS);
            }
        }
        Ok(())
    }
}

/// An open file: its device and the id the driver knows it by.
struct OpenFile {
    ctx: Arc<DevCtx>,
    id: u32,
}

static NEXT_FILE: Atomic<u32> = Atomic::new(1);

/// Calls the driver; the system call's result.
fn call(file: &OpenFile, kind: u32, b: u32, user: (u64, u64), offset: i64) -> i64 {
    let event = EngineEvent {
        instance: file.ctx.events.instance(),
        kind,
        a: file.id,
        b,
        user_addr: user.0,
        user_len: user.1,
        offset,
        ..EngineEvent::default()
    };
    engine::driver_event(None, event)
}

/// The open file of `file`.
///
/// # Safety
///
/// `file` is a file of ours, between `open` and `release`.
unsafe fn open_file<'a>(file: *mut bindings::file) -> &'a OpenFile {
    // SAFETY: `private_data` was set to a leaked `KBox<OpenFile>` by `open`
    // and is freed by `release` only.
    unsafe { &*(*file).private_data.cast::<OpenFile>() }
}

fn nonblocking(file: *mut bindings::file) -> bool {
    // SAFETY: a valid file.
    unsafe { (*file).f_flags & bindings::O_NONBLOCK != 0 }
}

unsafe extern "C" fn open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: a valid inode of one of our nodes.
    let index = (unsafe { (*inode).i_rdev } & ((1 << MINOR_BITS) - 1))
        .wrapping_sub(BASE.load(ordering::Acquire) & ((1 << MINOR_BITS) - 1)) as usize;
    let Some(ctx) = NODES.lock().get(index).cloned().flatten() else {
        return ENODEV.to_errno();
    };
    let id = NEXT_FILE.fetch_add(1, ordering::Relaxed);
    let open = match KBox::new(OpenFile { ctx, id }, GFP_KERNEL) {
        Ok(open) => open,
        Err(_) => return ENOMEM.to_errno(),
    };
    let result = call(&open, EVENT_CHR_OPEN, 0, (0, 0), 0);
    if result < 0 {
        return result as c_int;
    }
    // SAFETY: a valid file being opened; freed in `release`.
    unsafe { (*file).private_data = KBox::into_raw(open).cast() };
    0
}

unsafe extern "C" fn release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: set by `open`; this is the last use.
    let open = unsafe { KBox::from_raw((*file).private_data.cast::<OpenFile>()) };
    let _ = call(&open, EVENT_CHR_RELEASE, 0, (0, 0), 0);
    0
}

/// `read` and `write`: calls the driver, waiting while it would block.
///
/// # Safety
///
/// `file` is ours and open; `pos` is valid.
unsafe fn transfer(file: *mut bindings::file, kind: u32, buf: u64, count: usize, pos: *mut i64, bit: u32) -> isize {
    // SAFETY: precondition.
    let open = unsafe { open_file(file) };
    let count = count.min(i32::MAX as usize) as u64;
    loop {
        let seen = open.ctx.ready.lock().generation;
        // SAFETY: `pos` is valid (precondition).
        let result = call(open, kind, 0, (buf, count), unsafe { *pos });
        if result == i64::from(EAGAIN.to_errno()) && !nonblocking(file) {
            if let Err(e) = open.ctx.wait_ready(seen, bit) {
                return e.to_errno() as isize;
            }
            continue;
        }
        if result > 0 {
            // SAFETY: as above.
            unsafe { *pos += result };
        }
        return result as isize;
    }
}

unsafe extern "C" fn read(file: *mut bindings::file, buf: *mut c_char, count: usize, pos: *mut i64) -> isize {
    // SAFETY: called by the VFS on an open file of ours with a valid `pos`.
    unsafe { transfer(file, EVENT_CHR_READ, buf as u64, count, pos, POLL_IN) }
}

unsafe extern "C" fn write(file: *mut bindings::file, buf: *const c_char, count: usize, pos: *mut i64) -> isize {
    // SAFETY: as for `read`.
    unsafe { transfer(file, EVENT_CHR_WRITE, buf as u64, count, pos, POLL_OUT) }
}

unsafe extern "C" fn ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> isize {
    // SAFETY: called by the VFS on an open file of ours.
    let open = unsafe { open_file(file) };
    // `_IOC_SIZE(cmd)`: the argument's size in bytes.
    let size = u64::from((cmd >> 16) & 0x3fff);
    call(open, EVENT_CHR_IOCTL, cmd, (arg as u64, size), 0) as isize
}

unsafe extern "C" fn poll(file: *mut bindings::file, table: *mut bindings::poll_table) -> bindings::__poll_t {
    // SAFETY: called by the VFS on an open file of ours.
    let open = unsafe { open_file(file) };
    // SAFETY: `table` is null or a valid poll table for this call; `file`
    // is a valid file for its duration.
    unsafe { PollTable::from_raw(table).register_wait(File::from_raw_file(file), &open.ctx.ready_changed) };
    let ready = open.ctx.ready.lock();
    if ready.dead {
        return EPOLLERR | EPOLLHUP;
    }
    let mut mask = 0;
    if ready.mask & POLL_IN != 0 {
        mask |= EPOLLIN | EPOLLRDNORM;
    }
    if ready.mask & POLL_OUT != 0 {
        mask |= EPOLLOUT | EPOLLWRNORM;
    }
    mask
}

/// This module (`THIS_MODULE`): open files pin it.
const OWNER: *mut bindings::module = kernel::module::this_module::<crate::LocalModule>().as_ptr();

/// The file operations of every driver's character device.
const FOPS: bindings::file_operations = bindings::file_operations {
    owner: OWNER,
    open: Some(open),
    release: Some(release),
    read: Some(read),
    write: Some(write),
    unlocked_ioctl: Some(ioctl),
    poll: Some(poll),
    llseek: Some(bindings::default_llseek),
    // SAFETY: all-zero is a valid `file_operations` (no operation).
    ..unsafe { core::mem::MaybeUninit::zeroed().assume_init() }
};

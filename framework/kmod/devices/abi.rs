// SPDX-License-Identifier: GPL-2.0

//! The device services the engine calls (`framework/engine/src/host.rs`,
//! module `dev`).
//!
//! A device handle is an `Arc<DevCtx>` turned into a raw pointer by
//! `cervus_host_dev_bind` and taken back by `cervus_host_dev_unbind`. The
//! engine only passes handles it got from the former and has not yet given
//! to the latter, so every other function may borrow the context.

use kernel::{
    prelude::*,
    sync::{Arc, ArcBorrow},
    uaccess::{UserPtr, UserSlice},
};

use super::bind;
use super::context::{set_dma_mask, DevCtx};
use crate::call::{HostBindSpec, HostBound};

/// The context behind a handle.
///
/// # Safety
///
/// `dev` is a live handle (see the module documentation).
unsafe fn borrow<'a>(dev: u64) -> ArcBorrow<'a, DevCtx> {
    // SAFETY: from `Arc::into_raw` in `cervus_host_dev_bind`, and the
    // engine's reference is alive (precondition).
    unsafe { ArcBorrow::from_raw(dev as usize as *const DevCtx) }
}

/// Zero or a negative errno.
fn status(result: Result) -> isize {
    match result {
        Ok(()) => 0,
        Err(e) => e.to_errno() as isize,
    }
}

/// Binds a device for a driver; fills `out` with its handle and identity.
///
/// # Safety
///
/// `spec` and `out` are valid.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_bind(spec: *const HostBindSpec, out: *mut HostBound) -> isize {
    // SAFETY: precondition.
    let spec = unsafe { &*spec };
    let ctx = match bind::bind(spec) {
        Ok(ctx) => ctx,
        Err(e) => return e.to_errno() as isize,
    };
    let mut slot = [0u8; 16];
    let name = ctx.slot_name().to_bytes();
    let n = name.len().min(slot.len());
    slot[..n].copy_from_slice(&name[..n]);
    // SAFETY: a valid device (the context holds a reference).
    let (vendor, device) = unsafe { ((*ctx.raw()).vendor, (*ctx.raw()).device) };
    let dev = Arc::into_raw(ctx) as usize as u64;
    // SAFETY: precondition.
    unsafe { *out = HostBound { dev, vendor, device, slot } };
    0
}

/// Releases a device; the handle is dead afterwards.
///
/// # Safety
///
/// `dev` is a live handle, never used again.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_unbind(dev: u64) {
    // SAFETY: the engine's reference, given back (precondition).
    let ctx = unsafe { Arc::from_raw(dev as usize as *const DevCtx) };
    ctx.quiesce();
    bind::unbind(&ctx);
}

/// Takes the driver lock.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_lock(dev: u64) {
    // SAFETY: precondition.
    unsafe { borrow(dev) }.lock()
}

/// Releases the driver lock.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_unlock(dev: u64) {
    // SAFETY: precondition.
    unsafe { borrow(dev) }.unlock()
}

/// Stops the device's own activity.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_quiesce(dev: u64) {
    // SAFETY: precondition.
    unsafe { borrow(dev) }.quiesce()
}

/// Reads configuration space.
///
/// # Safety
///
/// `dev` is a live handle; `value` is valid.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_config_read(dev: u64, offset: u16, width: u8, value: *mut u32) -> isize {
    // SAFETY: precondition.
    status(unsafe { borrow(dev) }.config_read(offset, width).map(|v| unsafe { *value = v }))
}

/// Writes configuration space.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_config_write(dev: u64, offset: u16, width: u8, value: u32) -> isize {
    // SAFETY: precondition.
    status(unsafe { borrow(dev) }.config_write(offset, width, value))
}

/// The size of a memory BAR.
///
/// # Safety
///
/// `dev` is a live handle; `size` is valid.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_bar_size(dev: u64, bar: u8, size: *mut u64) -> isize {
    // SAFETY: precondition.
    status(unsafe { borrow(dev) }.bar_size(bar).map(|s| unsafe { *size = s }))
}

/// Maps a memory BAR: they are all mapped at probe, so this checks it is.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_mmio_map(dev: u64, bar: u8) -> isize {
    // SAFETY: precondition.
    status(unsafe { borrow(dev) }.bar_size(bar).map(drop))
}

/// Reads a BAR.
///
/// # Safety
///
/// `dev` is a live handle; `value` is valid.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_mmio_read(dev: u64, bar: u8, offset: u64, width: u8, value: *mut u64) -> isize {
    // SAFETY: precondition.
    status(unsafe { borrow(dev) }.mmio_read(bar, offset, width).map(|v| unsafe { *value = v }))
}

/// Writes a BAR.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_mmio_write(dev: u64, bar: u8, offset: u64, width: u8, value: u64) -> isize {
    // SAFETY: precondition.
    status(unsafe { borrow(dev) }.mmio_write(bar, offset, width, value))
}

/// Sets the DMA mask.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_dma_set_mask(dev: u64, bits: u8) -> isize {
    // SAFETY: precondition.
    status(set_dma_mask(&*unsafe { borrow(dev) }, bits))
}

/// Allocates a coherent buffer.
///
/// # Safety
///
/// `dev` is a live handle; `id` and `bus_addr` are valid.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_dma_alloc(dev: u64, size: usize, id: *mut u64, bus_addr: *mut u64) -> isize {
    // SAFETY: precondition.
    status(unsafe { borrow(dev) }.dma_alloc(size).map(|(i, b)| unsafe {
        *id = i;
        *bus_addr = b;
    }))
}

/// Frees a coherent buffer.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_dma_free(dev: u64, id: u64) {
    // SAFETY: precondition.
    unsafe { borrow(dev) }.dma_free(id)
}

/// Copies into (`to_buffer`) or out of a coherent buffer.
///
/// # Safety
///
/// `dev` is a live handle; `buf` is valid for `len` bytes.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_dma_copy(
    dev: u64,
    id: u64,
    offset: usize,
    buf: *mut u8,
    len: usize,
    to_buffer: bool,
) -> isize {
    // SAFETY: precondition.
    status(unsafe { borrow(dev).dma_copy(id, offset, buf, len, to_buffer) })
}

/// A DMA memory barrier: 0 full, 1 read, 2 write.
///
/// On x86-64, where coherent memory is cacheable and stores are not
/// reordered with stores nor loads with loads, the kernel's `dma_rmb()` and
/// `dma_wmb()` are compiler barriers and `mb()` is `mfence`: the fences
/// below compile to exactly that.
#[no_mangle]
extern "C" fn cervus_host_dma_barrier(kind: u8) {
    use core::sync::atomic::{fence, Ordering};
    match kind {
        1 => fence(Ordering::Acquire),
        2 => fence(Ordering::Release),
        _ => fence(Ordering::SeqCst),
    }
}

/// Allocates and requests interrupt vectors; returns the kind.
///
/// # Safety
///
/// `dev` is a live handle; `count` is valid.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_irq_alloc(dev: u64, kinds: i32, min: u32, max: u32, count: *mut u32) -> isize {
    // SAFETY: precondition.
    match unsafe { borrow(dev) }.irq_alloc(kinds, min, max) {
        Ok((kind, n)) => {
            // SAFETY: precondition.
            unsafe { *count = n };
            kind as isize
        }
        Err(e) => e.to_errno() as isize,
    }
}

/// Declares the INTx status and acknowledge registers (`ack` < 0: none).
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_irq_intx_config(dev: u64, bar: u8, status_at: u64, ack: i64, width: u8) -> isize {
    let ack = u64::try_from(ack).ok();
    // SAFETY: precondition.
    status(unsafe { borrow(dev) }.irq_intx_config(bar, status_at, ack, width))
}

/// Frees the interrupt vectors.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_irq_free(dev: u64) {
    // SAFETY: precondition.
    unsafe { borrow(dev) }.irq_free()
}

/// Arms a timer.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_timer_start(dev: u64, id: u8, delay_ns: u64, period_ns: u64) -> isize {
    // SAFETY: precondition.
    status(unsafe { borrow(dev) }.timer_start(id, delay_ns, period_ns))
}

/// Disarms a timer.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_timer_stop(dev: u64, id: u8) {
    // SAFETY: precondition.
    unsafe { borrow(dev) }.timer_stop(id)
}

/// Registers the character device `/dev/NAME`.
///
/// # Safety
///
/// `dev` is a live handle; `name` is valid for `len` bytes.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_chrdev_register(dev: u64, name: *const u8, len: usize) -> isize {
    // SAFETY: precondition.
    let name = unsafe { core::slice::from_raw_parts(name, len) };
    // SAFETY: precondition.
    status(DevCtx::chrdev_register(unsafe { borrow(dev) }, name))
}

/// Sets the character device's readiness.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_chrdev_set_ready(dev: u64, mask: u32) {
    // SAFETY: precondition.
    unsafe { borrow(dev) }.chrdev_set_ready(mask)
}

/// Copies `len` bytes from the calling task's address `user`.
///
/// # Safety
///
/// `dst` is valid for writing `len` bytes.
#[no_mangle]
unsafe extern "C" fn cervus_host_copy_from_user(dst: *mut u8, user: u64, len: usize) -> isize {
    // SAFETY: precondition.
    let dst = unsafe { core::slice::from_raw_parts_mut(dst, len) };
    status(UserSlice::new(UserPtr::from_addr(user as usize), len).reader().read_slice(dst))
}

/// Copies `len` bytes to the calling task's address `user`.
///
/// # Safety
///
/// `src` is valid for reading `len` bytes.
#[no_mangle]
unsafe extern "C" fn cervus_host_copy_to_user(user: u64, src: *const u8, len: usize) -> isize {
    // SAFETY: precondition.
    let src = unsafe { core::slice::from_raw_parts(src, len) };
    status(UserSlice::new(UserPtr::from_addr(user as usize), len).writer().write_slice(src))
}

/// Registers (or re-attaches) the device's Ethernet interface; writes its
/// name, NUL-padded, to `name`.
///
/// # Safety
///
/// `dev` is a live handle; `pattern` is valid for `len` bytes, `mac` for 6
/// and `name` for writing 16.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_netdev_register(
    dev: u64,
    pattern: *const u8,
    len: usize,
    mac: *const u8,
    mtu: u32,
    name: *mut u8,
) -> isize {
    // SAFETY: precondition.
    let (pattern, mac) = unsafe { (core::slice::from_raw_parts(pattern, len), *mac.cast::<[u8; 6]>()) };
    // SAFETY: precondition.
    status(unsafe { borrow(dev) }.netdev_register(pattern, mac, mtu).map(|n| unsafe { *name.cast::<[u8; 16]>() = n }))
}

/// Sets the interface's carrier.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_netdev_carrier(dev: u64, up: bool) {
    // SAFETY: precondition.
    unsafe { borrow(dev) }.netdev_carrier(up)
}

/// Delivers a received frame: 1 delivered, 0 dropped, or a negative errno.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_netdev_rx(dev: u64, id: u64, offset: usize, len: usize) -> isize {
    // SAFETY: precondition.
    match unsafe { borrow(dev) }.netdev_rx(id, offset, len) {
        Ok(delivered) => isize::from(delivered),
        Err(e) => e.to_errno() as isize,
    }
}

/// Takes a queued frame into a DMA buffer: its length, 0 if none, or a
/// negative errno.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_netdev_tx(dev: u64, id: u64, offset: usize, cap: usize) -> isize {
    // SAFETY: precondition.
    match unsafe { borrow(dev) }.netdev_tx(id, offset, cap) {
        Ok(len) => len as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// Whether the device's interface exists and is up.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_netdev_running(dev: u64) -> bool {
    // SAFETY: precondition.
    unsafe { borrow(dev) }.netdev_running()
}

/// The carrier last reported: 1 up, 0 down, -1 no interface.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_netdev_link(dev: u64) -> i32 {
    // SAFETY: precondition.
    unsafe { borrow(dev) }.netdev_link().map_or(-1, i32::from)
}

/// A hot swap begins.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_pause(dev: u64) {
    // SAFETY: precondition.
    unsafe { borrow(dev) }.pause()
}

/// During a pause, before the instance's buffers are freed: bus mastering
/// off.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_halt_dma(dev: u64) {
    // SAFETY: precondition.
    unsafe { borrow(dev) }.halt_dma()
}

/// It ends.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_resume(dev: u64, net_up: bool) {
    // SAFETY: precondition.
    unsafe { borrow(dev) }.resume(net_up)
}

/// Hands the frames received so far to the stack.
///
/// # Safety
///
/// `dev` is a live handle.
#[no_mangle]
unsafe extern "C" fn cervus_host_dev_netdev_rx_flush(dev: u64) {
    // SAFETY: precondition.
    unsafe { borrow(dev) }.netdev_rx_flush()
}

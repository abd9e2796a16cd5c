// SPDX-License-Identifier: GPL-2.0

//! A bound device's Ethernet interface (`netdev.c`).
//!
//! The interface belongs to the device, not to the driver instance: it is
//! registered by the first instance's `netdev_register`, kept (detached,
//! frames dropped) while no instance runs, re-attached by the next
//! instance's `netdev_register` (a hot swap keeps name, index, addresses
//! and routes), and unregistered when the device is released.

use core::ffi::c_void;

use kernel::ffi::c_char;
use core::ptr::NonNull;

use kernel::prelude::*;

use super::context::DevCtx;
use super::events::{Events, NET_STATE, NET_TX};

/// `struct cervus_netdev` (opaque).
#[repr(C)]
pub(crate) struct RawNetdev {
    _private: [u8; 0],
}

extern "C" {
    fn cervus_netdev_create(
        owner: *mut c_void,
        parent: *mut c_void,
        pattern: *const c_char,
        mac: *const u8,
        mtu: u32,
        driver: *const c_char,
    ) -> *mut RawNetdev;
    fn cervus_netdev_destroy(nd: *mut RawNetdev);
    fn cervus_netdev_name(nd: *const RawNetdev) -> *const c_char;
    fn cervus_netdev_mac_is(nd: *const RawNetdev, mac: *const u8) -> bool;
    fn cervus_netdev_running(nd: *const RawNetdev) -> bool;
    fn cervus_netdev_tx_pending(nd: *const RawNetdev) -> bool;
    fn cervus_netdev_set_carrier(nd: *mut RawNetdev, up: bool);
    fn cervus_netdev_link(nd: *const RawNetdev) -> bool;
    fn cervus_netdev_pause(nd: *mut RawNetdev);
    fn cervus_netdev_resume(nd: *mut RawNetdev);
    fn cervus_netdev_attach(nd: *mut RawNetdev, attached: bool);
    fn cervus_netdev_rx(nd: *mut RawNetdev, frame: *const c_void, len: u32) -> bool;
    fn cervus_netdev_rx_flush(nd: *mut RawNetdev);
    fn cervus_netdev_tx(nd: *mut RawNetdev, slot: *mut c_void, cap: u32) -> isize;
}

/// `CERVUS_NETDEV_STATE` in `cervus_netdev.h`.
const NOTIFY_STATE: u32 = 1;
/// `CERVUS_NETDEV_TX` in `cervus_netdev.h`.
const NOTIFY_TX: u32 = 2;

/// A registered interface; unregistered and freed on drop (takes RTNL).
///
/// # Invariants
///
/// `0` is a live `struct cervus_netdev` from `cervus_netdev_create`.
pub(crate) struct Netdev(NonNull<RawNetdev>);

// SAFETY: the C side synchronises its own state (atomics, the skb queue's
// lock, RTNL); the pointer is only freed by `drop`.
unsafe impl Send for Netdev {}

impl Netdev {
    fn raw(&self) -> *mut RawNetdev {
        self.0.as_ptr()
    }

    /// Its name, e.g. `eth1`.
    pub(crate) fn name(&self) -> &CStr {
        // SAFETY: live (invariant); the name is NUL-terminated and stays
        // valid while the interface exists.
        unsafe { CStr::from_char_ptr(cervus_netdev_name(self.raw())) }
    }

    /// Detaches the interface from its driver: the queue stops, frames are
    /// dropped, the carrier goes down. The interface itself stays.
    pub(crate) fn detach(&self) {
        // SAFETY: live (invariant).
        unsafe { cervus_netdev_attach(self.raw(), false) };
    }

    /// A swap begins: the queue stops, carrier changes are held.
    pub(crate) fn pause(&self) {
        // SAFETY: live (invariant).
        unsafe { cervus_netdev_pause(self.raw()) };
    }

    /// The swap ends: the held carrier applies, the queue restarts.
    pub(crate) fn resume(&self) {
        // SAFETY: live (invariant).
        unsafe { cervus_netdev_resume(self.raw()) };
    }

    /// Whether it is up (`ip link set up`).
    pub(crate) fn running(&self) -> bool {
        running(self.0.as_ptr() as usize)
    }

    /// The carrier the driver last reported.
    pub(crate) fn link(&self) -> bool {
        // SAFETY: live (invariant).
        unsafe { cervus_netdev_link(self.raw()) }
    }
}

impl Drop for Netdev {
    fn drop(&mut self) {
        // SAFETY: live (invariant), and never used again.
        unsafe { cervus_netdev_destroy(self.raw()) };
    }
}

/// Whether frames wait for the driver on the interface at `netdev` (an
/// address from `Events`; see [`running`]).
pub(super) fn tx_pending(netdev: usize) -> bool {
    // SAFETY: as for `running`.
    unsafe { cervus_netdev_tx_pending(netdev as *const RawNetdev) }
}

/// Whether the interface at `netdev` (an address from `Events`) is up.
pub(super) fn running(netdev: usize) -> bool {
    // SAFETY: `Events` holds the address of a live interface: it is cleared
    // before the interface is destroyed, after the work item is stopped.
    unsafe { cervus_netdev_running(netdev as *const RawNetdev) }
}

impl DevCtx {
    /// Registers the device's interface (or, after a swap, re-attaches the
    /// existing one if `mac` is its address); returns its name.
    pub(crate) fn netdev_register(&self, pattern: &[u8], mac: [u8; 6], mtu: u32) -> Result<[u8; 16]> {
        let mut cpattern = [0u8; 16];
        if pattern.is_empty() || pattern.len() >= cpattern.len() || pattern.contains(&0) {
            return Err(EINVAL);
        }
        cpattern[..pattern.len()].copy_from_slice(pattern);
        let state = self.bound_state()?;
        if let Some(netdev) = state.netdev.as_ref() {
            // SAFETY: live; `mac` is 6 bytes.
            if !unsafe { cervus_netdev_mac_is(netdev.raw(), mac.as_ptr()) } {
                return Err(EINVAL);
            }
            // SAFETY: live.
            unsafe { cervus_netdev_attach(netdev.raw(), true) };
            return Ok(name_bytes(netdev));
        }
        drop(state);
        let mut driver = [0u8; 33];
        let name = self.name().as_bytes();
        let n = name.len().min(32);
        driver[..n].copy_from_slice(&name[..n]);
        // SAFETY: `self` outlives the interface (destroyed in `teardown`);
        // the parent is our bound device; the strings are NUL-terminated;
        // `mac` is 6 bytes. Registering takes RTNL: no lock of ours is held.
        let raw = unsafe {
            cervus_netdev_create(
                self.as_dev_id(),
                self.raw_dev().cast(),
                cpattern.as_ptr().cast(),
                mac.as_ptr(),
                mtu,
                driver.as_ptr().cast(),
            )
        };
        kernel::error::from_err_ptr(raw)?;
        let netdev = Netdev(NonNull::new(raw).ok_or(ENOMEM)?);
        let name = name_bytes(&netdev);
        self.events.set_netdev(raw as usize);
        let mut state = self.bound_state()?;
        state.netdev = Some(netdev);
        Ok(name)
    }

    /// Sets the carrier.
    pub(crate) fn netdev_carrier(&self, up: bool) {
        let state = self.state.lock();
        if let Some(netdev) = state.netdev.as_ref() {
            // SAFETY: live.
            unsafe { cervus_netdev_set_carrier(netdev.raw(), up) };
        }
    }

    /// Hands the frame at `offset..offset + len` of DMA buffer `id` to the
    /// stack; whether it was delivered.
    pub(crate) fn netdev_rx(&self, id: u64, offset: usize, len: usize) -> Result<bool> {
        let state = self.bound_state()?;
        let netdev = state.netdev.as_ref().ok_or(ENODEV)?;
        let frame = dma_range(&state, id, offset, len)?;
        // SAFETY: live; `frame` is `len` bytes inside a DMA buffer that stays
        // allocated while we hold the state lock.
        Ok(unsafe { cervus_netdev_rx(netdev.raw(), frame.cast(), len as u32) })
    }

    /// Hands the frames received so far to the stack. Runs the stack's
    /// receive processing (through NAPI and GRO) in this task.
    pub(crate) fn netdev_rx_flush(&self) {
        let raw = self.state.lock().netdev.as_ref().map(Netdev::raw);
        if let Some(raw) = raw {
            // SAFETY: live: the interface is only destroyed by `teardown`,
            // which cannot run during a driver call (this one). Called
            // without our locks: the stack may transmit from here.
            unsafe { cervus_netdev_rx_flush(raw) };
        }
    }

    /// Copies the next queued frame into DMA buffer `id` at `offset`, at
    /// most `cap` bytes; its length, 0 if none.
    pub(crate) fn netdev_tx(&self, id: u64, offset: usize, cap: usize) -> Result<usize> {
        let state = self.bound_state()?;
        let netdev = state.netdev.as_ref().ok_or(ENODEV)?;
        let slot = dma_range(&state, id, offset, cap)?;
        let cap = u32::try_from(cap).unwrap_or(u32::MAX);
        // SAFETY: live; `slot` is `cap` bytes inside a DMA buffer that stays
        // allocated while we hold the state lock.
        let len = unsafe { cervus_netdev_tx(netdev.raw(), slot.cast(), cap) };
        Ok(len.max(0) as usize)
    }
}

/// Its name as NUL-padded bytes.
fn name_bytes(netdev: &Netdev) -> [u8; 16] {
    let mut out = [0u8; 16];
    let name = netdev.name().to_bytes();
    let n = name.len().min(15);
    out[..n].copy_from_slice(&name[..n]);
    out
}

/// The CPU address of `offset..offset + len` of DMA buffer `id`.
fn dma_range(state: &super::context::State, id: u64, offset: usize, len: usize) -> Result<*mut u8> {
    let index = usize::try_from(id.checked_sub(1).ok_or(EINVAL)?)?;
    let buffer = state.dma.get(index).and_then(Option::as_ref).ok_or(EINVAL)?;
    if offset.checked_add(len).is_none_or(|end| end > buffer.len()) {
        return Err(ERANGE);
    }
    // SAFETY: in bounds, checked above.
    Ok(unsafe { buffer.as_mut_ptr().cast::<u8>().add(offset) })
}

/// Called by `netdev.c` when the interface of `owner` (a `DevCtx`) is
/// brought up or down or has frames queued. Any context.
///
/// # Safety
///
/// `owner` is the `DevCtx` the interface was created for (it outlives it).
#[no_mangle]
unsafe extern "C" fn cervus_netdev_notify(owner: *mut c_void, what: u32) {
    // SAFETY: precondition.
    let ctx = unsafe { &*owner.cast::<DevCtx>() };
    let bits = match what {
        NOTIFY_STATE => NET_STATE,
        NOTIFY_TX => NET_TX,
        _ => return,
    };
    Events::net(ctx.events.as_arc_borrow(), bits);
}

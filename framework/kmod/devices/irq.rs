// SPDX-License-Identifier: GPL-2.0

//! Interrupt vectors of a bound device and their hard handler.
//!
//! Vectors are allocated and requested at run time, when the driver asks,
//! and freed when it asks, when it stops, or at unbind. The Rust IRQ
//! registration types borrow the bound device for a lexical lifetime, which
//! does not fit vectors whose lifetime is decided by a wasm driver; so this
//! uses the C API directly, with the device context as `dev_id` (it
//! outlives the registration: [`DevCtx::free_irqs`] runs before the
//! context can go).
//!
//! The hard handler does no driver work: it counts the interrupt in the
//! device's [`Events`](super::events::Events), which calls the driver in
//! process context. For INTx, which is shared and level-triggered, it first
//! reads the driver's declared status register (zero: not ours) and writes
//! the acknowledge register, so the line drops before the driver runs.

use core::ffi::{c_int, c_void};

use kernel::{
    bindings,
    prelude::*,
    sync::atomic::ordering,
};

use super::context::{DevCtx, State};
use super::events::{Events, MAX_VECTORS};

/// `driver::irq` kinds (the ABI's, not Linux's).
const MSIX: i32 = 1;
const MSI: i32 = 2;
const INTX: i32 = 4;

impl DevCtx {
    /// Allocates between `min` and `max` vectors of the first kind in
    /// `kinds` that works (MSI-X, MSI, INTx) and requests them; returns the
    /// kind and the count.
    pub(crate) fn irq_alloc(&self, kinds: i32, min: u32, max: u32) -> Result<(i32, u32)> {
        let mut state = self.bound_state()?;
        if state.irq_adoptable {
            state.irq_adoptable = false;
            // A swap: take over the old instance's vectors if they fit.
            match state.irq {
                Some((kind, count)) if kinds & kind != 0 && (min..=max.min(MAX_VECTORS as u32)).contains(&count) => {
                    return Ok((kind, count));
                }
                _ => self.free_irqs(&mut state),
            }
        }
        if state.irq.is_some() {
            return Err(EBUSY);
        }
        let max = max.min(MAX_VECTORS as u32);
        if min > max {
            return Err(ENOSPC);
        }
        let mut last = ENOSPC;
        for (kind, flags) in [(MSIX, bindings::PCI_IRQ_MSIX), (MSI, bindings::PCI_IRQ_MSI), (INTX, bindings::PCI_IRQ_INTX)] {
            if kinds & kind == 0 {
                continue;
            }
            // SAFETY: a valid, bound device without vectors.
            let count = unsafe { bindings::pci_alloc_irq_vectors(self.raw(), min, max, flags) };
            if count < 0 {
                last = Error::from_errno(count);
                continue;
            }
            state.irq = Some((kind, count as u32));
            return match self.request_all(kind, count as u32) {
                Ok(()) => Ok((kind, count as u32)),
                Err(e) => {
                    self.free_irqs(&mut state);
                    Err(e)
                }
            };
        }
        Err(last)
    }

    /// Requests every allocated vector.
    fn request_all(&self, kind: i32, count: u32) -> Result {
        let flags = if kind == INTX { bindings::IRQF_SHARED } else { 0 };
        for vector in 0..count {
            // SAFETY: a valid device with `count` vectors.
            let irq = unsafe { bindings::pci_irq_vector(self.raw(), vector) };
            if irq < 0 {
                return Err(Error::from_errno(irq));
            }
            // Recorded first: the handler may run as soon as it is requested.
            self.vector_irqs[vector as usize].store(irq as u32, ordering::Release);
            // SAFETY: `hard_irq` matches `irq_handler_t`; `dev_id` is this
            // context, which outlives the request (freed in `free_irqs`);
            // `irq_name` is NUL-terminated and lives as long.
            let ret = unsafe {
                bindings::request_irq(
                    irq as u32,
                    Some(hard_irq),
                    flags as usize,
                    self.irq_name.as_ptr().cast(),
                    self.as_dev_id(),
                )
            };
            if ret != 0 {
                self.vector_irqs[vector as usize].store(0, ordering::Release);
                return Err(Error::from_errno(ret));
            }
        }
        Ok(())
    }

    /// Frees the requested vectors and the allocation (waits for running
    /// handlers). Idempotent.
    pub(super) fn free_irqs(&self, state: &mut State) {
        state.irq_adoptable = false;
        if state.irq.take().is_none() {
            return;
        }
        self.intx.configured.store(false, ordering::Release);
        for slot in &self.vector_irqs {
            let irq = slot.xchg(0, ordering::Full);
            if irq != 0 {
                // SAFETY: requested with this `dev_id` in `request_all`.
                unsafe { bindings::free_irq(irq, self.as_dev_id()) };
            }
        }
        // SAFETY: a valid device whose vectors were allocated (and are no
        // longer requested).
        unsafe { bindings::pci_free_irq_vectors(self.raw()) };
    }

    /// Frees the vectors (the driver asked).
    pub(crate) fn irq_free(&self) {
        let mut state = self.state.lock();
        self.free_irqs(&mut state);
    }

    /// Declares the INTx status and acknowledge registers.
    pub(crate) fn irq_intx_config(&self, bar: u8, status: u64, ack: Option<u64>, width: u8) -> Result {
        if !matches!(width, 1 | 2 | 4) {
            return Err(EINVAL);
        }
        // The handler reads these: check them now, not in interrupt context.
        self.bar_size(bar)?;
        for offset in Iterator::chain(core::iter::once(status), ack) {
            if offset % u64::from(width) != 0 || offset + u64::from(width) > self.bar_size(bar)? {
                return Err(EINVAL);
            }
        }
        self.intx.configured.store(false, ordering::Release);
        self.intx.bar.store(u32::from(bar), ordering::Relaxed);
        self.intx.status.store(status, ordering::Relaxed);
        self.intx.ack.store(ack.unwrap_or(u64::MAX), ordering::Relaxed);
        self.intx.width.store(u32::from(width), ordering::Relaxed);
        self.intx.configured.store(true, ordering::Release);
        Ok(())
    }

    /// The hard interrupt handler's work for Linux interrupt `irq`.
    fn on_irq(&self, irq: u32) -> bindings::irqreturn_t {
        let Some(vector) = self.vector_irqs.iter().position(|v| v.load(ordering::Acquire) == irq) else {
            return bindings::irqreturn::IRQ_NONE;
        };
        let intx = matches!(self.state_irq_kind(), Some(INTX));
        let mut status = 0;
        if intx {
            if !self.intx.configured.load(ordering::Acquire) {
                return bindings::irqreturn::IRQ_NONE;
            }
            let bar = self.intx.bar.load(ordering::Relaxed) as u8;
            let width = self.intx.width.load(ordering::Relaxed) as u8;
            status = match self.mmio_read(bar, self.intx.status.load(ordering::Relaxed), width) {
                Ok(v) => v as u32,
                Err(_) => return bindings::irqreturn::IRQ_NONE,
            };
            if status == 0 {
                return bindings::irqreturn::IRQ_NONE;
            }
            let ack = self.intx.ack.load(ordering::Relaxed);
            if ack != u64::MAX {
                let _ = self.mmio_write(bar, ack, width, u64::from(status));
            }
        }
        Events::irq(self.events.as_arc_borrow(), vector, status);
        bindings::irqreturn::IRQ_HANDLED
    }

    /// The interrupt kind, read without the state lock (for the handler):
    /// INTx is the only kind that requests a shared line.
    fn state_irq_kind(&self) -> Option<i32> {
        // SAFETY: a valid device; `msi_enabled`/`msix_enabled` are set by
        // the vector allocation before any vector is requested.
        let (msi, msix) = unsafe { ((*self.raw()).msi_enabled(), (*self.raw()).msix_enabled()) };
        Some(if msix != 0 { MSIX } else if msi != 0 { MSI } else { INTX })
    }
}

/// The hard interrupt handler of every vector of every bound device.
///
/// # Safety
///
/// Called by the kernel with the `dev_id` given to `request_irq`: a live
/// [`DevCtx`].
unsafe extern "C" fn hard_irq(irq: c_int, dev_id: *mut c_void) -> bindings::irqreturn_t {
    // SAFETY: `dev_id` is the context that requested this vector, alive
    // until `free_irq` returns.
    let ctx = unsafe { &*dev_id.cast::<DevCtx>() };
    ctx.on_irq(irq as u32)
}

// SPDX-License-Identifier: MIT OR Apache-2.0

//! Interrupt vectors. The host handles the hard interrupt; the driver's
//! `Driver::irq` runs later, in process context.

use super::{Mmio, Reg, Width};
use crate::{Errno, check, raw};

use cervus_hostcalls::driver::irq as kinds;

/// How interrupts arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqMode {
    /// MSI-X.
    MsiX,
    /// MSI.
    Msi,
    /// Legacy INTx.
    Intx,
}

/// The device's interrupt vectors; freed when dropped.
#[derive(Debug)]
pub struct Irqs {
    mode: IrqMode,
    count: u32,
}

impl Irqs {
    /// [`alloc`](Self::alloc) kind: MSI-X.
    pub const MSIX: i32 = kinds::MSIX;
    /// [`alloc`](Self::alloc) kind: MSI.
    pub const MSI: i32 = kinds::MSI;
    /// [`alloc`](Self::alloc) kind: legacy INTx.
    pub const INTX: i32 = kinds::INTX;

    /// Allocates between `min` and `max` vectors of the kinds in `kinds`
    /// (a mask of [`Irqs::MSIX`], [`Irqs::MSI`], [`Irqs::INTX`]).
    pub fn alloc(kinds: i32, min: u32, max: u32) -> Result<Self, Errno> {
        // SAFETY: plain values; the host checks them.
        let count = check(unsafe { raw::irq_alloc(kinds, min as i32, max as i32) })?;
        // SAFETY: no arguments.
        let mode = match unsafe { raw::irq_mode() } {
            kinds::MSIX => IrqMode::MsiX,
            kinds::MSI => IrqMode::Msi,
            kinds::INTX => IrqMode::Intx,
            _ => return Err(Errno::Io),
        };
        Ok(Irqs { mode, count })
    }

    /// The mode in use.
    pub fn mode(&self) -> IrqMode {
        self.mode
    }

    /// Vectors allocated.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// For INTx: the host reads `status` (zero means the interrupt is not
    /// this device's) and, if given, writes the value read to `ack`.
    pub fn intx_config<T: Width>(&self, mmio: &Mmio, status: Reg<T>, ack: Option<Reg<T>>) -> Result<(), Errno> {
        let ack = ack.map_or(-1, |a| i64::from(a.offset));
        // SAFETY: plain values; the host checks them.
        check(unsafe { raw::irq_intx_config(mmio.handle(), i64::from(status.offset), ack, T::BYTES) }).map(drop)
    }
}

impl Drop for Irqs {
    fn drop(&mut self) {
        // SAFETY: no arguments.
        unsafe { raw::irq_free() };
    }
}

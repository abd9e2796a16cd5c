// SPDX-License-Identifier: GPL-2.0

//! PCI devices for wasm drivers.
//!
//! The engine decides what a driver may do; this module does it on real
//! devices:
//!
//! - [`pci_driver`]: `cervus_wasm`, the PCI driver every wasm driver's
//!   device is bound to; [`bind`]: taking devices and giving them back.
//! - [`context`]: a bound device's state (BARs, configuration space, the
//!   driver lock); [`dma`], [`irq`], [`timers`]: its capabilities;
//!   [`events`]: interrupts and timers turned into driver calls;
//!   [`chrdev`]: its `/dev` node; [`netdev`]: its Ethernet interface.
//! - [`abi`]: the C functions the engine calls.

mod abi;
mod bind;
mod chrdev;
mod context;
mod dma;
mod events;
mod irq;
mod netdev;
mod pci_driver;
mod timers;

use kernel::{driver, pci, prelude::*};

pub(crate) use pci_driver::WasmPci;

/// What the module holds for devices: the character-device region and the
/// bind locks. Create it before registering [`WasmPci`].
pub(crate) struct DeviceSupport {
    _chrdevs: chrdev::Chrdevs,
}

impl DeviceSupport {
    /// Sets up device support at module load.
    pub(crate) fn new() -> Result<Self> {
        bind::init();
        Ok(DeviceSupport { _chrdevs: chrdev::Chrdevs::new()? })
    }
}

/// Registers [`WasmPci`].
pub(crate) fn register_pci(
    module: &'static ThisModule,
) -> impl PinInit<driver::Registration<pci::Adapter<WasmPci>>, Error> {
    driver::Registration::new(pci_driver::NAME, module)
}

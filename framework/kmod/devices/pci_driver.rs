// SPDX-License-Identifier: GPL-2.0

//! Our PCI driver, `cervus_wasm`: it binds only the devices that
//! [`bind`](super::bind) hands it, through `driver_override`.
//!
//! It has no id table, so it never claims a device by itself. Its probe
//! enables the device and maps its memory BARs into a [`DevCtx`]; its
//! unbind tears the context down (interrupts, timers, DMA memory, the
//! character device) while the device is still bound.

use kernel::{
    device::Core,
    device_id::IdArray,
    pci,
    prelude::*,
    sync::Arc,
};

use super::bind;
use super::context::DevCtx;

/// The driver name `driver_override` must name.
pub(crate) const NAME: &CStr = c"cervus_wasm";

/// The PCI driver.
pub(crate) struct WasmPci;

/// What the driver core keeps for a bound device: our context.
pub(crate) struct BoundDevice {
    ctx: Arc<DevCtx>,
}

/// No ids: devices are bound explicitly.
static NO_IDS: IdArray<pci::DeviceId, (), 0> = IdArray::new([]);

impl pci::Driver for WasmPci {
    type IdInfo = ();
    type Data<'bound> = BoundDevice;
    const ID_TABLE: pci::IdTable<Self::IdInfo> = &NO_IDS;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        // Refuse devices nobody asked for (someone writing our name to a
        // device's `driver_override` in sysfs).
        let request = bind::expected(pdev).ok_or(ENODEV)?;
        pdev.enable_device_mem()?;
        let ctx = DevCtx::new(pdev, request.owner, &request.name, request.previous).inspect_err(|e| {
            dev_err!(pdev, "cannot set the device up for a wasm driver: {:?}\n", e);
            let raw = core::ptr::from_ref(pdev).cast::<kernel::bindings::pci_dev>().cast_mut();
            // SAFETY: enabled just above; the probe fails, so nothing else
            // will disable it.
            unsafe { kernel::bindings::pci_disable_device(raw) };
        })?;
        bind::probed(ctx.clone());
        Ok(BoundDevice { ctx })
    }

    fn unbind<'bound>(_pdev: &'bound pci::Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        this.ctx.teardown();
    }
}

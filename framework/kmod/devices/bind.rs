// SPDX-License-Identifier: GPL-2.0

//! Binding PCI devices to [`WasmPci`](super::pci_driver::WasmPci) at run
//! time, and giving them back.
//!
//! A device is found by address or by ids. If a kernel driver holds it,
//! it is taken only when asked (`--rebind`), and that driver's name is
//! kept to give it back at unbind. Binding sets the device's
//! `driver_override` to our driver's name, attaches (our probe runs, in
//! this task, and collects the request left in [`PENDING`]), and clears the
//! override again. Binds and unbinds are serialised by [`BINDING`].

use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    sync::Arc,
};

use super::context::DevCtx;
use super::pci_driver::NAME as OUR_DRIVER;
use crate::call::HostBindSpec;

/// What the probe of a device being bound needs to know.
pub(super) struct Request {
    pub(super) owner: u32,
    pub(super) name: KVec<u8>,
    pub(super) previous: Option<KVec<u8>>,
}

/// The bind in progress: the device, the request, and the probe's result.
struct Pending {
    pdev: usize,
    request: Option<Request>,
    probed: Option<Arc<DevCtx>>,
}

kernel::sync::global_lock! {
    // SAFETY: initialised by `init` at module load, before any use.
    unsafe(uninit) static BINDING: Mutex<()> = ();
}

kernel::sync::global_lock! {
    // SAFETY: initialised by `init` at module load, before any use.
    unsafe(uninit) static PENDING: Mutex<Option<Pending>> = None;
}

/// Initialises the locks. Called once, at module load.
pub(super) fn init() {
    // SAFETY: called once, before any other use of the locks.
    unsafe {
        BINDING.init();
        PENDING.init();
    }
}

/// For our probe: the request for `pdev`, if it is being bound.
pub(super) fn expected(pdev: &kernel::pci::Device<kernel::device::Core<'_>>) -> Option<Request> {
    let raw = core::ptr::from_ref(pdev) as usize;
    let mut pending = PENDING.lock();
    pending.as_mut().filter(|p| p.pdev == raw).and_then(|p| p.request.take())
}

/// For our probe: the context it made.
pub(super) fn probed(ctx: Arc<DevCtx>) {
    if let Some(p) = PENDING.lock().as_mut() {
        p.probed = Some(ctx);
    }
}

/// A counted reference to a `pci_dev`, put on drop.
struct PciRef(*mut bindings::pci_dev);

impl Drop for PciRef {
    fn drop(&mut self) {
        // SAFETY: we hold one reference.
        unsafe { bindings::pci_dev_put(self.0) };
    }
}

/// The name of the driver bound to `dev`, NUL-terminated, if any.
///
/// # Safety
///
/// `dev` is a valid device whose driver cannot change meanwhile (we hold
/// [`BINDING`], and only privileged sysfs writes race with it).
unsafe fn driver_name(dev: *mut bindings::device) -> Option<KVec<u8>> {
    // SAFETY: precondition; a bound driver has a valid, static name.
    let name = unsafe {
        let driver = (*dev).driver;
        if driver.is_null() {
            return None;
        }
        CStr::from_char_ptr((*driver).name)
    };
    let mut out = KVec::new();
    out.extend_from_slice(name.to_bytes_with_nul(), GFP_KERNEL).ok()?;
    Some(out)
}

/// Sets (or with an empty `name`, clears) `dev`'s `driver_override`.
///
/// # Safety
///
/// `dev` is a valid device.
unsafe fn set_override(dev: *mut bindings::device, name: &[u8]) -> Result {
    let name = name.strip_suffix(&[0]).unwrap_or(name);
    // An empty name still needs a valid pointer: the kernel takes its
    // `strlen`.
    let ptr = if name.is_empty() { c"".as_ptr().cast() } else { name.as_ptr().cast() };
    // SAFETY: precondition; `ptr` is valid for `len` bytes and, if `len` is
    // 0, a C string (copied).
    to_result(unsafe { bindings::__device_set_driver_override(dev, ptr, name.len()) })
}

/// Attaches `dev` to the driver named `name` (then clears the override).
///
/// # Safety
///
/// `dev` is a valid device without a driver.
unsafe fn attach_to(dev: *mut bindings::device, name: &[u8]) -> Result<bool> {
    // SAFETY: precondition.
    unsafe { set_override(dev, name)? };
    // SAFETY: as above; may run the driver's probe in this task.
    let attached = unsafe { bindings::device_attach(dev) };
    // SAFETY: as above.
    let _ = unsafe { set_override(dev, &[]) };
    to_result(attached.min(0))?;
    Ok(attached > 0)
}

/// Whether `pdev` can be taken under `spec`.
///
/// # Safety
///
/// `pdev` is a valid device.
unsafe fn available(pdev: *mut bindings::pci_dev, spec: &HostBindSpec) -> Result {
    // SAFETY: precondition.
    let (vendor, device, dev) = unsafe { ((*pdev).vendor, (*pdev).device, core::ptr::addr_of_mut!((*pdev).dev)) };
    let id = u32::from(vendor) << 16 | u32::from(device);
    let ids = &spec.ids[..(spec.ids_len as usize).min(spec.ids.len())];
    if !ids.is_empty() && !ids.contains(&id) {
        return Err(ENODEV);
    }
    // SAFETY: precondition.
    match unsafe { driver_name(dev) } {
        None => Ok(()),
        Some(name) if name.as_slice() == OUR_DRIVER.to_bytes_with_nul() => Err(EBUSY),
        Some(_) if spec.rebind != 0 => Ok(()),
        Some(name) => {
            pr_info!(
                "{:04x}:{:04x} is bound to {}; load with --rebind to take it\n",
                vendor,
                device,
                CStr::from_bytes_with_nul(&name).unwrap_or(c"?")
            );
            Err(EBUSY)
        }
    }
}

/// Finds the device `spec` names.
fn find(spec: &HostBindSpec) -> Result<PciRef> {
    if spec.has_slot != 0 {
        // SAFETY: plain values; returns a counted reference or null.
        let raw = unsafe {
            bindings::pci_get_domain_bus_and_slot(spec.domain as i32, spec.bus, spec.devfn)
        };
        if raw.is_null() {
            return Err(ENODEV);
        }
        let pdev = PciRef(raw);
        // SAFETY: a valid device (we hold a reference).
        unsafe { available(pdev.0, spec)? };
        return Ok(pdev);
    }
    let mut busy = false;
    for &id in &spec.ids[..(spec.ids_len as usize).min(spec.ids.len())] {
        let mut from = core::ptr::null_mut();
        loop {
            // SAFETY: `from` is null or a device we hold a reference to,
            // which `pci_get_device` drops; it returns a counted reference.
            from = unsafe { bindings::pci_get_device(id >> 16, id & 0xffff, from) };
            if from.is_null() {
                break;
            }
            // SAFETY: a valid device.
            match unsafe { available(from, spec) } {
                Ok(()) => return Ok(PciRef(from)),
                Err(e) if e == EBUSY => busy = true,
                Err(_) => {}
            }
        }
    }
    Err(if busy { EBUSY } else { ENODEV })
}

/// Binds the device `spec` names; returns its context.
pub(super) fn bind(spec: &HostBindSpec) -> Result<Arc<DevCtx>> {
    let _serial = BINDING.lock();
    let pdev = find(spec)?;
    // SAFETY: a valid device (we hold a reference).
    let dev = unsafe { core::ptr::addr_of_mut!((*pdev.0).dev) };
    // SAFETY: a valid device; its driver only changes under `BINDING` here.
    let previous = unsafe { driver_name(dev) };
    let mut name = KVec::new();
    name.extend_from_slice(&spec.name[..(spec.name_len as usize).min(spec.name.len())], GFP_KERNEL)?;
    let restore = previous.as_ref().map(|p| {
        let mut copy = KVec::new();
        let _ = copy.extend_from_slice(p, GFP_KERNEL);
        copy
    });
    *PENDING.lock() = Some(Pending {
        pdev: pdev.0 as usize,
        request: Some(Request { owner: spec.owner, name, previous }),
        probed: None,
    });
    if restore.is_some() {
        // SAFETY: a valid device; runs its driver's remove in this task.
        unsafe { bindings::device_release_driver(dev) };
    }
    // SAFETY: a valid device without a driver now.
    let attached = unsafe { attach_to(dev, OUR_DRIVER.to_bytes_with_nul()) };
    let probed = PENDING.lock().take().and_then(|p| p.probed);
    match (attached, probed) {
        (Ok(true), Some(ctx)) => Ok(ctx),
        (result, _) => {
            if let Some(previous) = restore {
                // SAFETY: a valid device without a driver.
                let _ = unsafe { attach_to(dev, &previous) };
            }
            Err(result.err().unwrap_or(ENODEV))
        }
    }
}

/// Releases `ctx`'s device (our unbind tears the context down) and gives
/// it back to the driver it was taken from.
pub(super) fn unbind(ctx: &DevCtx) {
    let _serial = BINDING.lock();
    let dev = ctx.raw_dev();
    // SAFETY: a valid device (the context holds a reference); if another
    // driver holds it by now (sysfs), releasing it is still correct.
    unsafe { bindings::device_release_driver(dev) };
    if let Some(previous) = &ctx.previous {
        // SAFETY: a valid device without a driver.
        match unsafe { attach_to(dev, previous) } {
            Ok(true) => {}
            _ => pr_warn!("could not give {} back to its driver after wasm driver {}\n", ctx.slot_name(), ctx.name()),
        }
    }
}

impl DevCtx {
    /// The device's address, `DDDD:BB:DD.F`.
    pub(super) fn slot_name(&self) -> &CStr {
        // SAFETY: a valid device; its kobject name is set at enumeration
        // and never changes.
        unsafe { CStr::from_char_ptr((*self.raw_dev()).kobj.name) }
    }
}

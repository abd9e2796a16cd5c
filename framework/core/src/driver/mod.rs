// SPDX-License-Identifier: GPL-2.0

//! Drivers: wasm modules bound to a device, driving it through checked
//! capabilities.
//!
//! A driver is loaded by a privileged request: its module is compiled, its
//! device found (from the request, or the module's match table) and bound,
//! it is instantiated with the `cervus` and `cervus_drv` imports only, and
//! its `cervus_probe` runs. From then on the system calls its exports for
//! interrupts, timers, its character device and its network interface
//! ([`Drivers::event`]), one at a time under the device's lock, each with a
//! fuel budget. [`Drivers::swap`] replaces the running module (`swap.rs`).
//!
//! Errors a driver can handle are return codes. Faults stop it: a trap, an
//! exhausted budget, or an engine panic (see `engine_panicked`). The device
//! is then quiesced at once (bus mastering off, interrupts freed, timers
//! stopped, the character device answering `ENODEV`), the cause is logged
//! once, and the driver stays listed as dead until it is unloaded, which
//! frees its DMA memory and gives the device back.

pub mod caps;
pub mod device;
mod event;
pub mod handles;
mod handoff;
mod instance;
pub mod net;
pub mod state;
mod swap;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use cervus_hostcalls::driver::{MATCH_SECTION, decode_match_table};
use cervus_hostcalls::message;
use cervus_hostcalls::protocol::{
    DriverInfo, DriverLoadRequest, DriverStatus, ErrorKind, ErrorReply, InstanceKind, InstanceState, MAX_NAME_LEN,
    Message,
};
use heapless::String;
use spin::Mutex;

pub use device::{BoundDevice, DeviceId, DeviceSpec, Devices, DmaBuffer, PciSlot, UserBuf};
pub use event::Event;
use instance::{Compiled, DriverInstance, Export, Identity};
use state::DriverCounters;

use crate::ipc::Broadcasts;
use crate::platform::{Level, Platform, SysError, TaskToken};
use crate::registry::{self, InstanceId, Registration, Registry};
use crate::run;

/// Most drivers loaded at once.
pub const MAX_DRIVERS: usize = 16;

/// Settings for drivers (module parameters).
#[derive(Clone, Copy, Debug)]
pub struct DriverLimits {
    /// Fuel per slice.
    pub slice: u64,
    /// Fuel per call into the driver.
    pub budget: u64,
    /// Bytes of DMA per driver.
    pub dma_quota: usize,
    /// Linear memory per driver.
    pub memory: u64,
    /// Link the `cervus_test` hooks.
    pub test_hooks: bool,
    /// How long a swapped-in network driver has to bring its link up, in
    /// milliseconds.
    pub swap_ready_ms: u64,
}

/// A loaded driver.
struct Slot {
    id: InstanceId,
    name: String<MAX_NAME_LEN>,
    device: BoundDevice,
    registration: Registration,
    broadcasts: Arc<Broadcasts>,
    limits: DriverLimits,
    code: Mutex<Compiled>,
    swaps: AtomicU32,
    /// Why it stopped, once it has.
    dead: Mutex<Option<Message>>,
    /// The instance. Only touched under the device's lock (so `try_lock`
    /// always succeeds); left locked forever if the engine panics inside.
    loaded: Mutex<Option<DriverInstance>>,
    /// Counters, copied out after each call, for listing without the lock.
    published: Mutex<Published>,
}

/// What `cvctl driver list` shows of a driver's state, copied out after
/// each call so that listing never waits for a running driver.
#[derive(Clone, Default)]
struct Published {
    counters: DriverCounters,
    dma_bytes: u64,
    fuel_used: u64,
    netdev: String<16>,
}

impl Slot {
    /// Who a new instance of this driver is.
    fn identity(&self, platform: &'static dyn Platform) -> Identity<'_> {
        Identity {
            platform,
            id: self.id,
            name: &self.name,
            control: self.registration.control().clone(),
            broadcasts: self.broadcasts.clone(),
            device: self.device.id,
            limits: self.limits,
        }
    }

    /// Copies the instance's counters out for listing.
    fn publish(&self, loaded: &mut DriverInstance) {
        let fuel_used = loaded.instance.state().control.fuel_used.load(Ordering::Relaxed);
        if let Some(d) = loaded.driver() {
            *self.published.lock() = Published {
                counters: d.counters,
                dma_bytes: d.dma_bytes as u64,
                fuel_used,
                netdev: d.netdev.clone().unwrap_or_default(),
            };
        }
    }

    /// Calls `export` with the driver marked as running (for engine panics).
    #[expect(clippy::result_large_err, reason = "messages are bounded inline strings, built without allocating")]
    fn call(
        &self,
        platform: &'static dyn Platform,
        loaded: &mut DriverInstance,
        export: Export,
        params: &[wasmi::Val],
    ) -> Result<Option<i32>, Message> {
        platform.set_running(Some(self.id));
        let result = loaded.call(export, params, &self.limits);
        platform.set_running(None);
        self.publish(loaded);
        result
    }
}

/// The loaded drivers.
pub struct Drivers {
    slots: Mutex<Vec<Arc<Slot>>>,
    registry: Arc<Registry>,
}

fn error(kind: ErrorKind, message: Message) -> ErrorReply {
    ErrorReply { kind, message }
}

/// The match table in the module's custom section, if it has one.
fn match_table(wasm: &[u8]) -> Option<heapless::Vec<(u16, u16), 16>> {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CustomSection(section)) = payload
            && section.name() == MATCH_SECTION
        {
            return decode_match_table(section.data()).and_then(|ids| heapless::Vec::from_slice(&ids).ok());
        }
    }
    None
}

/// Which device a load request names.
#[expect(clippy::result_large_err, reason = "replies are bounded inline values, built without allocating")]
fn device_spec(request: &DriverLoadRequest<'_>) -> Result<DeviceSpec, ErrorReply> {
    let ids = match (request.pci_id, request.slot) {
        (Some(id), _) => heapless::Vec::from_slice(&[id]).unwrap_or_default(),
        (None, Some(_)) => heapless::Vec::new(),
        (None, None) => match match_table(request.wasm) {
            Some(ids) if !ids.is_empty() => ids,
            _ => {
                return Err(error(
                    ErrorKind::Device,
                    message!("no --pci or --slot given and the module has no `{MATCH_SECTION}` match table"),
                ));
            }
        },
    };
    Ok(DeviceSpec {
        ids,
        slot: request.slot.map(|s| PciSlot { domain: s.domain, bus: s.bus, device: s.device, function: s.function }),
        rebind: request.rebind,
    })
}

impl Drivers {
    /// No drivers; their instances will be listed in `registry`.
    pub fn new(registry: Arc<Registry>) -> Self {
        Drivers { slots: Mutex::new(Vec::with_capacity(MAX_DRIVERS)), registry }
    }

    fn find(&self, pred: impl Fn(&Slot) -> bool) -> Option<Arc<Slot>> {
        self.slots.lock().iter().find(|s| pred(s)).cloned()
    }

    /// Loads a driver for `caller` (who must have CAP_SYS_ADMIN).
    #[expect(clippy::result_large_err, reason = "replies are bounded inline values, built without allocating")]
    pub fn load(
        &self,
        platform: &'static dyn Platform,
        broadcasts: &Arc<Broadcasts>,
        limits: DriverLimits,
        owner: (u32, i32),
        task: TaskToken,
        request: &DriverLoadRequest<'_>,
    ) -> Result<(), ErrorReply> {
        if let Some(existing) = self.find(|s| s.name == request.name) {
            if existing.dead.lock().is_none() {
                return Err(error(ErrorKind::Exists, message!("a driver named {} is loaded", request.name)));
            }
            // A dead driver of that name: finish its unloading first.
            self.unload(platform, request.name);
        }
        if self.slots.lock().len() >= MAX_DRIVERS {
            return Err(error(ErrorKind::Limit, message!("{MAX_DRIVERS} drivers are loaded")));
        }
        let compiled = Compiled::new(platform, request.wasm, request.engine)?;
        let spec = device_spec(request)?;
        let who = registry::Identity {
            name: request.name,
            kind: InstanceKind::Driver,
            engine: request.engine,
            owner_uid: owner.0,
            pid: owner.1,
            task,
        };
        let registration = self
            .registry
            .register(who)
            .map_err(|_| error(ErrorKind::Limit, message!("all instance slots are in use")))?;
        let devices = platform.devices();
        let device = devices
            .bind(&spec, registration.id(), request.name)
            .map_err(|e| error(ErrorKind::Device, message!("{}: {}", describe(&spec), run::sys_error_text(e.0))))?;
        // From here on, failures give the device back.
        let fail = |kind, message| {
            devices.quiesce(device.id);
            devices.unbind(device.id);
            error(kind, message)
        };
        let slot = Arc::new(Slot {
            id: registration.id(),
            name: crate::runtime::short(request.name),
            device: device.clone(),
            registration,
            broadcasts: broadcasts.clone(),
            limits,
            code: Mutex::new(compiled),
            swaps: AtomicU32::new(0),
            dead: Mutex::new(None),
            loaded: Mutex::new(None),
            published: Mutex::new(Published::default()),
        });
        platform.set_running(Some(slot.id));
        let instance = DriverInstance::new(&slot.code.lock(), &slot.identity(platform), None);
        platform.set_running(None);
        match instance {
            Ok(instance) => *slot.loaded.lock() = Some(instance),
            Err(message) => return Err(fail(ErrorKind::Link, message)),
        }
        // The slot is listed before probing, so that interrupts arriving
        // during the probe are delivered after it, and an engine panic in
        // the probe finds (and kills) the driver.
        {
            let mut slots = self.slots.lock();
            if slots.iter().any(|s| s.name == slot.name) {
                drop(slots);
                drop(slot.loaded.lock().take());
                return Err(fail(ErrorKind::Exists, message!("a driver named {} is loaded", request.name)));
            }
            slots.push(slot.clone());
        }
        devices.lock(device.id);
        let probed = match slot.loaded.lock().as_mut() {
            Some(loaded) => slot.call(platform, loaded, Export::Probe, &[]),
            None => Ok(None),
        };
        devices.unlock(device.id);
        let failure = match probed {
            Ok(Some(0)) => None,
            Ok(None) => Some(message!("the module exports no `{}`", Export::Probe.name())),
            Ok(Some(code)) => Some(message!("{} returned {code}", Export::Probe.name())),
            Err(message) => Some(message),
        };
        if let Some(message) = failure {
            self.slots.lock().retain(|s| !Arc::ptr_eq(s, &slot));
            drop(slot.loaded.lock().take());
            return Err(fail(ErrorKind::Probe, message));
        }
        slot.registration.set_state(InstanceState::Running);
        platform.log(
            Level::Info,
            format_args!(
                "driver {} loaded on {} ({:04x}:{:04x}), module {}",
                request.name,
                device.slot,
                device.vendor,
                device.device,
                slot.code.lock().hash
            ),
        );
        Ok(())
    }

    /// Stops driver `name`, releases its device and removes it.
    pub fn unload(&self, platform: &'static dyn Platform, name: &str) -> bool {
        let slot = {
            let mut slots = self.slots.lock();
            let Some(i) = slots.iter().position(|s| s.name == name) else { return false };
            slots.remove(i)
        };
        let devices = platform.devices();
        devices.lock(slot.device.id);
        // A driver the engine panicked in is left locked: skip its instance
        // (abandoned with the panicking call), and free its registry slot.
        let loaded = slot.loaded.try_lock().and_then(|mut l| l.take());
        match loaded {
            Some(mut loaded) => {
                if slot.dead.lock().is_none()
                    && let Err(message) = slot.call(platform, &mut loaded, Export::Remove, &[])
                {
                    platform.log(Level::Warning, format_args!("driver {name}: {message}"));
                }
                // The device's memory is freed by `unbind` below, after the
                // device is stopped; dropping the instance frees the rest.
                drop(loaded);
            }
            None => {
                self.registry.remove_dead(slot.id);
            }
        }
        devices.quiesce(slot.device.id);
        devices.unlock(slot.device.id);
        devices.unbind(slot.device.id);
        platform.log(Level::Info, format_args!("driver {name} unloaded; {} released", slot.device.slot));
        true
    }

    /// Handles `event` for driver `id`; returns what the system call
    /// returns: a count (0 for events without one) or an errno, `EAGAIN`
    /// when the driver would block. `ENODEV` if the driver is not running.
    pub fn event(&self, platform: &'static dyn Platform, id: InstanceId, event: Event) -> Result<i64, SysError> {
        let slot = self.find(|s| s.id == id).ok_or(SysError::ENODEV)?;
        let devices = platform.devices();
        devices.lock(slot.device.id);
        let result = self.event_locked(platform, &slot, event);
        devices.unlock(slot.device.id);
        result
    }

    fn event_locked(&self, platform: &'static dyn Platform, slot: &Slot, event: Event) -> Result<i64, SysError> {
        if slot.dead.lock().is_some() {
            return Err(SysError::ENODEV);
        }
        // Under the device's lock nobody else holds it; a failure means the
        // engine panicked in this driver earlier.
        let mut guard = slot.loaded.try_lock().ok_or(SysError::ENODEV)?;
        let loaded = guard.as_mut().ok_or(SysError::ENODEV)?;
        let call = event.call();
        if let Some(d) = loaded.driver() {
            match event {
                Event::Irq { count, .. } => {
                    d.counters.irq_events += 1;
                    d.counters.irqs += u64::from(count);
                }
                Event::Timer(_) => d.counters.timer_events += 1,
                _ if event.is_chr() => d.counters.chr_calls += 1,
                _ => {}
            }
            d.user = call.user;
        }
        let result = slot.call(platform, loaded, call.export, &call.params[..call.count]);
        if let Some(d) = loaded.driver() {
            d.user = None;
        }
        if let (Event::NetOpen, Ok(Some(code))) = (event, &result)
            && *code < 0
        {
            platform.log(Level::Warning, format_args!("driver {}: {} returned {code}", slot.name, call.export.name()));
        }
        match result {
            Ok(value) => event.answer(value),
            Err(message) => {
                drop(guard);
                self.kill(platform, slot, message);
                Err(SysError::ENODEV)
            }
        }
    }

    /// Stops a driver for good: logs why (once), quiesces its device.
    fn kill(&self, platform: &'static dyn Platform, slot: &Slot, why: Message) {
        let mut dead = slot.dead.lock();
        if dead.is_some() {
            return;
        }
        platform.log(Level::Error, format_args!("driver {} stopped: {why}; {} quiesced", slot.name, slot.device.slot));
        *dead = Some(why);
        drop(dead);
        platform.devices().quiesce(slot.device.id);
    }

    /// After an engine panic while `id` ran: if it is a driver, it is dead.
    /// Its instance stays locked and abandoned; the device is quiesced.
    pub fn engine_panicked(&self, platform: &'static dyn Platform, id: InstanceId, panic: &str) -> bool {
        match self.find(|s| s.id == id) {
            Some(slot) => {
                self.kill(platform, &slot, message!("the engine panicked: {panic}"));
                true
            }
            None => false,
        }
    }

    /// The loaded drivers.
    pub fn list(&self) -> Vec<DriverInfo> {
        let slots: Vec<Arc<Slot>> = self.slots.lock().clone();
        slots
            .iter()
            .map(|s| {
                let p = s.published.lock().clone();
                let c = p.counters;
                let dead = s.dead.lock().clone();
                let (engine, module_hash) = {
                    let code = s.code.lock();
                    (code.program.engine(), code.hash.clone())
                };
                DriverInfo {
                    id: s.id.0,
                    name: s.name.clone(),
                    engine,
                    device: s.device.slot.clone(),
                    vendor: s.device.vendor,
                    device_id: s.device.device,
                    status: if dead.is_some() { DriverStatus::Dead } else { DriverStatus::Running },
                    reason: dead.unwrap_or_default(),
                    irq_events: c.irq_events,
                    irqs: c.irqs,
                    timer_events: c.timer_events,
                    chr_calls: c.chr_calls,
                    mmio_ops: c.mmio_ops,
                    dma_bytes: p.dma_bytes,
                    fuel_used: p.fuel_used,
                    netdev: p.netdev,
                    rx_frames: c.rx_frames,
                    tx_frames: c.tx_frames,
                    module_hash,
                    swaps: s.swaps.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    /// Unloads every driver (module unload).
    pub fn unload_all(&self, platform: &'static dyn Platform) {
        loop {
            let Some(name) = self.slots.lock().first().map(|s| s.name.clone()) else { return };
            self.unload(platform, &name);
        }
    }
}

fn describe(spec: &DeviceSpec) -> Message {
    match (spec.slot, spec.ids.first()) {
        (Some(s), _) => message!("{:04x}:{:02x}:{:02x}.{}", s.domain, s.bus, s.device, s.function),
        (None, Some((v, d))) => message!("no free PCI device {v:04x}:{d:04x}"),
        (None, None) => message!("no device"),
    }
}

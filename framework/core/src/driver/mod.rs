// SPDX-License-Identifier: GPL-2.0

//! Drivers: wasm modules bound to a device, driving it through checked
//! capabilities.
//!
//! A driver is loaded by a privileged request: its module is compiled, its
//! device found (from the request, or the module's match table) and bound,
//! it is instantiated with the `cervus` and `cervus_drv` imports only, and
//! its `cervus_probe` runs. From then on the system calls its exports for
//! interrupts, timers and its character device ([`Drivers::event`]), one at
//! a time under the device's lock, each with a fuel budget.
//!
//! Errors a driver can handle are return codes. Faults stop it: a trap, an
//! exhausted budget, or an engine panic (see `engine_panicked`). The device
//! is then quiesced at once (bus mastering off, interrupts freed, timers
//! stopped, the character device answering `ENODEV`), the cause is logged
//! once, and the driver stays listed as dead until it is unloaded, which
//! frees its DMA memory and gives the device back.

pub mod caps;
pub mod device;
pub mod handles;
pub mod state;

use alloc::sync::Arc;
use alloc::vec::Vec;

use cervus_hostcalls::driver::{
    EXPORT_CHR_IOCTL, EXPORT_CHR_OPEN, EXPORT_CHR_READ, EXPORT_CHR_RELEASE, EXPORT_CHR_WRITE, EXPORT_IRQ, EXPORT_PROBE,
    EXPORT_REMOVE, EXPORT_TIMER, MATCH_SECTION, decode_match_table,
};
use cervus_hostcalls::protocol::{
    DriverInfo, DriverLoadRequest, DriverStatus, EngineKind, ErrorKind, ErrorReply, InstanceKind, InstanceState,
    MAX_NAME_LEN, Message, Outcome,
};
use cervus_hostcalls::{Errno, message};
use heapless::String;
use spin::Mutex;
use wasmi::{Instance, Linker, Store, StoreLimitsBuilder, Val};

pub use device::{BoundDevice, DeviceId, DeviceSpec, Devices, DmaBuffer, PciSlot, UserBuf};
use state::{DriverCounters, DriverState};

use crate::exec::{self, Ended, Policy};
use crate::hostcalls::{self, Capabilities};
use crate::instance::{HostState, InstanceLimits};
use crate::ipc::Broadcasts;
use crate::platform::{Level, Platform, SysError, TaskToken};
use crate::registry::{Identity, InstanceId, Registration, Registry};
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
}

/// Something the system asks a driver to handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Interrupts on `vector`: `count` coalesced, INTx `status`.
    Irq {
        /// The vector.
        vector: u32,
        /// What the host read from the INTx status register.
        status: u32,
        /// Hard interrupts coalesced.
        count: u32,
    },
    /// Timer `id` fired.
    Timer(u32),
    /// `/dev/NAME` was opened; the file's id.
    ChrOpen(u32),
    /// A file was closed.
    ChrRelease(u32),
    /// `read(2)`: file, the caller's buffer, file offset.
    ChrRead(u32, UserBuf, i64),
    /// `write(2)`: file, the caller's buffer, file offset.
    ChrWrite(u32, UserBuf, i64),
    /// `ioctl(2)`: file, command, the argument buffer.
    ChrIoctl(u32, u32, UserBuf),
}

/// A loaded driver: its instance, under the device's lock.
struct Loaded {
    store: Store<HostState>,
    instance: Instance,
    _registration: Registration,
}

/// A slot of the driver table.
struct Slot {
    id: InstanceId,
    name: String<MAX_NAME_LEN>,
    engine: EngineKind,
    device: BoundDevice,
    /// Why it stopped, once it has.
    dead: Mutex<Option<Message>>,
    /// The instance. Only touched under the device's lock (so `try_lock`
    /// always succeeds); left locked forever if the engine panics inside.
    loaded: Mutex<Option<Loaded>>,
    /// Counters, copied out after each call, for listing without the lock.
    counters: Mutex<(DriverCounters, u64, u64)>,
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

#[expect(clippy::result_large_err, reason = "messages are bounded inline strings, built without allocating")]
/// Calls export `name` of a loaded driver with `params` under `limits`'
/// budget. `Ok(None)` if the driver does not export it.
fn call(loaded: &mut Loaded, name: &str, params: &[Val], limits: &DriverLimits) -> Result<Option<i32>, Message> {
    let Some(func) = loaded.instance.get_func(&loaded.store, name) else { return Ok(None) };
    let returns = func.ty(&loaded.store).results().len();
    let mut results = [Val::I32(0)];
    let results = &mut results[..returns.min(1)];
    let policy = Policy { slice: limits.slice, budget: Some(limits.budget), stoppable: false };
    let (ended, _, _) = exec::execute(&mut loaded.store, &loaded.instance, func, params, results, policy);
    match ended {
        Ended::Returned => Ok(Some(results.first().and_then(Val::i32).unwrap_or(0))),
        Ended::Budget(fuel) => Err(message!("{name} used up its budget ({fuel} fuel): an endless loop?")),
        Ended::Stopped(Outcome::Trapped(trap)) => Err(message!("{name} trapped: {}", trap.message)),
        Ended::Stopped(other) => Err(message!("{name} stopped: {other:?}")),
    }
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
        if request.engine != EngineKind::Interp {
            return Err(error(
                ErrorKind::EngineUnavailable,
                message!("engine `{}` is not built into this module", request.engine.name()),
            ));
        }
        let (engine, module) = run::compile(request.wasm)?;
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
        let spec = DeviceSpec {
            ids,
            slot: request.slot.map(|s| PciSlot {
                domain: s.domain,
                bus: s.bus,
                device: s.device,
                function: s.function,
            }),
            rebind: request.rebind,
        };
        let who = Identity {
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
        let id = registration.id();
        let devices = platform.devices();
        let device = devices
            .bind(&spec, id, request.name)
            .map_err(|e| error(ErrorKind::Device, message!("{}: {}", describe(&spec), run::sys_error_text(e.0))))?;
        // From here on, failures give the device back.
        let fail = |kind, message| {
            devices.quiesce(device.id);
            devices.unbind(device.id);
            error(kind, message)
        };
        platform.set_running(Some(id));
        let mut state = HostState::new(
            platform,
            id,
            request.name,
            registration.control().clone(),
            Vec::new(),
            Vec::new(),
            broadcasts.clone(),
            InstanceLimits { max_files: 0 },
            StoreLimitsBuilder::new()
                .memory_size(usize::try_from(limits.memory).unwrap_or(usize::MAX))
                .instances(1)
                .memories(1)
                .tables(1)
                .build(),
        );
        state.driver = Some(DriverState::new(device.id, limits));
        let mut store = Store::new(&engine, state);
        store.limiter(|s| &mut s.store_limits);
        let mut linker = Linker::new(&engine);
        let caps = Capabilities { apps: false, drivers: true, test_hooks: limits.test_hooks };
        let result = hostcalls::register(&mut linker, caps).map_err(|e| message!("{e}")).and_then(|()| {
            let _ = store.set_fuel(limits.budget);
            linker.instantiate_and_start(&mut store, &module).map_err(|e| run::instantiation_error(&e).message)
        });
        let instance = match result {
            Ok(i) => i,
            Err(message) => {
                platform.set_running(None);
                drop(store);
                return Err(fail(ErrorKind::Link, message));
            }
        };
        // The slot is listed before probing, so that interrupts arriving
        // during the probe are delivered after it, and an engine panic in
        // the probe finds (and kills) the driver.
        let slot = Arc::new(Slot {
            id,
            name: crate::runtime::short(request.name),
            engine: request.engine,
            device: device.clone(),
            dead: Mutex::new(None),
            loaded: Mutex::new(Some(Loaded { store, instance, _registration: registration })),
            counters: Mutex::new((DriverCounters::default(), 0, 0)),
        });
        {
            let mut slots = self.slots.lock();
            if slots.iter().any(|s| s.name == slot.name) {
                drop(slots);
                platform.set_running(None);
                drop(slot.loaded.lock().take());
                return Err(fail(ErrorKind::Exists, message!("a driver named {} is loaded", request.name)));
            }
            slots.push(slot.clone());
        }
        devices.lock(device.id);
        let probed = match slot.loaded.lock().as_mut() {
            Some(loaded) => {
                let probed = call(loaded, EXPORT_PROBE, &[], &limits);
                record_counters(&slot, loaded);
                probed
            }
            None => Ok(None),
        };
        devices.unlock(device.id);
        platform.set_running(None);
        let failure = match probed {
            Ok(Some(0)) => None,
            Ok(None) => Some(message!("the module exports no `{EXPORT_PROBE}`")),
            Ok(Some(code)) => Some(message!("{EXPORT_PROBE} returned {code}")),
            Err(message) => Some(message),
        };
        if let Some(message) = failure {
            self.slots.lock().retain(|s| !Arc::ptr_eq(s, &slot));
            drop(slot.loaded.lock().take());
            return Err(fail(ErrorKind::Probe, message));
        }
        registry_set_running(&slot);
        platform.log(
            Level::Info,
            format_args!(
                "driver {} loaded on {} ({:04x}:{:04x})",
                request.name, device.slot, device.vendor, device.device
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
        if loaded.is_none() {
            self.registry.remove_dead(slot.id);
        }
        if let Some(mut loaded) = loaded {
            let alive = slot.dead.lock().is_none();
            if alive && let Some(limits) = limits_of(&loaded) {
                platform.set_running(Some(slot.id));
                if let Err(message) = call(&mut loaded, EXPORT_REMOVE, &[], &limits) {
                    platform.log(Level::Warning, format_args!("driver {name}: {message}"));
                }
                platform.set_running(None);
            }
            // The device's memory is freed by `unbind` below, after the
            // device is stopped; dropping the instance frees the rest.
            drop(loaded);
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
        let limits = limits_of(loaded).ok_or(SysError::ENODEV)?;
        let (export, params, user): (&str, Vec<Val>, Option<UserBuf>) = match event {
            Event::Irq { vector, status, count } => {
                if let Some(d) = driver_state(loaded) {
                    d.counters.irq_events += 1;
                    d.counters.irqs += u64::from(count);
                }
                (
                    EXPORT_IRQ,
                    alloc::vec![Val::I32(vector as i32), Val::I32(status as i32), Val::I32(count as i32)],
                    None,
                )
            }
            Event::Timer(timer) => {
                if let Some(d) = driver_state(loaded) {
                    d.counters.timer_events += 1;
                }
                (EXPORT_TIMER, alloc::vec![Val::I32(timer as i32)], None)
            }
            Event::ChrOpen(file) => (EXPORT_CHR_OPEN, alloc::vec![Val::I32(file as i32)], None),
            Event::ChrRelease(file) => (EXPORT_CHR_RELEASE, alloc::vec![Val::I32(file as i32)], None),
            Event::ChrRead(file, buf, offset) => (
                EXPORT_CHR_READ,
                alloc::vec![Val::I32(file as i32), Val::I32(buf.len.min(i32::MAX as usize) as i32), Val::I64(offset)],
                Some(buf),
            ),
            Event::ChrWrite(file, buf, offset) => (
                EXPORT_CHR_WRITE,
                alloc::vec![Val::I32(file as i32), Val::I32(buf.len.min(i32::MAX as usize) as i32), Val::I64(offset)],
                Some(buf),
            ),
            Event::ChrIoctl(file, cmd, buf) => (
                EXPORT_CHR_IOCTL,
                alloc::vec![Val::I32(file as i32), Val::I32(cmd as i32), Val::I32(buf.len as i32)],
                Some(buf),
            ),
        };
        if let Some(d) = driver_state(loaded) {
            if !matches!(event, Event::Irq { .. } | Event::Timer(_)) {
                d.counters.chr_calls += 1;
            }
            d.user = user;
        }
        platform.set_running(Some(slot.id));
        let result = call(loaded, export, &params, &limits);
        platform.set_running(None);
        if let Some(d) = driver_state(loaded) {
            d.user = None;
        }
        record_counters(slot, loaded);
        match result {
            Ok(value) => answer(event, value),
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
                let (c, dma_bytes, fuel_used) = *s.counters.lock();
                let dead = s.dead.lock().clone();
                DriverInfo {
                    id: s.id.0,
                    name: s.name.clone(),
                    engine: s.engine,
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
                    dma_bytes,
                    fuel_used,
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

/// What the system call gets for a driver's answer to `event`: the count
/// or a Linux errno. Exports a driver does not have answer as if they
/// refused (`EINVAL`, or `ENOTTY` for ioctls), except `open`, which succeeds.
fn answer(event: Event, value: Option<i32>) -> Result<i64, SysError> {
    let ioctl = matches!(event, Event::ChrIoctl(..));
    let len = match event {
        Event::ChrRead(_, buf, _) | Event::ChrWrite(_, buf, _) => Some(buf.len),
        Event::ChrOpen(_) | Event::ChrIoctl(..) => None,
        Event::Irq { .. } | Event::Timer(_) | Event::ChrRelease(_) => return Ok(0),
    };
    match value {
        None if matches!(event, Event::ChrOpen(_)) => Ok(0),
        None => Err(if ioctl { SysError::ENOTTY } else { SysError::EINVAL }),
        Some(v) if v < 0 => Err(errno(v, ioctl)),
        // A driver claiming more bytes than the call had is broken.
        Some(v) if len.is_some_and(|len| v as usize > len) => Err(SysError::EIO),
        Some(_) if matches!(event, Event::ChrOpen(_)) => Ok(0),
        Some(v) => Ok(i64::from(v)),
    }
}

/// The Linux errno for a driver's error code.
fn errno(code: i32, ioctl: bool) -> SysError {
    match Errno::from_code(code) {
        Some(Errno::WouldBlock) => SysError::EAGAIN,
        Some(Errno::Unsupported) if ioctl => SysError::ENOTTY,
        Some(Errno::InvalidArgument | Errno::Misaligned | Errno::Unsupported) => SysError::EINVAL,
        Some(Errno::PermissionDenied) => SysError::EPERM,
        Some(Errno::NotFound) => SysError::ENOENT,
        Some(Errno::BadPointer) => SysError::EFAULT,
        Some(Errno::BadHandle) => SysError::EBADF,
        Some(Errno::OutOfBounds) => SysError::ERANGE,
        Some(Errno::QuotaExceeded) => SysError::EDQUOT,
        Some(Errno::NoMemory) => SysError::ENOMEM,
        Some(Errno::Interrupted) => SysError::EINTR,
        Some(Errno::Io | Errno::Unknown) | None => SysError::EIO,
    }
}

/// The driver part of a loaded driver's state (set at load, so always there).
fn driver_state(loaded: &mut Loaded) -> Option<&mut DriverState> {
    loaded.store.data_mut().driver.as_mut()
}

/// The limits a loaded driver runs under.
fn limits_of(loaded: &Loaded) -> Option<DriverLimits> {
    loaded.store.data().driver.as_ref().map(|d| d.limits)
}

fn record_counters(slot: &Slot, loaded: &Loaded) {
    let state = loaded.store.data();
    if let Some(d) = state.driver.as_ref() {
        let fuel = state.control.fuel_used.load(core::sync::atomic::Ordering::Relaxed);
        *slot.counters.lock() = (d.counters, d.dma_bytes as u64, fuel);
    }
}

fn registry_set_running(slot: &Slot) {
    if let Some(loaded) = slot.loaded.lock().as_ref() {
        loaded._registration.set_state(InstanceState::Running);
    }
}

fn describe(spec: &DeviceSpec) -> Message {
    match (spec.slot, spec.ids.first()) {
        (Some(s), _) => message!("{:04x}:{:02x}:{:02x}.{}", s.domain, s.bus, s.device, s.function),
        (None, Some((v, d))) => message!("no free PCI device {v:04x}:{d:04x}"),
        (None, None) => message!("no device"),
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Request dispatch: the entry point of the core.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use cervus_hostcalls::device::ABI_VERSION;
use cervus_hostcalls::message;
use cervus_hostcalls::protocol::{
    ErrorKind, ErrorReply, Info, InstanceKind, Limits, Outcome, Reply, Request, RunRequest, encode_reply,
};
use heapless::String;

use crate::driver::{DriverLimits, Drivers, Event};
use crate::hostcalls::Capabilities;
use crate::ipc::Broadcasts;
use crate::platform::{Level, Platform};
use crate::registry::{Actor, Identity, InstanceId, KillError, RegisterError, Registry};
use crate::run::{self, RunLimits};

/// The engines compiled into this build (versions pinned in the manifests):
/// the interpreter and the JIT.
pub const ENGINES: &str = "wasmi 2.0.0 (interp), cranelift 0.135.8 (jit)";

/// Settings fixed when the runtime is created (the kernel's module parameters).
#[derive(Clone, Debug)]
pub struct Config {
    /// Limits applied to every instance.
    pub limits: Limits,
    /// Most open resources and descriptors per instance.
    pub max_files: u32,
    /// Link the `cervus_test` fault-injection hostcalls.
    pub test_hooks: bool,
    /// Fuel per call into a driver.
    pub driver_budget: u64,
    /// Bytes of DMA per driver.
    pub dma_quota: usize,
    /// How long a swapped-in network driver has to bring its link up, in
    /// milliseconds.
    pub swap_ready_ms: u64,
    /// Version string of the embedding (the kernel module).
    pub module_version: String<32>,
}

/// Who is making a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    /// Effective uid of the calling process.
    pub uid: u32,
    /// Its pid (thread group id).
    pub pid: i32,
}

/// A request that cannot be answered with a [`Reply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The request does not decode or breaks a bound (`EINVAL`).
    BadRequest,
    /// The reply does not fit the buffer (`ENOSPC`); cannot happen with a
    /// buffer of `MAX_REPLY_LEN` bytes.
    ReplyTooLarge,
}

/// The instance manager and request dispatcher.
pub struct Runtime {
    platform: &'static dyn Platform,
    config: Config,
    registry: Arc<Registry>,
    broadcasts: Arc<Broadcasts>,
    drivers: Drivers,
    engine_panics: AtomicU64,
}

impl Runtime {
    /// Creates the runtime, or `None` if its tables cannot be allocated.
    pub fn new(platform: &'static dyn Platform, config: Config) -> Option<Self> {
        let registry = Arc::new(Registry::new(config.limits.max_instances as usize)?);
        Some(Runtime {
            platform,
            config,
            drivers: Drivers::new(registry.clone()),
            registry,
            broadcasts: Arc::new(Broadcasts::new()),
            engine_panics: AtomicU64::new(0),
        })
    }

    /// Decodes `request`, carries it out for `caller`, and encodes the reply
    /// into `reply`, returning the reply's length.
    pub fn handle(&self, caller: &Caller, request: &[u8], reply: &mut [u8]) -> Result<usize, CallError> {
        let request = Request::decode(request).map_err(|_| CallError::BadRequest)?;
        let answer = match request {
            Request::Info => Reply::Info(self.info()),
            Request::Run(run) => self.run(caller, &run),
            Request::List => Reply::List(self.registry.list()),
            Request::Kill { instance } => self.kill(caller, InstanceId(instance)),
            Request::DriverLoad(load) => self.privileged(|| {
                let owner = (caller.uid, caller.pid);
                let task = self.platform.current_task();
                self.drivers
                    .load(self.platform, &self.broadcasts, self.driver_limits(), owner, task, &load)
                    .map_or_else(Reply::Error, |()| Reply::Done)
            }),
            Request::DriverUnload { name } => self.privileged(|| {
                if self.drivers.unload(self.platform, name) {
                    Reply::Done
                } else {
                    Reply::Error(ErrorReply { kind: ErrorKind::NotFound, message: message!("no driver {name}") })
                }
            }),
            Request::DriverList => Reply::Drivers(self.drivers.list()),
            Request::DriverSwap(swap) => {
                self.privileged(|| self.drivers.swap(self.platform, &swap).map_or_else(Reply::Error, Reply::Swapped))
            }
        };
        encode_reply(&answer, reply).map(|r| r.len()).map_err(|_| CallError::ReplyTooLarge)
    }

    /// Versions, counters and limits.
    pub fn info(&self) -> Info {
        let heap = self.platform.heap_stats();
        Info {
            abi_version: ABI_VERSION,
            module_version: self.config.module_version.clone(),
            engines: short(ENGINES),
            live_instances: self.registry.live(),
            started_instances: self.registry.started(),
            heap_bytes: heap.bytes,
            heap_allocations: heap.allocations,
            engine_panics: self.engine_panics.load(Ordering::Relaxed),
            jit: crate::program::jit_stats(),
            limits: self.config.limits,
        }
    }

    fn driver_limits(&self) -> DriverLimits {
        DriverLimits {
            slice: self.config.limits.exec_slice.max(1),
            budget: self.config.driver_budget.max(1),
            dma_quota: self.config.dma_quota,
            memory: self.config.limits.memory_limit,
            test_hooks: self.config.test_hooks,
            swap_ready_ms: self.config.swap_ready_ms,
        }
    }

    /// Runs `f` if the caller has CAP_SYS_ADMIN (whatever the device's mode).
    fn privileged(&self, f: impl FnOnce() -> Reply) -> Reply {
        if self.platform.capable_sys_admin() {
            f()
        } else {
            Reply::Error(ErrorReply {
                kind: ErrorKind::PermissionDenied,
                message: message!("loading, unloading and swapping drivers needs CAP_SYS_ADMIN"),
            })
        }
    }

    /// Delivers `event` to driver `driver` (called by the system: interrupts,
    /// timers, character-device calls).
    pub fn driver_event(&self, driver: InstanceId, event: Event) -> Result<i64, crate::platform::SysError> {
        self.drivers.event(self.platform, driver, event)
    }

    /// Unloads every driver, giving their devices back (module unload).
    pub fn unload_drivers(&self) {
        self.drivers.unload_all(self.platform);
    }

    fn kill(&self, caller: &Caller, id: InstanceId) -> Reply {
        if self.drivers.list().iter().any(|d| d.id == id.0) {
            return Reply::Error(ErrorReply {
                kind: ErrorKind::PermissionDenied,
                message: message!("instance {id} is a driver: use `cvctl driver unload`"),
            });
        }
        let actor = Actor { uid: caller.uid, sys_admin: self.platform.capable_sys_admin() };
        match self.registry.kill(id, actor, |task| self.platform.interrupt_task(task)) {
            Ok(()) => Reply::Done,
            Err(KillError::NotFound) => {
                Reply::Error(ErrorReply { kind: ErrorKind::NotFound, message: message!("no instance {id}") })
            }
            Err(KillError::PermissionDenied) => Reply::Error(ErrorReply {
                kind: ErrorKind::PermissionDenied,
                message: message!("instance {id} belongs to another user"),
            }),
        }
    }

    fn run(&self, caller: &Caller, request: &RunRequest<'_>) -> Reply {
        let default_memory = self.config.limits.memory_limit;
        let memory = match request.memory_limit {
            None => default_memory,
            Some(m) if m <= default_memory || self.platform.capable_sys_admin() => m,
            Some(m) => {
                return Reply::Error(ErrorReply {
                    kind: ErrorKind::PermissionDenied,
                    message: message!(
                        "a memory limit of {m} bytes is above the default of {default_memory}; only CAP_SYS_ADMIN may raise it"
                    ),
                });
            }
        };
        let who = Identity {
            name: request.name,
            kind: InstanceKind::App,
            engine: request.engine,
            owner_uid: caller.uid,
            pid: caller.pid,
            task: self.platform.current_task(),
        };
        let registration = match self.registry.register(who) {
            Ok(r) => r,
            Err(RegisterError::Full) => {
                return Reply::Error(ErrorReply {
                    kind: ErrorKind::Limit,
                    message: message!("all {} instance slots are in use", self.config.limits.max_instances),
                });
            }
        };
        let limits = RunLimits {
            memory,
            slice: self.config.limits.exec_slice.max(1),
            max_files: self.config.max_files as usize,
            capabilities: Capabilities { apps: true, drivers: false, test_hooks: self.config.test_hooks },
        };
        match run::run(self.platform, &registration, request, limits, &self.broadcasts) {
            Ok(report) => {
                if let Outcome::Trapped(trap) = &report.outcome {
                    self.platform.log(
                        Level::Info,
                        format_args!("instance {} ({}) trapped: {}", registration.id(), request.name, trap.message),
                    );
                }
                Reply::Run(report)
            }
            Err(e) => Reply::Error(e),
        }
    }

    /// Called by the supervisor after an engine panic while the calling task
    /// ran `instance` (if it ran one): the instance is removed. The panicking
    /// call's own memory is abandoned, not freed, since its state can no
    /// longer be trusted.
    pub fn engine_panicked(&self, instance: Option<InstanceId>, panic: &str) -> Reply {
        self.engine_panics.fetch_add(1, Ordering::Relaxed);
        if let Some(id) = instance
            && self.drivers.engine_panicked(self.platform, id, panic)
        {
            return Reply::Error(ErrorReply {
                kind: ErrorKind::EnginePanic,
                message: message!("driver instance {id} stopped: the engine panicked: {panic}"),
            });
        }
        let message = match instance.map(|id| (id, self.registry.remove_dead(id))) {
            Some((id, Some(name))) => {
                self.platform.log(Level::Error, format_args!("instance {id} ({name}) killed after an engine panic"));
                message!("instance {id} ({name}) killed: the engine panicked: {panic}")
            }
            _ => message!("the engine panicked outside any instance: {panic}"),
        };
        Reply::Error(ErrorReply { kind: ErrorKind::EnginePanic, message })
    }
}

/// Copies `s` into a bounded string, cut at a character boundary.
pub fn short<const N: usize>(s: &str) -> String<N> {
    let mut out = String::new();
    for c in s.chars() {
        if out.push(c).is_err() {
            break;
        }
    }
    out
}

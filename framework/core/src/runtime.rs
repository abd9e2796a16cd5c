// SPDX-License-Identifier: GPL-2.0

//! Request dispatch: the entry point of the core.

use core::sync::atomic::{AtomicU64, Ordering};

use cervus_hostcalls::device::ABI_VERSION;
use cervus_hostcalls::message;
use cervus_hostcalls::protocol::{
    ErrorKind, ErrorReply, Info, Limits, Outcome, Reply, Request, RunRequest, encode_reply,
};
use heapless::String;

use crate::hostcalls::Capabilities;
use crate::platform::{Level, Platform};
use crate::registry::{InstanceId, RegisterError, Registry};
use crate::run::{self, RunLimits};

/// The interpreter compiled into this build (pinned in the workspace manifest).
pub const INTERPRETER: &str = "wasmi 2.0.0";

/// Settings fixed when the runtime is created (the kernel's module parameters).
#[derive(Clone, Debug)]
pub struct Config {
    /// Limits applied to every instance.
    pub limits: Limits,
    /// Link the `cervus_test` fault-injection hostcalls.
    pub test_hooks: bool,
    /// Version string of the embedding (the kernel module).
    pub module_version: String<32>,
}

/// Who is making a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// Effective uid of the calling process.
    pub uid: u32,
    /// Its pid (thread group id).
    pub pid: i32,
}

/// Re-exported under the name the kernel glue uses.
pub type Caller = Credentials;

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
    registry: Registry,
    engine_panics: AtomicU64,
}

impl Runtime {
    /// Creates the runtime, or `None` if its tables cannot be allocated.
    pub fn new(platform: &'static dyn Platform, config: Config) -> Option<Self> {
        let registry = Registry::new(config.limits.max_instances as usize)?;
        Some(Runtime { platform, config, registry, engine_panics: AtomicU64::new(0) })
    }

    /// Decodes `request`, carries it out for `caller`, and encodes the reply
    /// into `reply`, returning the reply's length.
    pub fn handle(&self, caller: &Credentials, request: &[u8], reply: &mut [u8]) -> Result<usize, CallError> {
        let request = Request::decode(request).map_err(|_| CallError::BadRequest)?;
        let answer = match request {
            Request::Info => Reply::Info(self.info()),
            Request::Run(run) => self.run(caller, &run),
        };
        encode_reply(&answer, reply).map(|r| r.len()).map_err(|_| CallError::ReplyTooLarge)
    }

    /// Versions, counters and limits.
    pub fn info(&self) -> Info {
        let heap = self.platform.heap_stats();
        Info {
            abi_version: ABI_VERSION,
            module_version: self.config.module_version.clone(),
            engines: short(INTERPRETER),
            live_instances: self.registry.live(),
            started_instances: self.registry.started(),
            heap_bytes: heap.bytes,
            heap_allocations: heap.allocations,
            engine_panics: self.engine_panics.load(Ordering::Relaxed),
            limits: self.config.limits,
        }
    }

    fn run(&self, caller: &Credentials, request: &RunRequest<'_>) -> Reply {
        let registration = match self.registry.register(request.name, caller.uid) {
            Ok(r) => r,
            Err(RegisterError::Full) => {
                return Reply::Error(ErrorReply {
                    kind: ErrorKind::Limit,
                    message: message!("all {} instance slots are in use", self.config.limits.max_instances),
                });
            }
        };
        let limits = RunLimits {
            memory: self.config.limits.memory_limit,
            slice: self.config.limits.exec_slice.max(1),
            capabilities: Capabilities { test_hooks: self.config.test_hooks },
        };
        match run::run(self.platform, &registration, request, limits) {
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
    /// ran `instance` (if it ran one): the instance is killed and its slot
    /// freed. The panicking call's own memory is abandoned, not freed, since
    /// its state can no longer be trusted.
    pub fn engine_panicked(&self, instance: Option<InstanceId>, panic: &str) -> Reply {
        self.engine_panics.fetch_add(1, Ordering::Relaxed);
        let message = match instance.map(|id| (id, self.registry.kill(id))) {
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

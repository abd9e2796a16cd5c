// SPDX-License-Identifier: GPL-2.0

//! One instance of a driver module: its store and the exports the host
//! calls, resolved once, each call under a fuel budget.

use alloc::sync::Arc;
use alloc::vec::Vec;

use cervus_hostcalls::driver::{
    EXPORT_CHR_IOCTL, EXPORT_CHR_OPEN, EXPORT_CHR_READ, EXPORT_CHR_RELEASE, EXPORT_CHR_WRITE, EXPORT_IRQ,
    EXPORT_NET_OPEN, EXPORT_NET_STOP, EXPORT_NET_TX, EXPORT_PROBE, EXPORT_REMOVE, EXPORT_STATE_SAVE, EXPORT_TIMER,
};
use cervus_hostcalls::message;
use cervus_hostcalls::protocol::EngineKind;
use cervus_hostcalls::protocol::{Message, Outcome};
use heapless::String;
use wasmi::{StoreLimitsBuilder, Val};

use super::DriverLimits;
use super::device::DeviceId;
use super::state::DriverState;
use crate::exec::{Ended, Policy};
use crate::hostcalls::Capabilities;
use crate::instance::{HostState, InstanceLimits};
use crate::ipc::Broadcasts;
use crate::platform::Platform;
use crate::program::{Func, Instance, Program};
use crate::registry::{Control, InstanceId};

/// The exports the host calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Export {
    Probe,
    Remove,
    Irq,
    Timer,
    ChrOpen,
    ChrRelease,
    ChrRead,
    ChrWrite,
    ChrIoctl,
    NetOpen,
    NetStop,
    NetTx,
    StateSave,
}

impl Export {
    const ALL: [Export; 13] = [
        Export::Probe,
        Export::Remove,
        Export::Irq,
        Export::Timer,
        Export::ChrOpen,
        Export::ChrRelease,
        Export::ChrRead,
        Export::ChrWrite,
        Export::ChrIoctl,
        Export::NetOpen,
        Export::NetStop,
        Export::NetTx,
        Export::StateSave,
    ];

    /// Its name in the module.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Export::Probe => EXPORT_PROBE,
            Export::Remove => EXPORT_REMOVE,
            Export::Irq => EXPORT_IRQ,
            Export::Timer => EXPORT_TIMER,
            Export::ChrOpen => EXPORT_CHR_OPEN,
            Export::ChrRelease => EXPORT_CHR_RELEASE,
            Export::ChrRead => EXPORT_CHR_READ,
            Export::ChrWrite => EXPORT_CHR_WRITE,
            Export::ChrIoctl => EXPORT_CHR_IOCTL,
            Export::NetOpen => EXPORT_NET_OPEN,
            Export::NetStop => EXPORT_NET_STOP,
            Export::NetTx => EXPORT_NET_TX,
            Export::StateSave => EXPORT_STATE_SAVE,
        }
    }
}

/// A compiled driver module, kept while it runs so that a failed swap can
/// instantiate it again.
#[derive(Clone)]
pub(crate) struct Compiled {
    pub(crate) program: Program,
    /// `sha256::short_hex` of the wasm bytes.
    pub(crate) hash: String<16>,
}

impl Compiled {
    /// Validates and compiles `wasm` for `engine` (JIT code made executable
    /// by `platform`).
    #[expect(clippy::result_large_err, reason = "replies are bounded inline values, built without allocating")]
    pub(crate) fn new(
        platform: &dyn Platform,
        wasm: &[u8],
        engine: EngineKind,
    ) -> Result<Self, cervus_hostcalls::protocol::ErrorReply> {
        let program = Program::compile(platform, wasm, engine)?;
        Ok(Compiled { program, hash: cervus_hostcalls::sha256::short_hex(wasm) })
    }
}

/// What an instance is created for.
pub(crate) struct Identity<'a> {
    pub(crate) platform: &'static dyn Platform,
    pub(crate) id: InstanceId,
    pub(crate) name: &'a str,
    pub(crate) control: Arc<Control>,
    pub(crate) broadcasts: Arc<Broadcasts>,
    pub(crate) device: DeviceId,
    pub(crate) limits: DriverLimits,
}

/// A driver instance.
pub(crate) struct DriverInstance {
    pub(crate) instance: Instance,
    /// Each export's function and whether it returns a value.
    funcs: [Option<(Func, bool)>; Export::ALL.len()],
}

impl DriverInstance {
    /// Instantiates `code` for `who`, linked against `cervus` and
    /// `cervus_drv` only; `restore` is the state a previous version saved.
    #[expect(clippy::result_large_err, reason = "messages are bounded inline strings, built without allocating")]
    pub(crate) fn new(code: &Compiled, who: &Identity<'_>, restore: Option<Vec<u8>>) -> Result<Self, Message> {
        let limits = who.limits;
        let mut state = HostState::new(
            who.platform,
            who.id,
            who.name,
            who.control.clone(),
            Vec::new(),
            Vec::new(),
            who.broadcasts.clone(),
            InstanceLimits { max_files: 0 },
            StoreLimitsBuilder::new()
                .memory_size(usize::try_from(limits.memory).unwrap_or(usize::MAX))
                .instances(1)
                .memories(1)
                .tables(1)
                .build(),
        );
        let mut driver = DriverState::new(who.device, limits);
        driver.restore = restore;
        state.driver = Some(driver);
        let caps = Capabilities { apps: false, drivers: true, test_hooks: limits.test_hooks };
        let policy = Policy { slice: limits.budget, budget: Some(limits.budget), stoppable: false };
        let instance = Instance::new(&code.program, state, caps, limits.memory, policy).map_err(|e| e.message)?;
        let funcs = Export::ALL.map(|e| {
            instance.func(e.name()).map(|f| {
                let returns = !f.ty.results().is_empty();
                (f, returns)
            })
        });
        Ok(DriverInstance { instance, funcs })
    }

    /// Whether the module exports `export`.
    pub(crate) fn has(&self, export: Export) -> bool {
        self.funcs[export as usize].is_some()
    }

    /// The driver part of its state.
    pub(crate) fn driver(&mut self) -> Option<&mut DriverState> {
        self.instance.state_mut().driver.as_mut()
    }

    /// Calls `export` with `params` under `limits`' budget; `Ok(None)` if
    /// the module does not export it. A trap or an exhausted budget is an
    /// error naming the export.
    #[expect(clippy::result_large_err, reason = "messages are bounded inline strings, built without allocating")]
    pub(crate) fn call(
        &mut self,
        export: Export,
        params: &[Val],
        limits: &DriverLimits,
    ) -> Result<Option<i32>, Message> {
        let Some((func, returns)) = &self.funcs[export as usize] else { return Ok(None) };
        let mut results = [Val::I32(0)];
        let results = &mut results[..usize::from(*returns)];
        let policy = Policy { slice: limits.slice, budget: Some(limits.budget), stoppable: false };
        let (ended, _, _) = self.instance.call(func, params, results, policy);
        let name = export.name();
        match ended {
            Ended::Returned => Ok(Some(results.first().and_then(Val::i32).unwrap_or(0))),
            Ended::Budget(fuel) => Err(message!("{name} used up its budget ({fuel} fuel): an endless loop?")),
            Ended::Stopped(Outcome::Trapped(trap)) => Err(message!("{name} trapped: {}", trap.message)),
            Ended::Stopped(other) => Err(message!("{name} stopped: {other:?}")),
        }
    }
}

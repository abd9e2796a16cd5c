// SPDX-License-Identifier: GPL-2.0

//! Per-instance host state, reached by hostcalls through `Caller::data()`.
//!
//! It owns everything the instance holds in the host: its standard
//! streams, CommonWA resources and WASI descriptors. Dropping it closes all
//! of them, however the run ended.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use wasmi::StoreLimits;

use crate::cwa::Resources;
use crate::ipc::Broadcasts;
use crate::platform::{Clock, HostFile, Level, Platform, Stdio};
use crate::registry::{Control, InstanceId};
use crate::wasi::FdTable;

/// Longest a blocking hostcall sleeps before checking for a kill.
const WAIT_STEP_NS: u64 = 20_000_000;

/// A host file the instance owns; closed when dropped.
pub struct OwnedFile {
    platform: &'static dyn Platform,
    file: HostFile,
}

impl OwnedFile {
    /// Takes ownership of `file`.
    pub fn new(platform: &'static dyn Platform, file: HostFile) -> Self {
        OwnedFile { platform, file }
    }

    /// The underlying handle, valid while `self` lives.
    pub fn handle(&self) -> HostFile {
        self.file
    }
}

impl Drop for OwnedFile {
    fn drop(&mut self) {
        self.platform.close(self.file);
    }
}

impl fmt::Debug for OwnedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OwnedFile({})", self.file.0)
    }
}

/// Why an instance must stop now: raised by hostcalls as a host error, so
/// it unwinds the wasm stack and ends the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A signal is pending for the calling process.
    Interrupted,
    /// `cvctl kill` by this uid.
    Killed(u32),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Interrupted => write!(f, "interrupted by a signal"),
            Stop::Killed(uid) => write!(f, "killed by uid {uid}"),
        }
    }
}

impl wasmi::errors::HostError for Stop {}

impl From<Stop> for wasmi::Error {
    fn from(stop: Stop) -> Self {
        wasmi::Error::host(stop)
    }
}

/// A budget of log lines: a burst, refilled at a steady rate.
#[derive(Debug)]
pub struct RateLimit {
    tokens: u32,
    last_ns: u64,
    suppressed: u32,
}

impl RateLimit {
    const BURST: u32 = 20;
    const PER_SECOND: u64 = 5;

    fn new() -> Self {
        RateLimit { tokens: Self::BURST, last_ns: 0, suppressed: 0 }
    }

    /// Whether a line may be logged at time `now_ns`; if so, also returns
    /// how many lines were suppressed since the last one logged.
    pub fn admit(&mut self, now_ns: u64) -> Option<u32> {
        let refill = now_ns.saturating_sub(self.last_ns) * Self::PER_SECOND / 1_000_000_000;
        if refill > 0 {
            self.tokens = (self.tokens as u64 + refill).min(Self::BURST as u64) as u32;
            self.last_ns = now_ns;
        }
        if self.tokens == 0 {
            self.suppressed += 1;
            return None;
        }
        self.tokens -= 1;
        Some(core::mem::take(&mut self.suppressed))
    }
}

/// What a run may use.
#[derive(Clone, Copy, Debug)]
pub struct InstanceLimits {
    /// Open resources and descriptors together.
    pub max_files: usize,
}

/// Per-instance host state.
pub struct HostState {
    pub(crate) platform: &'static dyn Platform,
    pub(crate) id: InstanceId,
    pub(crate) name: Box<str>,
    pub(crate) control: Arc<Control>,
    pub(crate) args: Vec<Box<str>>,
    pub(crate) env: Vec<Box<str>>,
    pub(crate) stdio: [Option<OwnedFile>; 3],
    pub(crate) resources: Resources,
    pub(crate) fds: FdTable,
    pub(crate) broadcasts: Arc<Broadcasts>,
    pub(crate) limits: InstanceLimits,
    pub(crate) store_limits: StoreLimits,
    pub(crate) log_budget: RateLimit,
    /// For drivers: the device and capabilities.
    pub(crate) driver: Option<crate::driver::state::DriverState>,
}

impl HostState {
    /// State for instance `id`, holding the caller's standard streams.
    #[expect(clippy::too_many_arguments, reason = "built once, in run.rs")]
    pub(crate) fn new(
        platform: &'static dyn Platform,
        id: InstanceId,
        name: &str,
        control: Arc<Control>,
        args: Vec<Box<str>>,
        env: Vec<Box<str>>,
        broadcasts: Arc<Broadcasts>,
        limits: InstanceLimits,
        store_limits: StoreLimits,
    ) -> Self {
        let stdio = [Stdio::Stdin, Stdio::Stdout, Stdio::Stderr]
            .map(|s| platform.stdio(s).map(|f| OwnedFile::new(platform, f)));
        HostState {
            platform,
            id,
            name: name.into(),
            control,
            args,
            env,
            stdio,
            resources: Resources::default(),
            fds: FdTable::with_stdio(),
            broadcasts,
            limits,
            store_limits,
            log_budget: RateLimit::new(),
            driver: None,
        }
    }

    /// The caller's stream `stdio`, if it is open.
    pub(crate) fn stdio(&self, stdio: Stdio) -> Option<HostFile> {
        self.stdio[stdio as usize].as_ref().map(OwnedFile::handle)
    }

    /// Whether another file may be opened.
    pub(crate) fn may_open_file(&self) -> bool {
        self.resources.len() + self.fds.open_files() < self.limits.max_files
    }

    /// `Err` if the instance must stop (killed, or a signal is pending).
    pub(crate) fn check_stop(&self) -> Result<(), Stop> {
        if let Some(uid) = self.control.kill_requested() {
            return Err(Stop::Killed(uid));
        }
        if self.platform.interrupted() {
            return Err(Stop::Interrupted);
        }
        Ok(())
    }

    /// Sleeps `ns` nanoseconds, in steps, stopping early for a kill or a
    /// signal.
    pub(crate) fn sleep(&self, ns: u64) -> Result<(), Stop> {
        let deadline = self.platform.now(Clock::Monotonic).saturating_add(ns);
        loop {
            self.check_stop()?;
            let now = self.platform.now(Clock::Monotonic);
            if now >= deadline {
                return Ok(());
            }
            self.platform.sleep((deadline - now).min(WAIT_STEP_NS));
        }
    }

    /// Waits a short while for something to happen (a message, input), in
    /// a blocking hostcall's retry loop.
    pub(crate) fn wait_a_little(&self) -> Result<(), Stop> {
        self.sleep(WAIT_STEP_NS / 4)
    }

    /// Logs a line for this instance, within its rate limit.
    pub(crate) fn log(&mut self, level: Level, args: fmt::Arguments<'_>) {
        let now = self.platform.now(Clock::Monotonic);
        if let Some(suppressed) = self.log_budget.admit(now) {
            if suppressed > 0 {
                self.platform.log(
                    Level::Warning,
                    format_args!("instance {} ({}): {suppressed} log lines suppressed", self.id, self.name),
                );
            }
            self.platform.log(level, format_args!("instance {} ({}): {args}", self.id, self.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_allows_a_burst_then_a_steady_rate() {
        let mut r = RateLimit::new();
        for _ in 0..RateLimit::BURST {
            assert_eq!(r.admit(0), Some(0));
        }
        assert_eq!(r.admit(0), None);
        assert_eq!(r.admit(100_000_000), None);
        // A second later, five more, and the count of suppressed lines.
        assert_eq!(r.admit(1_000_000_000), Some(2));
        for _ in 0..4 {
            assert!(r.admit(1_000_000_000).is_some());
        }
        assert_eq!(r.admit(1_000_000_000), None);
    }
}

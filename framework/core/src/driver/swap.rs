// SPDX-License-Identifier: GPL-2.0

//! Hot swap: replacing a running driver's module without unbinding its
//! device, so that its network interface (name, index, addresses, routes,
//! connections) and its character device (and the files open on it) stay.
//!
//! 1. The new module is validated, compiled and instantiated first; a
//!    module that fails there never touches the old one.
//! 2. Under the device's lock (no call reaches either instance): the device
//!    is paused (interrupts held, timers off; the interface's queue
//!    stopped and its carrier changes held), the old instance saves
//!    its state (`cervus_state_save`, optional) and stops the device
//!    (`cervus_remove`); bus mastering goes off and its DMA memory is
//!    freed. Or, if it asked to while saving (`state_keep_device`), the
//!    device keeps running: no `cervus_remove`, and its DMA buffers pass
//!    to the new instance under the same handles, so that the new version
//!    takes over the live queues instead of setting the device up again.
//! 3. The new instance probes the same device with that state available,
//!    and is told the interface is up if it is (`cervus_net_open`). Then
//!    the device resumes: held events reach the new instance.
//! 4. A network driver must report its link up within `swap_ready_ms`.
//!
//! If 3 or 4 fails, the new instance is stopped the same way (buffers it
//! was handed included) and the old module is instantiated again from its
//! retained compilation, with the state it saved but on a stopped device
//! with none of its old buffers: a broken version never leaves the device
//! dead. The blackout is the time from the pause to the resume.

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use cervus_hostcalls::message;
use cervus_hostcalls::protocol::{DriverSwapRequest, ErrorKind, ErrorReply, Message, SwapReport};

use super::instance::{Compiled, DriverInstance, Export};
use super::state::{DriverState, SwapTimes};
use super::{Drivers, Slot, error};
use crate::platform::{Clock, Level, Platform};

/// How a new (or restored) instance started.
struct Started {
    /// Whether it was told the interface is up.
    net_up: bool,
}

/// Probes `instance` on the paused device and opens the interface if it is
/// up. The device's lock is held.
#[expect(clippy::result_large_err, reason = "messages are bounded inline strings, built without allocating")]
fn start(platform: &'static dyn Platform, slot: &Slot, instance: &mut DriverInstance) -> Result<Started, Message> {
    match slot.call(platform, instance, Export::Probe, &[])? {
        Some(0) => {}
        Some(code) => return Err(message!("{} returned {code}", Export::Probe.name())),
        None => return Err(message!("the module exports no `{}`", Export::Probe.name())),
    }
    let has_netdev = instance.driver().is_some_and(|d| d.netdev.is_some());
    let net_up = has_netdev && platform.devices().netdev_running(slot.device.id);
    if net_up && let Some(code) = slot.call(platform, instance, Export::NetOpen, &[])?.filter(|c| *c < 0) {
        return Err(message!("{} returned {code}", Export::NetOpen.name()));
    }
    Ok(Started { net_up })
}

/// How an instance leaves its device in [`retire`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retirement {
    /// It is dead: it is not called.
    Dead,
    /// A successor takes over: it saves its state, then stops its device.
    HandOver,
    /// A new version that failed to start: it stops its device; its state
    /// is of no use to anyone.
    Discard,
}

impl Retirement {
    fn of_predecessor(alive: bool) -> Self {
        if alive { Self::HandOver } else { Self::Dead }
    }
}

/// What a retired instance leaves to its successor.
#[derive(Default)]
struct Legacy {
    /// The state it saved, if it was asked to and saved any.
    saved: Option<Vec<u8>>,
    /// Its DMA buffers and the device still running, if it handed them over
    /// (`state_keep_device`).
    device: Option<DriverState>,
}

/// Stops `instance` on the paused device and frees its DMA memory, unless
/// it hands the device over running; returns what it leaves. The device's
/// lock is held and the device paused.
fn retire(platform: &'static dyn Platform, slot: &Slot, mut instance: DriverInstance, how: Retirement) -> Legacy {
    let mut legacy = Legacy::default();
    if let Some(d) = instance.driver() {
        d.retiring = true;
    }
    let alive = how != Retirement::Dead;
    if how == Retirement::HandOver && instance.has(Export::StateSave) {
        if let Some(d) = instance.driver() {
            d.saving = true;
        }
        match slot.call(platform, &mut instance, Export::StateSave, &[]) {
            Ok(Some(code)) if code < 0 => {
                platform.log(Level::Warning, format_args!("driver {}: cervus_state_save returned {code}", slot.name));
            }
            Ok(_) => {
                if let Some(d) = instance.driver() {
                    legacy.saved = d.saved.take();
                    if d.keep_device {
                        let mut kept = DriverState::new(d.device, d.limits);
                        d.hand_buffers_to(&mut kept);
                        legacy.device = Some(kept);
                    }
                }
            }
            Err(why) => platform.log(Level::Warning, format_args!("driver {}: {why}", slot.name)),
        }
    }
    if legacy.device.is_some() {
        return legacy;
    }
    if alive && let Err(why) = slot.call(platform, &mut instance, Export::Remove, &[]) {
        platform.log(Level::Warning, format_args!("driver {}: {why}", slot.name));
    }
    if let Some(d) = instance.driver() {
        free_buffers(platform, slot, d);
    }
    legacy
}

/// Frees the DMA buffers of `d`, once bus mastering is off: the device
/// cannot reach them any more.
fn free_buffers(platform: &'static dyn Platform, slot: &Slot, d: &mut DriverState) {
    let devices = platform.devices();
    devices.halt_dma(slot.device.id);
    for buffer in d.take_buffers() {
        devices.dma_free(slot.device.id, buffer.id);
    }
}

impl Drivers {
    /// Replaces driver `request.name`'s module (see the module
    /// documentation).
    #[expect(clippy::result_large_err, reason = "replies are bounded inline values, built without allocating")]
    pub fn swap(
        &self,
        platform: &'static dyn Platform,
        request: &DriverSwapRequest<'_>,
    ) -> Result<SwapReport, ErrorReply> {
        let began = platform.now(Clock::Monotonic);
        let slot = self
            .find(|s| s.name == request.name)
            .ok_or_else(|| error(ErrorKind::NotFound, message!("no driver {}", request.name)))?;
        let compiled = Compiled::new(platform, request.wasm, request.engine)?;
        platform.set_running(Some(slot.id));
        let fresh = DriverInstance::new(&compiled, &slot.identity(platform), None);
        platform.set_running(None);
        let mut fresh = fresh.map_err(|why| error(ErrorKind::Link, why))?;

        let devices = platform.devices();
        let dev = slot.device.id;
        devices.lock(dev);
        let Some(mut guard) = slot.loaded.try_lock() else {
            devices.unlock(dev);
            return Err(error(
                ErrorKind::Internal,
                message!("driver {} died in an engine panic: unload it", slot.name),
            ));
        };
        let paused = platform.now(Clock::Monotonic);
        devices.pause(dev);
        let alive = slot.dead.lock().is_none();
        let last_frame = guard.as_mut().and_then(|old| old.driver()).map_or(0, |d| d.last_frame_ns);
        let legacy = guard.take().map(|old| retire(platform, &slot, old, Retirement::of_predecessor(alive)));
        let Legacy { saved, device: kept } = legacy.unwrap_or_default();
        let device_kept = kept.is_some();
        if let Some(d) = fresh.driver() {
            d.restore = saved.clone();
            d.swapped_in = Some(SwapTimes { last_frame, paused, resumed: 0 });
            if let Some(mut kept) = kept {
                kept.hand_buffers_to(d);
            }
        }
        let previous = slot.code.lock().hash.clone();
        let retired = platform.now(Clock::Monotonic);
        let outcome = match start(platform, &slot, &mut fresh) {
            Ok(started) => {
                *guard = Some(fresh);
                *slot.dead.lock() = None;
                Ok(started)
            }
            Err(why) => Err((why, fresh)),
        };
        let (started, why) = match outcome {
            Ok(started) => (Some(started), None),
            Err((why, fresh)) => {
                // The new version failed to start: stop what it set up, and
                // run the old one again.
                devices.pause(dev);
                let _ = retire(platform, &slot, fresh, Retirement::Discard);
                (self.restore(platform, &slot, &mut guard, saved.clone(), alive), Some(why))
            }
        };
        let resumed = platform.now(Clock::Monotonic);
        if let Some(swap) = guard.as_mut().and_then(|new| new.driver()).and_then(|d| d.swapped_in.as_mut()) {
            swap.resumed = resumed;
        }
        let net_up = started.as_ref().is_some_and(|s| s.net_up);
        devices.resume(dev, net_up);
        // Frames the stack queued during the pause go out now rather than
        // when the event worker next runs (most of the frame gap
        // otherwise). A fault here is handled like any other: the readiness
        // check below fails and the old version comes back.
        if why.is_none()
            && net_up
            && let Some(new) = guard.as_mut()
            && new.has(Export::NetTx)
            && let Err(why) = slot.call(platform, new, Export::NetTx, &[])
        {
            platform.log(Level::Warning, format_args!("driver {}: {why}", slot.name));
        }
        drop(guard);
        devices.unlock(dev);

        let mut why = why;
        if why.is_none() && !self.wait_ready(platform, &slot) {
            // Started, but its link never came up: roll back the same way.
            why = Some(message!("the link did not come up within {} ms", slot.limits.swap_ready_ms));
            devices.lock(dev);
            if let Some(mut guard) = slot.loaded.try_lock() {
                devices.pause(dev);
                if let Some(new) = guard.take() {
                    let _ = retire(platform, &slot, new, Retirement::Discard);
                }
                let started = self.restore(platform, &slot, &mut guard, saved.clone(), alive);
                devices.resume(dev, started.is_some_and(|s| s.net_up));
            }
            devices.unlock(dev);
        }
        let ended = platform.now(Clock::Monotonic);
        let blackout_us = resumed.saturating_sub(paused) / 1000;
        let total_us = ended.saturating_sub(began) / 1000;
        match why {
            None => {
                let swaps = slot.swaps.fetch_add(1, Ordering::Relaxed) + 1;
                *slot.code.lock() = compiled.clone();
                slot.registration.set_engine(request.engine);
                platform.log(
                    Level::Info,
                    format_args!(
                        "driver {} swapped: {previous} -> {} ({}), blackout {} us (old version stopped in {} us, new one started in {} us{}), {} us in all, swap {swaps}",
                        slot.name,
                        compiled.hash,
                        request.engine.name(),
                        blackout_us,
                        retired.saturating_sub(paused) / 1000,
                        resumed.saturating_sub(retired) / 1000,
                        if device_kept { " on the device left running" } else { "" },
                        total_us
                    ),
                );
                Ok(SwapReport {
                    module_hash: compiled.hash,
                    previous_hash: previous,
                    blackout_us,
                    total_us,
                    state_handed_over: saved.is_some(),
                    device_kept,
                })
            }
            Some(why) => {
                let state = if slot.dead.lock().is_some() { "the old version failed too: dead" } else { "rolled back" };
                platform.log(
                    Level::Warning,
                    format_args!(
                        "driver {}: swap to {} failed: {why}; {state} to {previous}, blackout {} us",
                        slot.name, compiled.hash, blackout_us
                    ),
                );
                Err(error(ErrorKind::RolledBack, message!("{why}; {state} to {previous} (blackout {blackout_us} us)")))
            }
        }
    }

    /// Instantiates the slot's current (old) module again with `saved`
    /// state and starts it; if that fails too, the driver is dead.
    #[expect(clippy::result_large_err, reason = "messages are bounded inline strings, built without allocating")]
    fn restore(
        &self,
        platform: &'static dyn Platform,
        slot: &Slot,
        guard: &mut Option<DriverInstance>,
        saved: Option<Vec<u8>>,
        was_alive: bool,
    ) -> Option<Started> {
        if !was_alive {
            return None;
        }
        let code = slot.code.lock().clone();
        platform.set_running(Some(slot.id));
        let old = DriverInstance::new(&code, &slot.identity(platform), saved);
        platform.set_running(None);
        let result = old.and_then(|mut old| {
            let started = start(platform, slot, &mut old)?;
            *guard = Some(old);
            Ok(started)
        });
        match result {
            Ok(started) => Some(started),
            Err(why) => {
                self.kill(platform, slot, message!("restoring the old version after a failed swap: {why}"));
                None
            }
        }
    }

    /// Waits until a network driver reports its link up (if its interface
    /// is up); `false` after `swap_ready_ms`.
    fn wait_ready(&self, platform: &'static dyn Platform, slot: &Slot) -> bool {
        let devices = platform.devices();
        let deadline = platform.now(Clock::Monotonic) + slot.limits.swap_ready_ms * 1_000_000;
        loop {
            if slot.dead.lock().is_some() {
                return false;
            }
            match devices.netdev_link(slot.device.id) {
                None | Some(true) => return true,
                Some(false) if !devices.netdev_running(slot.device.id) => return true,
                Some(false) => {}
            }
            if platform.now(Clock::Monotonic) >= deadline {
                return false;
            }
            platform.sleep(1_000_000);
        }
    }
}

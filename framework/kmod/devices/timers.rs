// SPDX-License-Identifier: GPL-2.0

//! A bound device's timers (hrtimers whose callbacks record an event).

use kernel::{
    prelude::*,
    time::hrtimer::{HrTimerHandle, HrTimerPointer},
};

use super::context::DevCtx;
use super::events::{Timer, TIMERS};

impl DevCtx {
    /// Arms timer `id`: it fires after `delay_ns`, then every `period_ns`
    /// if that is not 0. Re-arming replaces the previous setting.
    pub(crate) fn timer_start(&self, id: u8, delay_ns: u64, period_ns: u64) -> Result {
        let id = usize::from(id);
        if id >= TIMERS {
            return Err(EINVAL);
        }
        let mut state = self.bound_state()?;
        if self.ready.lock().dead {
            return Err(ENODEV);
        }
        let slot = &mut state.timers[id];
        if slot.is_none() {
            *slot = Some((Timer::new(self.events.clone(), id)?, None));
        }
        let Some((timer, handle)) = slot.as_mut() else { return Err(EINVAL) };
        if let Some(mut old) = handle.take() {
            old.cancel();
        }
        timer.set_period(period_ns);
        *handle = Some(timer.clone().start(Timer::delta(delay_ns)));
        Ok(())
    }

    /// Disarms timer `id` (waits for a running callback).
    pub(crate) fn timer_stop(&self, id: u8) {
        let mut state = self.state.lock();
        if let Some((_, handle)) = state.timers.get_mut(usize::from(id)).and_then(Option::as_mut) {
            if let Some(mut handle) = handle.take() {
                handle.cancel();
            }
        }
    }
}

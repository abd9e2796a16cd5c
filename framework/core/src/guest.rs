// SPDX-License-Identifier: GPL-2.0

//! What a hostcall sees of the instance that called it, whichever engine
//! runs it.
//!
//! Hostcalls take a [`Caller`]: the instance's host state and its linear
//! memory. The interpreter's `wasmi::Caller` is one; the JIT's
//! [`JitCaller`] (a memory slice and the state, borrowed for one hostcall)
//! is the other.

use crate::instance::HostState;

/// The calling instance: its host state and exported memory.
pub(crate) trait Guest {
    /// Its host state.
    fn data(&self) -> &HostState;

    /// Its host state, writable.
    fn data_mut(&mut self) -> &mut HostState;

    /// Its linear memory, if it exports one named `memory`.
    fn memory(&self) -> Option<&[u8]>;

    /// Its linear memory and host state, borrowed together.
    fn memory_and_state(&mut self) -> Option<(&mut [u8], &mut HostState)>;
}

/// The calling instance, as hostcalls take it.
pub(crate) type Caller<'a> = dyn Guest + 'a;

impl Guest for wasmi::Caller<'_, HostState> {
    fn data(&self) -> &HostState {
        wasmi::Caller::data(self)
    }

    fn data_mut(&mut self) -> &mut HostState {
        wasmi::Caller::data_mut(self)
    }

    fn memory(&self) -> Option<&[u8]> {
        let memory = self.get_export("memory")?.into_memory()?;
        Some(memory.data(self))
    }

    fn memory_and_state(&mut self) -> Option<(&mut [u8], &mut HostState)> {
        let memory = self.get_export("memory")?.into_memory()?;
        Some(memory.data_and_store_mut(self))
    }
}

/// A hostcall's view of a JIT instance: its memory and state, borrowed for
/// the duration of one hostcall.
pub(crate) struct JitCaller<'a> {
    /// The instance's linear memory (empty if it has none).
    pub(crate) memory: Option<&'a mut [u8]>,
    /// Its host state.
    pub(crate) state: &'a mut HostState,
}

impl Guest for JitCaller<'_> {
    fn data(&self) -> &HostState {
        self.state
    }

    fn data_mut(&mut self) -> &mut HostState {
        self.state
    }

    fn memory(&self) -> Option<&[u8]> {
        self.memory.as_deref()
    }

    fn memory_and_state(&mut self) -> Option<(&mut [u8], &mut HostState)> {
        Some((self.memory.as_deref_mut()?, &mut *self.state))
    }
}

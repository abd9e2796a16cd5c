// SPDX-License-Identifier: GPL-2.0

//! The instance manager's table of live instances.
//!
//! The table has a fixed number of slots (the `max_instances` limit),
//! allocated once, so that claiming and releasing a slot never allocates and
//! never fails halfway: its lock is only held for a few assignments.

use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use heapless::String;
use spin::Mutex;

use cervus_hostcalls::protocol::MAX_NAME_LEN;

/// An instance id: unique for the life of the kernel module, never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId(pub u32);

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where an instance is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Being validated, compiled or instantiated.
    Loading,
    /// Executing wasm or a hostcall.
    Running,
    /// Killed by a fault; its resources were abandoned.
    Dead,
}

#[derive(Clone, Debug)]
struct Slot {
    id: InstanceId,
    name: String<MAX_NAME_LEN>,
    owner_uid: u32,
    state: State,
}

/// The table of live instances.
pub struct Registry {
    slots: Mutex<Vec<Option<Slot>>>,
    next_id: AtomicU32,
    started: AtomicU64,
}

/// Why an instance could not be registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterError {
    /// All slots are taken.
    Full,
}

impl Registry {
    /// Makes a table of `capacity` slots, or `None` if that cannot be allocated.
    pub fn new(capacity: usize) -> Option<Self> {
        let mut slots = Vec::new();
        slots.try_reserve_exact(capacity).ok()?;
        slots.resize(capacity, None);
        Some(Registry { slots: Mutex::new(slots), next_id: AtomicU32::new(1), started: AtomicU64::new(0) })
    }

    /// Claims a slot for a new instance. The slot is released when the
    /// returned guard is dropped.
    pub fn register(&self, name: &str, owner_uid: u32) -> Result<Registration<'_>, RegisterError> {
        let mut short = String::new();
        for c in name.chars() {
            if short.push(c).is_err() {
                break;
            }
        }
        let mut slots = self.slots.lock();
        let index = slots.iter().position(Option::is_none).ok_or(RegisterError::Full)?;
        let id = InstanceId(self.next_id.fetch_add(1, Ordering::Relaxed));
        slots[index] = Some(Slot { id, name: short, owner_uid, state: State::Loading });
        drop(slots);
        self.started.fetch_add(1, Ordering::Relaxed);
        Ok(Registration { registry: self, index, id })
    }

    /// Number of live instances.
    pub fn live(&self) -> u32 {
        self.slots.lock().iter().filter(|s| s.is_some()).count() as u32
    }

    /// Number of instances registered since the table was made.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// Marks an instance dead and frees its slot: the instance's owner never
    /// returned (its call was aborted), so nobody else will.
    ///
    /// Returns the instance's name, if it was still registered.
    pub fn kill(&self, id: InstanceId) -> Option<String<MAX_NAME_LEN>> {
        let mut slots = self.slots.lock();
        let slot = slots.iter_mut().find(|s| s.as_ref().is_some_and(|s| s.id == id))?;
        let mut dead = slot.take()?;
        dead.state = State::Dead;
        Some(dead.name)
    }

    /// The state of instance `id`, if it is live.
    pub fn state(&self, id: InstanceId) -> Option<State> {
        self.slots.lock().iter().flatten().find(|s| s.id == id).map(|s| s.state)
    }

    /// The owner of instance `id`, if it is live.
    pub fn owner(&self, id: InstanceId) -> Option<u32> {
        self.slots.lock().iter().flatten().find(|s| s.id == id).map(|s| s.owner_uid)
    }

    fn set_state(&self, index: usize, id: InstanceId, state: State) {
        if let Some(slot) = self.slots.lock()[index].as_mut().filter(|s| s.id == id) {
            slot.state = state;
        }
    }

    fn release(&self, index: usize, id: InstanceId) {
        let mut slots = self.slots.lock();
        if slots[index].as_ref().is_some_and(|s| s.id == id) {
            slots[index] = None;
        }
    }
}

/// A claimed slot; dropping it releases the slot.
pub struct Registration<'r> {
    registry: &'r Registry,
    index: usize,
    id: InstanceId,
}

impl Registration<'_> {
    /// The instance's id.
    pub fn id(&self) -> InstanceId {
        self.id
    }

    /// Records a new state.
    pub fn set_state(&self, state: State) {
        self.registry.set_state(self.index, self.id, state);
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.registry.release(self.index, self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_released() {
        let r = Registry::new(2).unwrap();
        let a = r.register("a", 0).unwrap();
        let b = r.register("b", 1000).unwrap();
        assert_eq!(r.register("c", 0).err(), Some(RegisterError::Full));
        assert_eq!(r.live(), 2);
        assert_eq!(r.owner(b.id()), Some(1000));
        drop(a);
        assert_eq!(r.live(), 1);
        let c = r.register("c", 0).unwrap();
        assert!(c.id() > b.id(), "ids are never reused");
        assert_eq!(r.started(), 3);
    }

    #[test]
    fn kill_frees_the_slot_and_the_late_guard_is_harmless() {
        let r = Registry::new(1).unwrap();
        let a = r.register("victim", 0).unwrap();
        a.set_state(State::Running);
        assert_eq!(r.state(a.id()), Some(State::Running));
        assert_eq!(r.kill(a.id()).as_deref(), Some("victim"));
        assert_eq!(r.state(a.id()), None);
        let b = r.register("next", 0).unwrap();
        // The dead instance's guard must not release the new occupant.
        drop(a);
        assert_eq!(r.state(b.id()), Some(State::Loading));
    }

    #[test]
    fn long_names_are_cut() {
        let r = Registry::new(1).unwrap();
        let long = "ü".repeat(100);
        let a = r.register(&long, 0).unwrap();
        let name = r.kill(a.id()).unwrap();
        assert!(name.len() <= MAX_NAME_LEN && name.chars().all(|c| c == 'ü'));
    }
}

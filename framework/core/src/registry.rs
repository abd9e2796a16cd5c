// SPDX-License-Identifier: GPL-2.0

//! The instance manager's table of live instances.
//!
//! The table has a fixed number of slots (the `max_instances` limit),
//! allocated once. Its lock is only held for a few assignments and never
//! across an allocation, a hostcall or a kernel call that may sleep.
//!
//! Each live instance shares a [`Control`] with whoever runs it: the kill
//! request and the counters `cvctl ps` shows.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use heapless::String;
use spin::Mutex;

use cervus_hostcalls::protocol::{EngineKind, InstanceInfo, InstanceKind, InstanceState, MAX_LISTED, MAX_NAME_LEN};

use crate::platform::TaskToken;

/// An instance id: unique for the life of the kernel module, never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId(pub u32);

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Shared between an instance's runner and the registry.
#[derive(Debug, Default)]
pub struct Control {
    /// 0, or 1 + the uid that asked to kill the instance.
    kill: AtomicU32,
    /// Bytes of linear memory.
    pub memory_bytes: AtomicU64,
    /// Fuel consumed.
    pub fuel_used: AtomicU64,
    /// CPU time executing, in nanoseconds.
    pub cpu_ns: AtomicU64,
}

impl Control {
    /// The uid that asked to kill the instance, if one did.
    pub fn kill_requested(&self) -> Option<u32> {
        match self.kill.load(Ordering::Acquire) {
            0 => None,
            n => Some(n - 1),
        }
    }

    fn request_kill(&self, by_uid: u32) {
        let _ = self.kill.compare_exchange(0, by_uid.saturating_add(1), Ordering::AcqRel, Ordering::Acquire);
    }
}

/// Who is looking at or acting on an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    /// Effective uid.
    pub uid: u32,
    /// Whether it has CAP_SYS_ADMIN.
    pub sys_admin: bool,
}

#[derive(Clone, Debug)]
struct Slot {
    id: InstanceId,
    name: String<MAX_NAME_LEN>,
    kind: InstanceKind,
    engine: EngineKind,
    state: InstanceState,
    owner_uid: u32,
    pid: i32,
    task: TaskToken,
    control: Arc<Control>,
}

/// What a new instance is.
#[derive(Clone, Copy, Debug)]
pub struct Identity<'a> {
    /// Its name.
    pub name: &'a str,
    /// App or driver.
    pub kind: InstanceKind,
    /// The engine running it.
    pub engine: EngineKind,
    /// The uid starting it.
    pub owner_uid: u32,
    /// The process starting it.
    pub pid: i32,
    /// The task that will run it (interrupted on kill).
    pub task: TaskToken,
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

/// Why a kill was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillError {
    /// No live instance has that id.
    NotFound,
    /// The actor neither owns it nor has CAP_SYS_ADMIN.
    PermissionDenied,
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
    /// returned registration is dropped.
    pub fn register(self: &Arc<Self>, who: Identity<'_>) -> Result<Registration, RegisterError> {
        let control = Arc::new(Control::default());
        let mut name = String::new();
        for c in who.name.chars() {
            if name.push(c).is_err() {
                break;
            }
        }
        let id = InstanceId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let slot = Slot {
            id,
            name,
            kind: who.kind,
            engine: who.engine,
            state: InstanceState::Loading,
            owner_uid: who.owner_uid,
            pid: who.pid,
            task: who.task,
            control: control.clone(),
        };
        let mut slots = self.slots.lock();
        let index = slots.iter().position(Option::is_none).ok_or(RegisterError::Full)?;
        slots[index] = Some(slot);
        drop(slots);
        self.started.fetch_add(1, Ordering::Relaxed);
        Ok(Registration { registry: self.clone(), index, id, control })
    }

    /// Number of live instances.
    pub fn live(&self) -> u32 {
        self.slots.lock().iter().filter(|s| s.is_some()).count() as u32
    }

    /// Number of instances registered since the table was made.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// The live instances, in slot order (at most [`MAX_LISTED`]).
    pub fn list(&self) -> Vec<InstanceInfo> {
        // Allocate before taking the lock: the list never outgrows the table.
        let capacity = self.slots.lock().len().min(MAX_LISTED);
        let mut list = Vec::with_capacity(capacity);
        let slots = self.slots.lock();
        for slot in slots.iter().flatten() {
            let c = &slot.control;
            let state = if c.kill_requested().is_some() { InstanceState::Stopping } else { slot.state };
            let info = InstanceInfo {
                id: slot.id.0,
                name: slot.name.clone(),
                kind: slot.kind,
                engine: slot.engine,
                state,
                owner_uid: slot.owner_uid,
                pid: slot.pid,
                memory_bytes: c.memory_bytes.load(Ordering::Relaxed),
                fuel_used: c.fuel_used.load(Ordering::Relaxed),
                cpu_ns: c.cpu_ns.load(Ordering::Relaxed),
            };
            if list.len() == capacity {
                break;
            }
            list.push(info);
        }
        list
    }

    /// Asks instance `id` to stop; `interrupt` is called, under the table's
    /// lock (so the task is still running the instance), with the task to
    /// wake from any blocking wait.
    pub fn kill(&self, id: InstanceId, actor: Actor, interrupt: impl FnOnce(TaskToken)) -> Result<(), KillError> {
        let slots = self.slots.lock();
        let slot = slots.iter().flatten().find(|s| s.id == id).ok_or(KillError::NotFound)?;
        if slot.owner_uid != actor.uid && !actor.sys_admin {
            return Err(KillError::PermissionDenied);
        }
        slot.control.request_kill(actor.uid);
        interrupt(slot.task);
        Ok(())
    }

    /// Removes an instance whose runner will never return (its call was
    /// aborted by an engine panic). Returns its name, if it was live.
    pub fn remove_dead(&self, id: InstanceId) -> Option<String<MAX_NAME_LEN>> {
        let mut slots = self.slots.lock();
        let slot = slots.iter_mut().find(|s| s.as_ref().is_some_and(|s| s.id == id))?;
        slot.take().map(|s| s.name)
    }

    /// The state of instance `id`, if it is live.
    pub fn state(&self, id: InstanceId) -> Option<InstanceState> {
        self.slots.lock().iter().flatten().find(|s| s.id == id).map(|s| s.state)
    }

    fn set_state(&self, index: usize, id: InstanceId, state: InstanceState) {
        if let Some(slot) = self.slots.lock()[index].as_mut().filter(|s| s.id == id) {
            slot.state = state;
        }
    }

    fn release(&self, index: usize, id: InstanceId) {
        // Take the slot out under the lock, drop it (and its `Arc`) after.
        let slot = {
            let mut slots = self.slots.lock();
            if slots[index].as_ref().is_some_and(|s| s.id == id) { slots[index].take() } else { None }
        };
        drop(slot);
    }
}

/// A claimed slot; dropping it releases the slot.
pub struct Registration {
    registry: Arc<Registry>,
    index: usize,
    id: InstanceId,
    control: Arc<Control>,
}

impl Registration {
    /// The instance's id.
    pub fn id(&self) -> InstanceId {
        self.id
    }

    /// The control block shared with the registry.
    pub fn control(&self) -> &Arc<Control> {
        &self.control
    }

    /// Records a new state.
    pub fn set_state(&self, state: InstanceState) {
        self.registry.set_state(self.index, self.id, state);
    }

    /// Records the engine the instance now runs on (a driver swap may
    /// change it).
    pub fn set_engine(&self, engine: EngineKind) {
        if let Some(slot) = self.registry.slots.lock()[self.index].as_mut().filter(|s| s.id == self.id) {
            slot.engine = engine;
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.release(self.index, self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(name: &str, uid: u32) -> Identity<'_> {
        Identity {
            name,
            kind: InstanceKind::App,
            engine: EngineKind::Interp,
            owner_uid: uid,
            pid: 7,
            task: TaskToken(uid as usize + 1),
        }
    }

    fn registry(n: usize) -> Arc<Registry> {
        Arc::new(Registry::new(n).unwrap())
    }

    #[test]
    fn slots_are_bounded_and_released() {
        let r = registry(2);
        let a = r.register(who("a", 0)).unwrap();
        let b = r.register(who("b", 1000)).unwrap();
        assert_eq!(r.register(who("c", 0)).err(), Some(RegisterError::Full));
        assert_eq!(r.live(), 2);
        drop(a);
        assert_eq!(r.live(), 1);
        let c = r.register(who("c", 0)).unwrap();
        assert!(c.id() > b.id(), "ids are never reused");
        assert_eq!(r.started(), 3);
    }

    #[test]
    fn list_shows_counters_and_state() {
        let r = registry(4);
        let a = r.register(who("app", 1000)).unwrap();
        a.set_state(InstanceState::Running);
        a.control().memory_bytes.store(65536, Ordering::Relaxed);
        a.control().fuel_used.store(99, Ordering::Relaxed);
        let list = r.list();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].name.as_str(), "app");
        assert_eq!(list[0].state, InstanceState::Running);
        assert_eq!((list[0].memory_bytes, list[0].fuel_used, list[0].owner_uid), (65536, 99, 1000));
    }

    #[test]
    fn only_the_owner_or_an_admin_may_kill() {
        let r = registry(4);
        let a = r.register(who("app", 1000)).unwrap();
        let mut interrupted = None;
        let stranger = Actor { uid: 1001, sys_admin: false };
        assert_eq!(r.kill(a.id(), stranger, |t| interrupted = Some(t)), Err(KillError::PermissionDenied));
        assert_eq!(a.control().kill_requested(), None);
        assert_eq!(interrupted, None);
        let owner = Actor { uid: 1000, sys_admin: false };
        assert_eq!(r.kill(a.id(), owner, |t| interrupted = Some(t)), Ok(()));
        assert_eq!(a.control().kill_requested(), Some(1000));
        assert_eq!(interrupted, Some(TaskToken(1001)));
        assert_eq!(r.list()[0].state, InstanceState::Stopping);
        let admin = Actor { uid: 0, sys_admin: true };
        assert_eq!(r.kill(InstanceId(999), admin, |_| {}), Err(KillError::NotFound));
        let b = r.register(who("other", 1002)).unwrap();
        assert_eq!(r.kill(b.id(), admin, |_| {}), Ok(()));
        assert_eq!(b.control().kill_requested(), Some(0));
    }

    #[test]
    fn a_dead_instance_frees_its_slot_and_its_late_guard_is_harmless() {
        let r = registry(1);
        let a = r.register(who("victim", 0)).unwrap();
        assert_eq!(r.remove_dead(a.id()).as_deref(), Some("victim"));
        assert_eq!(r.state(a.id()), None);
        let b = r.register(who("next", 0)).unwrap();
        drop(a);
        assert_eq!(r.state(b.id()), Some(InstanceState::Loading));
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Capability handles: minted by the host, checked on every use.
//!
//! A handle names a slot and the slot's generation. Freeing a capability
//! bumps its slot's generation, so the old handle goes stale; a handle never
//! minted (forged) names an empty slot or a wrong generation. Either way the
//! lookup fails with `BadHandle`, as does a handle of the wrong kind.

use alloc::vec::Vec;

use cervus_hostcalls::Errno;
use cervus_hostcalls::driver::Handle;

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// Capabilities of one instance, by handle.
pub struct HandleTable<T> {
    slots: Vec<Slot<T>>,
}

impl<T> Default for HandleTable<T> {
    fn default() -> Self {
        HandleTable { slots: Vec::new() }
    }
}

impl<T> HandleTable<T> {
    /// Stores `value` and mints its handle. `QuotaExceeded` when every slot
    /// is taken.
    pub fn insert(&mut self, value: T) -> Result<Handle, Errno> {
        let index = match self.slots.iter().position(|s| s.value.is_none()) {
            Some(i) => i,
            None if self.slots.len() < Handle::SLOTS => {
                self.slots.push(Slot { generation: 1, value: None });
                self.slots.len() - 1
            }
            None => return Err(Errno::QuotaExceeded),
        };
        let slot = &mut self.slots[index];
        slot.value = Some(value);
        Ok(Handle::new(index, slot.generation))
    }

    fn slot(&self, handle: Handle) -> Option<&Slot<T>> {
        let slot = self.slots.get(handle.slot())?;
        (handle.0 > 0 && Handle::new(handle.slot(), slot.generation) == handle).then_some(slot)
    }

    /// The capability `handle` names, if it is live; `select` picks the
    /// expected kind out of it.
    pub fn get<'a, U>(&'a self, handle: i32, select: impl FnOnce(&'a T) -> Option<U>) -> Result<U, Errno> {
        self.slot(Handle(handle)).and_then(|s| s.value.as_ref()).and_then(select).ok_or(Errno::BadHandle)
    }

    /// Removes the capability `handle` names if `accept` takes it; the
    /// handle is stale from then on.
    pub fn remove(&mut self, handle: i32, accept: impl FnOnce(&T) -> bool) -> Result<T, Errno> {
        let handle = Handle(handle);
        let live = self.slot(handle).and_then(|s| s.value.as_ref()).is_some_and(accept);
        if !live {
            return Err(Errno::BadHandle);
        }
        let slot = &mut self.slots[handle.slot()];
        slot.generation = slot.generation.wrapping_add(1);
        slot.value.take().ok_or(Errno::BadHandle)
    }

    /// Every live capability.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|s| s.value.as_ref())
    }

    /// Moves the capabilities `keep` selects into a new table, under the
    /// same handles; every other handle of this table is stale in the new
    /// one (its slot is empty there, one generation on).
    pub fn split_off(&mut self, keep: impl Fn(&T) -> bool) -> HandleTable<T> {
        let slots = self
            .slots
            .iter_mut()
            .map(|s| match s.value.take_if(|v| keep(v)) {
                Some(value) => {
                    let generation = s.generation;
                    s.generation = s.generation.wrapping_add(1);
                    Slot { generation, value: Some(value) }
                }
                None => Slot { generation: s.generation.wrapping_add(1), value: None },
            })
            .collect();
        HandleTable { slots }
    }

    /// Removes every capability.
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.slots.iter_mut().filter_map(|s| {
            s.generation = s.generation.wrapping_add(1);
            s.value.take()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Cap {
        A(u32),
        B,
    }

    fn a(c: &Cap) -> Option<u32> {
        match c {
            Cap::A(v) => Some(*v),
            _ => None,
        }
    }

    #[test]
    fn handles_check_kind_generation_and_existence() {
        let mut t = HandleTable::default();
        let h = t.insert(Cap::A(7)).unwrap();
        let b = t.insert(Cap::B).unwrap();
        assert_eq!(t.get(h.0, a), Ok(7));
        assert_eq!(t.get(b.0, a), Err(Errno::BadHandle), "wrong kind");
        assert_eq!(t.get(0, a), Err(Errno::BadHandle), "never minted");
        assert_eq!(t.get(-5, a), Err(Errno::BadHandle), "negative");
        assert_eq!(t.get(h.0 + (1 << 12), a), Err(Errno::BadHandle), "forged generation");
        assert_eq!(t.get(h.0 + 9, a), Err(Errno::BadHandle), "forged slot");
        assert_eq!(t.remove(b.0, |c| a(c).is_some()), Err(Errno::BadHandle), "remove checks the kind");
        assert_eq!(t.remove(h.0, |_| true), Ok(Cap::A(7)));
        assert_eq!(t.get(h.0, a), Err(Errno::BadHandle), "stale");
        assert_eq!(t.remove(h.0, |_| true), Err(Errno::BadHandle), "double free");
        let h2 = t.insert(Cap::A(8)).unwrap();
        assert_eq!(h2.slot(), h.slot(), "the slot is reused");
        assert_ne!(h2, h, "with a new generation");
        assert_eq!(t.get(h.0, a), Err(Errno::BadHandle), "the old handle stays stale");
        assert_eq!(t.get(h2.0, a), Ok(8));
    }

    #[test]
    fn split_off_moves_the_chosen_handles_and_stales_the_rest() {
        let mut t = HandleTable::default();
        let a1 = t.insert(Cap::A(1)).unwrap();
        let b = t.insert(Cap::B).unwrap();
        let a2 = t.insert(Cap::A(2)).unwrap();
        let mut moved = t.split_off(|c| matches!(c, Cap::A(_)));
        assert_eq!(moved.get(a1.0, a), Ok(1), "same handle in the new table");
        assert_eq!(moved.get(a2.0, a), Ok(2));
        assert_eq!(moved.get(b.0, Some), Err(Errno::BadHandle), "not moved");
        assert_eq!(t.get(a1.0, a), Err(Errno::BadHandle), "gone from the old table");
        assert_eq!(t.get(b.0, Some), Ok(&Cap::B), "the rest stays");
        let b2 = moved.insert(Cap::B).unwrap();
        assert_eq!(b2.slot(), b.slot(), "the emptied slot is reused");
        assert_ne!(b2, b, "under a new handle");
    }

    #[test]
    fn the_table_is_bounded() {
        let mut t = HandleTable::default();
        for i in 0..Handle::SLOTS {
            t.insert(Cap::A(i as u32)).unwrap();
        }
        assert_eq!(t.insert(Cap::B), Err(Errno::QuotaExceeded));
        assert_eq!(t.drain().count(), Handle::SLOTS);
        assert!(t.insert(Cap::B).is_ok());
    }
}

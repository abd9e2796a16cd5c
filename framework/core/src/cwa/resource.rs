// SPDX-License-Identifier: GPL-2.0

//! The CommonWA resource table and what each kind of resource does.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::instance::OwnedFile;
use crate::ipc::Endpoint;

/// Longest line a `log://` resource buffers before logging it anyway.
pub const MAX_LOG_LINE: usize = 512;

/// An open resource.
pub enum Resource {
    /// `null://`: reads end at once, writes are discarded.
    Null,
    /// `zero://`: reads give zeros, writes are discarded.
    Zero,
    /// `random://`: reads give random bytes, writes are discarded.
    Random,
    /// `log://?prefix=P`: each line written goes to the kernel log.
    Log {
        /// Put before every line.
        prefix: Box<str>,
        /// The line being written.
        line: Vec<u8>,
    },
    /// `file://PATH`, or one of the caller's standard streams.
    File(OwnedFile),
    /// `ipc-broadcast://NAME`.
    Broadcast(Endpoint),
}

impl Resource {
    /// For `log://`: appends `bytes` and returns the prefix and the
    /// complete lines to log (split at `MAX_LOG_LINE` if a line gets too
    /// long). `None` for other resources.
    pub fn log_lines(&mut self, bytes: &[u8]) -> Option<(Box<str>, Vec<Vec<u8>>)> {
        let Resource::Log { prefix, line } = self else { return None };
        let mut done = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                done.push(core::mem::take(line));
            } else {
                line.push(b);
                if line.len() == MAX_LOG_LINE {
                    done.push(core::mem::take(line));
                }
            }
        }
        Some((prefix.clone(), done))
    }

    /// For `log://`: the prefix and the unfinished line, if any.
    pub fn take_partial_line(&mut self) -> Option<(Box<str>, Vec<u8>)> {
        match self {
            Resource::Log { prefix, line } if !line.is_empty() => Some((prefix.clone(), core::mem::take(line))),
            _ => None,
        }
    }
}

/// The open resources of an instance. Ids are the lowest free numbers,
/// from 0, and are reused after `resource_close`.
#[derive(Default)]
pub struct Resources {
    slots: Vec<Option<Resource>>,
    open: usize,
}

impl Resources {
    /// Adds a resource; returns its id.
    pub fn insert(&mut self, resource: Resource) -> i32 {
        self.open += 1;
        if let Some(i) = self.slots.iter().position(Option::is_none) {
            self.slots[i] = Some(resource);
            return i as i32;
        }
        self.slots.push(Some(resource));
        (self.slots.len() - 1) as i32
    }

    /// The resource with id `id`, if open.
    pub fn get_mut(&mut self, id: i32) -> Option<&mut Resource> {
        self.slots.get_mut(usize::try_from(id).ok()?)?.as_mut()
    }

    /// Removes the resource with id `id`, if open.
    pub fn remove(&mut self, id: i32) -> Option<Resource> {
        let r = self.slots.get_mut(usize::try_from(id).ok()?)?.take()?;
        self.open -= 1;
        Some(r)
    }

    /// How many are open.
    pub fn len(&self) -> usize {
        self.open
    }

    /// Whether none are open.
    pub fn is_empty(&self) -> bool {
        self.open == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_start_at_zero_and_are_reused() {
        let mut r = Resources::default();
        assert_eq!(r.insert(Resource::Null), 0);
        assert_eq!(r.insert(Resource::Zero), 1);
        assert_eq!(r.insert(Resource::Random), 2);
        assert!(r.remove(1).is_some());
        assert!(r.remove(1).is_none());
        assert_eq!(r.len(), 2);
        assert_eq!(r.insert(Resource::Null), 1);
        assert!(r.get_mut(-1).is_none() && r.get_mut(3).is_none() && r.get_mut(i32::MAX).is_none());
    }

    #[test]
    fn log_resources_split_lines() {
        extern crate std;
        let mut log = Resource::Log { prefix: "p".into(), line: Vec::new() };
        assert!(log.log_lines(b"par").unwrap().1.is_empty());
        let (prefix, lines) = log.log_lines(b"tial\nsecond\nthi").unwrap();
        assert_eq!(&*prefix, "p");
        assert_eq!(lines, [b"partial".to_vec(), b"second".to_vec()]);
        assert_eq!(log.take_partial_line(), Some(("p".into(), b"thi".to_vec())));
        assert_eq!(log.take_partial_line(), None);
        let long = std::vec![b'x'; MAX_LOG_LINE + 3];
        assert_eq!(log.log_lines(&long).unwrap().1.len(), 1);
        assert!(Resource::Null.log_lines(b"x\n").is_none());
    }
}

// SPDX-License-Identifier: GPL-2.0

//! The WASI descriptor table of an instance.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::abi::{Errno, rights};
use crate::instance::OwnedFile;
use crate::platform::Stdio;

/// What a descriptor refers to.
#[derive(Debug)]
pub enum FdKind {
    /// One of the caller's standard streams (held by the instance).
    Stdio(Stdio),
    /// An open file.
    File(OwnedFile),
    /// An open directory; `preopen` is its guest name if it was preopened.
    Dir {
        /// The directory.
        file: OwnedFile,
        /// The name the guest sees, for preopened directories.
        preopen: Option<Box<str>>,
    },
}

/// One descriptor.
#[derive(Debug)]
pub struct Fd {
    /// What it refers to.
    pub kind: FdKind,
    /// Its rights.
    pub rights: u64,
    /// Rights of descriptors opened through it.
    pub inheriting: u64,
}

impl Fd {
    /// `Ok` if the descriptor has every right in `needed`.
    pub fn require(&self, needed: u64) -> Result<(), Errno> {
        if self.rights & needed == needed { Ok(()) } else { Err(Errno::NOTCAPABLE) }
    }
}

/// Descriptors by number.
#[derive(Debug, Default)]
pub struct FdTable {
    fds: Vec<Option<Fd>>,
}

impl FdTable {
    /// Descriptors 0-2 for the standard streams.
    pub fn with_stdio() -> Self {
        let stdio = |s| Some(Fd { kind: FdKind::Stdio(s), rights: rights::STDIO, inheriting: 0 });
        FdTable { fds: alloc::vec![stdio(Stdio::Stdin), stdio(Stdio::Stdout), stdio(Stdio::Stderr)] }
    }

    /// Adds a descriptor at the lowest free number; returns the number.
    pub fn insert(&mut self, fd: Fd) -> u32 {
        if let Some(i) = self.fds.iter().position(Option::is_none) {
            self.fds[i] = Some(fd);
            return i as u32;
        }
        self.fds.push(Some(fd));
        (self.fds.len() - 1) as u32
    }

    /// Descriptor `n`.
    pub fn get(&self, n: i32) -> Result<&Fd, Errno> {
        let i = usize::try_from(n).map_err(|_| Errno::BADF)?;
        self.fds.get(i).and_then(Option::as_ref).ok_or(Errno::BADF)
    }

    /// Descriptor `n`, mutably.
    pub fn get_mut(&mut self, n: i32) -> Result<&mut Fd, Errno> {
        let i = usize::try_from(n).map_err(|_| Errno::BADF)?;
        self.fds.get_mut(i).and_then(Option::as_mut).ok_or(Errno::BADF)
    }

    /// Removes descriptor `n`, closing what it holds when dropped.
    pub fn remove(&mut self, n: i32) -> Result<Fd, Errno> {
        let i = usize::try_from(n).map_err(|_| Errno::BADF)?;
        self.fds.get_mut(i).and_then(Option::take).ok_or(Errno::BADF)
    }

    /// Moves descriptor `from` to number `to` (which must be open), closing
    /// what `to` held.
    pub fn renumber(&mut self, from: i32, to: i32) -> Result<(), Errno> {
        self.get(to)?;
        let fd = self.remove(from)?;
        let to = to as usize;
        self.fds[to] = Some(fd);
        Ok(())
    }

    /// How many descriptors hold a host file of their own.
    pub fn open_files(&self) -> usize {
        self.fds.iter().flatten().filter(|fd| !matches!(fd.kind, FdKind::Stdio(_))).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdio(s: Stdio) -> Fd {
        Fd { kind: FdKind::Stdio(s), rights: rights::STDIO, inheriting: 0 }
    }

    #[test]
    fn numbers_are_lowest_free_and_renumber_replaces() {
        let mut t = FdTable::with_stdio();
        assert_eq!(t.insert(stdio(Stdio::Stdout)), 3);
        t.remove(1).unwrap();
        assert_eq!(t.get(1).err(), Some(Errno::BADF));
        assert_eq!(t.insert(stdio(Stdio::Stderr)), 1);
        assert_eq!(t.renumber(3, 9), Err(Errno::BADF), "target must be open");
        t.renumber(3, 0).unwrap();
        assert!(matches!(t.get(0).unwrap().kind, FdKind::Stdio(Stdio::Stdout)));
        assert_eq!(t.get(3).err(), Some(Errno::BADF));
        assert_eq!(t.get(-1).err(), Some(Errno::BADF));
        assert_eq!(t.open_files(), 0);
    }

    #[test]
    fn rights_are_checked() {
        let fd = stdio(Stdio::Stdin);
        assert!(fd.require(rights::FD_READ).is_ok());
        assert_eq!(fd.require(rights::PATH_OPEN), Err(Errno::NOTCAPABLE));
    }
}

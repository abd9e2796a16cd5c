// SPDX-License-Identifier: GPL-2.0

//! `ipc-broadcast://NAME`: whatever one member writes, every other member
//! of channel NAME receives.
//!
//! - A channel exists while it has members; opening `ipc-broadcast://NAME`
//!   joins it (creating it if needed), closing leaves it.
//! - A write is one message (at most [`MAX_MESSAGE`] bytes; longer writes
//!   are refused). It is delivered to every *other* member that joined
//!   before the write; the writer always succeeds, even with no readers.
//! - Each member has a queue of [`QUEUE_LEN`] messages. A slow reader does
//!   not slow the writer: when its queue is full, its *oldest* message is
//!   dropped to make room, and its drop counter goes up. Readers therefore
//!   always see the most recent messages, in order, with gaps they can
//!   detect by numbering their payloads.
//! - A read takes one whole message; if the buffer is smaller, the rest of
//!   that message is discarded. Reads block until a message arrives (or
//!   the instance is killed or signalled).
//!
//! All tables have fixed capacities allocated up front, so no lock is held
//! across an allocation.

use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use spin::Mutex;

/// Largest message, in bytes.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Messages queued per member before the oldest is dropped.
pub const QUEUE_LEN: usize = 256;
/// Most channels at once.
pub const MAX_CHANNELS: usize = 64;
/// Most members of one channel.
pub const MAX_MEMBERS: usize = 32;
/// Longest channel name, in bytes.
pub const MAX_NAME: usize = 64;

/// Why joining or sending failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpcError {
    /// The name is empty or too long.
    BadName,
    /// Too many channels, or too many members in this one.
    Full,
    /// The message is larger than [`MAX_MESSAGE`].
    TooLarge,
}

struct Member {
    queue: Mutex<VecDeque<Arc<[u8]>>>,
    dropped: AtomicU64,
}

struct Channel {
    name: heapless::String<MAX_NAME>,
    members: Mutex<Vec<Weak<Member>>>,
}

/// All channels.
pub struct Broadcasts {
    channels: Mutex<Vec<Weak<Channel>>>,
}

/// One member's end of a channel; leaves the channel when dropped.
pub struct Endpoint {
    channel: Arc<Channel>,
    me: Arc<Member>,
}

impl Broadcasts {
    /// An empty set of channels.
    pub fn new() -> Self {
        Broadcasts { channels: Mutex::new(Vec::with_capacity(MAX_CHANNELS)) }
    }

    /// Joins channel `name`, creating it if needed.
    pub fn join(&self, name: &str) -> Result<Endpoint, IpcError> {
        let name: heapless::String<MAX_NAME> = name.try_into().map_err(|_| IpcError::BadName)?;
        if name.is_empty() {
            return Err(IpcError::BadName);
        }
        // Allocate everything a new member and a new channel could need
        // before taking any lock.
        let me = Arc::new(Member { queue: Mutex::new(VecDeque::with_capacity(QUEUE_LEN)), dropped: AtomicU64::new(0) });
        let fresh = Arc::new(Channel { name: name.clone(), members: Mutex::new(Vec::with_capacity(MAX_MEMBERS)) });
        let channel = {
            let mut channels = self.channels.lock();
            match channels.iter().filter_map(Weak::upgrade).find(|c| c.name == name) {
                Some(existing) => existing,
                None => {
                    channels.retain(|c| c.strong_count() > 0);
                    if channels.len() == MAX_CHANNELS {
                        return Err(IpcError::Full);
                    }
                    channels.push(Arc::downgrade(&fresh));
                    fresh
                }
            }
        };
        {
            let mut members = channel.members.lock();
            members.retain(|m| m.strong_count() > 0);
            if members.len() == MAX_MEMBERS {
                return Err(IpcError::Full);
            }
            members.push(Arc::downgrade(&me));
        }
        Ok(Endpoint { channel, me })
    }
}

impl Default for Broadcasts {
    fn default() -> Self {
        Self::new()
    }
}

impl Endpoint {
    /// Sends `message` to every other member; returns how many got it.
    pub fn send(&self, message: &[u8]) -> Result<usize, IpcError> {
        if message.len() > MAX_MESSAGE {
            return Err(IpcError::TooLarge);
        }
        let message: Arc<[u8]> = Arc::from(message);
        // Collect the recipients first (cloning `Arc`s allocates nothing),
        // then queue without holding the channel's lock.
        let mut recipients: [Option<Arc<Member>>; MAX_MEMBERS] = [const { None }; MAX_MEMBERS];
        {
            let members = self.channel.members.lock();
            for (slot, member) in recipients.iter_mut().zip(members.iter().filter_map(Weak::upgrade)) {
                *slot = Some(member);
            }
        }
        let mut delivered = 0;
        for member in recipients.iter().flatten().filter(|m| !Arc::ptr_eq(m, &self.me)) {
            let mut queue = member.queue.lock();
            if queue.len() == QUEUE_LEN {
                queue.pop_front();
                member.dropped.fetch_add(1, Ordering::Relaxed);
            }
            // Never reallocates: the queue was made with room for QUEUE_LEN.
            queue.push_back(message.clone());
            delivered += 1;
        }
        Ok(delivered)
    }

    /// Takes the next message, copying what fits into `buf`; `None` if the
    /// queue is empty.
    pub fn try_recv(&self, buf: &mut [u8]) -> Option<usize> {
        let message = self.me.queue.lock().pop_front()?;
        let n = message.len().min(buf.len());
        buf[..n].copy_from_slice(&message[..n]);
        Some(n)
    }

    /// Messages dropped from this member's queue because it was full.
    pub fn dropped(&self) -> u64 {
        self.me.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_other_member_receives_in_order() {
        let b = Broadcasts::new();
        let a = b.join("news").unwrap();
        let r1 = b.join("news").unwrap();
        let r2 = b.join("news").unwrap();
        let other = b.join("sports").unwrap();
        assert_eq!(a.send(b"one").unwrap(), 2);
        assert_eq!(a.send(b"two").unwrap(), 2);
        let mut buf = [0u8; 8];
        for r in [&r1, &r2] {
            assert_eq!(r.try_recv(&mut buf), Some(3));
            assert_eq!(&buf[..3], b"one");
            assert_eq!(r.try_recv(&mut buf), Some(3));
            assert_eq!(&buf[..3], b"two");
            assert_eq!(r.try_recv(&mut buf), None);
        }
        assert_eq!(a.try_recv(&mut buf), None, "a writer does not hear itself");
        assert_eq!(other.try_recv(&mut buf), None, "channels are separate");
    }

    #[test]
    fn late_joiners_only_see_later_messages() {
        let b = Broadcasts::new();
        let a = b.join("c").unwrap();
        assert_eq!(a.send(b"early").unwrap(), 0);
        let r = b.join("c").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(r.try_recv(&mut buf), None);
    }

    #[test]
    fn a_slow_reader_loses_the_oldest_messages() {
        let b = Broadcasts::new();
        let a = b.join("c").unwrap();
        let slow = b.join("c").unwrap();
        for i in 0..(QUEUE_LEN as u32 + 10) {
            a.send(&i.to_le_bytes()).unwrap();
        }
        assert_eq!(slow.dropped(), 10);
        let mut buf = [0u8; 4];
        let mut got = std::vec::Vec::new();
        while slow.try_recv(&mut buf).is_some() {
            got.push(u32::from_le_bytes(buf));
        }
        let want: std::vec::Vec<u32> = (10..QUEUE_LEN as u32 + 10).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn long_messages_are_cut_to_the_buffer_and_oversized_ones_refused() {
        let b = Broadcasts::new();
        let a = b.join("c").unwrap();
        let r = b.join("c").unwrap();
        a.send(b"abcdef").unwrap();
        a.send(b"xy").unwrap();
        let mut buf = [0u8; 3];
        assert_eq!(r.try_recv(&mut buf), Some(3));
        assert_eq!(&buf, b"abc");
        assert_eq!(r.try_recv(&mut buf), Some(2), "the rest of a message is discarded");
        assert_eq!(a.send(&std::vec![0u8; MAX_MESSAGE + 1]), Err(IpcError::TooLarge));
    }

    #[test]
    fn channels_and_members_are_bounded_and_freed() {
        let b = Broadcasts::new();
        assert_eq!(b.join("").err(), Some(IpcError::BadName));
        assert_eq!(b.join(&"n".repeat(MAX_NAME + 1)).err(), Some(IpcError::BadName));
        let members: std::vec::Vec<_> = (0..MAX_MEMBERS).map(|_| b.join("full").unwrap()).collect();
        assert_eq!(b.join("full").err(), Some(IpcError::Full));
        drop(members);
        let _again = b.join("full").unwrap();
        let channels: std::vec::Vec<_> =
            (0..MAX_CHANNELS - 1).map(|i| b.join(&std::format!("c{i}")).unwrap()).collect();
        assert_eq!(b.join("one-too-many").err(), Some(IpcError::Full));
        drop(channels);
        assert!(b.join("now-fine").is_ok());
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0

//! A wasm driver for virtio-net devices (virtio 1.x, modern PCI transport:
//! QEMU's `virtio-net-pci,disable-legacy=on`, PCI id `1af4:1041`).
//!
//! It registers an Ethernet interface (`eth%d`) and drives the device
//! through the host's capabilities: the vendor capabilities in
//! configuration space locate the common configuration, notify, ISR and
//! device configuration in a BAR; one receive and one transmit split
//! virtqueue live in DMA buffers; interrupts arrive on MSI-X vectors
//! (configuration, receive, transmit) or, without MSI-X, on INTx with the
//! ISR read by the host. See `net.rs` for the data path.
//!
//! The device logic is written against the [`hw::Hw`] trait, so the same
//! code is tested on the host against a fake device (`fake.rs`).

#![cfg_attr(target_arch = "wasm32", no_std)]
#![forbid(unsafe_code)]

pub mod hw;
pub mod net;
pub mod ring;
pub mod transport;

#[cfg(target_arch = "wasm32")]
mod glue;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

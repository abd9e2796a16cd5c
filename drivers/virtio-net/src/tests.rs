// SPDX-License-Identifier: MIT OR Apache-2.0

//! The driver against the fake device.

use crate::fake::FakeDevice;
use crate::hw::Errno;
use crate::net::{FEATURES, Interrupts, VirtioNet, feature};
use crate::transport::find_layout;

fn frame(n: u32, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[..6].copy_from_slice(&[0x52, 0x54, 0, 0x12, 0x34, 0x56]);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    for (i, b) in f.iter_mut().enumerate().skip(14) {
        *b = (n as usize * 31 + i) as u8;
    }
    f
}

fn opened(interrupts: Interrupts) -> (FakeDevice, VirtioNet) {
    let dev = FakeDevice::new();
    let layout = find_layout(&dev).unwrap();
    let mut net = VirtioNet::probe(&dev, layout, interrupts).unwrap();
    assert_eq!(dev.state.borrow().status, 0, "left reset after probe");
    net.open(&dev).unwrap();
    (dev, net)
}

#[test]
fn probe_finds_the_structures_and_the_mac() {
    let dev = FakeDevice::new();
    let layout = find_layout(&dev).unwrap();
    assert_eq!((layout.common.bar, layout.common.offset), (4, 0));
    assert_eq!((layout.notify.offset, layout.notify_multiplier), (0x3000, 4));
    assert_eq!((layout.isr.offset, layout.device.offset), (0x1000, 0x2000));
    let net = VirtioNet::probe(&dev, layout, Interrupts::MsiX(3)).unwrap();
    assert_eq!(net.mac, [0x52, 0x54, 0, 0x12, 0x34, 0x56]);
}

#[test]
fn devices_without_virtio_1_are_refused() {
    let dev = FakeDevice::new();
    dev.state.borrow_mut().offered &= !(1 << 32);
    let layout = find_layout(&dev).unwrap();
    assert_eq!(VirtioNet::probe(&dev, layout, Interrupts::MsiX(3)).err(), Some(Errno::Unsupported));
    assert_eq!(dev.state.borrow().status, 0, "and left reset");
}

#[test]
fn open_negotiates_only_what_the_driver_knows_and_programs_the_queues() {
    let (dev, net) = opened(Interrupts::MsiX(3));
    let s = dev.state.borrow();
    assert_eq!(s.status, 0x0f, "ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK");
    assert_eq!(s.driver_features, FEATURES, "no CTRL_VQ, MQ or RING_RESET");
    assert_eq!(s.msix_config, 0);
    assert_eq!((s.queues[0].vector, s.queues[1].vector), (1, 2));
    assert!(s.queues.iter().all(|q| q.enabled && q.size == 256));
    assert_eq!(s.notifies[0], 1, "receive buffers announced after DRIVER_OK");
    assert_eq!(s.carrier, Some(true));
    assert!(net.running);
}

#[test]
fn intx_leaves_the_vectors_unmapped() {
    let (dev, mut net) = opened(Interrupts::Intx);
    assert_eq!(dev.state.borrow().queues[0].vector, 0xffff);
    dev.inject(&frame(1, 60));
    net.interrupt(&dev, 0, 1).unwrap();
    assert_eq!(dev.state.borrow().delivered.len(), 1, "ISR bit 0: queues");
}

#[test]
fn received_frames_reach_the_stack_and_buffers_return() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    let frames: Vec<Vec<u8>> = (0..3).map(|n| frame(n, 60 + n as usize * 500)).collect();
    for f in &frames {
        dev.inject(f);
    }
    net.interrupt(&dev, 1, 0).unwrap();
    assert_eq!(dev.state.borrow().delivered, frames);
    assert_eq!(net.counters.rx_frames, 3);
    // All 256 buffers are back with the device.
    for n in 0..256 {
        dev.inject(&frame(n, 100));
    }
    assert!(dev.state.borrow().incoming.is_empty(), "every buffer was available again");
}

#[test]
fn the_receive_ring_wraps() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    let mut expected = Vec::new();
    for round in 0..7 {
        for n in 0..100 {
            let f = frame(round * 100 + n, 64 + n as usize);
            dev.inject(&f);
            expected.push(f);
        }
        net.interrupt(&dev, 1, 0).unwrap();
    }
    assert_eq!(dev.state.borrow().delivered, expected);
    assert_eq!(net.bad_entries(), 0);
}

#[test]
fn a_device_that_keeps_up_gets_every_frame_in_the_slot_freed_last() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    let frames: Vec<Vec<u8>> = (0..20).map(|n| frame(n, 60 + n as usize)).collect();
    for f in &frames {
        dev.state.borrow_mut().to_send.push_back(f.clone());
        net.transmit(&dev).unwrap();
    }
    let s = dev.state.borrow();
    assert_eq!(s.sent, frames);
    assert!(s.sent_from.iter().all(|a| *a == s.sent_from[0]), "one warm slot, not all 256 in turn: {:x?}", s.sent_from);
}

#[test]
fn queued_frames_are_sent_in_order_beyond_the_ring_size() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    let frames: Vec<Vec<u8>> = (0..700).map(|n| frame(n, 42 + (n as usize * 7) % 1400)).collect();
    dev.state.borrow_mut().to_send.extend(frames.iter().cloned());
    net.transmit(&dev).unwrap();
    assert_eq!(dev.state.borrow().sent.len(), 700, "slots reclaimed as the device finished");
    assert_eq!(dev.state.borrow().sent, frames);
    assert_eq!(net.counters.tx_frames, 700);
}

#[test]
fn bogus_used_entries_are_ignored_and_counted() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    dev.write_bogus_used(0, 999, 60);
    dev.write_bogus_used(0, 3, 1 << 20);
    net.interrupt(&dev, 1, 0).unwrap();
    assert!(dev.state.borrow().delivered.is_empty());
    assert_eq!(net.bad_entries(), 2);
    // The genuine traffic that follows still flows.
    dev.inject(&frame(1, 80));
    net.interrupt(&dev, 1, 0).unwrap();
    assert_eq!(dev.state.borrow().delivered.len(), 1);
}

#[test]
fn a_descriptor_returned_twice_is_taken_once() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    dev.inject(&frame(1, 80));
    net.interrupt(&dev, 1, 0).unwrap();
    // Descriptor 0 came back and was given to the device again; replaying
    // an old entry for a descriptor not in flight...
    dev.inject(&frame(2, 80));
    dev.write_bogus_used(0, 1, 80);
    net.interrupt(&dev, 1, 0).unwrap();
    assert_eq!(dev.state.borrow().delivered.len(), 2);
    assert_eq!(net.bad_entries(), 1, "descriptor 1 was not in flight twice");
}

#[test]
fn runts_are_dropped_and_their_buffer_reused() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    dev.inject(&[0u8; 10]);
    net.interrupt(&dev, 1, 0).unwrap();
    assert!(dev.state.borrow().delivered.is_empty());
    assert_eq!(net.counters.rx_runts, 1);
}

#[test]
fn link_changes_become_carrier_changes() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    dev.state.borrow_mut().link_up = false;
    dev.state.borrow_mut().generation += 1;
    net.interrupt(&dev, 0, 0).unwrap();
    assert_eq!(dev.state.borrow().carrier, Some(false));
    dev.state.borrow_mut().link_up = true;
    net.interrupt(&dev, 0, 0).unwrap();
    assert_eq!(dev.state.borrow().carrier, Some(true));
    assert_eq!(net.counters.link_changes, 3, "up at open, down, up");
}

#[test]
fn stop_resets_and_open_starts_again() {
    let (dev, mut net) = opened(Interrupts::MsiX(1));
    net.stop(&dev);
    assert_eq!(dev.state.borrow().status, 0);
    assert_eq!(dev.state.borrow().carrier, Some(false));
    dev.inject(&frame(9, 70));
    assert_eq!(dev.state.borrow().incoming.len(), 1, "a reset device takes nothing");
    net.open(&dev).unwrap();
    assert_eq!(dev.state.borrow().queues[0].vector, 0, "one vector: shared");
    dev.inject(&frame(10, 70));
    net.interrupt(&dev, 0, 0).unwrap();
    assert_eq!(dev.state.borrow().delivered.len(), 2);
}

#[test]
fn a_new_version_takes_over_the_running_queues() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    let mut expected = Vec::new();
    // Traffic before the swap, and frames the device received that the old
    // version never collected.
    for n in 0..150 {
        let f = frame(n, 64 + n as usize);
        dev.inject(&f);
        expected.push(f);
    }
    net.interrupt(&dev, 1, 0).unwrap();
    let sent: Vec<Vec<u8>> = (0..300).map(|n| frame(1000 + n, 60 + n as usize)).collect();
    dev.state.borrow_mut().to_send.extend(sent[..100].iter().cloned());
    net.transmit(&dev).unwrap();
    for n in 150..190 {
        let f = frame(n, 90);
        dev.inject(&f);
        expected.push(f);
    }
    // The old version is gone: only its snapshot remains.
    let snapshot = net.snapshot();
    let status = dev.state.borrow().status;

    let layout = find_layout(&dev).unwrap();
    dev.state.borrow_mut().carrier = None;
    let mut next = VirtioNet::adopt(&dev, layout, Interrupts::MsiX(3), snapshot).unwrap();
    assert_eq!(dev.state.borrow().status, status, "no reset");
    assert!(next.running);
    next.report_link(&dev).unwrap();
    assert_eq!(dev.state.borrow().carrier, Some(true), "the link is reported again");
    next.interrupt(&dev, 1, 0).unwrap();
    for n in 190..700 {
        let f = frame(n, 64 + (n as usize * 13) % 1400);
        dev.inject(&f);
        expected.push(f);
        if n % 50 == 0 {
            next.interrupt(&dev, 1, 0).unwrap();
        }
    }
    next.interrupt(&dev, 1, 0).unwrap();
    assert_eq!(dev.state.borrow().delivered, expected, "every frame once, in order");
    dev.state.borrow_mut().to_send.extend(sent[100..].iter().cloned());
    next.transmit(&dev).unwrap();
    assert_eq!(dev.state.borrow().sent, sent, "sending goes on with the slots still in flight");
    assert_eq!(next.bad_entries(), 0);
    assert_eq!(next.counters.rx_frames, 700, "counters carried over");
    assert_eq!(next.counters.tx_frames, 300);
    next.open(&dev).unwrap();
    assert_eq!(dev.state.borrow().status, status, "open on a running device changes nothing");
}

#[test]
fn a_snapshot_that_does_not_match_the_device_is_refused() {
    let (dev, net) = opened(Interrupts::MsiX(3));
    let snapshot = net.snapshot();
    let layout = find_layout(&dev).unwrap();
    assert_eq!(
        VirtioNet::adopt(&dev, layout, Interrupts::Intx, snapshot).err(),
        Some(Errno::InvalidArgument),
        "another interrupt mode"
    );
    // The device was reset (a failed swap stopped it): the queues are gone.
    let mut stopped = VirtioNet::adopt(&dev, layout, Interrupts::MsiX(3), snapshot).unwrap();
    stopped.stop(&dev);
    assert_eq!(
        VirtioNet::adopt(&dev, layout, Interrupts::MsiX(3), snapshot).err(),
        Some(Errno::InvalidArgument),
        "a stopped device"
    );
}

/// Queues `count` frames while the device holds the transmit queue, then
/// lets it send them all and delivers the interrupt: the transmit
/// interrupts the device raised, checking that everything went out.
fn interrupts_for_a_full_ring(dev: &FakeDevice, net: &mut VirtioNet, count: u32) -> u32 {
    let frames: Vec<Vec<u8>> = (0..count).map(|n| frame(n, 100)).collect();
    dev.state.borrow_mut().hold_tx = true;
    dev.state.borrow_mut().to_send.extend(frames.iter().cloned());
    net.transmit(dev).unwrap();
    assert_eq!(dev.state.borrow().to_send.len(), count as usize - 256, "the ring is full");
    dev.release_tx();
    net.interrupt(dev, 2, 0).unwrap();
    assert_eq!(dev.state.borrow().sent, frames, "the rest went out after the interrupt");
    dev.state.borrow().interrupts[1]
}

#[test]
fn a_full_transmit_ring_asks_for_one_interrupt_with_event_indexes() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    assert_ne!(dev.state.borrow().driver_features & feature::EVENT_IDX, 0);
    assert_eq!(interrupts_for_a_full_ring(&dev, &mut net, 300), 1);
    assert_eq!(dev.state.borrow().interrupted_at[1], 192, "once 3/4 of the ring were sent");

    // Without event indexes the device interrupts for every frame sent
    // while the driver waits.
    let dev = FakeDevice::new();
    dev.state.borrow_mut().offered &= !feature::EVENT_IDX;
    let mut net = VirtioNet::probe(&dev, find_layout(&dev).unwrap(), Interrupts::MsiX(3)).unwrap();
    net.open(&dev).unwrap();
    assert_eq!(dev.state.borrow().driver_features & feature::EVENT_IDX, 0);
    assert_eq!(interrupts_for_a_full_ring(&dev, &mut net, 300), 256);
}

#[test]
fn with_event_indexes_the_device_is_notified_only_when_it_asks() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    dev.state.borrow_mut().hold_tx = true;
    for n in 0..3 {
        dev.state.borrow_mut().to_send.push_back(frame(n, 80));
        net.transmit(&dev).unwrap();
    }
    assert_eq!(dev.state.borrow().notifies[1], 1, "the device has not caught up since");
    // The device sends and asks to hear of the next frame.
    dev.release_tx();
    dev.state.borrow_mut().to_send.push_back(frame(3, 80));
    net.transmit(&dev).unwrap();
    assert_eq!(dev.state.borrow().notifies[1], 2);
    assert_eq!(dev.state.borrow().sent.len(), 4);
    assert_eq!(dev.state.borrow().interrupts[1], 0, "no transmit interrupts while slots are free");
}

#[test]
fn a_new_version_keeps_suppressing_notifications_with_event_indexes() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    dev.state.borrow_mut().hold_tx = true;
    dev.state.borrow_mut().to_send.push_back(frame(0, 80));
    net.transmit(&dev).unwrap();
    let snapshot = net.snapshot();
    let mut next = VirtioNet::adopt(&dev, find_layout(&dev).unwrap(), Interrupts::MsiX(3), snapshot).unwrap();
    dev.state.borrow_mut().to_send.push_back(frame(1, 80));
    next.transmit(&dev).unwrap();
    // With flags it would notify again (the fake never sets NO_NOTIFY).
    assert_eq!(dev.state.borrow().notifies[1], 1, "the device has not asked since");
    dev.release_tx();
    assert_eq!(dev.state.borrow().sent.len(), 2);
}

#[test]
fn sending_goes_on_after_stop_and_open_with_event_indexes() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    let before: Vec<Vec<u8>> = (0..700).map(|n| frame(n, 80)).collect();
    dev.state.borrow_mut().to_send.extend(before.iter().cloned());
    net.transmit(&dev).unwrap();
    // The device last asked to be notified at index 700 of the old queue.
    net.stop(&dev);
    net.open(&dev).unwrap();
    let after: Vec<Vec<u8>> = (0..300).map(|n| frame(1000 + n, 80)).collect();
    dev.state.borrow_mut().to_send.extend(after.iter().cloned());
    net.transmit(&dev).unwrap();
    assert_eq!(dev.state.borrow().sent[700..], after[..], "the new queue's first frames are notified");
}

#[test]
fn receive_interrupts_come_back_after_each_round_with_event_indexes() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    for n in 0..3 {
        dev.inject(&frame(n, 70));
        assert_eq!(dev.state.borrow().interrupts[0], n + 1, "one interrupt per frame between rounds");
        net.interrupt(&dev, 1, 0).unwrap();
    }
    assert_eq!(dev.state.borrow().delivered.len(), 3);
    assert_eq!(dev.state.borrow().notifies[0], 1, "buffers given back without notifications: the device has many");
}

#[test]
fn a_device_that_needs_a_reset_is_restarted() {
    let (dev, mut net) = opened(Interrupts::MsiX(3));
    dev.state.borrow_mut().status |= 0x40;
    net.interrupt(&dev, 0, 0).unwrap();
    assert_eq!(dev.state.borrow().status, 0x0f, "reset and started again");
    assert!(dev.state.borrow().warnings.iter().any(|w| w.contains("needs a reset")));
    dev.inject(&frame(1, 70));
    net.interrupt(&dev, 1, 0).unwrap();
    assert_eq!(dev.state.borrow().delivered.len(), 1);
}

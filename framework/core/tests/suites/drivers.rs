// SPDX-License-Identifier: GPL-2.0

// Included by `drivers.rs` and `drivers_jit.rs`, once per engine.

use std::sync::atomic::Ordering;

use cervus_core::driver::{Event, UserBuf};
use cervus_core::std_platform::StdPlatform;
use cervus_core::{InstanceId, Runtime, SysError};
use cervus_hostcalls::Errno;
use cervus_hostcalls::protocol::{DriverInfo, DriverLoadRequest, DriverStatus, ErrorKind, Reply, Request};
use common::{LIMITS, call, runtime_with};

const EDU_WASM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/wasm32-unknown-unknown/release/edu.wasm");
const ABUSE_WAT: &str = include_str!("../../../../qemu-tests/wasm/drv-abuse.wat");

fn edu_wasm() -> Vec<u8> {
    std::fs::read(EDU_WASM).unwrap_or_else(|e| {
        panic!(
            "{EDU_WASM}: {e}; build it with `cargo build --release --target wasm32-unknown-unknown -p cervus-driver-edu`"
        )
    })
}

fn admin_runtime() -> (&'static StdPlatform, Runtime) {
    let (platform, rt) = runtime_with(LIMITS, false);
    platform.sys_admin.store(true, Ordering::Relaxed);
    (platform, rt)
}

fn load(rt: &Runtime, name: &str, wasm: &[u8]) -> Reply {
    let request = DriverLoadRequest { name, wasm, engine: crate::ENGINE, pci_id: None, slot: None, rebind: false };
    call(rt, &Request::DriverLoad(request))
}

fn loaded(rt: &Runtime, name: &str, wasm: &[u8]) -> InstanceId {
    match load(rt, name, wasm) {
        Reply::Done => InstanceId(info(rt, name).id),
        other => panic!("loading {name}: {other:?}"),
    }
}

fn list(rt: &Runtime) -> Vec<DriverInfo> {
    match call(rt, &Request::DriverList) {
        Reply::Drivers(d) => d,
        other => panic!("{other:?}"),
    }
}

fn info(rt: &Runtime, name: &str) -> DriverInfo {
    list(rt).into_iter().find(|d| d.name == name).expect("listed")
}

fn error_of(reply: Reply) -> (ErrorKind, String) {
    match reply {
        Reply::Error(e) => (e.kind, e.message.to_string()),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Runs `event` with a user buffer holding `bytes` (id `key`); returns the
/// result and the buffer after.
fn with_user(
    platform: &StdPlatform,
    rt: &Runtime,
    id: InstanceId,
    bytes: &[u8],
    event: impl FnOnce(UserBuf) -> Event,
) -> (Result<i64, SysError>, Vec<u8>) {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let key = NEXT.fetch_add(1, Ordering::Relaxed);
    platform.edu.user.lock().unwrap().insert(key, bytes.to_vec());
    let result = rt.driver_event(id, event(UserBuf { addr: key, len: bytes.len() }));
    let after = platform.edu.user.lock().unwrap().remove(&key).unwrap();
    (result, after)
}

/// Delivers the interrupts the fake raised, as MSI would.
fn deliver_irqs(platform: &StdPlatform, rt: &Runtime, id: InstanceId) -> usize {
    let raised: Vec<u32> = platform.edu.raised.lock().unwrap().drain(..).collect();
    if !raised.is_empty() {
        let event = Event::Irq { vector: 0, status: 0, count: raised.len() as u32 };
        assert_eq!(rt.driver_event(id, event), Ok(0));
    }
    raised.len()
}

const fn ioc(dir: u32, ty: u8, nr: u32, size: u32) -> u32 {
    (dir << 30) | (size << 16) | ((ty as u32) << 8) | nr
}

const EDU_DMA: u32 = ioc(3, b'E', 1, 4096);
const EDU_STATS: u32 = ioc(2, b'E', 2, 48);
const EDU_RAISE: u32 = ioc(1, b'E', 3, 4);
const EDU_LIVENESS: u32 = ioc(3, b'E', 4, 4);

fn stats(platform: &StdPlatform, rt: &Runtime, id: InstanceId) -> Vec<u64> {
    let (r, out) = with_user(platform, rt, id, &[0; 48], |u| Event::ChrIoctl(1, EDU_STATS, u));
    assert_eq!(r, Ok(0));
    out.chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect()
}

#[test]
fn edu_probes_binds_and_registers_its_device() {
    let (platform, rt) = admin_runtime();
    let id = loaded(&rt, "edu", &edu_wasm());
    let d = info(&rt, "edu");
    assert_eq!((d.vendor, d.device_id, d.device.as_str()), (0x1234, 0x11e8, "0000:00:04.0"));
    assert_eq!(d.status, DriverStatus::Running);
    assert_eq!(d.dma_bytes, 8192, "two 4 KiB buffers");
    let (name, ready) = platform.edu.chrdev.lock().unwrap().clone().expect("/dev/edu registered");
    assert_eq!((name.as_str(), ready), ("edu", 4), "writable, nothing to read");
    assert_eq!(*platform.edu.irq_mode.lock().unwrap(), 2, "MSI preferred");
    assert!(rt.driver_event(id, Event::ChrOpen(1)).is_ok());
}

#[test]
fn edu_computes_factorials_through_interrupts() {
    let (platform, rt) = admin_runtime();
    let id = loaded(&rt, "edu", &edu_wasm());
    let read = |len| with_user(platform, &rt, id, &vec![0; len], |u| Event::ChrRead(1, u, 0));

    assert_eq!(read(64).0, Ok(0), "nothing computed yet: end of file");
    let (r, _) = with_user(platform, &rt, id, b"10\n", |u| Event::ChrWrite(1, u, 0));
    assert_eq!(r, Ok(3));
    assert_eq!(read(64).0, Err(SysError::EAGAIN), "the interrupt has not been handled");
    let (r, _) = with_user(platform, &rt, id, b"3\n", |u| Event::ChrWrite(1, u, 0));
    assert_eq!(r, Err(SysError::EAGAIN), "one computation at a time");
    assert_eq!(platform.edu.chrdev.lock().unwrap().as_ref().unwrap().1, 0, "neither readable nor writable");

    assert_eq!(deliver_irqs(platform, &rt, id), 1);
    let (r, out) = read(64);
    assert_eq!(r, Ok(8));
    assert_eq!(&out[..8], b"3628800\n");
    assert_eq!(platform.edu.chrdev.lock().unwrap().as_ref().unwrap().1, 5, "readable and writable");
    let (r, out) = read(3);
    assert_eq!((r, out.as_slice()), (Ok(3), &b"362"[..]), "short buffers get a prefix");
    let (r, _) = with_user(platform, &rt, id, &[0; 64], |u| Event::ChrRead(1, u, 8));
    assert_eq!(r, Ok(0), "end of file after the line");

    let s = stats(platform, &rt, id);
    assert_eq!((s[0], s[1], s[2]), (1, 1, 1), "irqs, irq events, factorials");
    let d = info(&rt, "edu");
    assert_eq!((d.irqs, d.irq_events), (1, 1));
    assert!(d.chr_calls >= 6 && d.mmio_ops > 0 && d.fuel_used > 0, "{d:?}");
}

#[test]
fn edu_refuses_bad_numbers() {
    let (platform, rt) = admin_runtime();
    let id = loaded(&rt, "edu", &edu_wasm());
    for bad in [&b"abc"[..], b"13", b"-1", b"", b"\n", b"99999999999999999999"] {
        let (r, _) = with_user(platform, &rt, id, bad, |u| Event::ChrWrite(1, u, 0));
        assert_eq!(r, Err(SysError::EINVAL), "{:?}", String::from_utf8_lossy(bad));
    }
    let (r, _) = with_user(platform, &rt, id, b"12", |u| Event::ChrWrite(1, u, 0));
    assert_eq!(r, Ok(2));
    deliver_irqs(platform, &rt, id);
    let (_, out) = with_user(platform, &rt, id, &[0; 16], |u| Event::ChrRead(1, u, 0));
    assert!(out.starts_with(b"479001600\n"));
}

#[test]
fn edu_dma_round_trip_passes_through_the_device() {
    let (platform, rt) = admin_runtime();
    let id = loaded(&rt, "edu", &edu_wasm());
    let pattern: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 3) as u8).collect();
    let (r, out) = with_user(platform, &rt, id, &pattern, |u| Event::ChrIoctl(1, EDU_DMA, u));
    assert_eq!(r, Ok(4096));
    assert_eq!(out, pattern);
    assert_eq!(deliver_irqs(platform, &rt, id), 4, "one completion interrupt per transfer, two transfers per half");
    assert_eq!(stats(platform, &rt, id)[3], 1);
}

#[test]
fn edu_ioctls_raise_interrupts_and_check_liveness() {
    let (platform, rt) = admin_runtime();
    let id = loaded(&rt, "edu", &edu_wasm());
    let (r, out) = with_user(platform, &rt, id, &0x1234_5678u32.to_le_bytes(), |u| Event::ChrIoctl(1, EDU_LIVENESS, u));
    assert_eq!(r, Ok(0));
    assert_eq!(u32::from_le_bytes(out.try_into().unwrap()), !0x1234_5678);
    let (r, _) = with_user(platform, &rt, id, &0x10000u32.to_le_bytes(), |u| Event::ChrIoctl(1, EDU_RAISE, u));
    assert_eq!(r, Ok(0));
    assert_eq!(deliver_irqs(platform, &rt, id), 1);
    assert_eq!(stats(platform, &rt, id)[4], 1, "counted as raised");
    let (r, _) = with_user(platform, &rt, id, &0u32.to_le_bytes(), |u| Event::ChrIoctl(1, EDU_RAISE, u));
    assert_eq!(r, Err(SysError::EINVAL));
    let (r, _) = with_user(platform, &rt, id, &[0; 4], |u| Event::ChrIoctl(1, ioc(3, b'E', 99, 4), u));
    assert_eq!(r, Err(SysError::ENOTTY), "unknown ioctls");
}

#[test]
fn unloading_quiesces_frees_and_releases_the_device() {
    let (platform, rt) = admin_runtime();
    let id = loaded(&rt, "edu", &edu_wasm());
    assert!(platform.edu.dma_bytes() > 0);
    assert_eq!(call(&rt, &Request::DriverUnload { name: "edu" }), Reply::Done);
    assert!(platform.edu.quiesced());
    assert_eq!(platform.edu.dma_bytes(), 0, "DMA memory freed");
    assert!(platform.edu.chrdev.lock().unwrap().is_none(), "/dev/edu gone");
    assert_eq!(rt.driver_event(id, Event::ChrOpen(1)), Err(SysError::ENODEV));
    assert!(list(&rt).is_empty());
    // The device is free again.
    loaded(&rt, "edu", &edu_wasm());
    let (kind, _) = error_of(call(&rt, &Request::DriverUnload { name: "nope" }));
    assert_eq!(kind, ErrorKind::NotFound);
}

#[test]
fn loading_needs_cap_sys_admin() {
    let (platform, rt) = admin_runtime();
    platform.sys_admin.store(false, Ordering::Relaxed);
    let (kind, message) = error_of(load(&rt, "edu", &edu_wasm()));
    assert_eq!(kind, ErrorKind::PermissionDenied);
    assert!(message.contains("CAP_SYS_ADMIN"), "{message}");
    assert_eq!(error_of(call(&rt, &Request::DriverUnload { name: "edu" })).0, ErrorKind::PermissionDenied);
    assert!(!platform.edu.quiesced() && platform.edu.dma_bytes() == 0, "the device was not touched");
}

#[test]
fn a_device_is_bound_once_and_names_are_unique() {
    let (_, rt) = admin_runtime();
    loaded(&rt, "edu", &edu_wasm());
    assert_eq!(error_of(load(&rt, "edu", &edu_wasm())).0, ErrorKind::Exists);
    let (kind, message) = error_of(load(&rt, "edu2", &edu_wasm()));
    assert_eq!(kind, ErrorKind::Device, "{message}");
}

#[test]
fn bad_driver_modules_are_refused_and_the_device_released() {
    let (platform, rt) = admin_runtime();
    let cases: [(&str, ErrorKind); 5] = [
        // No match table and no --pci: nothing to bind.
        (r#"(module (func (export "cervus_probe") (result i32) i32.const 0))"#, ErrorKind::Device),
        // Apps' imports are not linked for drivers.
        (
            r#"(module (@custom "cervus.driver" "\01\01\34\12\e8\11")
                 (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
                 (func (export "cervus_probe") (result i32) i32.const 0))"#,
            ErrorKind::Link,
        ),
        (r#"(module (@custom "cervus.driver" "\01\01\34\12\e8\11"))"#, ErrorKind::Probe),
        (
            r#"(module (@custom "cervus.driver" "\01\01\34\12\e8\11")
                 (func (export "cervus_probe") (result i32) i32.const -4))"#,
            ErrorKind::Probe,
        ),
        (
            r#"(module (@custom "cervus.driver" "\01\01\34\12\e8\11")
                 (func (export "cervus_probe") (result i32) (loop (br 0)) i32.const 0))"#,
            ErrorKind::Probe,
        ),
    ];
    for (wat, want) in cases {
        let (kind, message) = error_of(load(&rt, "bad", &wat::parse_str(wat).unwrap()));
        assert_eq!(kind, want, "{wat}: {message}");
        assert!(list(&rt).is_empty());
        assert_eq!(platform.edu.dma_bytes(), 0);
    }
    assert_eq!(error_of(load(&rt, "bad", b"\0asm junk")).0, ErrorKind::InvalidModule);
    // After all that the device can still be bound.
    loaded(&rt, "edu", &edu_wasm());
}

/// The abuse driver's ioctl: operation `op` with `arg`; the hostcall's result.
fn abuse(platform: &StdPlatform, rt: &Runtime, id: InstanceId, op: u32, arg: i32) -> i32 {
    let mut buf = arg.to_le_bytes().to_vec();
    buf.extend_from_slice(&[0; 4]);
    let (r, out) = with_user(platform, rt, id, &buf, |u| Event::ChrIoctl(1, ioc(3, b'T', op, 8), u));
    assert_eq!(r, Ok(0), "op {op}");
    i32::from_le_bytes(out[4..8].try_into().unwrap())
}

fn abuse_driver() -> (&'static StdPlatform, Runtime, InstanceId) {
    let (platform, rt) = admin_runtime();
    let wasm = wat::parse_str(ABUSE_WAT).unwrap();
    let request = DriverLoadRequest {
        name: "drvabuse",
        wasm: &wasm,
        engine: crate::ENGINE,
        pci_id: Some((0x1234, 0x11e8)),
        slot: None,
        rebind: false,
    };
    assert_eq!(call(&rt, &Request::DriverLoad(request)), Reply::Done);
    let id = InstanceId(info(&rt, "drvabuse").id);
    (platform, rt, id)
}

#[test]
fn mmio_is_bounds_width_alignment_and_handle_checked() {
    let (p, rt, id) = abuse_driver();
    let e = |e: Errno| e.code();
    assert_eq!(abuse(p, &rt, id, 1, 0), 0, "in bounds");
    assert_eq!(abuse(p, &rt, id, 1, 0xffffc), 0, "last word");
    assert_eq!(abuse(p, &rt, id, 1, 0x100000), e(Errno::OutOfBounds), "past the BAR");
    assert_eq!(abuse(p, &rt, id, 1, 0xffffe), e(Errno::OutOfBounds), "straddling the end");
    assert_eq!(abuse(p, &rt, id, 1, -4), e(Errno::OutOfBounds), "negative");
    assert_eq!(abuse(p, &rt, id, 1, 2), e(Errno::Misaligned));
    assert_eq!(abuse(p, &rt, id, 2, 3), e(Errno::InvalidArgument), "width 3");
    assert_eq!(abuse(p, &rt, id, 2, 16), e(Errno::InvalidArgument), "width 16");
    assert_eq!(abuse(p, &rt, id, 3, 12345), e(Errno::BadHandle), "forged handle");
    assert_eq!(abuse(p, &rt, id, 3, 0), e(Errno::BadHandle), "handle 0");
    assert_eq!(abuse(p, &rt, id, 3, -1), e(Errno::BadHandle), "negative handle");
    assert_eq!(abuse(p, &rt, id, 4, 65534), e(Errno::BadPointer), "result outside linear memory");
    assert_eq!(abuse(p, &rt, id, 5, 0x100000), e(Errno::OutOfBounds), "write past the BAR");
    assert_eq!(abuse(p, &rt, id, 12, 1), 1, "a valid batch");
    assert_eq!(abuse(p, &rt, id, 12, 2), e(Errno::OutOfBounds), "a batch with a bad op runs nothing");
    assert_eq!(abuse(p, &rt, id, 12, 100000), e(Errno::InvalidArgument), "too many ops");
    let d = info(&rt, "drvabuse");
    assert_eq!(d.status, DriverStatus::Running, "errors are not faults");
}

#[test]
fn dma_handles_are_checked_and_quota_enforced() {
    let (p, rt, id) = abuse_driver();
    let e = |e: Errno| e.code();
    let h = abuse(p, &rt, id, 6, 4096);
    assert!(h > 0, "allocated: {h}");
    assert_eq!(abuse(p, &rt, id, 8, h), 0, "write to it");
    assert_eq!(abuse(p, &rt, id, 22, h) & 0xfff, 0, "page-aligned bus address");
    assert_eq!(abuse(p, &rt, id, 7, h), 0, "free");
    assert_eq!(abuse(p, &rt, id, 7, h), e(Errno::BadHandle), "double free");
    assert_eq!(abuse(p, &rt, id, 8, h), e(Errno::BadHandle), "use after free");
    let h2 = abuse(p, &rt, id, 6, 4096);
    assert!(h2 > 0 && h2 != h, "the slot is reused with a new generation");
    assert_eq!(abuse(p, &rt, id, 8, h), e(Errno::BadHandle), "the stale handle stays dead");
    assert_eq!(abuse(p, &rt, id, 3, h2), e(Errno::BadHandle), "kind confusion");
    assert_eq!(abuse(p, &rt, id, 6, 0), e(Errno::InvalidArgument));
    assert_eq!(abuse(p, &rt, id, 6, -1), e(Errno::InvalidArgument));
    // The quota is 1 MiB; the freed buffer still counts until bus
    // mastering is off (the device might still write to it).
    assert_eq!(abuse(p, &rt, id, 6, 1 << 20), e(Errno::QuotaExceeded));
    assert_eq!(abuse(p, &rt, id, 6, (1 << 20) - 4096), e(Errno::QuotaExceeded), "quarantine counts");
    assert_eq!(p.edu.dma_bytes(), 8192);
    assert_eq!(abuse(p, &rt, id, 11, 0x0002), 0, "bus mastering off");
    assert_eq!(p.edu.dma_bytes(), 4096, "quarantined buffer freed");
    assert!(abuse(p, &rt, id, 6, (1 << 20) - 4096) > 0, "quota back");
    assert_eq!(abuse(p, &rt, id, 24, 40), e(Errno::WouldBlock), "mask after allocating");
    assert_eq!(abuse(p, &rt, id, 24, 8), e(Errno::InvalidArgument));
}

#[test]
fn config_space_writes_are_limited_to_safe_command_bits() {
    let (p, rt, id) = abuse_driver();
    let e = |e: Errno| e.code();
    assert_eq!(abuse(p, &rt, id, 9, 0), 0x11e8_1234, "ids");
    assert_eq!(abuse(p, &rt, id, 9, 4094), e(Errno::OutOfBounds));
    assert_eq!(abuse(p, &rt, id, 9, 4096), e(Errno::OutOfBounds));
    assert_eq!(abuse(p, &rt, id, 10, 0x10), e(Errno::PermissionDenied), "BAR 0");
    assert_eq!(abuse(p, &rt, id, 10, 4), e(Errno::PermissionDenied), "command as 32 bits");
    assert_eq!(abuse(p, &rt, id, 11, 0x0106), e(Errno::PermissionDenied), "SERR");
    assert_eq!(abuse(p, &rt, id, 11, 0x0406), 0, "INTx disable, memory, master");
}

#[test]
fn other_capabilities_check_their_arguments() {
    let (p, rt, id) = abuse_driver();
    let e = |e: Errno| e.code();
    assert_eq!(abuse(p, &rt, id, 13, 2), e(Errno::WouldBlock), "vectors already allocated");
    assert_eq!(abuse(p, &rt, id, 13, 8), e(Errno::InvalidArgument), "unknown kind");
    assert_eq!(abuse(p, &rt, id, 14, 8), e(Errno::InvalidArgument), "timer 8");
    assert_eq!(abuse(p, &rt, id, 14, 7), 0, "timer 7");
    assert_eq!(abuse(p, &rt, id, 15, 10), e(Errno::InvalidArgument), "a / in the name");
    assert_eq!(abuse(p, &rt, id, 15, 8), e(Errno::WouldBlock), "one device per driver");
    assert_eq!(abuse(p, &rt, id, 15, 100000), e(Errno::InvalidArgument), "long name");
    assert_eq!(abuse(p, &rt, id, 16, 65530), e(Errno::BadPointer), "user copy outside linear memory");
    assert_eq!(abuse(p, &rt, id, 17, 2_000_000), e(Errno::InvalidArgument), "sleep over a second");
    assert_eq!(abuse(p, &rt, id, 99, 0), e(Errno::Unsupported));
}

#[test]
fn a_trap_in_a_call_kills_the_driver_and_quiesces_the_device() {
    let (p, rt, id) = abuse_driver();
    let mut buf = 0i32.to_le_bytes().to_vec();
    buf.extend_from_slice(&[0; 4]);
    let (r, _) = with_user(p, &rt, id, &buf, |u| Event::ChrIoctl(1, ioc(3, b'T', 20, 8), u));
    assert_eq!(r, Err(SysError::ENODEV));
    assert!(p.edu.quiesced());
    let d = info(&rt, "drvabuse");
    assert_eq!(d.status, DriverStatus::Dead);
    assert!(d.reason.contains("cervus_chr_ioctl trapped"), "{}", d.reason);
    assert_eq!(rt.driver_event(id, Event::ChrOpen(2)), Err(SysError::ENODEV), "dead drivers get no calls");
    // Loading again under the same name replaces the dead driver.
    let wasm = wat::parse_str(ABUSE_WAT).unwrap();
    let request = DriverLoadRequest {
        name: "drvabuse",
        wasm: &wasm,
        engine: crate::ENGINE,
        pci_id: Some((0x1234, 0x11e8)),
        slot: None,
        rebind: false,
    };
    assert_eq!(call(&rt, &Request::DriverLoad(request)), Reply::Done);
    assert_eq!(info(&rt, "drvabuse").status, DriverStatus::Running);
    assert_eq!(p.edu.dma_bytes(), 0);
}

#[test]
fn an_endless_loop_in_an_interrupt_handler_uses_up_its_budget() {
    let (p, rt, id) = abuse_driver();
    assert_eq!(abuse(p, &rt, id, 18, 1), 0);
    assert_eq!(abuse(p, &rt, id, 19, 0x10000), 0, "raise");
    let event = Event::Irq { vector: 0, status: 0, count: 1 };
    assert_eq!(rt.driver_event(id, event), Err(SysError::ENODEV));
    let d = info(&rt, "drvabuse");
    assert_eq!(d.status, DriverStatus::Dead);
    assert!(d.reason.contains("cervus_irq used up its budget"), "{}", d.reason);
    assert!(p.edu.quiesced());
    assert_eq!(call(&rt, &Request::DriverUnload { name: "drvabuse" }), Reply::Done);
    assert!(list(&rt).is_empty());
}

#[test]
fn an_endless_loop_in_a_char_call_is_stopped() {
    let (p, rt, id) = abuse_driver();
    let mut buf = 0i32.to_le_bytes().to_vec();
    buf.extend_from_slice(&[0; 4]);
    let (r, _) = with_user(p, &rt, id, &buf, |u| Event::ChrIoctl(1, ioc(3, b'T', 21, 8), u));
    assert_eq!(r, Err(SysError::ENODEV));
    assert_eq!(info(&rt, "drvabuse").status, DriverStatus::Dead);
}

#[test]
fn a_trap_in_any_callback_kills_the_driver() {
    type Trigger = fn(UserBuf) -> Event;
    let events: [(i32, &str, Trigger); 6] = [
        (1, "cervus_irq", |_| Event::Irq { vector: 0, status: 0, count: 1 }),
        (2, "cervus_timer", |_| Event::Timer(0)),
        (4, "cervus_chr_open", |_| Event::ChrOpen(7)),
        (8, "cervus_chr_read", |u| Event::ChrRead(1, u, 0)),
        (16, "cervus_chr_write", |u| Event::ChrWrite(1, u, 0)),
        (32, "cervus_chr_release", |_| Event::ChrRelease(1)),
    ];
    for (bit, export, event) in events {
        let (p, rt, id) = abuse_driver();
        assert_eq!(abuse(p, &rt, id, 25, bit), 0);
        let (r, _) = with_user(p, &rt, id, &[0; 8], event);
        assert_eq!(r, Err(SysError::ENODEV), "{export}");
        let d = info(&rt, "drvabuse");
        assert_eq!(d.status, DriverStatus::Dead, "{export}");
        assert!(d.reason.contains(&format!("{export} trapped")), "{}", d.reason);
        assert!(p.edu.quiesced(), "{export}");
    }
    // A trap in remove is logged; the unload completes.
    let (p, rt, id) = abuse_driver();
    assert_eq!(abuse(p, &rt, id, 25, 64), 0);
    assert_eq!(call(&rt, &Request::DriverUnload { name: "drvabuse" }), Reply::Done);
    assert!(list(&rt).is_empty() && p.edu.dma_bytes() == 0);
}

#[test]
fn callbacks_without_traps_answer() {
    let (p, rt, id) = abuse_driver();
    assert_eq!(rt.driver_event(id, Event::ChrOpen(3)), Ok(0));
    let (r, _) = with_user(p, &rt, id, &[0; 8], |u| Event::ChrRead(3, u, 0));
    assert_eq!(r, Ok(0), "end of file");
    let (r, _) = with_user(p, &rt, id, &[1; 8], |u| Event::ChrWrite(3, u, 0));
    assert_eq!(r, Ok(8));
    assert_eq!(rt.driver_event(id, Event::Timer(3)), Ok(0));
    assert_eq!(rt.driver_event(id, Event::ChrRelease(3)), Ok(0));
    assert_eq!(info(&rt, "drvabuse").status, DriverStatus::Running);
}

fn swap(rt: &Runtime, name: &str, wasm: &[u8]) -> Reply {
    use cervus_hostcalls::protocol::DriverSwapRequest;
    call(rt, &Request::DriverSwap(DriverSwapRequest { name, wasm, engine: crate::ENGINE }))
}

#[test]
fn a_swap_hands_state_over_and_keeps_the_device() {
    let (platform, rt) = admin_runtime();
    let id = loaded(&rt, "edu", &edu_wasm());
    let (r, _) = with_user(platform, &rt, id, b"10\n", |u| Event::ChrWrite(1, u, 0));
    assert_eq!(r, Ok(3));
    deliver_irqs(platform, &rt, id);
    let before = info(&rt, "edu");
    let Reply::Swapped(report) = swap(&rt, "edu", &edu_wasm()) else { panic!("swap failed") };
    assert!(report.state_handed_over);
    assert_eq!(report.module_hash, report.previous_hash);
    assert_eq!(platform.edu.pauses.load(Ordering::Relaxed), 1);
    let after = info(&rt, "edu");
    assert_eq!((after.id, after.swaps, after.status), (before.id, 1, DriverStatus::Running), "same instance id");
    let (r, out) = with_user(platform, &rt, id, &[0; 16], |u| Event::ChrRead(1, u, 0));
    assert_eq!(r, Ok(8));
    assert_eq!(&out[..8], b"3628800\n", "the new version has the old one's result");
    assert_eq!(stats(platform, &rt, id)[2], 1, "and its counters");
    assert_eq!(platform.edu.dma_bytes(), 8192, "the old version's DMA memory was freed");
}

#[test]
fn a_new_version_that_fails_to_start_is_rolled_back() {
    let (platform, rt) = admin_runtime();
    let id = loaded(&rt, "edu", &edu_wasm());
    let (r, _) = with_user(platform, &rt, id, b"5", |u| Event::ChrWrite(1, u, 0));
    assert_eq!(r, Ok(1));
    deliver_irqs(platform, &rt, id);
    let broken = wat::parse_str(r#"(module (func (export "cervus_probe") (result i32) unreachable))"#).unwrap();
    let (kind, message) = error_of(swap(&rt, "edu", &broken));
    assert_eq!(kind, ErrorKind::RolledBack, "{message}");
    assert!(message.contains("cervus_probe trapped") && message.contains("rolled back"), "{message}");
    let d = info(&rt, "edu");
    assert_eq!((d.status, d.swaps, d.id), (DriverStatus::Running, 0, id.0));
    let (_, out) = with_user(platform, &rt, id, &[0; 16], |u| Event::ChrRead(1, u, 0));
    assert!(out.starts_with(b"120\n"), "the old version runs again, with its state");
    assert_eq!(platform.edu.dma_bytes(), 8192, "the broken version left no memory behind");
}

#[test]
fn modules_that_do_not_compile_never_touch_the_running_driver() {
    let (platform, rt) = admin_runtime();
    loaded(&rt, "edu", &edu_wasm());
    assert_eq!(error_of(swap(&rt, "edu", b"\0asm\x01\0\0\0junk")).0, ErrorKind::InvalidModule);
    let unlinkable =
        wat::parse_str(r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))))"#).unwrap();
    assert_eq!(error_of(swap(&rt, "edu", &unlinkable)).0, ErrorKind::Link);
    assert_eq!(platform.edu.pauses.load(Ordering::Relaxed), 0, "the device was not paused");
    assert_eq!(error_of(swap(&rt, "nope", &edu_wasm())).0, ErrorKind::NotFound);
    platform.sys_admin.store(false, Ordering::Relaxed);
    assert_eq!(error_of(swap(&rt, "edu", &edu_wasm())).0, ErrorKind::PermissionDenied);
}

#[test]
fn a_dead_driver_can_be_swapped_for_a_working_one() {
    let (p, rt, id) = abuse_driver();
    let mut buf = 0i32.to_le_bytes().to_vec();
    buf.extend_from_slice(&[0; 4]);
    let (r, _) = with_user(p, &rt, id, &buf, |u| Event::ChrIoctl(1, ioc(3, b'T', 20, 8), u));
    assert_eq!(r, Err(SysError::ENODEV));
    assert_eq!(info(&rt, "drvabuse").status, DriverStatus::Dead);
    let Reply::Swapped(report) = swap(&rt, "drvabuse", &wat::parse_str(ABUSE_WAT).unwrap()) else { panic!() };
    assert!(!report.state_handed_over);
    assert_eq!(info(&rt, "drvabuse").status, DriverStatus::Running);
    assert_eq!(abuse(p, &rt, id, 1, 0), 0, "and it works");
}

/// A network driver: registers `wasm%d`; its `cervus_net_open` brings the
/// link up, unless `$LINK` is 0.
fn net_driver(link: bool) -> Vec<u8> {
    let wat = format!(
        r#"(module
          (import "cervus_drv" "netdev_register" (func $register (param i32 i32 i32 i32) (result i32)))
          (import "cervus_drv" "netdev_carrier" (func $carrier (param i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "wasm%d")
          (data (i32.const 16) "\52\54\00\00\00\42")
          (func (export "cervus_probe") (result i32)
            (call $register (i32.const 0) (i32.const 6) (i32.const 16) (i32.const 1500)))
          (func (export "cervus_net_open") (result i32)
            (drop (call $carrier (i32.const {})))
            (i32.const 0)))"#,
        i32::from(link)
    );
    wat::parse_str(&wat).unwrap()
}

#[test]
fn a_network_driver_whose_link_never_comes_up_is_rolled_back() {
    let (platform, rt) = admin_runtime();
    let request = DriverLoadRequest {
        name: "net",
        wasm: &net_driver(true),
        engine: crate::ENGINE,
        pci_id: Some((0x1234, 0x11e8)),
        slot: None,
        rebind: false,
    };
    assert_eq!(call(&rt, &Request::DriverLoad(request)), Reply::Done);
    let id = InstanceId(info(&rt, "net").id);
    platform.edu.netdev.lock().unwrap().as_mut().unwrap().up = true;
    assert_eq!(rt.driver_event(id, Event::NetOpen), Ok(0));
    assert!(platform.edu.netdev.lock().unwrap().as_ref().unwrap().carrier);
    assert_eq!(info(&rt, "net").netdev.as_str(), "wasm0");

    let (kind, message) = error_of(swap(&rt, "net", &net_driver(false)));
    assert_eq!(kind, ErrorKind::RolledBack);
    assert!(message.contains("link did not come up within 500 ms"), "{message}");
    assert!(platform.edu.netdev.lock().unwrap().as_ref().unwrap().carrier, "the old version brought it back");
    assert_eq!(info(&rt, "net").netdev.as_str(), "wasm0", "the same interface");

    let Reply::Swapped(_) = swap(&rt, "net", &net_driver(true)) else { panic!("a good version swaps in") };
    assert_eq!(info(&rt, "net").swaps, 1);
}

/// A driver that hands its device over running: one DMA buffer holding a
/// pattern; `cervus_state_save` saves the buffer's handle and keeps the
/// device; `cervus_probe` takes a handed-over buffer back (and fails if it
/// does not hold the pattern), or allocates and fills a new one.
const KEEPER_WAT: &str = r#"(module (@custom "cervus.driver" "\01\01\34\12\e8\11")
  (import "cervus_drv" "dma_alloc" (func $alloc (param i64) (result i32)))
  (import "cervus_drv" "dma_size" (func $size (param i32) (result i64)))
  (import "cervus_drv" "dma_write" (func $write (param i32 i64 i32 i32) (result i32)))
  (import "cervus_drv" "dma_read" (func $read (param i32 i64 i32 i32) (result i32)))
  (import "cervus_drv" "state_save" (func $save (param i32 i32) (result i32)))
  (import "cervus_drv" "state_len" (func $len (result i32)))
  (import "cervus_drv" "state_restore" (func $restore (param i32 i32) (result i32)))
  (import "cervus_drv" "state_keep_device" (func $keep (result i32)))
  (memory (export "memory") 1)
  (global $buf (mut i32) (i32.const 0))
  (func (export "cervus_probe") (result i32)
    (if (i32.ge_s (call $keep) (i32.const 0)) (then (return (i32.const -99))))
    (if (i32.eq (call $len) (i32.const 4)) (then
      (drop (call $restore (i32.const 0) (i32.const 4)))
      (if (i64.eq (call $size (i32.load (i32.const 0))) (i64.const 4096)) (then
        (global.set $buf (i32.load (i32.const 0)))
        (drop (call $read (global.get $buf) (i64.const 0) (i32.const 32) (i32.const 4)))
        (return (select (i32.const 0) (i32.const -98)
          (i32.eq (i32.load (i32.const 32)) (i32.const 0x11223344))))))))
    (global.set $buf (call $alloc (i64.const 4096)))
    (i32.store (i32.const 16) (i32.const 0x11223344))
    (call $write (global.get $buf) (i64.const 0) (i32.const 16) (i32.const 4)))
  (func (export "cervus_state_save") (result i32)
    (i32.store (i32.const 0) (global.get $buf))
    (drop (call $save (i32.const 0) (i32.const 4)))
    (call $keep)))"#;

#[test]
fn a_driver_can_hand_its_device_over_running() {
    let (platform, rt) = admin_runtime();
    let keeper = wat::parse_str(KEEPER_WAT).unwrap();
    loaded(&rt, "keeper", &keeper);
    assert_eq!(platform.edu.dma_bytes(), 4096);
    for swaps in 1..=3 {
        let Reply::Swapped(report) = swap(&rt, "keeper", &keeper) else { panic!("swap {swaps} failed") };
        assert!(report.state_handed_over && report.device_kept, "swap {swaps}");
        assert_eq!(platform.edu.dma_bytes(), 4096, "the same buffer, neither freed nor doubled");
        assert_eq!(info(&rt, "keeper").swaps, swaps);
    }

    // A new version that fails: the buffers it was handed are freed, and the
    // old version starts afresh (its saved handle is refused).
    let broken = wat::parse_str(r#"(module (func (export "cervus_probe") (result i32) unreachable))"#).unwrap();
    assert_eq!(error_of(swap(&rt, "keeper", &broken)).0, ErrorKind::RolledBack);
    let d = info(&rt, "keeper");
    assert_eq!((d.status, d.swaps), (DriverStatus::Running, 3));
    assert_eq!(platform.edu.dma_bytes(), 4096, "the handed buffer was freed, a new one allocated");

    // A version that ignores what it was handed holds it until it goes;
    // a version without `cervus_state_save` hands over a stopped device.
    let plain = wat::parse_str(
        r#"(module (@custom "cervus.driver" "\01\01\34\12\e8\11")
             (func (export "cervus_probe") (result i32) i32.const 0))"#,
    )
    .unwrap();
    let Reply::Swapped(report) = swap(&rt, "keeper", &plain) else { panic!("swap to plain failed") };
    assert!(report.device_kept, "the keeper handed it over");
    assert_eq!(platform.edu.dma_bytes(), 4096);
    let Reply::Swapped(report) = swap(&rt, "keeper", &keeper) else { panic!("swap back failed") };
    assert!(!report.device_kept && !report.state_handed_over);
    assert_eq!(platform.edu.dma_bytes(), 4096, "the unused buffer was freed with its holder");
}

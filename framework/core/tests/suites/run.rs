// SPDX-License-Identifier: GPL-2.0

// Included by `run.rs` and `run_jit.rs`, once per engine.

use cervus_hostcalls::Errno;
use cervus_hostcalls::protocol::{ErrorKind, Outcome, Reply, Request, TrapCode};
use common::*;

fn outcome(reply: Reply) -> Outcome {
    match reply {
        Reply::Run(report) => report.outcome,
        other => panic!("expected a run report, got {other:?}"),
    }
}

fn error_kind(reply: Reply) -> (ErrorKind, String) {
    match reply {
        Reply::Error(e) => (e.kind, e.message.to_string()),
        other => panic!("expected an error, got {other:?}"),
    }
}

const HELLO: &str = r#"
(module
  (import "cervus" "stdio_write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello\n")
  (func (export "_start") (result i32)
    (drop (call $write (i32.const 1) (i32.const 16) (i32.const 6)))
    (drop (call $write (i32.const 2) (i32.const 16) (i32.const 5)))
    (i32.const 7)))
"#;

#[test]
fn output_goes_to_the_callers_streams_and_status_is_returned() {
    let (p, rt) = runtime();
    assert_eq!(outcome(run_wat(&rt, HELLO)), Outcome::Exited(7));
    assert_eq!(&*p.stdout.lock().unwrap(), b"hello\n");
    assert_eq!(&*p.stderr.lock().unwrap(), b"hello");
}

#[test]
fn entry_without_result_exits_zero() {
    let (_, rt) = runtime();
    assert_eq!(outcome(run_wat(&rt, r#"(module (func (export "_start")))"#)), Outcome::Exited(0));
}

#[test]
fn app_main_is_an_entry_point_too() {
    let (_, rt) = runtime();
    let wat = r#"(module (func (export "__app_main") (result i32) (i32.const 3)))"#;
    assert_eq!(outcome(run_wat(&rt, wat)), Outcome::Exited(3));
}

#[test]
fn bad_claims_get_error_codes_not_faults() {
    let (p, rt) = runtime();
    // Returns the sum of: write past the end, negative length, bad stream.
    let wat = r#"
    (module
      (import "cervus" "stdio_write" (func $write (param i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "_start") (result i32)
        (call $write (i32.const 1) (i32.const 65530) (i32.const 7))
        (call $write (i32.const 1) (i32.const 0) (i32.const -1))
        i32.add
        (call $write (i32.const 3) (i32.const 0) (i32.const 1))
        i32.add))
    "#;
    let expected = Errno::BadPointer.code() + Errno::InvalidArgument.code() + Errno::InvalidArgument.code();
    assert_eq!(outcome(run_wat(&rt, wat)), Outcome::Exited(expected));
    assert!(p.stdout.lock().unwrap().is_empty());
}

#[test]
fn writes_without_exported_memory_are_bad_pointers() {
    let (_, rt) = runtime();
    let wat = r#"
    (module
      (import "cervus" "stdio_write" (func $write (param i32 i32 i32) (result i32)))
      (func (export "_start") (result i32) (call $write (i32.const 1) (i32.const 0) (i32.const 0))))
    "#;
    assert_eq!(outcome(run_wat(&rt, wat)), Outcome::Exited(Errno::BadPointer.code()));
}

#[test]
fn malformed_modules_are_refused_with_a_reason() {
    let (_, rt) = runtime();
    for bad in [&b""[..], b"\0asm", b"\0asm\x01\0\0\0\x01\xff", b"not wasm at all"] {
        let (kind, message) = error_kind(run_wasm(&rt, bad));
        assert_eq!(kind, ErrorKind::InvalidModule, "{bad:?}");
        assert!(!message.is_empty());
    }
    // Well-formed but invalid: type error in a body.
    let invalid = wat::parse_str(r#"(module (func (result i32) (i64.const 1)))"#).unwrap();
    assert_eq!(error_kind(run_wasm(&rt, &invalid)).0, ErrorKind::InvalidModule);
}

#[test]
fn unknown_imports_name_module_and_field() {
    let (_, rt) = runtime();
    let wat = r#"(module (import "nowhere" "nothing" (func)) (func (export "_start")))"#;
    let (kind, message) = error_kind(run_wat(&rt, wat));
    assert_eq!(kind, ErrorKind::Link);
    assert!(message.contains("nowhere") && message.contains("nothing"), "{message}");
}

#[test]
fn test_hooks_are_not_linked_by_default() {
    let (_, rt) = runtime();
    let wat = r#"(module (import "cervus_test" "engine_panic" (func)) (func (export "_start")))"#;
    let (kind, message) = error_kind(run_wat(&rt, wat));
    assert_eq!(kind, ErrorKind::Link);
    assert!(message.contains("engine_panic"), "{message}");
}

#[test]
fn hostcalls_with_the_wrong_signature_do_not_link() {
    let (_, rt) = runtime();
    let wat = r#"(module (import "cervus" "stdio_write" (func (param i32))) (func (export "_start")))"#;
    assert_eq!(error_kind(run_wat(&rt, wat)).0, ErrorKind::Link);
}

#[test]
fn missing_or_ill_typed_entry_points_are_refused() {
    let (_, rt) = runtime();
    assert_eq!(error_kind(run_wat(&rt, "(module)")).0, ErrorKind::NoEntryPoint);
    let wat = r#"(module (func (export "_start") (param i32)))"#;
    let (kind, message) = error_kind(run_wat(&rt, wat));
    assert_eq!(kind, ErrorKind::NoEntryPoint);
    assert!(message.contains("_start"), "{message}");
}

#[test]
fn traps_are_reported_with_their_kind() {
    let (p, rt) = runtime();
    let cases = [
        ("unreachable", TrapCode::Unreachable),
        ("(drop (i32.div_s (i32.const 1) (i32.const 0)))", TrapCode::IntegerDivisionByZero),
        ("(drop (i32.div_s (i32.const 0x80000000) (i32.const -1)))", TrapCode::IntegerOverflow),
        ("(drop (i32.load (i32.const 65535)))", TrapCode::MemoryOutOfBounds),
        ("(drop (i32.trunc_f64_s (f64.const nan)))", TrapCode::BadConversionToInteger),
        ("(call_indirect (i32.const 5))", TrapCode::TableOutOfBounds),
    ];
    for (body, code) in cases {
        let wat = format!(r#"(module (memory 1) (table 1 funcref) (func (export "_start") {body}))"#);
        match outcome(run_wat(&rt, &wat)) {
            Outcome::Trapped(t) => assert_eq!(t.code, code, "{body}: {}", t.message),
            other => panic!("{body}: {other:?}"),
        }
    }
    assert_eq!(p.log.lock().unwrap().len(), cases.len(), "each trap is logged once");
}

#[test]
fn unbounded_recursion_is_a_stack_overflow_trap() {
    let (_, rt) = runtime();
    let wat = r#"(module (func $f (export "_start") (call $f)))"#;
    match outcome(run_wat(&rt, wat)) {
        Outcome::Trapped(t) => assert_eq!(t.code, TrapCode::StackOverflow),
        other => panic!("{other:?}"),
    }
}

const BUSY_LOOP: &str = r#"(module (func (export "_start") (loop (br 0))))"#;

#[test]
fn long_runs_are_sliced_and_stop_on_a_signal() {
    let (p, rt) = runtime();
    p.signal_after_yields.store(5, std::sync::atomic::Ordering::Relaxed);
    let Reply::Run(report) = run_wat(&rt, BUSY_LOOP) else { panic!() };
    assert_eq!(report.outcome, Outcome::Interrupted);
    assert_eq!(report.slices, 6);
    assert!(report.fuel_used >= 5 * LIMITS.exec_slice, "{}", report.fuel_used);
    assert_eq!(p.yields.load(std::sync::atomic::Ordering::Relaxed), 5);
}

#[test]
fn finite_work_spanning_many_slices_completes() {
    let (p, rt) = runtime();
    // Counts down from 100000: many slices of 10000 fuel.
    let wat = r#"
    (module (func (export "_start") (result i32) (local i32)
      (local.set 0 (i32.const 100000))
      (loop (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br_if 0 (local.get 0)))
      (i32.const 42)))
    "#;
    let Reply::Run(report) = run_wat(&rt, wat) else { panic!() };
    assert_eq!(report.outcome, Outcome::Exited(42));
    assert!(report.slices > 10, "{report:?}");
    assert_eq!(p.yields.load(std::sync::atomic::Ordering::Relaxed), report.slices - 1);
}

#[test]
fn first_calls_anywhere_in_a_slice_do_not_trap() {
    let (_, rt) = runtime();
    // 300 functions, each called for the first time after a different
    // amount of work, so some first call lands at the end of a slice.
    let body = "(drop (i32.const 1))".repeat(40);
    let mut wat = String::from("(module\n");
    for i in 0..300 {
        wat += &format!("(func $f{i} (result i32) {body} (i32.const {i}))\n");
    }
    wat += "(func (export \"_start\") (result i32) (local i32)\n";
    for i in 0..300 {
        wat += &format!(
            "(local.set 0 (i32.const {}))(loop (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br_if 0 (local.get 0)))(drop (call $f{i}))\n",
            1 + i * 7 % 97
        );
    }
    wat += "(i32.const 0)))";
    assert_eq!(outcome(run_wat(&rt, &wat)), Outcome::Exited(0));
}

#[test]
fn memory_is_capped() {
    let (_, rt) = runtime();
    // 32 pages = 2 MiB > 1 MiB limit.
    let (kind, _) = error_kind(run_wat(&rt, r#"(module (memory 32) (func (export "_start")))"#));
    assert_eq!(kind, ErrorKind::Limit);
    // Growing past the cap fails the way wasm says: memory.grow returns -1.
    let wat = r#"(module (memory 1) (func (export "_start") (result i32) (memory.grow (i32.const 15))))"#;
    assert_eq!(outcome(run_wat(&rt, wat)), Outcome::Exited(1));
    let wat = r#"(module (memory 1) (func (export "_start") (result i32) (memory.grow (i32.const 16))))"#;
    assert_eq!(outcome(run_wat(&rt, wat)), Outcome::Exited(-1));
}

#[test]
fn post_mvp_features_rust_emits_are_accepted() {
    let (_, rt) = runtime();
    // bulk memory, sign extension, saturating conversion, multi-value,
    // reference-types encoding of call_indirect (table index immediate).
    let wat = r#"
    (module
      (memory 1)
      (table $t 1 funcref)
      (type $sig (func (result i32 i32)))
      (func $pair (type $sig) (i32.const 40) (i32.const 2))
      (elem (table $t) (i32.const 0) func $pair)
      (func (export "_start") (result i32)
        (memory.fill (i32.const 0) (i32.const 0x7f) (i32.const 8))
        (memory.copy (i32.const 100) (i32.const 0) (i32.const 8))
        (drop (i32.extend8_s (i32.load8_u (i32.const 104))))
        (drop (i32.trunc_sat_f64_s (f64.const 1e300)))
        (i32.add (call_indirect $t (type $sig) (i32.const 0)))))
    "#;
    assert_eq!(outcome(run_wat(&rt, wat)), Outcome::Exited(42));
}

#[test]
fn instance_slots_are_released_after_each_run() {
    let (_, rt) = runtime();
    for _ in 0..(LIMITS.max_instances * 3) {
        assert_eq!(outcome(run_wat(&rt, HELLO)), Outcome::Exited(7));
        run_wasm(&rt, b"junk");
    }
    let Reply::Info(info) = call(&rt, &Request::Info) else { panic!() };
    assert_eq!(info.live_instances, 0);
    assert_eq!(info.started_instances, u64::from(LIMITS.max_instances) * 6);
}

#[test]
fn running_instance_is_reported_to_the_platform() {
    let (p, rt) = runtime();
    let Reply::Run(report) = run_wat(&rt, HELLO) else { panic!() };
    let running = p.running.lock().unwrap().clone();
    assert_eq!(running, vec![Some(cervus_core::InstanceId(report.instance)), None]);
}

#[test]
fn engine_panic_kills_the_running_instance() {
    let (p, rt) = runtime();
    let Reply::Error(e) = rt.engine_panicked(Some(cervus_core::InstanceId(99)), "boom") else { panic!() };
    assert_eq!(e.kind, ErrorKind::EnginePanic);
    assert!(e.message.contains("boom"), "{}", e.message);
    let Reply::Info(info) = call(&rt, &Request::Info) else { panic!() };
    assert_eq!(info.engine_panics, 1);
    assert!(p.log.lock().unwrap().is_empty(), "unknown instance: nothing to kill");
}

#[test]
fn corrupt_requests_are_rejected() {
    let (_, rt) = runtime();
    let mut reply = vec![0u8; 1024];
    for bad in [&[][..], &[9], &[1, 200, 200, 200]] {
        assert_eq!(rt.handle(&CALLER, bad, &mut reply), Err(cervus_core::CallError::BadRequest));
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Trap attribution: the instrumented module behaves like the original and
//! its traps name the function that trapped.

mod common;

/// The engine `common` runs instances on.
pub const ENGINE: cervus_hostcalls::protocol::EngineKind = cervus_hostcalls::protocol::EngineKind::Interp;

use arbitrary::Unstructured;
use cervus_core::instrument::{CURRENT_FUNCTION, function_name, instrument};
use cervus_hostcalls::protocol::{Outcome, Reply, TrapCode};
use common::*;
use wasmi::{Config, Engine, Linker, Module, Store, Val};

fn trap_message(reply: Reply) -> String {
    match reply {
        Reply::Run(r) => match r.outcome {
            Outcome::Trapped(t) => t.message.to_string(),
            other => panic!("expected a trap, got {other:?}"),
        },
        other => panic!("expected a run report, got {other:?}"),
    }
}

#[test]
fn traps_name_the_innermost_function() {
    let (_, rt) = runtime();
    let wat = r#"
    (module
      (func $main (export "_start") (call $outer))
      (func $outer (call $helper) (call $inner))
      (func $helper (nop))
      (func $inner (unreachable)))
    "#;
    let message = trap_message(run_wat(&rt, wat));
    assert!(message.ends_with("in function 3 (inner)"), "{message}");
}

#[test]
fn after_a_call_returns_the_caller_is_blamed() {
    let (_, rt) = runtime();
    let wat = r#"
    (module
      (func $start (export "_start") (call $ok) (drop (i32.div_u (i32.const 1) (i32.const 0))))
      (func $ok))
    "#;
    let message = trap_message(run_wat(&rt, wat));
    assert!(message.ends_with("in function 0 (start)"), "{message}");
}

#[test]
fn indices_count_imported_functions_and_globals() {
    let (_, rt) = runtime();
    let wat = r#"
    (module
      (import "cervus" "stdio_write" (func $w (param i32 i32 i32) (result i32)))
      (global $g (mut i32) (i32.const 5))
      (memory (export "memory") 1)
      (func $start (export "_start") (drop (call $w (i32.const 1) (i32.const 0) (i32.const 0))) (call $boom))
      (func $boom (global.set $g (i32.const 6)) (drop (i32.load (i32.const 70000)))))
    "#;
    let message = trap_message(run_wat(&rt, wat));
    assert!(message.contains("out of bounds") || message.contains("out-of-bounds"), "{message}");
    assert!(message.ends_with("in function 2 (boom)"), "{message}");
}

#[test]
fn modules_without_names_give_the_index() {
    let (_, rt) = runtime();
    let mut wasm = wat::parse_str(r#"(module (func (export "_start") (call 1)) (func unreachable))"#).unwrap();
    // Drop the name section wat generates, if any.
    let stripped = strip_custom_sections(&mut wasm);
    let message = trap_message(run_wasm(&rt, &stripped));
    assert!(message.ends_with("in function 1"), "{message}");
}

fn strip_custom_sections(wasm: &mut [u8]) -> Vec<u8> {
    let mut out = wasm[..8].to_vec();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Some((id, range)) = payload.unwrap().as_section()
            && id != 0
        {
            out.push(id);
            let mut len = range.len() as u32;
            loop {
                let b = (len & 0x7f) as u8;
                len >>= 7;
                out.push(if len == 0 { b } else { b | 0x80 });
                if len == 0 {
                    break;
                }
            }
            out.extend_from_slice(&wasm[range]);
        }
    }
    out
}

#[test]
fn names_come_from_the_name_section() {
    let wasm = wat::parse_str(r#"(module (func $a) (func $second))"#).unwrap();
    assert_eq!(function_name(&wasm, 1).as_deref(), Some("second"));
    assert_eq!(function_name(&wasm, 7), None);
}

#[test]
fn malformed_modules_are_left_alone() {
    assert!(instrument(b"\0asm\x01\0\0\0\x01\xff").is_none());
    assert!(instrument(b"junk").is_none());
}

/// What running a module's first exported zero-argument function gives.
#[derive(Debug, PartialEq)]
enum Run {
    Refused,
    Value(Vec<String>),
    Trap(Option<wasmi::TrapCode>),
}

fn execute(wasm: &[u8]) -> Run {
    let mut config = Config::default();
    config.consume_fuel(true);
    let engine = Engine::new(&config);
    let Ok(module) = Module::new(&engine, wasm) else { return Run::Refused };
    let mut store = Store::new(&engine, ());
    store.set_fuel(20_000).unwrap();
    let linker = Linker::<()>::new(&engine);
    let instance = match linker.instantiate_and_start(&mut store, &module) {
        Ok(i) => i,
        Err(e) => return Run::Trap(e.as_trap_code()),
    };
    let func = module.exports().find_map(|e| {
        let f = instance.get_func(&store, e.name())?;
        f.ty(&store).params().is_empty().then_some(f)
    });
    let Some(func) = func else { return Run::Value(Vec::new()) };
    let ty = func.ty(&store);
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for_ty(*t)).collect();
    match func.call(&mut store, &[], &mut results) {
        Ok(()) => Run::Value(results.iter().map(|v| format!("{v:?}")).collect()),
        Err(e) => Run::Trap(e.as_trap_code()),
    }
}

#[test]
fn instrumentation_preserves_validity_and_behaviour_of_random_modules() {
    let config = wasm_smith::Config {
        max_imports: 0,
        min_funcs: 1,
        max_funcs: 8,
        export_everything: true,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        tail_call_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        max_memory32_bytes: 1 << 20,
        max_tables: 2,
        max_table_elements: 1000,
        ..wasm_smith::Config::default()
    };
    let mut seed = 0x5eed_u64;
    let mut checked = 0;
    for _ in 0..1000 {
        let bytes: Vec<u8> = (0..2048)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let Ok(module) = wasm_smith::Module::new(config.clone(), &mut Unstructured::new(&bytes)) else { continue };
        let original = module.to_bytes();
        let instrumented = instrument(&original).expect("a valid module instruments");
        wasmparser::Validator::new().validate_all(&instrumented).expect("the instrumented module is valid");
        let (a, b) = (execute(&original), execute(&instrumented));
        // Fuel runs out at different points (the added instructions cost fuel).
        let out_of_fuel = |r: &Run| matches!(r, Run::Trap(Some(wasmi::TrapCode::OutOfFuel)));
        if !out_of_fuel(&a) && !out_of_fuel(&b) {
            assert_eq!(a, b, "behaviour changed");
        }
        assert!(instrumented.windows(CURRENT_FUNCTION.len()).any(|w| w == CURRENT_FUNCTION.as_bytes()));
        checked += 1;
    }
    assert!(checked > 700, "only {checked} modules were generated");
}

#[test]
fn traps_through_the_runtime_are_located() {
    let (_, rt) = runtime();
    let message = trap_message(run_wat(
        &rt,
        r#"(module (func $f (export "_start") (call_indirect (i32.const 0))) (table 1 funcref))"#,
    ));
    assert!(message.contains("in function 0 (f)"), "{message}");
    let _ = TrapCode::Unreachable;
}

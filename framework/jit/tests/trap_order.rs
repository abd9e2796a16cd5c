// SPDX-License-Identifier: GPL-2.0

//! An out-of-bounds access traps before anything after it takes effect,
//! and never after something that came after it: whatever follows the bad
//! access in the same function (a store, `global.set`, `table.set`, a
//! call, a runtime call, a return, a loop, another trap) behaves as if the
//! trap had happened at the access, with the trap `MemoryOutOfBounds`.
//! Accesses through one index share a bounds check (see `translate`'s
//! module docs); the shared check must never trap before an effect or a
//! trap of another kind that comes before the access it covers. Each case
//! is also run with an address in bounds, to show the effect it guards
//! does happen.

mod common;

use cervus_jit::runtime::{Host, Stopped, Trap};
use cervus_jit::vmctx::TrapKind;
use common::*;

const OUTSIDE: u64 = 65536;
const OOB: Result<Vec<u64>, Trap> = Err(Trap::Wasm(TrapKind::MemoryOutOfBounds));

const MODULE: &str = r#"(module
    (memory 1)
    (global $g (export "g") (mut i32) (i32.const 0))
    (table $t 1 funcref)
    (elem declare func $effect)
    (func $effect (global.set $g (i32.const 99)))
    (func (export "then_store") (param i32)
        (drop (i32.load (local.get 0)))
        (i32.store (i32.const 0) (i32.const 42)))
    (func (export "diverted_store_then_store") (param i32)
        (i64.store (local.get 0) (i64.const -1))
        (i32.store8 (i32.const 1) (i32.const 43)))
    (func (export "then_global") (param i32)
        (drop (i32.load8_u (local.get 0)))
        (global.set $g (i32.const 7)))
    (func (export "then_call") (param i32)
        (drop (i64.load offset=8 (local.get 0)))
        (call $effect))
    (func (export "then_table_set") (param i32)
        (drop (i32.load16_s (local.get 0)))
        (table.set $t (i32.const 0) (ref.func $effect)))
    (func (export "table_entry_is_null") (result i32)
        (ref.is_null (table.get $t (i32.const 0))))
    (func (export "then_fill") (param i32)
        (drop (f64.load (local.get 0)))
        (memory.fill (i32.const 0) (i32.const 9) (i32.const 4)))
    (func (export "then_divide") (param i32) (result i32)
        (i32.div_u (i32.const 1) (i32.and (i32.load (local.get 0)) (i32.const 0))))
    (func (export "then_unreachable") (param i32)
        (drop (i32.load (local.get 0)))
        unreachable)
    (func (export "then_spin") (param i32)
        (drop (i32.load (local.get 0)))
        (loop $l (br $l)))
    (func (export "then_return") (param i32) (result i32)
        (i32.add (i32.load (local.get 0)) (i32.const 1)))
    (func (export "shared") (param i32) (result i32)
        ;; One check for the three loads: it must reach offset 8 + 4.
        (i32.add (i32.load (local.get 0))
            (i32.add (i32.load offset=4 (local.get 0)) (i32.load offset=8 (local.get 0)))))
    (func (export "store_between") (param i32)
        (drop (i32.load (local.get 0)))
        (i32.store (i32.const 0) (i32.const 5))
        (drop (i32.load offset=100 (local.get 0))))
    (func (export "global_between") (param i32)
        (drop (i32.load (local.get 0)))
        (global.set $g (i32.const 6))
        (drop (i32.load offset=100 (local.get 0))))
    (func (export "divide_between") (param i32) (param i32) (result i32)
        (drop (i32.load (local.get 0)))
        (drop (i32.div_u (i32.const 1) (local.get 1)))
        (i32.load offset=100 (local.get 0)))
    (func (export "store_joins") (param i32)
        ;; The store's check may move up to the load's; a store after it
        ;; may not be skipped when the access after that is outside.
        (drop (i32.load (local.get 0)))
        (i32.store offset=4 (local.get 0) (i32.const 7))
        (i32.store offset=100 (local.get 0) (i32.const 8)))
    (func (export "reassigned") (param i32) (result i32)
        ;; The same local, written between the accesses: not one index.
        (drop (i32.load (local.get 0)))
        (local.set 0 (i32.add (local.get 0) (i32.const 65536)))
        (i32.load (local.get 0)))
    (func (export "teed") (param i32) (result i32)
        (drop (i32.load (local.get 0)))
        (drop (local.tee 0 (i32.add (local.get 0) (i32.const 65536))))
        (i32.load (local.get 0)))
    (func (export "offsets_from_a_root") (param i32) (result i32)
        ;; A message-schedule step: four loads and a store at constant
        ;; distances from one root share one check reaching x + 68.
        (local $x i32)
        (local.set $x (local.get 0))
        (i32.store (i32.add (local.get $x) (i32.const 64))
            (i32.add (i32.add (i32.load (i32.add (local.get $x) (i32.const 36))) (i32.load (local.get $x)))
                (i32.add (i32.load (i32.add (local.get $x) (i32.const 56)))
                    (i32.load (i32.add (local.get $x) (i32.const 4))))))
        (i32.load (i32.add (local.get $x) (i32.const 64))))
    (func (export "wrapped_offsets") (param i32) (result i32)
        ;; Near 2^32, both indexes wrap to small addresses: in bounds.
        (i32.add (i32.load (i32.add (local.get 0) (i32.const 16)))
            (i32.load8_u (i32.add (i32.const 21) (local.get 0)))))
    (func (export "store_then_covered_load") (param i32) (result i32)
        ;; After the store, the load through the same index is covered by
        ;; the store's check; the one 4 bytes further is checked again.
        (i32.store (i32.add (local.get 0) (i32.const 16)) (i32.const 0x01020304))
        (i32.add (i32.load8_u (i32.add (local.get 0) (i32.const 16)))
            (i32.load (i32.add (local.get 0) (i32.const 20)))))
    (func (export "descending_stores") (param i32)
        ;; A struct written from its last field: the first store's check
        ;; covers the others.
        (i32.store offset=12 (local.get 0) (i32.const 4))
        (i32.store offset=8 (local.get 0) (i32.const 3))
        (i32.store offset=4 (local.get 0) (i32.const 2))
        (i32.store (local.get 0) (i32.const 1)))
    (func (export "load_in_a_loop") (param i32) (result i32) (local $sum i32)
        ;; Sums the words at param, param + 4, ... up to the end of memory
        ;; and beyond: the access at 65536 is the first one out.
        (loop $l
            (local.set $sum (i32.add (local.get $sum) (i32.load (local.get 0))))
            (i32.store (i32.const 8) (local.get $sum))
            (local.set 0 (i32.add (local.get 0) (i32.const 4)))
            (br $l))
        (local.get $sum))
)"#;

fn module() -> Box<cervus_jit::runtime::Instance> {
    instantiate(&wat::parse_str(MODULE).unwrap()).unwrap()
}

fn word(m: &cervus_jit::runtime::Instance, at: usize) -> u32 {
    u32::from_le_bytes(m.memory()[at..at + 4].try_into().unwrap())
}

#[test]
fn a_store_after_a_bad_access_does_not_happen() {
    let mut m = module();
    assert_eq!(call(&mut m, "then_store", &[OUTSIDE]), OOB);
    assert_eq!(word(&m, 0), 0);
    assert_eq!(call(&mut m, "then_store", &[OUTSIDE - 4]), Ok(vec![]));
    assert_eq!(word(&m, 0), 42);

    let mut m = module();
    for at in [OUTSIDE - 7, OUTSIDE, u32::MAX as u64] {
        assert_eq!(call(&mut m, "diverted_store_then_store", &[at]), OOB, "store at {at:#x}");
        assert!(m.memory().iter().all(|b| *b == 0), "a diverted store or the one after it wrote memory");
    }
    assert_eq!(call(&mut m, "diverted_store_then_store", &[OUTSIDE - 8]), Ok(vec![]));
    assert_eq!(m.memory()[1], 43);
    assert!(m.memory()[OUTSIDE as usize - 8..].iter().all(|b| *b == 0xff));
}

#[test]
fn globals_tables_calls_and_runtime_calls_after_a_bad_access_do_not_happen() {
    let mut m = module();
    let g = 0;
    for (name, outside, inside) in [("then_global", OUTSIDE, OUTSIDE - 1), ("then_call", OUTSIDE - 15, OUTSIDE - 16)] {
        assert_eq!(call(&mut m, name, &[outside]), OOB, "{name}");
        assert_eq!(m.global(g), Some(0), "{name} set the global");
        assert_eq!(call(&mut m, name, &[inside]), Ok(vec![]), "{name}");
        assert_ne!(m.global(g), Some(0), "{name} did not set the global");
        m = module();
    }
    assert_eq!(call(&mut m, "then_table_set", &[OUTSIDE - 1]), OOB);
    assert_eq!(call(&mut m, "table_entry_is_null", &[]), Ok(vec![1]));
    assert_eq!(call(&mut m, "then_table_set", &[OUTSIDE - 2]), Ok(vec![]));
    assert_eq!(call(&mut m, "table_entry_is_null", &[]), Ok(vec![0]));

    assert_eq!(call(&mut m, "then_fill", &[OUTSIDE - 4]), OOB);
    assert_eq!(word(&m, 0), 0);
    assert_eq!(call(&mut m, "then_fill", &[OUTSIDE - 8]), Ok(vec![]));
    assert_eq!(word(&m, 0), 0x0909_0909);
}

#[test]
fn a_later_trap_of_another_kind_reports_the_bad_access() {
    let mut m = module();
    assert_eq!(call(&mut m, "then_divide", &[OUTSIDE]), OOB);
    assert_eq!(call(&mut m, "then_divide", &[0]), Err(Trap::Wasm(TrapKind::IntegerDivisionByZero)));
    assert_eq!(call(&mut m, "then_unreachable", &[OUTSIDE]), OOB);
    assert_eq!(call(&mut m, "then_unreachable", &[0]), Err(Trap::Wasm(TrapKind::Unreachable)));
    assert_eq!(call(&mut m, "then_return", &[OUTSIDE - 3]), OOB);
    assert_eq!(call(&mut m, "then_return", &[OUTSIDE - 4]), Ok(vec![1]));
}

#[test]
fn a_loop_after_a_bad_access_traps_instead_of_refuelling() {
    struct Counting(u32);
    impl Host for Counting {
        fn hostcall(&mut self, _: &mut [u8], _: u32, _: &mut [u64]) -> Result<(), Stopped> {
            Err(Stopped)
        }
        fn out_of_fuel(&mut self, _: i64) -> Result<i64, Stopped> {
            self.0 += 1;
            if self.0 == 10 { Err(Stopped) } else { Ok(1000) }
        }
    }
    let mut m = module();
    let spin = m.export("then_spin").unwrap();
    let mut host = Counting(0);
    assert_eq!(
        m.call(spin, &mut [OUTSIDE], &mut host, 1000, stack_limit(64 * 1024)),
        Err(Trap::Wasm(TrapKind::MemoryOutOfBounds))
    );
    assert_eq!(host.0, 0, "the host was asked for more fuel");
    let mut host = Counting(0);
    assert_eq!(m.call(spin, &mut [0], &mut host, 100, stack_limit(64 * 1024)), Err(Trap::Host));

    // A loop that walks off the end: every word before it was summed and
    // stored, the first one outside traps.
    let mut m = module();
    for (i, b) in m.memory_mut().iter_mut().enumerate() {
        *b = i as u8;
    }
    let expected =
        (OUTSIDE as usize - 64..OUTSIDE as usize).step_by(4).fold(0u32, |sum, at| sum.wrapping_add(word(&m, at)));
    assert_eq!(call(&mut m, "load_in_a_loop", &[OUTSIDE - 64]), OOB);
    assert_eq!(word(&m, 8), expected);
}

#[test]
fn accesses_through_one_index_share_a_check_that_reaches_the_farthest() {
    let mut m = module();
    m.memory_mut()[OUTSIDE as usize - 12..].copy_from_slice(&[1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
    assert_eq!(call(&mut m, "shared", &[OUTSIDE - 12]), Ok(vec![6]));
    for at in [OUTSIDE - 11, OUTSIDE - 4, OUTSIDE, u32::MAX as u64] {
        assert_eq!(call(&mut m, "shared", &[at]), OOB, "at {at:#x}");
    }
}

#[test]
fn a_shared_check_never_moves_above_an_effect_or_another_trap() {
    let mut m = module();
    assert_eq!(call(&mut m, "store_between", &[OUTSIDE - 100]), OOB);
    assert_eq!(word(&m, 0), 5, "the store before the bad access did not happen");
    assert_eq!(call(&mut m, "global_between", &[OUTSIDE - 100]), OOB);
    assert_eq!(m.global(0), Some(6), "the global.set before the bad access did not happen");
    assert_eq!(call(&mut m, "divide_between", &[OUTSIDE - 100, 0]), Err(Trap::Wasm(TrapKind::IntegerDivisionByZero)));
    assert_eq!(call(&mut m, "divide_between", &[OUTSIDE - 100, 1]), OOB);
    assert_eq!(call(&mut m, "store_joins", &[OUTSIDE - 100]), OOB);
    assert_eq!(word(&m, OUTSIDE as usize - 96), 7, "the store before the bad access did not happen");
    assert_eq!(call(&mut m, "store_joins", &[OUTSIDE - 104]), Ok(vec![]));
    assert_eq!(word(&m, OUTSIDE as usize - 4), 8);
}

#[test]
fn a_local_written_between_two_accesses_is_checked_again() {
    let mut m = module();
    assert_eq!(call(&mut m, "reassigned", &[0]), OOB);
    assert_eq!(call(&mut m, "teed", &[0]), OOB);
}

#[test]
fn accesses_at_constant_distances_from_a_root_share_a_check() {
    let mut m = module();
    let x = OUTSIDE as usize - 68;
    for (i, at) in [(1u8, x), (2, x + 4), (3, x + 36), (4, x + 56)] {
        m.memory_mut()[at] = i;
    }
    assert_eq!(call(&mut m, "offsets_from_a_root", &[x as u64]), Ok(vec![10]));
    assert_eq!(word(&m, x + 64), 10);
    // Only the store is outside: nothing is written.
    let mut m = module();
    assert_eq!(call(&mut m, "offsets_from_a_root", &[OUTSIDE - 67]), OOB);
    assert!(m.memory().iter().all(|b| *b == 0));
    for at in [OUTSIDE - 59, OUTSIDE - 4, OUTSIDE, u32::MAX as u64 - 40, u32::MAX as u64] {
        assert_eq!(call(&mut m, "offsets_from_a_root", &[at]), OOB, "at {at:#x}");
    }
}

#[test]
fn indexes_that_wrap_around_into_bounds_do_not_trap() {
    let mut m = module();
    m.memory_mut()[0..8].copy_from_slice(&[7, 0, 0, 0, 0, 9, 0, 0]);
    // 0xffff_fff0 + 16 = 0 and + 21 = 5 (mod 2^32).
    assert_eq!(call(&mut m, "wrapped_offsets", &[0xffff_fff0]), Ok(vec![16]));
    // + 16 = 0xffff_fffe: outside.
    assert_eq!(call(&mut m, "wrapped_offsets", &[0xffff_ffee]), OOB);
    // + 16 = 0xf and + 21 = 0x14: inside.
    assert_eq!(call(&mut m, "wrapped_offsets", &[0xffff_ffff]), Ok(vec![0]));

    // The store to 0 happens, and the covered load reads it back.
    let mut m = module();
    assert_eq!(call(&mut m, "store_then_covered_load", &[0xffff_fff0]), Ok(vec![4]));
    assert_eq!(word(&m, 0), 0x0102_0304);
}

#[test]
fn a_store_checks_the_stores_after_it_that_it_covers() {
    let mut m = module();
    assert_eq!(call(&mut m, "descending_stores", &[OUTSIDE - 16]), Ok(vec![]));
    assert_eq!([16, 12, 8, 4].map(|back| word(&m, OUTSIDE as usize - back)), [1, 2, 3, 4]);
    let mut m = module();
    assert_eq!(call(&mut m, "descending_stores", &[OUTSIDE - 15]), OOB);
    assert!(m.memory().iter().all(|b| *b == 0), "a store happened before the bad one");

    // The store through the index happens; the load 4 bytes further is
    // the one outside.
    let mut m = module();
    assert_eq!(call(&mut m, "store_then_covered_load", &[OUTSIDE - 24]), Ok(vec![4]));
    let mut m = module();
    assert_eq!(call(&mut m, "store_then_covered_load", &[OUTSIDE - 23]), OOB);
    assert_eq!(word(&m, OUTSIDE as usize - 7), 0x0102_0304);
}

// SPDX-License-Identifier: GPL-2.0

//! Counted loops (`for i in a..b` once rotated) are compiled twice: a
//! guard before the loop checks every access whose index it can work out
//! (`inv + i + c`) for the farthest iteration, and runs a copy without
//! those checks and without fuel checks inside (the whole loop's fuel is
//! charged on entry) if all pass; otherwise the usual copy runs and traps
//! exactly where the wasm does. Fuel shows which copy ran: the unchecked
//! one asks the host for fuel at most once, the checked one at every
//! refill.

mod common;

use cervus_jit::runtime::{Host, Instance, Stopped, Trap};
use cervus_jit::vmctx::TrapKind;
use common::*;

const OUTSIDE: u64 = 65536;
const OOB: Result<(), Trap> = Err(Trap::Wasm(TrapKind::MemoryOutOfBounds));

const MODULE: &str = r#"(module
    (memory 1)
    (func (export "fill") (param $x i32) (result i32) (local $i i32) (local $sum i32)
        ;; Stores i at x + i for i in 0, 4, .. 396; returns the sum of the
        ;; words read at x + i + 4 (before the next iteration stores there).
        (loop $l
            (i32.store (i32.add (local.get $x) (local.get $i)) (local.get $i))
            (local.set $sum (i32.add (local.get $sum)
                (i32.load offset=4 (i32.add (local.get $i) (local.get $x)))))
            (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4))) (i32.const 400))))
        (local.get $sum))
    (func (export "from_written_local") (param $x i32) (local $i i32) (local $p i32)
        ;; The index goes through a local the body writes: still checked.
        (loop $l
            (local.set $p (i32.add (local.get $x) (local.get $i)))
            (i32.store8 (local.get $p) (i32.const 1))
            (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 100)))))
    (func (export "long") (local $i i32)
        ;; Too long to go unchecked: 2^30 iterations.
        (loop $l
            (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 0x40000000)))))
    (func (export "from_param") (param $i i32)
        ;; The counter does not start at a known constant.
        (loop $l
            (i32.store8 (local.get $i) (i32.const 2))
            (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 1000)))))
)"#;

/// Counts fuel refills; gives `give` each time, stops at the 1000th.
struct Refills {
    count: u32,
    give: i64,
}

impl Host for Refills {
    fn hostcall(&mut self, _: &mut [u8], _: u32, _: &mut [u64]) -> Result<(), Stopped> {
        Err(Stopped)
    }
    fn out_of_fuel(&mut self, _: i64) -> Result<i64, Stopped> {
        self.count += 1;
        if self.count == 1000 { Err(Stopped) } else { Ok(self.give) }
    }
}

/// Calls `name` with `args` and 100 units of fuel, refilled by 100.
fn run(m: &mut Instance, name: &str, args: &[u64]) -> (Result<(), Trap>, u32, u64) {
    let index = m.export(name).unwrap();
    let mut values = [0u64; 4];
    values[..args.len()].copy_from_slice(args);
    let mut host = Refills { count: 0, give: 100 };
    let result = m.call(index, &mut values, &mut host, 100, stack_limit(64 * 1024));
    (result, host.count, values[0])
}

fn module() -> Box<Instance> {
    instantiate(&wat::parse_str(MODULE).unwrap()).unwrap()
}

fn word(m: &Instance, at: u64) -> u32 {
    let at = at as usize;
    u32::from_le_bytes(m.memory()[at..at + 4].try_into().unwrap())
}

#[test]
fn an_in_bounds_counted_loop_runs_unchecked() {
    let mut m = module();
    // 100 iterations of about 20 operators, on 100 units of fuel: one
    // refill on entry for the whole loop.
    let x = OUTSIDE - 404;
    let (result, refills, sum) = run(&mut m, "fill", &[x]);
    assert_eq!(result, Ok(()));
    assert_eq!(refills, 1, "the loop checked its fuel inside");
    for i in (0..400).step_by(4) {
        assert_eq!(word(&m, x + i), i as u32);
    }
    // Each load reads the word the next iteration stores: 0 then.
    assert_eq!(sum, 0);
}

#[test]
fn a_counted_loop_that_leaves_memory_runs_checked_and_traps_where_the_wasm_does() {
    let mut m = module();
    // The load at x + i + 4 of the last iteration is the first access
    // outside (x + 396 + 4 + 4 = OUTSIDE + 1); every store before it,
    // including that iteration's, happened.
    let x = OUTSIDE - 403;
    let (result, refills, _) = run(&mut m, "fill", &[x]);
    assert_eq!(result, OOB);
    assert!(refills > 1, "the checked copy should refuel inside the loop");
    for i in (0..400).step_by(4) {
        assert_eq!(word(&m, x + i), i as u32, "store at x + {i}");
    }

    // Far outside: the first store traps, nothing is written.
    let mut m = module();
    assert_eq!(run(&mut m, "fill", &[OUTSIDE]).0, OOB);
    assert!(m.memory().iter().all(|b| *b == 0));
}

#[test]
fn indexes_that_wrap_around_are_checked_one_by_one() {
    // x + i wraps past 2^32 to small addresses from i = 0x100 on: the
    // first store, at 0xffff_ff00, is outside.
    let mut m = module();
    assert_eq!(run(&mut m, "fill", &[0xffff_ff00]).0, OOB);
    assert!(m.memory().iter().all(|b| *b == 0));
    // From 0xffff_fffc: x + 0 is outside too.
    assert_eq!(run(&mut m, "fill", &[0xffff_fffc]).0, OOB);
}

#[test]
fn loops_the_guard_cannot_cover_keep_their_checks() {
    let mut m = module();
    assert_eq!(run(&mut m, "from_written_local", &[OUTSIDE - 100]).0, Ok(()));
    assert!(m.memory()[OUTSIDE as usize - 100..].iter().all(|b| *b == 1));
    let mut m = module();
    assert_eq!(run(&mut m, "from_written_local", &[OUTSIDE - 99]).0, OOB);
    assert!(m.memory()[OUTSIDE as usize - 99..].iter().all(|b| *b == 1));

    let mut m = module();
    assert_eq!(run(&mut m, "from_param", &[990]).0, Ok(()));
    assert!(m.memory()[990..1000].iter().all(|b| *b == 2));
    assert_eq!(m.memory()[1000], 0);
}

#[test]
fn a_long_counted_loop_still_runs_out_of_fuel() {
    let mut m = module();
    let (result, refills, _) = run(&mut m, "long", &[]);
    assert_eq!(result, Err(Trap::Host));
    assert_eq!(refills, 1000);
}

/// A counted loop of `trips` iterations that stores each `i` at `x + 4i`
/// and returns the sum of the `i`s.
fn trips_module(trips: u32) -> Box<Instance> {
    let wat = format!(
        r#"(module
            (memory 1)
            (func (export "run") (param $x i32) (result i32) (local $i i32) (local $sum i32)
                (loop $l
                    (i32.store (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))) (local.get $i))
                    (local.set $sum (i32.add (local.get $sum) (local.get $i)))
                    (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const {trips}))))
                (local.get $sum)))"#
    );
    instantiate(&wat::parse_str(&wat).unwrap()).unwrap()
}

#[test]
fn unrolled_copies_run_every_iteration_once() {
    // The unchecked copy runs several iterations per trip around its loop,
    // after the remainder's, peeled off: every count of iterations, below,
    // at and above each unroll factor, runs each iteration exactly once.
    for trips in [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100] {
        let mut m = trips_module(trips);
        let (result, refills, sum) = run(&mut m, "run", &[64]);
        assert_eq!(result, Ok(()), "{trips} trips");
        assert!(refills <= 1, "{trips} trips: the loop checked its fuel inside");
        assert_eq!(sum as u32, trips * (trips - 1) / 2, "{trips} trips");
        for i in 0..trips as u64 {
            assert_eq!(word(&m, 64 + 4 * i), i as u32, "{trips} trips: word {i}");
        }
        assert!(m.memory()[64 + 4 * trips as usize..].iter().all(|b| *b == 0), "{trips} trips: wrote past the end");
        // The store's index is not `inv + i + c`: each is checked, and the
        // first outside traps, whichever copy of the body it is in.
        for last in 0..trips.min(9) {
            let mut m = trips_module(trips);
            let x = OUTSIDE - 4 * u64::from(trips - last);
            let (result, _, _) = run(&mut m, "run", &[x + 1]);
            assert_eq!(result, OOB, "{trips} trips, trap in iteration {}", trips - last - 1);
            for i in 0..(trips - last - 1) as u64 {
                assert_eq!(word(&m, x + 1 + 4 * i), i as u32, "{trips} trips: word {i} before the trap");
            }
        }
    }
}

#[test]
fn loads_of_a_loop_that_stores_nothing_read_memory_as_it_was_during_the_loop() {
    // A loop that stores nothing may have its loads moved (scheduled next
    // to their uses, merged, hoisted), but never past the loop's end: the
    // value the last iteration loads, kept in a local, is the word as it
    // was before the store that follows the loop. The loop runs 4 times
    // (unrolled completely) and 100 times (a loop around 8 copies).
    for trips in [4u32, 100] {
        let wat = format!(
            r#"(module
                (memory 1)
                (func (export "run") (param $x i32) (result i32) (local $i i32) (local $last i32) (local $sum i32)
                    (loop $l
                        (local.set $last (i32.load (i32.add (local.get $x) (local.get $i))))
                        (local.set $sum (i32.add (local.get $sum) (local.get $last)))
                        (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4))) (i32.const {end}))))
                    (i32.store (i32.add (local.get $x) (i32.const {last})) (i32.const 1000))
                    (i32.add (i32.mul (local.get $last) (i32.const 65536)) (local.get $sum))))"#,
            end = 4 * trips,
            last = 4 * (trips - 1),
        );
        let mut m = instantiate(&wat::parse_str(&wat).unwrap()).unwrap();
        let x = 64u64;
        for i in 0..u64::from(trips) {
            m.memory_mut()[(x + 4 * i) as usize] = i as u8 + 1;
        }
        let (result, refills, value) = run(&mut m, "run", &[x]);
        assert_eq!(result, Ok(()), "{trips} trips");
        assert!(refills <= 1, "{trips} trips: the loop checked its fuel inside");
        let sum = u64::from(trips) * (u64::from(trips) + 1) / 2;
        assert_eq!(value as u32 as u64, (u64::from(trips) << 16) + sum, "{trips} trips");
        assert_eq!(word(&m, x + 4 * (u64::from(trips) - 1)), 1000);
    }
}

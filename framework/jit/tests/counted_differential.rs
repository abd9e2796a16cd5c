// SPDX-License-Identifier: GPL-2.0

//! Differential testing of counted loops, the code the JIT compiles
//! without bounds or fuel checks inside (a guard checks their accesses
//! once, for the farthest iteration) and unrolls: generated loops of the
//! shape `counted::scan` accepts, with loads and stores through every
//! index form it works out (`inv + i + c`, `i + c`, `inv + c`) and some it
//! does not, near the end of memory so that some iterations leave it, run
//! under the JIT and under wasmi ([`common::diff::compare`]: results,
//! traps, memory and globals must match).

mod common;

use common::diff::{Stats, compare};
use wasmi::{Config, Engine};

/// A xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// An index expression: one of the forms the scan works out, or one it
/// does not (through a shift, or a local the body writes).
fn index(rng: &mut Rng) -> String {
    let c = match rng.below(4) {
        0 => 0,
        1 => rng.below(64),
        2 => rng.below(70_000),
        // Wraps around 2^32 with `p + i`.
        _ => 0xffff_ff00 + rng.below(256),
    };
    match rng.below(8) {
        0 => "(local.get $i)".into(),
        1 => format!("(i32.add (local.get $i) (i32.const {c}))"),
        2 => "(i32.add (local.get $p) (local.get $i))".into(),
        3 => format!("(i32.add (i32.add (local.get $i) (local.get $p)) (i32.const {c}))"),
        4 => format!("(i32.add (local.get $p) (i32.const {c}))"),
        5 => "(i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))".into(),
        6 => "(i32.add (local.get $q) (local.get $i))".into(),
        _ => format!("(i32.add (local.get $p) (i32.add (local.get $i) (i32.const {c})))"),
    }
}

/// One statement of a loop body.
fn statement(rng: &mut Rng) -> String {
    let offset = [0, 1, 4, 60, 1000][rng.below(5) as usize];
    match rng.below(5) {
        0 | 1 => {
            let (load, extend) = match rng.below(5) {
                0 => ("i32.load", ""),
                1 => ("i32.load8_u", ""),
                2 => ("i32.load16_s", ""),
                3 => ("i64.load", "i32.wrap_i64"),
                _ => ("i64.load32_u", "i32.wrap_i64"),
            };
            let loaded = format!("({load} offset={offset} {})", index(rng));
            let loaded = if extend.is_empty() { loaded } else { format!("({extend} {loaded})") };
            format!("(local.set $acc (i32.add (i32.rotl (local.get $acc) (i32.const 5)) {loaded}))")
        }
        2 | 3 => {
            let store = rng.pick(&["i32.store", "i32.store8", "i32.store16", "i64.store"]);
            let value = "(i32.xor (local.get $acc) (local.get $i))";
            let value = if store == "i64.store" { format!("(i64.extend_i32_u {value})") } else { value.into() };
            format!("({store} offset={offset} {} {value})", index(rng))
        }
        _ => "(local.set $q (i32.add (local.get $q) (i32.const 3)))".into(),
    }
}

/// A module whose export `run` runs one counted loop.
fn counted_module(rng: &mut Rng) -> String {
    let step = [1u32, 2, 4, 8][rng.below(4) as usize];
    let trips = 1 + rng.below(40) as u32;
    let start = rng.below(3) as u32 * 16;
    let end = start + trips * step;
    // The invariant base: near the end of memory (some accesses leave it)
    // or low.
    let base = if rng.below(2) == 0 { 65536 - 1024 } else { 0 };
    let body: Vec<String> = (0..1 + rng.below(6)).map(|_| statement(rng)).collect();
    format!(
        r#"(module
            (memory 1)
            (global $g (mut i32) (i32.const 0))
            (func (export "run") (param $x i32) (result i32)
                (local $i i32) (local $p i32) (local $q i32) (local $acc i32)
                (local.set $p (i32.add (i32.and (local.get $x) (i32.const 0x7ff)) (i32.const {base})))
                (local.set $q (local.get $p))
                (local.set $i (i32.const {start}))
                (loop $l
                    {body}
                    (global.set $g (local.get $acc))
                    (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const {step}))) (i32.const {end}))))
                ;; Where the first and the last iteration read through
                ;; `p + i`: a load moved past the loop would see these.
                (i32.store (local.get $p) (i32.const 0x5a5a5a5a))
                (i32.store (i32.add (local.get $p) (i32.const {last})) (i32.const 0x5a5a5a5a))
                (local.get $acc)))"#,
        body = body.join("\n                    "),
        last = end - step,
    )
}

#[test]
fn counted_loops_match_the_interpreter() {
    let count: u64 = std::env::var("CERVUS_JIT_COUNTED_MODULES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let engine = Engine::new(&Config::default());
    let mut stats = Stats::default();
    let mut rng = Rng(0x5eed_c0de_1234_5678);
    for seed in 0..count {
        let wat = counted_module(&mut rng);
        let wasm = wat::parse_str(&wat).unwrap_or_else(|e| panic!("{e}\n{wat}"));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut stats = Stats::default();
            compare(&engine, &wasm, seed + 1, &mut stats);
            stats
        }));
        match result {
            Ok(s) => {
                stats.instantiated += s.instantiated;
                stats.returned += s.returned;
                stats.trapped += s.trapped;
            }
            Err(e) => std::panic::resume_unwind(Box::new(format!("module {seed}:\n{wat}\n{e:?}"))),
        }
    }
    eprintln!("{count} counted loops: {stats:?}");
    // Both outcomes are common enough to mean something.
    assert!(stats.returned > count as usize / 5, "{stats:?}");
    assert!(stats.trapped > count as usize / 5, "{stats:?}");
}

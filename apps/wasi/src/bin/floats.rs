// SPDX-License-Identifier: MIT OR Apache-2.0

//! f32/f64 arithmetic, conversions, rounding and special values, printed
//! with their bit patterns where NaN payloads are deterministic in wasm.
//! The QEMU test compares the kernel's output with the host's.

use std::hint::black_box as b;

fn main() {
    let xs = [0.0f64, -0.0, 1.0, -1.5, 0.1, 1e-310, 1e308, f64::INFINITY, f64::NEG_INFINITY, 2.5, 3.5, -2.5];
    for &x in &xs {
        let x = b(x);
        println!(
            "f64 {x:e}: sqrt={:e} floor={} ceil={} trunc={} round_even={} abs={} neg={} x*x={:e} x/3={:e} as_i32={} as_u64={} as_f32={:e}",
            x.sqrt(),
            x.floor(),
            x.ceil(),
            x.trunc(),
            x.round_ties_even(),
            x.abs(),
            -x,
            x * x,
            x / 3.0,
            x as i32,
            x as u64,
            x as f32
        );
    }
    let fs = [0.0f32, -0.0, 1.0, 0.3, 16777217.0, 3.4e38, f32::MIN_POSITIVE / 4.0, 2.5, -2.5];
    for &x in &fs {
        let x = b(x);
        println!(
            "f32 {x:e}: sqrt={:e} x+0.1={:e} x*3={:e} round_even={} as_i64={} as_f64={:e} bits={:08x}",
            x.sqrt(),
            x + 0.1,
            x * 3.0,
            x.round_ties_even(),
            x as i64,
            x as f64,
            x.to_bits()
        );
    }
    let (a, c) = (b(-0.0f64), b(0.0f64));
    println!("min(-0,0)={} max(-0,0)={} copysign={}", a.min(c), a.max(c), 1.0f64.copysign(a));
    println!("nan != nan: {}", b(f64::NAN) != b(f64::NAN));
    println!("nan as i32 = {}, inf as u8 = {}", b(f64::NAN) as i32, b(f64::INFINITY) as u8);
    println!("fma-free mul_add = {:e}", b(0.1f64) * b(10.0) + b(-1.0));
    let mut sum = 0.0f64;
    for i in 1..=100_000 {
        sum += 1.0 / (i as f64 * i as f64);
    }
    println!("basel(1e5) = {sum:.17}");
    let mut x = 1.0f32;
    for _ in 0..1000 {
        x = (x * 1.0001).sin() + 1.0;
    }
    println!("f32 iteration = {x:e}");
    println!("u64::MAX as f64 = {:e}, i64::MIN as f32 = {:e}", b(u64::MAX) as f64, b(i64::MIN) as f32);
}

// SPDX-License-Identifier: MIT OR Apache-2.0

//! The Foundation proof program.
//!
//! Integer arithmetic, f32/f64 arithmetic and recursion, each printed on its
//! own line. `qemu-tests/expected/proof.out` holds the output, checked by the
//! QEMU scenario and by the host-side engine tests.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cervus_guest::println;

cervus_guest::entry!(main);

fn main() -> i32 {
    integers();
    floats();
    recursion();
    println!("done");
    0
}

fn integers() {
    println!("gcd(1071, 462) = {}", gcd(1071, 462));
    println!("20! = {}", (1..=20u64).product::<u64>());
    println!("sum of primes below 10000 = {}", sum_of_primes_below::<10000>());
    println!("collatz steps from 27 = {}", collatz_steps(27));
    println!("i32 wrapping 123456789 * 987654321 = {}", black_box_i32(123456789).wrapping_mul(987654321));
    println!("-7 / 2 = {}, -7 % 2 = {}", black_box_i32(-7) / 2, black_box_i32(-7) % 2);
    println!("u64 rotl(0x0123456789abcdef, 12) = {:#x}", black_box_u64(0x0123456789abcdef).rotate_left(12));
    println!("i64 leading zeros of 1 = {}", black_box_u64(1).leading_zeros());
}

fn floats() {
    let basel: f64 = (1..=1000).map(|k| 1.0 / (k as f64 * k as f64)).sum();
    println!("sum 1/k^2, k <= 1000 = {:.12}", basel);
    println!("newton sqrt(2) = {:.15}", newton_sqrt(2.0));
    println!("0.1 + 0.2 = {}", black_box_f64(0.1) + 0.2);
    println!("1 / 3 = {:.17}", 1.0 / black_box_f64(3.0));
    println!("f32 1.1 * 3.3 = {}", black_box_f64(1.1) as f32 * 3.3f32);
    println!(
        "saturating casts: inf as i32 = {}, nan as i32 = {}, -1e20 as i64 = {}",
        black_box_f64(f64::INFINITY) as i32,
        black_box_f64(f64::NAN) as i32,
        black_box_f64(-1e20) as i64
    );
    println!("floor(-2.5) = {}, trunc(-2.5) = {}", floor(black_box_f64(-2.5)), black_box_f64(-2.5) as i64);
}

fn recursion() {
    println!("fib(24) = {}", fib(black_box_u64(24)));
    println!("ackermann(2, 3) = {}", ackermann(2, black_box_u64(3)));
    println!("is_even(1001) = {}", is_even(black_box_u64(1001)));
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn sum_of_primes_below<const N: usize>() -> u64 {
    let mut composite = [false; N];
    let mut sum = 0u64;
    for i in 2..N {
        if !composite[i] {
            sum += i as u64;
            let mut j = i * i;
            while j < N {
                composite[j] = true;
                j += i;
            }
        }
    }
    sum
}

fn collatz_steps(mut n: u64) -> u32 {
    let mut steps = 0;
    while n != 1 {
        n = if n.is_multiple_of(2) { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

fn newton_sqrt(x: f64) -> f64 {
    let mut y = x;
    for _ in 0..60 {
        y = 0.5 * (y + x / y);
    }
    y
}

fn floor(x: f64) -> f64 {
    let t = x as i64 as f64;
    if t > x { t - 1.0 } else { t }
}

fn fib(n: u64) -> u64 {
    if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}

fn ackermann(m: u64, n: u64) -> u64 {
    match (m, n) {
        (0, n) => n + 1,
        (m, 0) => ackermann(m - 1, 1),
        (m, n) => ackermann(m - 1, ackermann(m, n - 1)),
    }
}

fn is_even(n: u64) -> bool {
    if n == 0 { true } else { is_odd(n - 1) }
}

fn is_odd(n: u64) -> bool {
    if n == 0 { false } else { is_even(n - 1) }
}

// Keep the optimiser from folding the arithmetic at compile time, so the
// engine really executes it.
fn black_box_i32(x: i32) -> i32 {
    core::hint::black_box(x)
}
fn black_box_u64(x: u64) -> u64 {
    core::hint::black_box(x)
}
fn black_box_f64(x: f64) -> f64 {
    core::hint::black_box(x)
}

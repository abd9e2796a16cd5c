// SPDX-License-Identifier: GPL-2.0

//! The bounds checks of linear memory, exhaustively at the edges: every
//! access width, signedness and store, static offsets from 0 to 2^32 - 1,
//! dynamic addresses around the end of memory and at the top of the 32-bit
//! space, before and after `memory.grow`. Each result is compared with a
//! model: an access is allowed iff `address + offset + size <= memory
//! length`, computed without overflow, and then reads/writes exactly those
//! bytes.

mod common;

use cervus_jit::runtime::Trap;
use cervus_jit::vmctx::TrapKind;
use common::*;

/// (wasm load op, size, sign-extends, result is 64-bit)
const LOADS: &[(&str, u64, bool, bool)] = &[
    ("i32.load", 4, false, false),
    ("i64.load", 8, false, true),
    ("f32.load", 4, false, false),
    ("f64.load", 8, false, true),
    ("i32.load8_s", 1, true, false),
    ("i32.load8_u", 1, false, false),
    ("i32.load16_s", 2, true, false),
    ("i32.load16_u", 2, false, false),
    ("i64.load8_s", 1, true, true),
    ("i64.load8_u", 1, false, true),
    ("i64.load16_s", 2, true, true),
    ("i64.load16_u", 2, false, true),
    ("i64.load32_s", 4, true, true),
    ("i64.load32_u", 4, false, true),
];

/// (wasm store op, size, value type)
const STORES: &[(&str, u64, &str)] = &[
    ("i32.store", 4, "i32"),
    ("i64.store", 8, "i64"),
    ("f32.store", 4, "f32"),
    ("f64.store", 8, "f64"),
    ("i32.store8", 1, "i32"),
    ("i32.store16", 2, "i32"),
    ("i64.store8", 1, "i64"),
    ("i64.store16", 2, "i64"),
    ("i64.store32", 4, "i64"),
];

const OFFSETS: &[u64] = &[0, 1, 7, 65535, 65536, 0x7fff_ffff, 0x8000_0000, 0xffff_fff8, 0xffff_ffff];

fn module() -> String {
    let mut funcs = String::new();
    for (i, (op, _, _, wide)) in LOADS.iter().enumerate() {
        let ty = if op.starts_with('f') {
            &op[..3]
        } else if *wide {
            "i64"
        } else {
            "i32"
        };
        for (j, off) in OFFSETS.iter().enumerate() {
            funcs += &format!("(func (export \"l{i}_{j}\") (param i32) (result {ty}) local.get 0 {op} offset={off})\n");
        }
    }
    for (i, (op, _, ty)) in STORES.iter().enumerate() {
        for (j, off) in OFFSETS.iter().enumerate() {
            funcs +=
                &format!("(func (export \"s{i}_{j}\") (param i32 {ty}) local.get 0 local.get 1 {op} offset={off})\n");
        }
    }
    format!("(module (memory 1 3) {funcs} (func (export \"grow\") (param i32) (result i32) local.get 0 memory.grow))")
}

/// Addresses to try for a memory of `len` bytes.
fn addresses(len: u64) -> Vec<u64> {
    let mut a = vec![0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_fff0, 0xffff_ffff];
    for d in 0..=9 {
        a.push(len.saturating_sub(d));
        a.push(len + d);
    }
    a.retain(|x| *x <= u32::MAX as u64);
    a
}

fn model_bytes(memory: &[u8], at: u64, size: u64) -> u64 {
    let mut v = 0u64;
    for k in 0..size {
        v |= (memory[(at + k) as usize] as u64) << (8 * k);
    }
    v
}

fn check_all(m: &mut cervus_jit::runtime::Instance) {
    let len = m.memory().len() as u64;
    // A recognisable pattern, so loads show which bytes they read.
    for (i, b) in m.memory_mut().iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(7);
    }
    for (i, (_, size, signed, wide)) in LOADS.iter().enumerate() {
        for (j, off) in OFFSETS.iter().enumerate() {
            for addr in addresses(len) {
                let got = call(m, &format!("l{i}_{j}"), &[addr]);
                let end = addr + off + size;
                if end > len {
                    assert_eq!(got, Err(Trap::Wasm(TrapKind::MemoryOutOfBounds)), "load {i} offset {off} at {addr:#x}");
                    continue;
                }
                let raw = model_bytes(m.memory(), addr + off, *size);
                let bits = 8 * size;
                let mut expected =
                    if *signed && bits < 64 { ((raw << (64 - bits)) as i64 >> (64 - bits)) as u64 } else { raw };
                if !wide {
                    expected &= 0xffff_ffff;
                }
                assert_eq!(got, Ok(vec![expected]), "load {i} offset {off} at {addr:#x}");
            }
        }
    }
    for (i, (_, size, _)) in STORES.iter().enumerate() {
        for (j, off) in OFFSETS.iter().enumerate() {
            for addr in addresses(len) {
                let before = m.memory().to_vec();
                let value = 0x0102_0304_0506_0708u64 ^ addr;
                let got = call(m, &format!("s{i}_{j}"), &[addr, value]);
                let end = addr + off + size;
                if end > len {
                    assert_eq!(
                        got,
                        Err(Trap::Wasm(TrapKind::MemoryOutOfBounds)),
                        "store {i} offset {off} at {addr:#x}"
                    );
                    assert!(m.memory() == &before[..], "a trapping store wrote memory");
                    continue;
                }
                assert_eq!(got, Ok(vec![]), "store {i} offset {off} at {addr:#x}");
                let mut expected = before.clone();
                for k in 0..*size {
                    expected[(addr + off + k) as usize] = (value >> (8 * k)) as u8;
                }
                assert!(m.memory() == &expected[..], "store {i} offset {off} at {addr:#x} wrote the wrong bytes");
            }
        }
    }
}

#[test]
fn every_access_is_checked_against_the_current_memory_size() {
    let wasm = wat::parse_str(module()).unwrap();
    let mut m = instantiate(&wasm).unwrap();
    check_all(&mut m);
    assert_eq!(call(&mut m, "grow", &[1]).unwrap(), [1]);
    check_all(&mut m);
    assert_eq!(call(&mut m, "grow", &[1]).unwrap(), [2]);
    // At the maximum: growth fails and the limit stays where it is.
    assert_eq!(call(&mut m, "grow", &[1]).unwrap(), [u32::MAX as u64]);
    check_all(&mut m);
}

#[test]
fn a_module_without_memory_traps_on_every_access() {
    let wat = r#"(module (memory 0) (func (export "f") (param i32) (result i32) local.get 0 i32.load8_u))"#;
    let mut m = instantiate(&wat::parse_str(wat).unwrap()).unwrap();
    for addr in [0u64, 1, 0xffff_ffff] {
        assert_eq!(call(&mut m, "f", &[addr]), Err(Trap::Wasm(TrapKind::MemoryOutOfBounds)));
    }
}

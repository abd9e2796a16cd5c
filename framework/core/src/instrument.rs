// SPDX-License-Identifier: GPL-2.0

//! Trap attribution: which function was running when an instance trapped.
//!
//! The interpreter reports a trap's kind but not where it happened. Before a
//! module is compiled, [`instrument`] adds a mutable `i32` global, exported
//! as [`CURRENT_FUNCTION`], and code that keeps it equal to the index of the
//! innermost running function: every body starts by setting it, and every
//! call is followed by setting it back. After a trap the runner reads it and
//! names the function from the module's `name` section ([`function_name`]).
//! The cost is two instructions at each function entry and after each call.
//!
//! The rewrite only inserts instructions and appends one global and one
//! export, so no index in the module changes. A module that does not parse
//! is left alone: the engine then reports the parse error itself.

use alloc::string::String;
use alloc::vec::Vec;

use wasmparser::{BinaryReader, NameSectionReader, Operator, Parser, Payload};

/// The export name of the current-function global.
pub const CURRENT_FUNCTION: &str = "__cervus_current_function";

const SECTION_GLOBAL: u8 = 6;
const SECTION_EXPORT: u8 = 7;
const SECTION_CODE: u8 = 10;

fn leb_u32(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn leb_i32(out: &mut Vec<u8>, mut v: i32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0);
        out.push(if done { byte } else { byte | 0x80 });
        if done {
            return;
        }
    }
}

fn section(out: &mut Vec<u8>, id: u8, content: &[u8]) {
    out.push(id);
    leb_u32(out, content.len() as u32);
    out.extend_from_slice(content);
}

/// `i32.const index; global.set global`.
fn set_current(out: &mut Vec<u8>, global: u32, index: u32) {
    out.push(0x41);
    leb_i32(out, index as i32);
    out.push(0x24);
    leb_u32(out, global);
}

/// A section's entries after its count: the count and the raw entries.
fn counted(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let mut reader = BinaryReader::new(bytes, 0);
    let count = reader.read_var_u32().ok()?;
    Some((count, &bytes[reader.current_position()..]))
}

/// The module with trap attribution added, or `None` if it does not parse.
pub fn instrument(wasm: &[u8]) -> Option<Vec<u8>> {
    let mut imported_functions = 0u32;
    let mut imported_globals = 0u32;
    let mut defined_globals = 0u32;
    // First pass: how many globals and imported functions there are.
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.ok()? {
            Payload::ImportSection(imports) => {
                for import in imports {
                    match import.ok()?.ty {
                        wasmparser::TypeRef::Func(_) => imported_functions += 1,
                        wasmparser::TypeRef::Global(_) => imported_globals += 1,
                        _ => {}
                    }
                }
            }
            Payload::GlobalSection(globals) => defined_globals = globals.count(),
            _ => {}
        }
    }
    let global = imported_globals.checked_add(defined_globals)?;

    let mut out = Vec::with_capacity(wasm.len() + wasm.len() / 8 + 64);
    out.extend_from_slice(&wasm[..8]);
    let mut wrote_global = false;
    let mut wrote_export = false;
    let mut function = imported_functions;
    let mut code = Vec::new();
    let mut code_count = 0u32;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.ok()?;
        // Sections that come after the global (or export) section, when the
        // module has none: add ours just before.
        if let Some((id, _)) = payload.as_section() {
            let after = |n: u8| id != 0 && order(id) > order(n);
            if !wrote_global && after(SECTION_GLOBAL) {
                let mut g = Vec::new();
                leb_u32(&mut g, 1);
                new_global(&mut g);
                section(&mut out, SECTION_GLOBAL, &g);
                wrote_global = true;
            }
            if !wrote_export && after(SECTION_EXPORT) {
                let mut e = Vec::new();
                leb_u32(&mut e, 1);
                new_export(&mut e, global);
                section(&mut out, SECTION_EXPORT, &e);
                wrote_export = true;
            }
        }
        match payload {
            Payload::GlobalSection(reader) => {
                let raw = &wasm[reader.range()];
                let (count, entries) = counted(raw)?;
                let mut g = Vec::new();
                leb_u32(&mut g, count + 1);
                g.extend_from_slice(entries);
                new_global(&mut g);
                section(&mut out, SECTION_GLOBAL, &g);
                wrote_global = true;
            }
            Payload::ExportSection(reader) => {
                let raw = &wasm[reader.range()];
                let (count, entries) = counted(raw)?;
                let mut e = Vec::new();
                leb_u32(&mut e, count + 1);
                e.extend_from_slice(entries);
                new_export(&mut e, global);
                section(&mut out, SECTION_EXPORT, &e);
                wrote_export = true;
            }
            Payload::CodeSectionStart { count, .. } => {
                code_count = count;
                if count == 0 {
                    section(&mut out, SECTION_CODE, &[0]);
                }
            }
            Payload::CodeSectionEntry(body) => {
                let range = body.range();
                let mut locals = body.get_locals_reader().ok()?;
                for _ in 0..locals.get_count() {
                    locals.read().ok()?;
                }
                let ops_start = locals.original_position();
                let mut new = Vec::with_capacity(range.len() + 16);
                new.extend_from_slice(&wasm[range.start..ops_start]);
                set_current(&mut new, global, function);
                let mut ops = body.get_operators_reader().ok()?;
                let mut copied = ops_start;
                while !ops.eof() {
                    let op = ops.read().ok()?;
                    if matches!(op, Operator::Call { .. } | Operator::CallIndirect { .. } | Operator::CallRef { .. }) {
                        let end = ops.original_position();
                        new.extend_from_slice(&wasm[copied..end]);
                        copied = end;
                        set_current(&mut new, global, function);
                    }
                }
                new.extend_from_slice(&wasm[copied..range.end]);
                leb_u32(&mut code, new.len() as u32);
                code.extend_from_slice(&new);
                function += 1;
                if function - imported_functions == code_count {
                    let mut c = Vec::with_capacity(code.len() + 5);
                    leb_u32(&mut c, code_count);
                    c.extend_from_slice(&code);
                    section(&mut out, SECTION_CODE, &c);
                }
            }
            Payload::End(_) => {}
            other => {
                // Sections we leave alone (custom sections included).
                if let Some((id, range)) = other.as_section()
                    && id != SECTION_CODE
                {
                    section(&mut out, id, &wasm[range]);
                }
            }
        }
    }
    if !wrote_global || !wrote_export {
        if !wrote_global {
            let mut g = Vec::new();
            leb_u32(&mut g, 1);
            new_global(&mut g);
            section(&mut out, SECTION_GLOBAL, &g);
        }
        if !wrote_export {
            let mut e = Vec::new();
            leb_u32(&mut e, 1);
            new_export(&mut e, global);
            section(&mut out, SECTION_EXPORT, &e);
        }
    }
    Some(out)
}

/// The position of a known section in the order the format requires:
/// type, import, function, table, memory, tag, global, export, start,
/// element, data count, code, data.
fn order(id: u8) -> u8 {
    match id {
        1..=5 => id,
        13 => 6,
        6 => 7,
        7 => 8,
        8 => 9,
        9 => 10,
        12 => 11,
        10 => 12,
        11 => 13,
        _ => 0,
    }
}

fn new_global(out: &mut Vec<u8>) {
    // i32, mutable, initialised to -1 ("no function yet").
    out.extend_from_slice(&[0x7f, 0x01, 0x41, 0x7f, 0x0b]);
}

fn new_export(out: &mut Vec<u8>, global: u32) {
    leb_u32(out, CURRENT_FUNCTION.len() as u32);
    out.extend_from_slice(CURRENT_FUNCTION.as_bytes());
    out.push(0x03);
    leb_u32(out, global);
}

/// The name of function `index` from the module's `name` section.
pub fn function_name(wasm: &[u8], index: u32) -> Option<String> {
    for payload in Parser::new(0).parse_all(wasm) {
        if let Ok(Payload::CustomSection(custom)) = payload
            && custom.name() == "name"
        {
            let reader = NameSectionReader::new(BinaryReader::new(custom.data(), custom.data_offset()));
            for name in reader.flatten() {
                if let wasmparser::Name::Function(map) = name {
                    for naming in map.into_iter().flatten() {
                        if naming.index == index {
                            return Some(String::from(naming.name));
                        }
                    }
                }
            }
        }
    }
    None
}

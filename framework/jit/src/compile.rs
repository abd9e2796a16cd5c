// SPDX-License-Identifier: GPL-2.0

//! Compiling a whole module into one position-independent code image.
//!
//! Each function (import stubs first, then the defined functions, then the
//! array-call entries of the exported ones) is compiled by Cranelift on its
//! own and appended to the image, 16-byte aligned, behind an `endbr64`: the
//! landing pad that IBT requires at the target of every indirect call, and
//! every function may be one (tables, the runtime's entry trampoline).
//! Calls between functions are PC-relative and resolved here, so the image
//! runs wherever it is copied; nothing else may need relocating (a
//! relocation of any other kind is a compile error).

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{ExternalName, Function};
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, FinalizedRelocTarget};
use cranelift_frontend::FunctionBuilderContext;

use crate::module::{self, CompileError, ModuleInfo, unsupported};
use crate::translate::{self, NS_ENTRY, NS_FUNC};

/// `endbr64`.
const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];
/// Filler between functions: `int3`.
const INT3: u8 = 0xcc;
/// Largest stack frame a compiled function may have.
pub const MAX_FRAME: u32 = 32 * 1024;

/// A compiled module: its shape and its code image.
pub struct CompiledModule {
    /// The module's shape.
    pub info: ModuleInfo,
    /// Machine code; runs at any address once made executable.
    pub code: Vec<u8>,
    /// Offset in `code` of each function (import stubs for imports).
    pub funcs: Vec<u32>,
    /// Offset of the array-call entry of each exported function and the
    /// start function: `extern "sysv64" fn(*mut VmCtx, *mut u64)`.
    pub entries: Vec<Option<u32>>,
    /// Largest stack frame of any function, in bytes (return address and
    /// saved frame pointer included).
    pub max_frame: u32,
}

/// The target: x86-64 with SSE4.1 (rounding instructions), code that
/// keeps frame pointers (the kernel's unwinder can walk through it) and
/// never probes the stack (the prologue's limit check does that job).
pub fn isa() -> Result<OwnedTargetIsa, CompileError> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags.set(name, value).map_err(|e| unsupported!("cranelift setting {name}: {e}"))
    };
    set(&mut flags, "opt_level", "speed")?;
    set(&mut flags, "enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" })?;
    set(&mut flags, "preserve_frame_pointers", "true")?;
    set(&mut flags, "enable_probestack", "false")?;
    set(&mut flags, "unwind_info", "false")?;
    set(&mut flags, "is_pic", "false")?;
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    let mut isa = cranelift_codegen::isa::lookup_by_name("x86_64-unknown-none")
        .map_err(|e| unsupported!("cranelift target: {e}"))?;
    for feature in ["has_sse3", "has_ssse3", "has_sse41"] {
        isa.enable(feature).map_err(|e| unsupported!("cranelift setting {feature}: {e}"))?;
    }
    isa.finish(settings::Flags::new(flags)).map_err(|e| unsupported!("cranelift target: {e}"))
}

/// A call to patch: at `at` in the image, to function `target` of `namespace`.
struct Fixup {
    at: usize,
    namespace: u32,
    target: u32,
    addend: i64,
}

struct Image {
    code: Vec<u8>,
    fixups: Vec<Fixup>,
    max_frame: u32,
    /// Whether any function computes with a float value.
    floats: bool,
}

impl Image {
    /// Compiles `ctx.func` and appends it; returns its offset.
    fn emit(&mut self, ctx: &mut Context, isa: &dyn TargetIsa, what: &str) -> Result<u32, CompileError> {
        // Float values are what puts code in SSE registers: a function
        // without any never touches FPU state (integer code on x86-64 uses
        // only general-purpose registers).
        let dfg = &ctx.func.dfg;
        self.floats |= dfg.values().any(|v| dfg.value_type(v).is_float());
        let compiled = ctx
            .compile(isa, &mut ControlPlane::default())
            .map_err(|e| unsupported!("{what}: code generation failed: {:?}", e.inner))?;
        let bytes = compiled.code_buffer().to_vec();
        let relocs = compiled.buffer.relocs().to_vec();
        let frame = compiled.buffer.frame_layout().map_or(0, |l| l.frame_to_fp_offset) + 16;
        if frame > MAX_FRAME {
            return Err(unsupported!("{what} needs a {frame}-byte stack frame; the limit is {MAX_FRAME}"));
        }
        self.max_frame = self.max_frame.max(frame);
        while !self.code.len().is_multiple_of(16) {
            self.code.push(INT3);
        }
        let start = self.code.len();
        self.code.extend_from_slice(&ENDBR64);
        let body = self.code.len();
        self.code.extend_from_slice(&bytes);
        for reloc in relocs {
            let FinalizedRelocTarget::ExternalName(ExternalName::User(name)) = reloc.target else {
                return Err(unsupported!("{what}: unexpected relocation target {:?}", reloc.target));
            };
            if !matches!(reloc.kind, Reloc::X86CallPCRel4 | Reloc::X86CallPLTRel4 | Reloc::X86PCRel4) {
                return Err(unsupported!("{what}: unexpected relocation {:?}", reloc.kind));
            }
            let name = &ctx.func.params.user_named_funcs()[name];
            self.fixups.push(Fixup {
                at: body + reloc.offset as usize,
                namespace: name.namespace,
                target: name.index,
                addend: reloc.addend,
            });
        }
        ctx.clear();
        u32::try_from(start).map_err(|_| unsupported!("module too large"))
    }
}

/// Compiles `wasm` (validating it first).
pub fn compile(wasm: &[u8]) -> Result<CompiledModule, CompileError> {
    let (info, bodies) = module::parse(wasm)?;
    let isa = isa()?;
    let config = isa.frontend_config();
    let mut ctx = Context::new();
    let mut fctx = FunctionBuilderContext::new();
    let mut image = Image { code: Vec::new(), fixups: Vec::new(), max_frame: 0, floats: false };
    let mut funcs = Vec::with_capacity(info.funcs.len());

    for index in 0..info.num_imports() {
        ctx.func = Function::new();
        translate::import_stub(&info, index, &mut ctx.func, &mut fctx, config)?;
        funcs.push(image.emit(&mut ctx, &*isa, &format!("import stub {index}"))?);
    }
    for (i, (validator, body)) in bodies.into_iter().enumerate() {
        let index = info.num_imports() + i as u32;
        let mut validator = validator.into_validator(Default::default());
        ctx.func = Function::new();
        translate::translate(&info, index, &body, &mut validator, &mut ctx.func, &mut fctx, config)?;
        funcs.push(image.emit(&mut ctx, &*isa, &format!("function {index}"))?);
    }
    let mut entries = vec![None; info.funcs.len()];
    let exported = info.exports.iter().filter(|e| e.kind == module::ExportKind::Func).map(|e| e.index);
    for index in exported.chain(info.start) {
        if entries[index as usize].is_some() {
            continue;
        }
        ctx.func = Function::new();
        translate::array_entry(&info, index, &mut ctx.func, &mut fctx, config)?;
        entries[index as usize] = Some(image.emit(&mut ctx, &*isa, &format!("entry of function {index}"))?);
    }

    for fixup in &image.fixups {
        let target = match fixup.namespace {
            NS_FUNC => funcs.get(fixup.target as usize).copied(),
            NS_ENTRY => entries.get(fixup.target as usize).copied().flatten(),
            _ => None,
        }
        .ok_or_else(|| unsupported!("call to unknown function {}:{}", fixup.namespace, fixup.target))?;
        let value = target as i64 + fixup.addend - fixup.at as i64;
        let value = i32::try_from(value).map_err(|_| unsupported!("module too large"))?;
        image.code[fixup.at..fixup.at + 4].copy_from_slice(&value.to_le_bytes());
    }
    let mut info = info;
    info.uses_floats |= image.floats;
    Ok(CompiledModule { info, code: image.code, funcs, entries, max_frame: image.max_frame })
}

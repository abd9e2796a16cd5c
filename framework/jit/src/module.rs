// SPDX-License-Identifier: GPL-2.0

//! A validated module's shape: what the translator and the runtime need to
//! know beyond the function bodies.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use wasmparser::{
    CompositeInnerType, ConstExpr, DataKind, ElementItems, ElementKind, ExternalKind, FuncType, Operator, Parser,
    Payload, RefType, TypeRef, ValType, ValidPayload, Validator, WasmFeatures,
};

/// Why a module cannot be compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError(pub String);

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<wasmparser::BinaryReaderError> for CompileError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        CompileError(e.to_string())
    }
}

macro_rules! unsupported {
    ($($arg:tt)*) => { CompileError(alloc::format!($($arg)*)) };
}
pub(crate) use unsupported;

/// The wasm features the JIT compiles: what Rust's wasm32 targets emit by
/// default, and the same set the interpreter is configured with.
pub fn features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::REFERENCE_TYPES
        | WasmFeatures::FLOATS
        // Not a proposal: gates `externref` (the host never passes one; it
        // is null or a value the module made).
        | WasmFeatures::GC_TYPES
}

/// A constant initializer (globals, segment offsets, table elements).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Const {
    /// A number; floats as their bits.
    Bits(u64),
    /// The value of global `n` (an earlier immutable one).
    Global(u32),
    /// A reference to function `n`.
    Func(u32),
    /// A null reference.
    Null,
}

/// A global variable.
#[derive(Clone, Debug)]
pub struct Global {
    /// Its type.
    pub ty: ValType,
    /// Whether `global.set` may change it.
    pub mutable: bool,
    /// Its initial value.
    pub init: Const,
}

/// A table of references.
#[derive(Clone, Debug)]
pub struct Table {
    /// Initial number of entries.
    pub min: u64,
    /// Most entries, if bounded.
    pub max: Option<u64>,
}

/// An element segment.
#[derive(Clone, Debug)]
pub struct Element {
    /// `Some((table, offset))` for an active segment.
    pub active: Option<(u32, Const)>,
    /// Declared segments are dropped at instantiation.
    pub declared: bool,
    /// Its references.
    pub items: Vec<Const>,
}

/// A data segment.
#[derive(Clone, Debug)]
pub struct Data {
    /// `Some(offset)` for an active segment.
    pub active: Option<Const>,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// An imported function (imports of any other kind are refused).
#[derive(Clone, Debug)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// Its type index.
    pub type_index: u32,
}

/// What an export names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// A function.
    Func,
    /// The memory.
    Memory,
    /// A global.
    Global,
    /// A table.
    Table,
}

/// An export.
#[derive(Clone, Debug)]
pub struct Export {
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: ExportKind,
    /// Its index in that kind's index space.
    pub index: u32,
}

/// The module's memory, in 64 KiB pages.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// Initial pages.
    pub min: u64,
    /// Most pages, if bounded.
    pub max: Option<u64>,
}

/// Everything about a module except its code.
#[derive(Clone, Debug, Default)]
pub struct ModuleInfo {
    /// The type section.
    pub types: Vec<FuncType>,
    /// The canonical id of each type: the first structurally equal type.
    pub type_ids: Vec<u32>,
    /// The type index of every function, imports first.
    pub funcs: Vec<u32>,
    /// Imported functions (indices `0..imports.len()`).
    pub imports: Vec<Import>,
    /// The memory, if any.
    pub memory: Option<Memory>,
    /// Globals.
    pub globals: Vec<Global>,
    /// Tables.
    pub tables: Vec<Table>,
    /// Element segments.
    pub elements: Vec<Element>,
    /// Data segments.
    pub data: Vec<Data>,
    /// Exports.
    pub exports: Vec<Export>,
    /// The start function.
    pub start: Option<u32>,
    /// Whether any type or global uses `f32`/`f64`, or (set by
    /// [`crate::compile`]) any compiled function computes with a float
    /// value: whether compiled code needs the FPU.
    pub uses_floats: bool,
}

impl ModuleInfo {
    /// The type of function `index`.
    pub fn func_type(&self, index: u32) -> &FuncType {
        &self.types[self.funcs[index as usize] as usize]
    }

    /// Number of imported functions.
    pub fn num_imports(&self) -> u32 {
        self.imports.len() as u32
    }

    /// The exported function called `name`.
    pub fn exported_func(&self, name: &str) -> Option<u32> {
        self.exports.iter().find(|e| e.kind == ExportKind::Func && e.name == name).map(|e| e.index)
    }
}

fn is_float(ty: ValType) -> bool {
    matches!(ty, ValType::F32 | ValType::F64)
}

fn const_expr(expr: &ConstExpr<'_>) -> Result<Const, CompileError> {
    let mut reader = expr.get_operators_reader();
    let value = match reader.read()? {
        Operator::I32Const { value } => Const::Bits(value as u32 as u64),
        Operator::I64Const { value } => Const::Bits(value as u64),
        Operator::F32Const { value } => Const::Bits(value.bits() as u64),
        Operator::F64Const { value } => Const::Bits(value.bits()),
        Operator::GlobalGet { global_index } => Const::Global(global_index),
        Operator::RefFunc { function_index } => Const::Func(function_index),
        Operator::RefNull { .. } => Const::Null,
        op => return Err(unsupported!("constant expression {op:?} is not supported")),
    };
    match reader.read()? {
        Operator::End => Ok(value),
        op => Err(unsupported!("extended constant expression {op:?} is not supported")),
    }
}

fn check_ref(ty: RefType) -> Result<(), CompileError> {
    if ty == RefType::FUNCREF || ty == RefType::EXTERNREF {
        Ok(())
    } else {
        Err(unsupported!("reference type {ty:?} is not supported"))
    }
}

/// A function body with the validator for it.
pub(crate) type Body<'a> = (wasmparser::FuncToValidate<wasmparser::ValidatorResources>, wasmparser::FunctionBody<'a>);

/// Validates `wasm` (except the function bodies, which are validated as
/// they are translated) and reads its shape.
pub(crate) fn parse(wasm: &[u8]) -> Result<(ModuleInfo, Vec<Body<'_>>), CompileError> {
    let mut validator = Validator::new_with_features(features());
    let mut info = ModuleInfo::default();
    let mut bodies = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        let valid = validator.payload(&payload)?;
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader.into_iter() {
                    for sub in group?.into_types() {
                        let CompositeInnerType::Func(ty) = sub.composite_type.inner else {
                            return Err(unsupported!("only function types are supported"));
                        };
                        let id = info.types.iter().position(|t| *t == ty).unwrap_or(info.types.len());
                        info.uses_floats |= ty.params().iter().chain(ty.results()).any(|t| is_float(*t));
                        info.type_ids.push(id as u32);
                        info.types.push(ty);
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader {
                    let import = import?;
                    match import.ty {
                        TypeRef::Func(type_index) => {
                            info.imports.push(Import {
                                module: import.module.to_string(),
                                name: import.name.to_string(),
                                type_index,
                            });
                            info.funcs.push(type_index);
                        }
                        _ => {
                            return Err(unsupported!(
                                "import {}::{}: only functions can be imported",
                                import.module,
                                import.name
                            ));
                        }
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    info.funcs.push(ty?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table?;
                    check_ref(table.ty.element_type)?;
                    if !matches!(table.init, wasmparser::TableInit::RefNull) {
                        return Err(unsupported!("table initializer expressions are not supported"));
                    }
                    info.tables.push(Table { min: table.ty.initial, max: table.ty.maximum });
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let memory = memory?;
                    if memory.memory64 || memory.shared || memory.page_size_log2.is_some() {
                        return Err(unsupported!("only 32-bit unshared memories with 64 KiB pages are supported"));
                    }
                    info.memory = Some(Memory { min: memory.initial, max: memory.maximum });
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global?;
                    let ty = global.ty.content_type;
                    if let ValType::Ref(r) = ty {
                        check_ref(r)?;
                    }
                    if ty == ValType::V128 {
                        return Err(unsupported!("v128 globals are not supported"));
                    }
                    info.uses_floats |= is_float(ty);
                    info.globals.push(Global { ty, mutable: global.ty.mutable, init: const_expr(&global.init_expr)? });
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let kind = match export.kind {
                        ExternalKind::Func => ExportKind::Func,
                        ExternalKind::Memory => ExportKind::Memory,
                        ExternalKind::Global => ExportKind::Global,
                        ExternalKind::Table => ExportKind::Table,
                        _ => return Err(unsupported!("export {}: kind not supported", export.name)),
                    };
                    info.exports.push(Export { name: export.name.to_string(), kind, index: export.index });
                }
            }
            Payload::StartSection { func, .. } => info.start = Some(func),
            Payload::ElementSection(reader) => {
                for element in reader {
                    let element = element?;
                    let items = match element.items {
                        ElementItems::Functions(funcs) => {
                            funcs.into_iter().map(|f| f.map(Const::Func)).collect::<Result<Vec<_>, _>>()?
                        }
                        ElementItems::Expressions(ty, exprs) => {
                            check_ref(ty)?;
                            exprs.into_iter().map(|e| const_expr(&e?)).collect::<Result<Vec<_>, _>>()?
                        }
                    };
                    let (active, declared) = match element.kind {
                        ElementKind::Active { table_index, offset_expr } => {
                            (Some((table_index.unwrap_or(0), const_expr(&offset_expr)?)), false)
                        }
                        ElementKind::Passive => (None, false),
                        ElementKind::Declared => (None, true),
                    };
                    info.elements.push(Element { active, declared, items });
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data?;
                    let active = match data.kind {
                        DataKind::Active { memory_index: 0, offset_expr } => Some(const_expr(&offset_expr)?),
                        DataKind::Active { .. } => return Err(unsupported!("multiple memories are not supported")),
                        DataKind::Passive => None,
                    };
                    info.data.push(Data { active, bytes: data.data.to_vec() });
                }
            }
            Payload::CodeSectionEntry(_) => {
                if let ValidPayload::Func(validator, body) = valid {
                    bodies.push((validator, body));
                }
            }
            _ => {}
        }
    }
    Ok((info, bodies))
}

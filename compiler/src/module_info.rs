//! Parsing and validating a module into a [`ModuleInfo`].
//!
//! One pass over the sections with `wasmparser` validates the module and
//! records everything the compiler and the runtime need: types, imports,
//! functions, tables, memories, globals, exports, the start function, element
//! and data segments, and names. Function bodies are not validated here; each
//! is handed to the translator together with its validator, so bodies are
//! validated while they are translated (in parallel).

use std::collections::BTreeMap;

use cranelift_entity::PrimaryMap;
use wasmparser::{
    CompositeInnerType, Encoding, ExternalKind, FuncToValidate, FunctionBody, KnownCustom, Name,
    Operator, Parser, Payload, TypeRef, ValidPayload, Validator, ValidatorResources, WasmFeatures,
};

use crate::abi::VmCounts;
use crate::error::{CompileError, CompileResult, unsupported};
use crate::indices::*;
use crate::shared_bytes::SharedBytes;
use crate::types::*;

/// An import: where it comes from and what it provides.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Import {
    /// The module name of the import.
    pub module: String,
    /// The field name of the import.
    pub name: String,
    /// The index the import occupies in its index space.
    pub index: EntityIndex,
}

/// An export: a name for one entity.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Export {
    /// The export name.
    pub name: String,
    /// The exported entity.
    pub index: EntityIndex,
}

/// When and where a segment is applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum SegmentMode<I> {
    /// Copied into the entity `I` at `offset` during instantiation.
    Active {
        /// The table or memory written.
        target: I,
        /// Where in it, as a constant expression.
        offset: ConstExpr,
    },
    /// Kept for `table.init` / `memory.init`.
    Passive,
    /// Only declares functions referable by `ref.func` (element segments).
    Declared,
}

/// The items of an element segment.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ElementItems {
    /// A list of function indices (the compact encoding).
    Functions(Vec<FuncIndex>),
    /// A list of constant expressions.
    Expressions(Vec<ConstExpr>),
}

impl ElementItems {
    /// Number of items.
    pub fn len(&self) -> usize {
        match self {
            ElementItems::Functions(f) => f.len(),
            ElementItems::Expressions(e) => e.len(),
        }
    }

    /// True if the segment is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An element segment.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ElementSegment {
    /// Active, passive or declared.
    pub mode: SegmentMode<TableIndex>,
    /// The type of the items.
    pub element_type: RefType,
    /// The items.
    pub items: ElementItems,
}

/// A data segment. Its bytes lie in [`ModuleInfo::data_bytes`], with every
/// other segment's: one buffer, so a module with tens of thousands of
/// segments (CPython has 24,171) is one allocation and one copy to load
/// from an artifact, not one per segment.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DataSegment {
    /// Active or passive.
    pub mode: SegmentMode<MemoryIndex>,
    /// Where its bytes start in [`ModuleInfo::data_bytes`].
    pub start: usize,
    /// How many bytes it has.
    pub len: usize,
}

/// Everything known about a module apart from its code.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ModuleInfo {
    /// The module's name from the name section, if any.
    pub name: Option<String>,
    /// Function types, by type index.
    pub types: PrimaryMap<TypeIndex, CompositeType>,
    /// The recursion groups `types` falls into, in order, as type index
    /// ranges covering every type (a type declared outside `rec` is a
    /// group of its own; an empty `(rec)` is not recorded).
    pub rec_groups: Vec<std::ops::Range<u32>>,
    /// Each type's finality and declared supertype, by type index.
    pub subtyping: PrimaryMap<TypeIndex, SubtypeDecl>,
    /// Imports, in order.
    pub imports: Vec<Import>,
    /// The type of every function, imports first.
    pub functions: PrimaryMap<FuncIndex, TypeIndex>,
    /// Every table, imports first.
    pub tables: PrimaryMap<TableIndex, TableType>,
    /// Every memory, imports first.
    pub memories: PrimaryMap<MemoryIndex, MemoryType>,
    /// Every global, imports first.
    pub globals: PrimaryMap<GlobalIndex, GlobalType>,
    /// Initial values of the defined globals.
    pub global_inits: PrimaryMap<DefinedGlobalIndex, ConstExpr>,
    /// The initial element of each defined table, in order, when it is not
    /// null (function-references proposal's table initialisers).
    pub table_inits: Vec<Option<ConstExpr>>,
    /// Number of imported functions.
    pub num_imported_funcs: u32,
    /// Number of imported tables.
    pub num_imported_tables: u32,
    /// Number of imported memories.
    pub num_imported_memories: u32,
    /// Number of imported globals.
    pub num_imported_globals: u32,
    /// Every exception tag, imports first, by the function type of its
    /// payload (parameters only).
    pub tags: PrimaryMap<TagIndex, TypeIndex>,
    /// Number of imported tags.
    pub num_imported_tags: u32,
    /// Exports, in order.
    pub exports: Vec<Export>,
    /// The start function.
    pub start: Option<FuncIndex>,
    /// Element segments.
    pub elements: PrimaryMap<ElemIndex, ElementSegment>,
    /// Data segments.
    pub data: PrimaryMap<DataIndex, DataSegment>,
    /// The bytes of every data segment, in order (see [`DataSegment`]).
    pub data_bytes: SharedBytes,
    /// Function names from the name section.
    pub func_names: BTreeMap<FuncIndex, String>,
    /// Where each defined function's body starts, as a byte offset in the
    /// module (for frames' offsets within their function).
    pub func_body_offsets: PrimaryMap<DefinedFuncIndex, u32>,
}

impl ModuleInfo {
    /// Type `ty`'s finality and declared supertype.
    pub fn subtype_decl(&self, ty: TypeIndex) -> SubtypeDecl {
        self.subtyping[ty]
    }

    /// The members of recursion group `group` (one of
    /// [`ModuleInfo::rec_groups`]) as the engine registers them, given the
    /// engine ids of the types before it.
    pub fn group_members(&self, group: std::ops::Range<u32>, ids: &[u32]) -> Vec<GroupMember> {
        (group.start..group.end)
            .map(|i| {
                let index = TypeIndex::from_u32(i);
                let decl = self.subtype_decl(index);
                GroupMember {
                    decl: SubtypeDecl {
                        supertype: decl.supertype.map(|s| match s {
                            HeapType::Module(kind, t) => in_group(ids, group.start, kind, t),
                            other => other,
                        }),
                        ..decl
                    },
                    ty: self.types[index].in_rec_group(ids, group.start),
                }
            })
            .collect()
    }

    /// The type of function `index`.
    pub fn func_type(&self, index: FuncIndex) -> &FuncType {
        self.types[self.functions[index]].func()
    }

    /// The kind of type `index` (a validated index), as `Kinds` looks it
    /// up.
    pub fn type_kind(&self, index: u32) -> TypeKind {
        self.types
            .get(TypeIndex::from_u32(index))
            .map_or(TypeKind::Func, CompositeType::kind)
    }

    /// Whether function `index` is imported.
    pub fn is_imported_func(&self, index: FuncIndex) -> bool {
        index.as_u32() < self.num_imported_funcs
    }

    /// The defined-function index of `index`, or `None` for an import.
    pub fn defined_func_index(&self, index: FuncIndex) -> Option<DefinedFuncIndex> {
        index
            .as_u32()
            .checked_sub(self.num_imported_funcs)
            .map(DefinedFuncIndex::from_u32)
    }

    /// The function index of defined function `index`.
    pub fn func_index(&self, index: DefinedFuncIndex) -> FuncIndex {
        FuncIndex::from_u32(self.num_imported_funcs + index.as_u32())
    }

    /// The bytes of `segment`, one of this module's data segments.
    ///
    /// # Panics
    ///
    /// If the segment's range is not within [`ModuleInfo::data_bytes`]
    /// (artifacts are checked for this when loaded).
    pub fn segment_bytes(&self, segment: &DataSegment) -> &[u8] {
        &self.data_bytes[segment.start..segment.start + segment.len]
    }

    /// Whether every data segment's range lies within
    /// [`ModuleInfo::data_bytes`].
    pub fn data_ranges_are_valid(&self) -> bool {
        self.data.values().all(|s| {
            s.start
                .checked_add(s.len)
                .is_some_and(|end| end <= self.data_bytes.len())
        })
    }

    /// Number of functions the module defines.
    pub fn num_defined_funcs(&self) -> u32 {
        u32::try_from(self.functions.len()).expect("bounded by wasmparser limits")
            - self.num_imported_funcs
    }

    /// The defined-global index of `index`, or `None` for an import.
    pub fn defined_global_index(&self, index: GlobalIndex) -> Option<DefinedGlobalIndex> {
        index
            .as_u32()
            .checked_sub(self.num_imported_globals)
            .map(DefinedGlobalIndex::from_u32)
    }

    /// The global index of defined global `index`.
    pub fn global_index(&self, index: DefinedGlobalIndex) -> GlobalIndex {
        GlobalIndex::from_u32(self.num_imported_globals + index.as_u32())
    }

    /// Whether table `index` is imported.
    pub fn is_imported_table(&self, index: TableIndex) -> bool {
        index.as_u32() < self.num_imported_tables
    }

    /// Whether memory `index` is imported.
    pub fn is_imported_memory(&self, index: MemoryIndex) -> bool {
        index.as_u32() < self.num_imported_memories
    }

    /// The name of function `index` from the name section, if any.
    pub fn func_name(&self, index: FuncIndex) -> Option<&str> {
        self.func_names.get(&index).map(String::as_str)
    }

    /// The counts the VMContext layout is computed from.
    pub fn vm_counts(&self) -> VmCounts {
        let len = |n: usize| u32::try_from(n).expect("bounded by wasmparser limits");
        VmCounts {
            imported_funcs: self.num_imported_funcs,
            funcs: len(self.functions.len()),
            tables: len(self.tables.len()),
            memories: len(self.memories.len()),
            imported_globals: self.num_imported_globals,
            defined_globals: len(self.global_inits.len()),
            tags: len(self.tags.len()),
        }
    }

    /// The export with this name.
    pub fn export(&self, name: &str) -> Option<EntityIndex> {
        self.exports
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.index)
    }
}

/// A function body waiting to be validated and translated.
pub struct FunctionInput<'a> {
    /// The validator for this body, holding the module's types.
    pub validator: FuncToValidate<ValidatorResources>,
    /// The body's bytes.
    pub body: FunctionBody<'a>,
}

/// The result of the module-level pass.
pub struct ParsedModule<'a> {
    /// What the module declares.
    pub info: ModuleInfo,
    /// Function bodies, in defined-function order.
    pub bodies: Vec<FunctionInput<'a>>,
}

/// The kind of each of a module's types, by type index (validated, so
/// every index asked about is defined).
pub(crate) type Kinds<'k> = &'k dyn Fn(u32) -> TypeKind;

/// A [`Kinds`] lookup over the kinds of the types defined so far.
fn kinds_of(kinds: &[TypeKind]) -> impl Fn(u32) -> TypeKind + '_ {
    move |i| kinds.get(i as usize).copied().unwrap_or(TypeKind::Func)
}

/// Converts a parser value type.
pub(crate) fn val_type(
    ty: wasmparser::ValType,
    offset: u64,
    kinds: Kinds<'_>,
) -> CompileResult<ValType> {
    Ok(match ty {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(r) => ValType::Ref(ref_type(r, offset, kinds)?),
    })
}

/// Converts a parser reference type.
pub(crate) fn ref_type(
    ty: wasmparser::RefType,
    offset: u64,
    kinds: Kinds<'_>,
) -> CompileResult<RefType> {
    Ok(RefType::new(
        ty.is_nullable(),
        heap_type(ty.heap_type(), offset, kinds)?,
    ))
}

/// Converts a parser heap type (see [`ref_type`]).
pub(crate) fn heap_type(
    ty: wasmparser::HeapType,
    offset: u64,
    kinds: Kinds<'_>,
) -> CompileResult<HeapType> {
    use wasmparser::AbstractHeapType as A;
    match ty {
        wasmparser::HeapType::Abstract { shared: false, ty } => match ty {
            A::Func => Ok(HeapType::Func),
            A::Extern => Ok(HeapType::Extern),
            A::Exn => Ok(HeapType::Exn),
            A::NoFunc => Ok(HeapType::NoFunc),
            A::NoExtern => Ok(HeapType::NoExtern),
            A::NoExn => Ok(HeapType::NoExn),
            A::Any => Ok(HeapType::Any),
            A::Eq => Ok(HeapType::Eq),
            A::I31 => Ok(HeapType::I31),
            A::Struct => Ok(HeapType::Struct),
            A::Array => Ok(HeapType::Array),
            A::None => Ok(HeapType::None),
            other => Err(unsupported(
                Some(offset),
                format!("the heap type {other:?}"),
            )),
        },
        wasmparser::HeapType::Concrete(index) => match index.as_module_index() {
            Some(index) => Ok(HeapType::Module(kinds(index), index)),
            None => Err(unsupported(Some(offset), "a canonicalised type index")),
        },
        other => Err(unsupported(
            Some(offset),
            format!("the heap type {other:?}"),
        )),
    }
}

fn func_type(ty: &wasmparser::FuncType, offset: u64, kinds: Kinds<'_>) -> CompileResult<FuncType> {
    let params = ty
        .params()
        .iter()
        .map(|&t| val_type(t, offset, kinds))
        .collect::<CompileResult<Vec<_>>>()?;
    let results = ty
        .results()
        .iter()
        .map(|&t| val_type(t, offset, kinds))
        .collect::<CompileResult<Vec<_>>>()?;
    Ok(FuncType::new(params, results))
}

fn field_type(
    ty: &wasmparser::FieldType,
    offset: u64,
    kinds: Kinds<'_>,
) -> CompileResult<FieldType> {
    let storage = match ty.element_type {
        wasmparser::StorageType::I8 => StorageType::I8,
        wasmparser::StorageType::I16 => StorageType::I16,
        wasmparser::StorageType::Val(t) => StorageType::Val(val_type(t, offset, kinds)?),
    };
    Ok(FieldType {
        storage,
        mutable: ty.mutable,
    })
}

fn composite_type(
    ty: &wasmparser::CompositeType,
    offset: u64,
    kinds: Kinds<'_>,
) -> CompileResult<CompositeType> {
    if ty.shared {
        return Err(unsupported(Some(offset), "shared types"));
    }
    Ok(match &ty.inner {
        CompositeInnerType::Func(f) => CompositeType::Func(func_type(f, offset, kinds)?),
        CompositeInnerType::Struct(s) => CompositeType::Struct(StructType {
            fields: s
                .fields
                .iter()
                .map(|f| field_type(f, offset, kinds))
                .collect::<CompileResult<_>>()?,
        }),
        CompositeInnerType::Array(a) => CompositeType::Array(ArrayType {
            element: field_type(&a.0, offset, kinds)?,
        }),
        CompositeInnerType::Cont(_) => {
            return Err(unsupported(
                Some(offset),
                "continuation types (stack switching)",
            ));
        }
    })
}

/// The kind of a parser composite type.
fn kind_of(ty: &wasmparser::CompositeType) -> TypeKind {
    match ty.inner {
        CompositeInnerType::Struct(_) => TypeKind::Struct,
        CompositeInnerType::Array(_) => TypeKind::Array,
        _ => TypeKind::Func,
    }
}

fn table_type(
    ty: &wasmparser::TableType,
    offset: u64,
    kinds: Kinds<'_>,
) -> CompileResult<TableType> {
    if ty.shared {
        return Err(unsupported(Some(offset), "shared tables"));
    }
    Ok(TableType {
        element: ref_type(ty.element_type, offset, kinds)?,
        min_elements: ty.initial,
        max_elements: ty.maximum,
        table64: ty.table64,
    })
}

fn memory_type(ty: &wasmparser::MemoryType, offset: u64) -> CompileResult<MemoryType> {
    let page_size_log2 = match ty.page_size_log2 {
        None => crate::types::DEFAULT_PAGE_SIZE_LOG2,
        // The validator allows exactly 1 and 64 KiB.
        Some(log2) => u8::try_from(log2)
            .map_err(|_| unsupported(Some(offset), "a page size over 2^255 bytes"))?,
    };
    Ok(MemoryType {
        min_pages: ty.initial,
        max_pages: ty.maximum,
        memory64: ty.memory64,
        shared: ty.shared,
        page_size_log2,
    })
}

fn global_type(
    ty: &wasmparser::GlobalType,
    offset: u64,
    kinds: Kinds<'_>,
) -> CompileResult<GlobalType> {
    if ty.shared {
        return Err(unsupported(Some(offset), "shared globals"));
    }
    Ok(GlobalType {
        content: val_type(ty.content_type, offset, kinds)?,
        mutable: ty.mutable,
    })
}

/// Converts a validated constant expression.
fn const_expr(expr: &wasmparser::ConstExpr<'_>, kinds: Kinds<'_>) -> CompileResult<ConstExpr> {
    let mut reader = expr.get_operators_reader();
    let mut ops = Vec::new();
    loop {
        let offset = reader.original_position();
        let op = match reader.read()? {
            Operator::End => break,
            Operator::I32Const { value } => ConstOp::I32Const(value),
            Operator::I64Const { value } => ConstOp::I64Const(value),
            Operator::F32Const { value } => ConstOp::F32Const(value.bits()),
            Operator::F64Const { value } => ConstOp::F64Const(value.bits()),
            Operator::V128Const { value } => ConstOp::V128Const(value.i128() as u128),
            Operator::RefNull { hty } => ConstOp::RefNull(heap_type(hty, offset, kinds)?),
            Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            Operator::I32Add => ConstOp::I32Add,
            Operator::I32Sub => ConstOp::I32Sub,
            Operator::I32Mul => ConstOp::I32Mul,
            Operator::I64Add => ConstOp::I64Add,
            Operator::I64Sub => ConstOp::I64Sub,
            Operator::I64Mul => ConstOp::I64Mul,
            Operator::RefI31 => ConstOp::RefI31,
            Operator::AnyConvertExtern => ConstOp::AnyConvertExtern,
            Operator::ExternConvertAny => ConstOp::ExternConvertAny,
            Operator::StructNew { struct_type_index } => ConstOp::StructNew(struct_type_index),
            Operator::StructNewDefault { struct_type_index } => {
                ConstOp::StructNewDefault(struct_type_index)
            }
            Operator::ArrayNew { array_type_index } => ConstOp::ArrayNew(array_type_index),
            Operator::ArrayNewDefault { array_type_index } => {
                ConstOp::ArrayNewDefault(array_type_index)
            }
            Operator::ArrayNewFixed {
                array_type_index,
                array_size,
            } => ConstOp::ArrayNewFixed(array_type_index, array_size),
            other => {
                return Err(unsupported(
                    Some(offset),
                    format!("constant expression operator {other:?}"),
                ));
            }
        };
        ops.push(op);
    }
    Ok(ConstExpr { ops })
}

fn entity_index(kind: ExternalKind, index: u32) -> EntityIndex {
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => {
            EntityIndex::Function(FuncIndex::from_u32(index))
        }
        ExternalKind::Table => EntityIndex::Table(TableIndex::from_u32(index)),
        ExternalKind::Memory => EntityIndex::Memory(MemoryIndex::from_u32(index)),
        ExternalKind::Global => EntityIndex::Global(GlobalIndex::from_u32(index)),
        ExternalKind::Tag => EntityIndex::Tag(TagIndex::from_u32(index)),
    }
}

/// Parses and validates `bytes` (a binary module) with `features`, returning
/// the module's declarations and its function bodies, whose validation is
/// left to the translator.
///
/// # Errors
///
/// [`CompileError::Invalid`] for a malformed or invalid module (with the byte
/// offset), [`CompileError::Unsupported`] for valid constructs cljit does not
/// implement.
pub fn parse(bytes: &[u8], features: WasmFeatures) -> CompileResult<ParsedModule<'_>> {
    let mut validator = Validator::new_with_features(features);
    let mut info = ModuleInfo::default();
    // The kind of every type so far (see `Kinds`).
    let mut kinds: Vec<TypeKind> = Vec::new();
    let mut bodies = Vec::new();

    let mut parser = Parser::new(0);
    // Section readers decode some encodings by feature (e.g. 64-bit limits
    // only with memory64), so they must see the same features.
    parser.set_features(features);
    for payload in parser.parse_all(bytes) {
        let payload = payload?;
        if let ValidPayload::Func(func, body) = validator.payload(&payload)? {
            let start = u32::try_from(body.range().start).unwrap_or(u32::MAX);
            info.func_body_offsets.push(start);
            bodies.push(FunctionInput {
                validator: func,
                body,
            });
            continue;
        }
        match payload {
            Payload::Version {
                encoding, range, ..
            } if encoding != Encoding::Module => {
                return Err(unsupported(Some(range.start), "components"));
            }
            Payload::TypeSection(reader) => {
                let offset = reader.range().start;
                for group in reader {
                    let group = group?;
                    let start = info.types.next_key().as_u32();
                    let types: Vec<_> = group.into_types().collect();
                    let end = start.saturating_add(u32::try_from(types.len()).unwrap_or(u32::MAX));
                    // A member may refer to any member of its group.
                    kinds.extend(types.iter().map(|t| kind_of(&t.composite_type)));
                    let group_kinds = kinds_of(&kinds);
                    for sub in types {
                        let supertype = match sub.supertype_idxs.as_slice() {
                            [] => None,
                            [index] => match index.as_module_index() {
                                Some(index) if index < info.types.next_key().as_u32() => {
                                    Some(HeapType::Module(group_kinds(index), index))
                                }
                                _ => {
                                    return Err(CompileError::Invalid {
                                        offset,
                                        message: "a supertype must be declared before its subtype"
                                            .into(),
                                    });
                                }
                            },
                            _ => return Err(unsupported(Some(offset), "more than one supertype")),
                        };
                        info.subtyping.push(SubtypeDecl {
                            is_final: sub.is_final,
                            supertype,
                        });
                        let ty = composite_type(&sub.composite_type, offset, &group_kinds)?;
                        // A type refers to earlier groups' types and its
                        // own group's (validated), so the engine can
                        // canonicalise a group once those before it are.
                        if ty.referenced_types().iter().any(|&t| t >= end) {
                            return Err(CompileError::Invalid {
                                offset,
                                message: "a type refers to a later recursion group".into(),
                            });
                        }
                        info.types.push(ty);
                    }
                    if start < end {
                        info.rec_groups.push(start..end);
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports_with_offsets() {
                    let (offset, import) = import?;
                    let index = match import.ty {
                        TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                            info.num_imported_funcs += 1;
                            EntityIndex::Function(info.functions.push(TypeIndex::from_u32(ty)))
                        }
                        TypeRef::Table(ty) => {
                            info.num_imported_tables += 1;
                            EntityIndex::Table(info.tables.push(table_type(
                                &ty,
                                offset,
                                &kinds_of(&kinds),
                            )?))
                        }
                        TypeRef::Memory(ty) => {
                            info.num_imported_memories += 1;
                            EntityIndex::Memory(info.memories.push(memory_type(&ty, offset)?))
                        }
                        TypeRef::Global(ty) => {
                            info.num_imported_globals += 1;
                            EntityIndex::Global(info.globals.push(global_type(
                                &ty,
                                offset,
                                &kinds_of(&kinds),
                            )?))
                        }
                        TypeRef::Tag(tag) => {
                            info.num_imported_tags += 1;
                            EntityIndex::Tag(info.tags.push(TypeIndex::from_u32(tag.func_type_idx)))
                        }
                    };
                    info.imports.push(Import {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        index,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    info.functions.push(TypeIndex::from_u32(ty?));
                }
            }
            Payload::TableSection(reader) => {
                let offset = reader.range().start;
                for table in reader {
                    let table = table?;
                    info.table_inits.push(match &table.init {
                        wasmparser::TableInit::RefNull => None,
                        wasmparser::TableInit::Expr(expr) => {
                            Some(const_expr(expr, &kinds_of(&kinds))?)
                        }
                    });
                    info.tables
                        .push(table_type(&table.ty, offset, &kinds_of(&kinds))?);
                }
            }
            Payload::MemorySection(reader) => {
                let offset = reader.range().start;
                for memory in reader {
                    info.memories.push(memory_type(&memory?, offset)?);
                }
            }
            Payload::GlobalSection(reader) => {
                let offset = reader.range().start;
                for global in reader {
                    let global = global?;
                    info.globals
                        .push(global_type(&global.ty, offset, &kinds_of(&kinds))?);
                    info.global_inits
                        .push(const_expr(&global.init_expr, &kinds_of(&kinds))?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    info.exports.push(Export {
                        name: export.name.to_string(),
                        index: entity_index(export.kind, export.index),
                    });
                }
            }
            Payload::StartSection { func, .. } => {
                info.start = Some(FuncIndex::from_u32(func));
            }
            Payload::ElementSection(reader) => {
                for element in reader {
                    let element = element?;
                    let offset = element.range.start;
                    let mode = match element.kind {
                        wasmparser::ElementKind::Passive => SegmentMode::Passive,
                        wasmparser::ElementKind::Declared => SegmentMode::Declared,
                        wasmparser::ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            target: TableIndex::from_u32(table_index.unwrap_or(0)),
                            offset: const_expr(&offset_expr, &kinds_of(&kinds))?,
                        },
                    };
                    let (element_type, items) = match element.items {
                        wasmparser::ElementItems::Functions(funcs) => {
                            let funcs = funcs
                                .into_iter()
                                .map(|f| f.map(FuncIndex::from_u32))
                                .collect::<Result<Vec<_>, _>>()?;
                            (RefType::FUNCREF, ElementItems::Functions(funcs))
                        }
                        wasmparser::ElementItems::Expressions(ty, exprs) => {
                            let exprs = exprs
                                .into_iter()
                                .map(|e| const_expr(&e?, &kinds_of(&kinds)))
                                .collect::<CompileResult<Vec<_>>>()?;
                            (
                                ref_type(ty, offset, &kinds_of(&kinds))?,
                                ElementItems::Expressions(exprs),
                            )
                        }
                    };
                    info.elements.push(ElementSegment {
                        mode,
                        element_type,
                        items,
                    });
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data?;
                    let mode = match data.kind {
                        wasmparser::DataKind::Passive => SegmentMode::Passive,
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            target: MemoryIndex::from_u32(memory_index),
                            offset: const_expr(&offset_expr, &kinds_of(&kinds))?,
                        },
                    };
                    let start = info.data_bytes.len();
                    info.data_bytes.to_mut().extend_from_slice(data.data);
                    info.data.push(DataSegment {
                        mode,
                        start,
                        len: data.data.len(),
                    });
                }
            }
            Payload::CustomSection(reader) => {
                if let KnownCustom::Name(names) = reader.as_known() {
                    read_names(names, &mut info);
                }
            }
            Payload::TagSection(reader) => {
                for tag in reader {
                    info.tags.push(TypeIndex::from_u32(tag?.func_type_idx));
                }
            }
            _ => {}
        }
    }

    if bodies.len() != info.num_defined_funcs() as usize {
        // The validator guarantees this; keep the invariant visible.
        return Err(CompileError::Invalid {
            offset: bytes.len() as u64,
            message: "function and code section have inconsistent lengths".into(),
        });
    }
    Ok(ParsedModule { info, bodies })
}

/// Records module and function names. The name section is advisory: a
/// malformed one is ignored rather than failing the module, as the spec
/// requires of custom sections.
fn read_names(names: wasmparser::NameSectionReader<'_>, info: &mut ModuleInfo) {
    for name in names {
        let Ok(name) = name else { return };
        match name {
            Name::Module { name, .. } => info.name = Some(name.to_string()),
            Name::Function(map) => {
                for naming in map {
                    let Ok(naming) = naming else { return };
                    let index = FuncIndex::from_u32(naming.index);
                    info.func_names.insert(index, naming.name.to_string());
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_entity::EntityRef;

    fn features() -> WasmFeatures {
        WasmFeatures::WASM2 & !WasmFeatures::SIMD
    }

    #[test]
    fn records_declarations() {
        // (module
        //   (import "m" "f" (func (param i32)))
        //   (memory 1 2) (global i32 (i32.const 7))
        //   (func $g (export "g") (result i32) i32.const 1)
        //   (data (i32.const 0) "hi"))
        let bytes = [
            0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
            0x01, 0x09, 0x02, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x00, 0x01, 0x7f, // types
            0x02, 0x07, 0x01, 0x01, b'm', 0x01, b'f', 0x00, 0x00, // import
            0x03, 0x02, 0x01, 0x01, // functions
            0x05, 0x04, 0x01, 0x01, 0x01, 0x02, // memory
            0x06, 0x06, 0x01, 0x7f, 0x00, 0x41, 0x07, 0x0b, // global
            0x07, 0x05, 0x01, 0x01, b'g', 0x00, 0x01, // export
            0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x01, 0x0b, // code
            0x0b, 0x08, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x02, b'h', b'i', // data
        ];
        let parsed = parse(&bytes, features()).expect("valid module");
        let info = &parsed.info;
        assert_eq!(info.types.len(), 2);
        assert_eq!(info.num_imported_funcs, 1);
        assert_eq!(info.functions.len(), 2);
        assert_eq!(info.memories[MemoryIndex::new(0)].max_pages, Some(2));
        assert_eq!(
            info.global_inits[DefinedGlobalIndex::new(0)],
            ConstExpr::single(ConstOp::I32Const(7))
        );
        assert_eq!(
            info.export("g"),
            Some(EntityIndex::Function(FuncIndex::new(1)))
        );
        assert_eq!(info.segment_bytes(&info.data[DataIndex::new(0)]), b"hi");
        assert_eq!(parsed.bodies.len(), 1);
        assert_eq!(
            info.defined_func_index(FuncIndex::new(1)),
            Some(DefinedFuncIndex::new(0))
        );
        assert_eq!(info.defined_func_index(FuncIndex::new(0)), None);
    }

    #[test]
    fn malformed_module_reports_offset() {
        let err = match parse(b"\0asm\x02\0\0\0", features()) {
            Err(e) => e,
            Ok(_) => panic!("accepted a bad version"),
        };
        match err {
            CompileError::Invalid { offset, .. } => assert_eq!(offset, 4),
            other => panic!("unexpected error {other:?}"),
        }
    }
}

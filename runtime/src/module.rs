//! [`Module`]: a compiled module, loaded and ready to instantiate.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use cljit_compiler::LazyBodies;
use cljit_compiler::indices::{DefinedFuncIndex, EntityIndex, MemoryIndex, TypeIndex};
use cljit_compiler::link::{LinkedModule, link};
use cljit_compiler::shared_bytes::SharedBytes;
use cljit_compiler::types::{FuncType, GlobalType, MemoryType, TableType};
use cljit_compiler::{ModuleInfo, abi::VmOffsets};
use cranelift_entity::EntityRef as _;

use crate::artifact_file::{ArtifactFile, OpenError};
use crate::code_memory::{CodeMemory, Text, TextSource};
use crate::engine::{Engine, wasm_binary};
use crate::error::{Error, Result};
use crate::file_bytes::FileBytes;
use crate::lazy::{LazyCode, LazyReservation};
use crate::memory::image::MemoryImage;
use crate::traps::registry::CodeKind;

/// The type of an importable or exportable entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A table.
    Table(TableType),
    /// A linear memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
    /// An exception tag, by the function type of its payload.
    Tag(FuncType),
}

impl ExternType {
    /// "function", "table", "memory" or "global".
    pub fn kind(&self) -> &'static str {
        match self {
            ExternType::Func(_) => "function",
            ExternType::Table(_) => "table",
            ExternType::Memory(_) => "memory",
            ExternType::Global(_) => "global",
            ExternType::Tag(_) => "tag",
        }
    }
}

impl std::fmt::Display for ExternType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExternType::Func(t) => t.fmt(f),
            ExternType::Table(t) => t.fmt(f),
            ExternType::Memory(t) => t.fmt(f),
            ExternType::Global(t) => t.fmt(f),
            ExternType::Tag(t) => write!(f, "(tag {t})"),
        }
    }
}

/// A compiled WebAssembly module. Cheap to clone; instantiate it in any
/// store of the same engine.
#[derive(Clone)]
pub struct Module(Arc<ModuleInner>);

/// A defined function's `VmFuncRef` fields that do not depend on the
/// instance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FuncEntry {
    pub(crate) wasm_call: usize,
    pub(crate) array_call: usize,
    pub(crate) type_id: u32,
}

pub(crate) struct ModuleInner {
    engine: Engine,
    info: Arc<ModuleInfo>,
    offsets: VmOffsets,
    /// Wasm-to-host trampoline address by type of an imported function.
    wasm_to_array: HashMap<TypeIndex, usize>,
    /// Engine-wide signature id of each module type.
    type_ids: Box<[u32]>,
    /// Each defined function's native entry, array-call entry and
    /// signature id: its `VmFuncRef` but for the vmctx, looked up once so
    /// that instantiating copies them.
    func_entries: Box<[FuncEntry]>,
    /// Whether to give memories images (`Config::memory_init_cow`).
    memory_init_cow: bool,
    /// Instances that copy their segments before images are built
    /// (`Config::memory_image_threshold`).
    memory_image_threshold: usize,
    /// Data a memory needs for an image (`Config::memory_image_min_bytes`).
    memory_image_min_bytes: usize,
    /// Instances made so far.
    instantiations: AtomicUsize,
    /// The copy-on-write image of each defined memory that has one, built
    /// once the threshold is reached.
    memory_images: OnceLock<Box<[Option<Arc<MemoryImage>>]>>,
    /// Which data segments are active, and the memories they target
    /// (each once), so that an instance whose memories all start from
    /// images marks those segments dropped without walking them (CPython
    /// has 24,171).
    active_data: ActiveData,
    /// The functions' stubs and lazily compiled code, for a lazy module.
    /// Declared before `_code`, the trampolines: dropped first.
    lazy: Option<LazyCode>,
    _code: CodeMemory,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.0.info.name)
            .field("functions", &self.0.info.functions.len())
            .finish_non_exhaustive()
    }
}

impl Module {
    /// Compiles a module from binary or text (`.wat`) bytes.
    ///
    /// # Errors
    ///
    /// Text that does not parse, invalid or unsupported modules.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        Module::from_binary(engine, &wasm_binary(bytes.as_ref())?)
    }

    /// Compiles a binary module.
    ///
    /// # Errors
    ///
    /// Invalid or unsupported modules.
    pub fn from_binary(engine: &Engine, binary: &[u8]) -> Result<Module> {
        if engine.compiles_lazily(cljit_compiler::code_section_bytes(binary)) {
            return Module::from_binary_lazily(engine, binary);
        }
        Module::from_compiled(engine, engine.compile_linked(binary)?)
    }

    /// Validates a binary module and loads it for lazy compilation: its
    /// trampolines compiled, its functions compiled when first called.
    ///
    /// Where the address space for the lazy code region cannot be had (a
    /// low `RLIMIT_AS`), the module is compiled whole instead: slower to
    /// start, the same to run.
    pub(crate) fn from_binary_lazily(engine: &Engine, binary: &[u8]) -> Result<Module> {
        Module::from_shared_lazily(engine, SharedBytes::from(binary.to_vec()))
    }

    /// [`Module::from_binary_lazily`] for bytes the module keeps as they
    /// are, to compile its functions from.
    pub(crate) fn from_shared_lazily(engine: &Engine, binary: SharedBytes) -> Result<Module> {
        let (compiled, bodies) = engine.compiler().compile_lazy_shared(binary)?;
        let offset = engine.config().lazy_code_offset;
        let Ok(reservation) = LazyReservation::new(&bodies, offset) else {
            return Module::from_compiled(engine, engine.compile_linked(bodies.wasm())?);
        };
        let mut linked = link(compiled)?;
        let text = std::mem::take(&mut linked.text);
        Module::load(
            engine,
            linked,
            TextSource::Bytes(&text),
            Some((bodies, reservation)),
        )
    }

    /// Whether the module's functions are compiled lazily, each when first
    /// called (see [`Config::lazy_compilation`](crate::Config::lazy_compilation)).
    pub fn is_lazy(&self) -> bool {
        self.0.lazy.is_some()
    }

    /// How many of this module's functions have been compiled lazily so
    /// far (0 for a module compiled whole).
    pub fn lazily_compiled(&self) -> usize {
        self.0.lazy.as_ref().map_or(0, LazyCode::compiled)
    }

    /// How many lazily compiled functions have been found hot and
    /// recompiled with full optimisation so far.
    pub fn tiered_up(&self) -> usize {
        self.0.lazy.as_ref().map_or(0, LazyCode::tiered_up)
    }

    /// The time lazy compilation has taken so far, summed over the threads
    /// that compiled.
    pub fn lazy_compile_time(&self) -> std::time::Duration {
        self.0
            .lazy
            .as_ref()
            .map_or_else(Default::default, LazyCode::compile_time)
    }

    /// Checks that `bytes` (binary or text) is a valid module for `engine`,
    /// without compiling it.
    ///
    /// # Errors
    ///
    /// Text that does not parse, or an invalid module, with the offset.
    pub fn validate(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<()> {
        let binary = wasm_binary(bytes.as_ref())?;
        Ok(engine.compiler().validate(&binary)?)
    }

    /// Whether `a` and `b` are handles to the same compiled module.
    pub fn same(a: &Module, b: &Module) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// Reads and compiles a module file (binary or text).
    ///
    /// # Errors
    ///
    /// I/O errors (with the path), and those of [`Module::new`].
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes = FileBytes::read(path)
            .map_err(|e| Error::msg(format!("failed to read `{}`: {e}", path.display())))?;
        Module::from_file_bytes(engine, bytes)
    }

    /// Compiles a module (binary or text) from a file's bytes, which a
    /// lazily compiled module keeps, to compile its functions from,
    /// instead of copying them.
    ///
    /// # Errors
    ///
    /// As [`Module::new`].
    pub fn from_file_bytes(engine: &Engine, bytes: FileBytes) -> Result<Module> {
        if bytes.starts_with(b"\0asm")
            && engine.compiles_lazily(cljit_compiler::code_section_bytes(&bytes))
        {
            // The bodies compiled later stay where they were read.
            return Module::from_shared_lazily(engine, bytes.into_shared());
        }
        Module::new(engine, &*bytes)
    }

    /// Loads an artifact written by [`Engine::precompile_module`] (or
    /// `cljit compile`). Its header is checked against `engine` (version,
    /// build, target, CPU features, settings) and its payload against its
    /// checksum before anything of it is used; a refusal says which check
    /// failed.
    ///
    /// # Safety
    ///
    /// The artifact's machine code runs as it is: the bytes must come from
    /// a trusted cljit, as a native executable would. (The checks catch
    /// mistakes and damage, not forgery; the compile cache authenticates its
    /// entries with a secret key instead.)
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Artifact`](crate::ErrorKind::Artifact) naming the check
    /// that failed.
    pub unsafe fn deserialize(engine: &Engine, artifact: &[u8]) -> Result<Module> {
        let (_, linked, text) = engine.compiler().deserialize(artifact)?;
        Module::load(engine, linked, TextSource::Bytes(text), None)
    }

    /// Reads and loads an artifact file; see [`Module::deserialize`]. The
    /// machine code and metadata are read into memory of this process,
    /// whose code pages then run where they lie; the data section (data
    /// segments and memory images, guest data only) is mapped, and memories
    /// map their images from it copy-on-write. The file may be renamed
    /// over or deleted while the module runs; rewriting it in place can
    /// change the initial data of memories made afterwards, or of pages a
    /// memory has not yet touched, and truncating it makes those pages
    /// fault (see `artifact_file.rs`).
    ///
    /// # Safety
    ///
    /// As [`Module::deserialize`].
    ///
    /// # Errors
    ///
    /// I/O errors (with the path), and those of [`Module::deserialize`].
    pub unsafe fn deserialize_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let failed =
            |e: std::io::Error| Error::msg(format!("failed to read `{}`: {e}", path.display()));
        let file = std::fs::File::open(path).map_err(failed)?;
        let artifact = ArtifactFile::open(file, false).map_err(|e| match e {
            OpenError::Io(e) => failed(e),
            OpenError::Artifact(e) => e.into(),
        })?;
        // The module's tables stay where they lie in the head read, its
        // data segments in the mapped data section; both are kept alive.
        let (_, linked, range) = engine
            .compiler()
            .deserialize_split(&artifact.head_owner(), artifact.data())?;
        let images = artifact.images(&linked);
        let source = TextSource::Owned {
            buffer: Arc::clone(&artifact.head),
            range,
        };
        let module = Module::load(engine, linked, source, None)?;
        module.use_stored_images(images);
        Ok(module)
    }

    /// Gives the module the memory images its artifact stores, which cost
    /// nothing to make: every instance uses them, from the first.
    pub(crate) fn use_stored_images(&self, images: Box<[Option<Arc<MemoryImage>>]>) {
        if images.iter().any(Option::is_some) {
            // A fresh module: nothing has built images yet.
            let _ = self.0.memory_images.set(images);
        }
    }

    /// Loads freshly compiled and linked code, which holds its own text.
    pub(crate) fn from_compiled(engine: &Engine, mut linked: LinkedModule) -> Result<Module> {
        let text = std::mem::take(&mut linked.text);
        Module::load(engine, linked, TextSource::Bytes(&text), None)
    }

    /// Loads a linked module whose machine code is `text`, mapped from
    /// `file` at the given offset where `file` is never rewritten in place
    /// (a cache entry), else copied.
    pub(crate) fn from_linked(
        engine: &Engine,
        linked: LinkedModule,
        text: &[u8],
        file: Option<(&std::fs::File, u64)>,
    ) -> Result<Module> {
        let source = match file {
            Some((file, offset)) => TextSource::File {
                bytes: text,
                file,
                offset,
            },
            None => TextSource::Bytes(text),
        };
        Module::load(engine, linked, source, None)
    }

    /// Loads a linked module whose machine code is `text`: all its
    /// functions, or, with `lazy`, its trampolines, its functions to be
    /// compiled from `lazy` when first called.
    fn load(
        engine: &Engine,
        linked: LinkedModule,
        text: TextSource<'_>,
        lazy: Option<(LazyBodies, LazyReservation)>,
    ) -> Result<Module> {
        engine.compiler().check_compatible(&linked.target)?;
        let info = Arc::new(linked.info);
        let num_linked = linked.functions.len();
        let num_defined = info.functions.len() - info.num_imported_funcs as usize;
        let starts: Vec<(CodeKind, u32, u32)> = linked
            .functions
            .iter()
            .map(|(def, f)| (CodeKind::Wasm(info.func_index(def)), f))
            .chain(linked.trampolines.iter().map(|f| (CodeKind::Trampoline, f)))
            .map(|(kind, f)| (kind, f.start, f.len))
            .collect();
        let functions = linked
            .functions
            .into_iter()
            .map(|(def, f)| (CodeKind::Wasm(info.func_index(def)), f))
            .chain(
                linked
                    .trampolines
                    .into_iter()
                    .map(|f| (CodeKind::Trampoline, f)),
            )
            .collect();
        let (code, base) = CodeMemory::load(
            engine.compiler().isa(),
            Text {
                source: text,
                relocations: &linked.relocations,
                alignment: linked.text_alignment,
            },
            functions,
            Some(Arc::clone(&info)),
        )?;
        let address = |i: usize| base + starts[i].1 as usize;
        if crate::perfmap::enabled(engine.config().perfmap) {
            crate::perfmap::record(&info, base, &starts);
        }
        let trampoline = |slot: &usize| address(num_linked + slot);
        let array_to_wasm: HashMap<TypeIndex, usize> = linked
            .array_to_wasm
            .iter()
            .map(|(&ty, slot)| (ty, trampoline(slot)))
            .collect();
        let wasm_to_array = linked
            .wasm_to_array
            .iter()
            .map(|(&ty, slot)| (ty, trampoline(slot)))
            .collect();
        // By recursion group, in order: a type refers only to its own
        // group and earlier ones (checked when the module was parsed),
        // whose ids are then known.
        let mut type_ids: Vec<u32> = Vec::with_capacity(info.types.len());
        for group in &info.rec_groups {
            let members = info.group_members(group.clone(), &type_ids);
            let first = engine.signatures().register_group(&members);
            type_ids.extend((0..group.end - group.start).map(|i| first + i));
        }
        let type_ids = type_ids.into_boxed_slice();
        let lazy = match lazy {
            Some((bodies, reservation)) => Some(LazyCode::new(
                engine,
                Arc::clone(&info),
                linked.offsets,
                bodies,
                reservation,
            )?),
            None if num_linked == num_defined => None,
            None => return Err(Error::msg("a linked module lacks functions")),
        };
        let func_entries = (0..num_defined)
            .map(|i| {
                let def = DefinedFuncIndex::new(i);
                let wasm_call = match &lazy {
                    Some(lazy) => lazy.stub(def),
                    None => address(i),
                };
                let ty = info.functions[info.func_index(def)];
                let array_call = *array_to_wasm
                    .get(&ty)
                    .ok_or_else(|| Error::msg("a defined function's type has no trampoline"))?;
                Ok(FuncEntry {
                    wasm_call,
                    array_call,
                    type_id: type_ids[ty.as_u32() as usize],
                })
            })
            .collect::<Result<_>>()?;
        let active_data = ActiveData::of(&info);
        Ok(Module(Arc::new(ModuleInner {
            engine: engine.clone(),
            info,
            offsets: linked.offsets,
            wasm_to_array,
            type_ids,
            func_entries,
            memory_init_cow: engine.config().memory_init_cow,
            memory_image_threshold: engine.config().memory_image_threshold,
            memory_image_min_bytes: engine.config().memory_image_min_bytes,
            instantiations: AtomicUsize::new(0),
            memory_images: OnceLock::new(),
            active_data,
            lazy,
            _code: code,
        })))
    }

    /// The engine the module was compiled with.
    pub fn engine(&self) -> &Engine {
        &self.0.engine
    }

    /// The module's name from its name section.
    pub fn name(&self) -> Option<&str> {
        self.0.info.name.as_deref()
    }

    /// The module's imports: module name, field name and type.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = (&str, &str, ExternType)> + '_ {
        self.0.info.imports.iter().map(|i| {
            (
                i.module.as_str(),
                i.name.as_str(),
                self.entity_type(i.index),
            )
        })
    }

    /// The module's exports: name and type.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = (&str, ExternType)> + '_ {
        self.0
            .info
            .exports
            .iter()
            .map(|e| (e.name.as_str(), self.entity_type(e.index)))
    }

    /// The type of an entity of this module.
    pub(crate) fn entity_type(&self, index: EntityIndex) -> ExternType {
        let info = &self.0.info;
        let ids = self.type_ids();
        match index {
            EntityIndex::Function(f) => ExternType::Func(info.func_type(f).canonical(ids)),
            EntityIndex::Table(t) => ExternType::Table(info.tables[t].canonical(ids)),
            EntityIndex::Memory(m) => ExternType::Memory(info.memories[m]),
            EntityIndex::Global(g) => ExternType::Global(info.globals[g].canonical(ids)),
            EntityIndex::Tag(t) => ExternType::Tag(info.types[info.tags[t]].func().canonical(ids)),
        }
    }

    pub(crate) fn info(&self) -> &ModuleInfo {
        &self.0.info
    }

    pub(crate) fn offsets(&self) -> &VmOffsets {
        &self.0.offsets
    }

    /// The entries of every defined function, in order.
    pub(crate) fn func_entries(&self) -> &[FuncEntry] {
        &self.0.func_entries
    }

    pub(crate) fn wasm_to_array(&self, ty: TypeIndex) -> Option<usize> {
        self.0.wasm_to_array.get(&ty).copied()
    }

    /// The images a new instance's defined memories start from, in order
    /// (`None` where a memory copies its segments). Images an artifact
    /// stores serve every instance; otherwise the first instances, up to
    /// `Config::memory_image_threshold`, get none: building an image writes
    /// the data once more, which a one-shot `cljit run` would only pay
    /// for.
    pub(crate) fn memory_images_for_instance(&self) -> &[Option<Arc<MemoryImage>>] {
        let inner = &self.0;
        if !inner.memory_init_cow {
            return &[];
        }
        // Images stored in an artifact, or built already.
        if let Some(images) = inner.memory_images.get() {
            return images;
        }
        if inner.instantiations.fetch_add(1, Ordering::Relaxed) < inner.memory_image_threshold {
            return &[];
        }
        inner
            .memory_images
            .get_or_init(|| memory_images(&inner.info, inner.memory_image_min_bytes))
    }

    pub(crate) fn type_ids(&self) -> &[u32] {
        &self.0.type_ids
    }

    /// The module's active data segments (see [`ActiveData`]).
    pub(crate) fn active_data(&self) -> &ActiveData {
        &self.0.active_data
    }
}

/// A module's active data segments, found once.
#[derive(Debug)]
pub(crate) struct ActiveData {
    /// By data index: whether the segment is active.
    pub(crate) mask: Box<[bool]>,
    /// The memories active segments target, each once, in order.
    pub(crate) memories: Box<[MemoryIndex]>,
}

impl ActiveData {
    fn of(info: &ModuleInfo) -> ActiveData {
        let mut memories: Vec<MemoryIndex> = Vec::new();
        let mask = info
            .data
            .values()
            .map(|segment| match &segment.mode {
                cljit_compiler::SegmentMode::Active { target, .. } => {
                    if !memories.contains(target) {
                        memories.push(*target);
                    }
                    true
                }
                _ => false,
            })
            .collect();
        ActiveData {
            mask,
            memories: memories.into_boxed_slice(),
        }
    }
}

/// The image of each defined memory of `info`, where one can be made. A
/// memory whose image fails to build (no `memfd`, for one) copies its
/// segments instead: images only make instantiation cheaper.
fn memory_images(info: &ModuleInfo, min_bytes: usize) -> Box<[Option<Arc<MemoryImage>>]> {
    info.memories
        .iter()
        .skip(info.num_imported_memories as usize)
        .map(|(index, ty)| {
            MemoryImage::build(info, index, ty, min_bytes)
                .ok()
                .flatten()
                .map(Arc::new)
        })
        .collect()
}

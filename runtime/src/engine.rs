//! [`Engine`]: the compiler configured for this host, the engine-wide
//! signature registry, and trampolines for host functions.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cljit_compiler::link::{LinkedModule, link};
use cljit_compiler::types::FuncType;
use cljit_compiler::{Compiler, FEATURE_NAMES, WasmFeatures, supported_features};

use crate::code_memory::{CodeMemory, Text, TextSource};
use crate::config::Config;
use crate::epoch::{Epochs, InterruptPagePool};
use crate::error::{Error, Result};
use crate::memory::pool::MemoryPool;
use crate::signatures::SignatureRegistry;
use crate::sys::signals;
use crate::traps::registry::CodeKind;

/// The binary form of module `bytes`: text (`.wat`) is parsed, binary
/// passes through. Every way of making a module starts here.
///
/// # Errors
///
/// Text that does not parse.
pub(crate) fn wasm_binary(bytes: &[u8]) -> Result<Cow<'_, [u8]>> {
    wat::parse_bytes(bytes)
        .map_err(|e| Error::msg(format!("failed to parse WebAssembly text: {e}")))
}

/// A compilation environment shared by modules and stores. Cheap to clone.
#[derive(Clone)]
pub struct Engine(Arc<EngineInner>);

struct EngineInner {
    /// The configuration, with the memory layout actually used.
    config: Config,
    /// Why the configured memory layout was given up, if it was.
    memory_fallback: Option<String>,
    compiler: Compiler,
    /// Lazy compilation's fast tier, built when first needed.
    fast_compiler: OnceLock<std::result::Result<Compiler, String>>,
    signatures: SignatureRegistry,
    /// Wasm-to-host trampolines compiled on demand, by signature id, for
    /// host functions that reach wasm without being imported by a module
    /// that has one.
    host_trampolines: Mutex<HashMap<u32, (CodeMemory, usize)>>,
    /// The epoch counter and the stores waiting for deadlines.
    epochs: Epochs,
    /// Reservations of freed linear memories, for the next ones.
    memory_pool: Arc<MemoryPool>,
    /// Interrupt regions of stores that are gone, for new stores.
    interrupt_pages: Arc<InterruptPagePool>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new(&Config::default()).expect("the default configuration is valid")
    }
}

impl Engine {
    /// Creates an engine, installing the process's trap handlers if this is
    /// the first.
    ///
    /// # Errors
    ///
    /// If the configuration enables a wasm feature cljit cannot compile, or
    /// the host CPU is not supported.
    pub fn new(config: &Config) -> Result<Engine> {
        let unsupported = config.features - supported_features();
        if !unsupported.is_empty() {
            let names: Vec<&str> = FEATURE_NAMES
                .iter()
                .filter(|(_, f)| unsupported.contains(*f))
                .map(|(n, _)| *n)
                .collect();
            let names = if names.is_empty() {
                format!("{unsupported:?}")
            } else {
                names.join(", ")
            };
            return Err(Error::msg(format!(
                "wasm feature not supported by cljit yet: {names}"
            )));
        }
        if config.features.contains(WasmFeatures::RELAXED_SIMD)
            && !config.features.contains(WasmFeatures::SIMD)
        {
            return Err(Error::msg(
                "the relaxed-simd feature needs simd, which is disabled",
            ));
        }
        let mut config = config.clone();
        let memory_fallback = if config.memory_fallback {
            crate::memory::fallback_layout(&config.tunables).map(|(tunables, reason)| {
                config.tunables = tunables;
                reason
            })
        } else {
            None
        };
        if config.tunables.spectre_guard && crate::memory::first_page_mapped() {
            return Err(Error::msg(
                "something is mapped at address 0 in this process: explicitly checked \
                 memory accesses rely on the first page faulting (turn the Spectre \
                 guard off to check them with branches instead)",
            ));
        }
        let mut compiler = Compiler::new(&config.target, config.tunables, config.features)?;
        compiler.set_parallel(config.parallel_compilation);
        signals::install_handlers();
        Ok(Engine(Arc::new(EngineInner {
            memory_fallback,
            compiler,
            fast_compiler: OnceLock::new(),
            signatures: SignatureRegistry::default(),
            host_trampolines: Mutex::new(HashMap::new()),
            epochs: Epochs::new(),
            memory_pool: Arc::new(MemoryPool::new(
                config.memory_reuse,
                config.memory_keep_resident,
            )),
            interrupt_pages: Arc::new(InterruptPagePool::new(config.memory_reuse)),
            config,
        })))
    }

    /// The configuration the engine was made with, with the memory layout
    /// it uses (see [`Engine::memory_fallback`]).
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// Why the engine checks memory accesses explicitly instead of
    /// reserving the configured address space per memory, if it does: the
    /// process could not afford that reservation (see
    /// [`Config::memory_reservation_fallback`]).
    pub fn memory_fallback(&self) -> Option<&str> {
        self.0.memory_fallback.as_deref()
    }

    /// The pool of gone stores' interrupt regions.
    pub(crate) fn interrupt_pages(&self) -> &Arc<InterruptPagePool> {
        &self.0.interrupt_pages
    }

    /// The pool of freed linear memories' reservations.
    pub(crate) fn memory_pool(&self) -> &Arc<MemoryPool> {
        &self.0.memory_pool
    }

    /// Compiles `bytes` (binary or text) into an artifact for this engine's
    /// target and settings, without loading it: what `cljit compile`
    /// writes. With a foreign target (see [`Config::target`]) the artifact
    /// is for that machine.
    ///
    /// # Errors
    ///
    /// Invalid modules and compilation failures.
    pub fn precompile_module(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        let binary = wasm_binary(bytes)?;
        let linked = self.compile_linked(&binary)?;
        let source = cljit_compiler::artifact::source_hash(&binary);
        Ok(self.0.compiler.serialize(&linked, &source))
    }

    /// Compiles and links a binary module: the one sequence behind
    /// [`Module::new`](crate::Module::new), [`Engine::precompile_module`]
    /// and the cache, which then load, serialize, or both.
    ///
    /// # Errors
    ///
    /// Invalid modules and compilation failures.
    pub(crate) fn compile_linked(&self, binary: &[u8]) -> Result<LinkedModule> {
        Ok(link(self.0.compiler.compile(binary)?)?)
    }

    /// The compiler.
    pub(crate) fn compiler(&self) -> &Compiler {
        &self.0.compiler
    }

    /// Lazy compilation's fast tier (see `Compiler::fast_tier`).
    pub(crate) fn fast_compiler(&self) -> Result<&Compiler> {
        self.0
            .fast_compiler
            .get_or_init(|| self.0.compiler.fast_tier().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::msg(e.clone()))
    }

    /// Whether modules of `code_bytes` bytes of function bodies compile
    /// lazily under this engine's configuration: never on an architecture
    /// without lazy stubs (`arch::LAZY_COMPILATION`), where every module
    /// compiles whole and so can be cached at once.
    pub(crate) fn compiles_lazily(&self, code_bytes: usize) -> bool {
        let config = &self.0.config;
        crate::arch::LAZY_COMPILATION
            && config.lazy_compilation
            && code_bytes >= config.lazy_min_code_bytes
    }

    /// The engine-wide signature registry.
    pub(crate) fn signatures(&self) -> &SignatureRegistry {
        &self.0.signatures
    }

    /// Advances the engine's epoch by one: every store whose deadline (see
    /// [`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline)) it
    /// reaches is interrupted, and the wasm running in it traps at its next
    /// function entry or loop header. Callable from any thread, also while
    /// wasm runs; cheap (one atomic add) unless a deadline is reached.
    pub fn increment_epoch(&self) {
        self.0.epochs.increment();
    }

    /// The engine's epoch counter and deadline list.
    pub(crate) fn epochs(&self) -> &Epochs {
        &self.0.epochs
    }

    /// Whether two handles are the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// The wasm-to-host trampoline for host functions of type `ty` (id
    /// `type_id`), compiled the first time it is needed and kept for the
    /// engine's life.
    pub(crate) fn host_trampoline(&self, type_id: u32, ty: &FuncType) -> Result<usize> {
        let mut cache = self
            .0
            .host_trampolines
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((_, ptr)) = cache.get(&type_id) {
            return Ok(*ptr);
        }
        let compiled = self.0.compiler.compile_wasm_to_array(ty)?;
        let alignment = compiled.alignment;
        let (text, relocations, loc) = cljit_compiler::link::link_function(compiled)?;
        let (code, ptr) = CodeMemory::load(
            self.0.compiler.isa(),
            Text {
                source: TextSource::Bytes(&text),
                relocations: &relocations,
                alignment,
            },
            vec![(CodeKind::Trampoline, loc)],
            None,
        )?;
        cache.insert(type_id, (code, ptr));
        Ok(ptr)
    }
}

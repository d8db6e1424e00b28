//! Placing a linked module's text in executable memory (with
//! `cranelift-jit`) and registering it for the signal handler.
//!
//! The text arrives linked (calls between the module's functions already
//! resolved; see `cljit_compiler::link`), so it is one block to copy,
//! whatever the number of functions. `cranelift-jit` copies it into its own
//! executable memory, patches the few relocations left (calls to Cranelift's
//! library routines, whose addresses only this process knows) and makes it
//! executable. No absolute address of the runtime is baked into code.

use std::sync::{Arc, Mutex};

use cljit_compiler::cranelift_codegen::ir::Signature;
use cljit_compiler::cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cljit_compiler::link::FunctionLoc;
use cljit_compiler::{ModuleInfo, RelocTarget, Relocation};
use cranelift_jit::{ArenaMemoryProvider, JITBuilder, JITModule};
use cranelift_module::{Linkage, Module as _, ModuleReloc, ModuleRelocTarget};

use crate::error::{Error, Result};
use crate::traps::registry::{self, CodeInfo, CodeKind, FunctionRange};

/// A text to load: the code, the patches it still needs, its alignment.
pub(crate) struct Text<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) relocations: &'a [Relocation],
    pub(crate) alignment: u32,
}

/// Loaded code, freed (and unregistered) on drop.
pub(crate) struct CodeMemory {
    jit: Mutex<Option<JITModule>>,
    registration: Option<usize>,
}

impl std::fmt::Debug for CodeMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeMemory")
            .field("registration", &self.registration)
            .finish_non_exhaustive()
    }
}

fn jit_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::msg(format!("failed to load compiled code ({what}): {e}"))
}

/// Fails unless code for `isa` runs on this machine: an engine configured
/// for another target (`Config::target`) only precompiles. Every piece of
/// code becomes executable here, so this is the one place to check.
fn check_runs_here(isa: &OwnedTargetIsa) -> Result<()> {
    let triple = isa.triple();
    let arch = triple.architecture.to_string();
    let os = triple.operating_system.to_string();
    if arch == std::env::consts::ARCH && os == std::env::consts::OS {
        Ok(())
    } else {
        Err(Error::msg(format!(
            "this engine compiles for {triple}, which is not this machine \
             ({}-{}): it can precompile modules but not run them",
            std::env::consts::ARCH,
            std::env::consts::OS
        )))
    }
}

impl CodeMemory {
    /// Loads `text` and registers its `functions` (each with what it is).
    /// Returns the memory and the address of the text's first byte.
    pub(crate) fn load(
        isa: &OwnedTargetIsa,
        text: Text<'_>,
        functions: Vec<(CodeKind, FunctionLoc)>,
        module: Option<Arc<ModuleInfo>>,
    ) -> Result<(CodeMemory, usize)> {
        check_runs_here(isa)?;
        if text.bytes.is_empty() {
            return Ok((
                CodeMemory {
                    jit: Mutex::new(None),
                    registration: None,
                },
                0,
            ));
        }
        let page = region::page::size();
        let align = text.alignment.max(16) as usize;
        let size = (text.bytes.len() + align).next_multiple_of(page) + 4 * page;
        let arena =
            ArenaMemoryProvider::new_with_size(size).map_err(|e| jit_error("reserve", e))?;
        let mut builder =
            JITBuilder::with_isa(isa.clone(), cranelift_module::default_libcall_names());
        builder.memory_provider(Box::new(arena));
        let mut jit = JITModule::new(builder);

        let signature = Signature::new(CallConv::SystemV);
        let name = format!(
            "wasm[{}]::text",
            module
                .as_ref()
                .and_then(|m| m.name.as_deref())
                .unwrap_or("module")
        );
        let id = jit
            .declare_function(&name, Linkage::Local, &signature)
            .map_err(|e| jit_error("declare", e))?;
        let relocs = text
            .relocations
            .iter()
            .map(|r| match r.target {
                RelocTarget::LibCall(lc) => Ok(ModuleReloc {
                    offset: r.offset,
                    kind: r.kind,
                    name: ModuleRelocTarget::LibCall(lc),
                    addend: r.addend,
                }),
                RelocTarget::Function(f) => {
                    Err(jit_error("relocate", format!("an unlinked call to {f:?}")))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        jit.define_function_bytes(id, u64::from(text.alignment), text.bytes, &relocs)
            .map_err(|e| jit_error("define", e))?;
        jit.finalize_definitions()
            .map_err(|e| jit_error("finalize", e))?;
        let base = jit.get_finalized_function(id) as usize;

        let mut ranges: Vec<FunctionRange> = functions
            .into_iter()
            .map(|(kind, f)| {
                let start = base + f.start as usize;
                FunctionRange {
                    start,
                    end: start + (f.len as usize).max(1),
                    kind,
                    traps: f.traps,
                    address_map: f.address_map,
                    handlers: f.handlers,
                }
            })
            .collect();
        ranges.sort_by_key(|f| f.start);
        let registration = registry::register(Arc::new(CodeInfo {
            module,
            lazy: None,
            functions: ranges,
        }));
        Ok((
            CodeMemory {
                jit: Mutex::new(Some(jit)),
                registration,
            },
            base,
        ))
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        if let Some(key) = self.registration.take() {
            registry::unregister(key);
        }
        let jit = self.jit.get_mut().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(jit) = jit {
            // SAFETY: the code is unregistered, and whoever owns this memory
            // (a module, or the engine for its trampolines) is being dropped,
            // which happens only when no store references the code any more.
            unsafe { jit.free_memory() };
        }
    }
}

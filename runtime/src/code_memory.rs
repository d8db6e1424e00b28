//! Placing compiled code in executable memory (with `cranelift-jit`) and
//! registering it for the signal handler.
//!
//! All functions of one module go into one arena, so the module's code is a
//! single contiguous range in the registry. Relocations are only calls
//! between the module's own functions (and Cranelift library routines); no
//! absolute address of the runtime is baked into code.

use std::sync::{Arc, Mutex};

use cljit_compiler::cranelift_codegen::ir::Signature;
use cljit_compiler::cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cljit_compiler::{CompiledFunction, ModuleInfo, RelocTarget};
use cranelift_jit::{ArenaMemoryProvider, JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module as _, ModuleReloc, ModuleRelocTarget};

use crate::error::{Error, Result};
use crate::traps::registry::{self, CodeInfo, CodeKind, FunctionRange};

/// One function to load.
pub(crate) struct CodeItem<'a> {
    pub(crate) function: &'a CompiledFunction,
    pub(crate) kind: CodeKind,
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

impl CodeMemory {
    /// Loads `items`, resolving direct calls to `FuncIndex` `f` to the item
    /// `resolve(f)`. Returns the memory and each item's address.
    pub(crate) fn load(
        isa: &OwnedTargetIsa,
        items: &[CodeItem<'_>],
        module: Option<Arc<ModuleInfo>>,
        resolve: impl Fn(cljit_compiler::indices::FuncIndex) -> Option<usize>,
    ) -> Result<(CodeMemory, Vec<usize>)> {
        if items.is_empty() {
            return Ok((
                CodeMemory {
                    jit: Mutex::new(None),
                    registration: None,
                },
                Vec::new(),
            ));
        }
        let page = region::page::size();
        let mut size = 4 * page;
        for item in items {
            let align = item.function.alignment.max(16) as usize;
            size += item.function.body.len() + align;
        }
        let arena =
            ArenaMemoryProvider::new_with_size(size).map_err(|e| jit_error("reserve", e))?;
        let mut builder =
            JITBuilder::with_isa(isa.clone(), cranelift_module::default_libcall_names());
        builder.memory_provider(Box::new(arena));
        let mut jit = JITModule::new(builder);

        let signature = Signature::new(CallConv::SystemV);
        // Named (uniquely), so the perf map cranelift-jit writes when run
        // under `perf record` names them too.
        let ids = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let name = crate::perfmap::symbol(module.as_deref(), item.kind, i);
                jit.declare_function(&name, Linkage::Local, &signature)
                    .map_err(|e| jit_error("declare", e))
            })
            .collect::<Result<Vec<FuncId>>>()?;
        for (item, &id) in items.iter().zip(&ids) {
            let relocs = item
                .function
                .relocations
                .iter()
                .map(|r| {
                    let name = match r.target {
                        RelocTarget::Function(f) => {
                            let target = resolve(f).ok_or_else(|| {
                                jit_error("relocate", format!("call to unknown function {f:?}"))
                            })?;
                            ModuleRelocTarget::user(0, ids[target].as_u32())
                        }
                        RelocTarget::LibCall(lc) => ModuleRelocTarget::LibCall(lc),
                    };
                    Ok(ModuleReloc {
                        offset: r.offset,
                        kind: r.kind,
                        name,
                        addend: r.addend,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            jit.define_function_bytes(
                id,
                u64::from(item.function.alignment),
                &item.function.body,
                &relocs,
            )
            .map_err(|e| jit_error("define", e))?;
        }
        jit.finalize_definitions()
            .map_err(|e| jit_error("finalize", e))?;

        let addresses: Vec<usize> = ids
            .iter()
            .map(|&id| jit.get_finalized_function(id) as usize)
            .collect();
        let mut functions: Vec<FunctionRange> = items
            .iter()
            .zip(&addresses)
            .map(|(item, &start)| FunctionRange {
                start,
                end: start + item.function.body.len().max(1),
                kind: item.kind,
                traps: item.function.traps.clone(),
                address_map: item.function.address_map.clone(),
            })
            .collect();
        functions.sort_by_key(|f| f.start);
        let registration = registry::register(Arc::new(CodeInfo { module, functions }));
        Ok((
            CodeMemory {
                jit: Mutex::new(Some(jit)),
                registration,
            },
            addresses,
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

//! The compiler driver: wasm bytes + target + settings -> [`CompiledModule`].
//!
//! Functions are independent, so they are validated, translated and compiled
//! in parallel on scoped threads, each with its own Cranelift context. The
//! output holds only plain data (machine code, relocations, trap tables and
//! address maps), with no absolute addresses: the runtime places it anywhere.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{ExternalName, LibCall};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{
    Context, ExceptionContextLoc, FinalizedMachExceptionHandler, FinalizedRelocTarget,
};
use cranelift_entity::PrimaryMap;
use cranelift_frontend::FunctionBuilderContext;
use wasmparser::{FuncValidatorAllocations, WasmFeatures};

use crate::abi::{
    AddressMap, HandlerClause, HandlerSite, HandlerTable, OptLevel, TrapTable, Tunables, VmOffsets,
};
use crate::error::{CompileError, CompileResult};
use crate::features::explain_invalid;
use crate::indices::{DefinedFuncIndex, FuncIndex, TypeIndex};
use crate::module_info::{FunctionInput, ModuleInfo, parse};
use crate::target::{CodeTarget, Target};
use crate::trampolines::{build_array_to_wasm, build_wasm_to_array};
use crate::translate::{TranslateEnv, translate_function, trap_from_code};
use crate::types::FuncType;

/// What a relocation points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RelocTarget {
    /// A function of this module (always a defined one).
    Function(FuncIndex),
    /// A Cranelift library routine (for operations the target cannot do
    /// inline).
    LibCall(LibCall),
}

/// A place in a function's code to patch at load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Relocation {
    /// Offset in the function's code.
    pub offset: u32,
    /// How to patch.
    pub kind: Reloc,
    /// What the patch refers to.
    pub target: RelocTarget,
    /// Constant added to the target address.
    pub addend: i64,
}

/// The machine code of one function and what the runtime needs to know
/// about it.
#[derive(Debug, Clone)]
pub struct CompiledFunction {
    /// Machine code.
    pub body: Vec<u8>,
    /// Required alignment of the code, in bytes.
    pub alignment: u32,
    /// Places to patch when loading.
    pub relocations: Vec<Relocation>,
    /// Instructions that can trap, and how.
    pub traps: TrapTable,
    /// Code offsets to wasm byte offsets, for backtraces.
    pub address_map: AddressMap,
    /// Exception handlers of its calls inside `try_table`s.
    pub handlers: HandlerTable,
    /// Bytes of its stack frame below the frame pointer.
    pub frame_size: u32,
}

/// A whole compiled module: plain data, ready to be loaded or serialized.
#[derive(Debug, Clone)]
pub struct CompiledModule {
    /// The module's declarations.
    pub info: ModuleInfo,
    /// The VMContext layout the code was compiled against.
    pub offsets: VmOffsets,
    /// The knobs the code was compiled with.
    pub tunables: Tunables,
    /// Defined functions' code.
    pub functions: PrimaryMap<DefinedFuncIndex, CompiledFunction>,
    /// Trampolines' code; see the two maps below.
    pub trampolines: Vec<CompiledFunction>,
    /// For each type of a defined function, its host-to-wasm trampoline (an
    /// index into `trampolines`).
    pub array_to_wasm: BTreeMap<TypeIndex, usize>,
    /// For each type of an imported function, its wasm-to-host trampoline
    /// (an index into `trampolines`).
    pub wasm_to_array: BTreeMap<TypeIndex, usize>,
    /// The machine and CPU features the code needs.
    pub target: CodeTarget,
}

/// A module's trampolines (code), then, by type, the host-to-wasm ones of
/// its defined functions and the wasm-to-host ones of its imports (indices
/// into the code).
pub(crate) type Trampolines = (
    Vec<CompiledFunction>,
    BTreeMap<TypeIndex, usize>,
    BTreeMap<TypeIndex, usize>,
);

/// A configured compiler for one target.
pub struct Compiler {
    isa: OwnedTargetIsa,
    /// The machine asked for, kept to build the fast tier's ISA.
    target: Target,
    tunables: Tunables,
    features: WasmFeatures,
    /// The ISA's triple and features, worked out once.
    code_target: CodeTarget,
    /// Whether functions compile on all cores (it changes no code).
    parallel: bool,
}

impl std::fmt::Debug for Compiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiler")
            .field("triple", &self.isa.triple().to_string())
            .field("tunables", &self.tunables)
            .finish()
    }
}

fn flag(b: &mut settings::Builder, name: &str, value: &str) -> CompileResult<()> {
    b.set(name, value)
        .map_err(|e| CompileError::Target(format!("setting {name}={value}: {e}")))
}

impl Compiler {
    /// Sets up a compiler for `target` with `tunables`, validating modules
    /// against `features`.
    ///
    /// # Errors
    ///
    /// [`CompileError::Target`] if the target is unknown or the host CPU is
    /// not supported by Cranelift.
    pub fn new(
        target: &Target,
        tunables: Tunables,
        features: WasmFeatures,
    ) -> CompileResult<Compiler> {
        Compiler::with_regalloc(target, tunables, features, "backtracking")
    }

    /// The compiler of lazy compilation's first tier: the same target,
    /// settings and calling conventions, but no optimisation and
    /// Cranelift's single-pass register allocator, which compile several
    /// times faster into slower code.
    ///
    /// # Errors
    ///
    /// As [`Compiler::new`].
    pub fn fast_tier(&self) -> CompileResult<Compiler> {
        let tunables = Tunables {
            opt_level: OptLevel::None,
            ..self.tunables
        };
        let mut fast =
            Compiler::with_regalloc(&self.target, tunables, self.features, "single_pass")?;
        fast.parallel = self.parallel;
        Ok(fast)
    }

    fn with_regalloc(
        target: &Target,
        tunables: Tunables,
        features: WasmFeatures,
        regalloc: &str,
    ) -> CompileResult<Compiler> {
        let mut b = settings::builder();
        flag(&mut b, "regalloc_algorithm", regalloc)?;
        let opt = match tunables.opt_level {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        };
        flag(&mut b, "opt_level", opt)?;
        flag(&mut b, "preserve_frame_pointers", "true")?;
        flag(&mut b, "enable_probestack", "false")?;
        flag(&mut b, "enable_multi_ret_implicit_sret", "true")?;
        flag(&mut b, "unwind_info", "false")?;
        flag(&mut b, "is_pic", "false")?;
        flag(
            &mut b,
            "enable_verifier",
            if tunables.debug_verifier {
                "true"
            } else {
                "false"
            },
        )?;
        let isa_builder = match target {
            Target::Host => {
                cranelift_native::builder().map_err(|e| CompileError::Target(e.to_string()))?
            }
            Target::Triple(triple) => cranelift_codegen::isa::lookup_by_name(triple)
                .map_err(|e| CompileError::Target(format!("{triple}: {e}")))?,
        };
        let isa = isa_builder
            .finish(settings::Flags::new(b))
            .map_err(|e| CompileError::Target(e.to_string()))?;
        let code_target = CodeTarget::of_isa(&*isa);
        Ok(Compiler {
            isa,
            target: target.clone(),
            tunables,
            features,
            code_target,
            parallel: true,
        })
    }

    /// Whether to compile a module's functions on all cores (the default)
    /// or on the calling thread only. The code is the same either way.
    pub fn set_parallel(&mut self, parallel: bool) {
        self.parallel = parallel;
    }

    /// Whether functions compile on all cores.
    pub fn is_parallel(&self) -> bool {
        self.parallel
    }

    /// The target ISA.
    pub fn isa(&self) -> &OwnedTargetIsa {
        &self.isa
    }

    /// The knobs this compiler bakes into code.
    pub fn tunables(&self) -> &Tunables {
        &self.tunables
    }

    /// The wasm features modules are validated against.
    pub fn features(&self) -> WasmFeatures {
        self.features
    }

    /// Compiles a binary module.
    ///
    /// # Errors
    ///
    /// Invalid or unsupported modules, and code generation failures; see
    /// [`CompileError`].
    pub fn compile(&self, wasm: &[u8]) -> CompileResult<CompiledModule> {
        self.compile_module(wasm)
            .map_err(|e| explain_invalid(wasm, self.features, e))
    }

    fn compile_module(&self, wasm: &[u8]) -> CompileResult<CompiledModule> {
        let parsed = parse(wasm, self.features)?;
        let info = parsed.info;
        let offsets = VmOffsets::new(self.isa.pointer_bytes(), info.vm_counts());
        let functions = self.compile_functions(&info, &offsets, parsed.bodies)?;

        let (trampolines, array_to_wasm, wasm_to_array) =
            self.compile_trampolines(&info, &offsets)?;

        Ok(CompiledModule {
            info,
            offsets,
            tunables: self.tunables,
            functions,
            trampolines,
            array_to_wasm,
            wasm_to_array,
            target: self.code_target.clone(),
        })
    }

    /// Compiles the trampolines of `info`'s functions: host-to-wasm for
    /// each type of a defined function, wasm-to-host for each type of an
    /// imported one, each distinct signature once.
    pub(crate) fn compile_trampolines(
        &self,
        info: &ModuleInfo,
        offsets: &VmOffsets,
    ) -> CompileResult<Trampolines> {
        let mut trampolines = Vec::new();
        let mut by_type: HashMap<(bool, &FuncType), usize> = HashMap::new();
        let mut array_to_wasm = BTreeMap::new();
        let mut wasm_to_array = BTreeMap::new();
        let mut ctx = Context::new();
        let mut fctx = FunctionBuilderContext::new();
        for (index, &ty_index) in info.functions.iter() {
            let imported = info.is_imported_func(index);
            let map = if imported {
                &mut wasm_to_array
            } else {
                &mut array_to_wasm
            };
            if map.contains_key(&ty_index) {
                continue;
            }
            let ty = info.types[ty_index].func();
            let slot = match by_type.get(&(imported, ty)) {
                Some(&slot) => slot,
                None => {
                    clear_context(&mut ctx);
                    if imported {
                        build_wasm_to_array(&*self.isa, offsets, ty, &mut ctx.func, &mut fctx);
                    } else {
                        build_array_to_wasm(&*self.isa, ty, &mut ctx.func, &mut fctx);
                    }
                    trampolines.push(self.emit(&mut ctx, u32::MAX)?);
                    by_type.insert((imported, ty), trampolines.len() - 1);
                    trampolines.len() - 1
                }
            };
            map.insert(ty_index, slot);
        }

        Ok((trampolines, array_to_wasm, wasm_to_array))
    }

    /// Validates a binary module against this compiler's features without
    /// compiling it.
    ///
    /// # Errors
    ///
    /// As [`Compiler::compile`] for invalid modules.
    pub fn validate(&self, wasm: &[u8]) -> CompileResult<()> {
        wasmparser::Validator::new_with_features(self.features)
            .validate_all(wasm)
            .map(drop)
            .map_err(|e| explain_invalid(wasm, self.features, e.into()))
    }

    /// The machine this compiler's code is for: its triple and the CPU
    /// features code may use.
    pub fn code_target(&self) -> &CodeTarget {
        &self.code_target
    }

    /// Checks that code compiled for `target` can run where this compiler's
    /// code runs: the same triple, and no CPU feature this one lacks.
    ///
    /// # Errors
    ///
    /// [`CompileError::Target`], naming the triple or the first missing
    /// feature.
    pub fn check_compatible(&self, target: &CodeTarget) -> CompileResult<()> {
        self.code_target.check_runs(target)
    }

    /// Translates and optimises every defined function, returning each one's
    /// Cranelift IR as text instead of machine code: what the code generator
    /// is given, for inspection and for the translator's snapshot tests.
    ///
    /// # Errors
    ///
    /// As [`Compiler::compile`].
    pub fn compile_to_clif(&self, wasm: &[u8]) -> CompileResult<Vec<String>> {
        self.clif_module(wasm)
            .map_err(|e| explain_invalid(wasm, self.features, e))
    }

    fn clif_module(&self, wasm: &[u8]) -> CompileResult<Vec<String>> {
        let parsed = parse(wasm, self.features)?;
        let info = parsed.info;
        let offsets = VmOffsets::new(self.isa.pointer_bytes(), info.vm_counts());
        let bodies: Vec<_> = parsed.bodies.iter().map(|b| &b.body).collect();
        let may_throw = crate::throws::may_throw(&info, &bodies)?;
        let env = TranslateEnv {
            info: &info,
            may_throw: &may_throw,
            offsets: &offsets,
            tunables: &self.tunables,
            isa: &*self.isa,
            hotness: None,
        };
        let mut ctx = Context::new();
        let mut fctx = FunctionBuilderContext::new();
        let mut clif = Vec::with_capacity(parsed.bodies.len());
        for (i, input) in parsed.bodies.into_iter().enumerate() {
            let def = DefinedFuncIndex::from_u32(u32::try_from(i).expect("bounded count"));
            let index = info.func_index(def);
            let mut validator = input.validator.into_validator(Default::default());
            clear_context(&mut ctx);
            translate_function(
                &env,
                index,
                &mut validator,
                &input.body,
                &mut ctx.func,
                &mut fctx,
            )?;
            ctx.optimize(&*self.isa, &mut ControlPlane::default())
                .map_err(|e| CompileError::Codegen {
                    func_index: index.as_u32(),
                    message: format!("{e:?}"),
                })?;
            clif.push(ctx.func.display().to_string());
        }
        Ok(clif)
    }

    /// Compiles the host-to-wasm trampoline for functions of type `ty`.
    ///
    /// # Errors
    ///
    /// Code generation failures.
    pub fn compile_array_to_wasm(&self, ty: &FuncType) -> CompileResult<CompiledFunction> {
        let mut ctx = Context::new();
        let mut fctx = FunctionBuilderContext::new();
        build_array_to_wasm(&*self.isa, ty, &mut ctx.func, &mut fctx);
        self.emit(&mut ctx, u32::MAX)
    }

    /// Compiles the wasm-to-host trampoline for host functions of type `ty`.
    ///
    /// # Errors
    ///
    /// Code generation failures.
    pub fn compile_wasm_to_array(&self, ty: &FuncType) -> CompileResult<CompiledFunction> {
        let offsets = VmOffsets::new(self.isa.pointer_bytes(), Default::default());
        let mut ctx = Context::new();
        let mut fctx = FunctionBuilderContext::new();
        build_wasm_to_array(&*self.isa, &offsets, ty, &mut ctx.func, &mut fctx);
        self.emit(&mut ctx, u32::MAX)
    }

    fn compile_functions(
        &self,
        info: &ModuleInfo,
        offsets: &VmOffsets,
        bodies: Vec<FunctionInput<'_>>,
    ) -> CompileResult<PrimaryMap<DefinedFuncIndex, CompiledFunction>> {
        let refs: Vec<_> = bodies.iter().map(|b| &b.body).collect();
        let may_throw = crate::throws::may_throw(info, &refs)?;
        let env = TranslateEnv {
            info,
            may_throw: &may_throw,
            offsets,
            tunables: &self.tunables,
            isa: &*self.isa,
            hotness: None,
        };
        let count = bodies.len();
        let code_bytes: usize = bodies.iter().map(|b| b.body.as_bytes().len()).sum();
        let threads = if self.parallel && count > 1 && code_bytes > PARALLEL_THRESHOLD_BYTES {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(count)
        } else {
            1
        };

        let inputs: Vec<Mutex<Option<FunctionInput<'_>>>> =
            bodies.into_iter().map(|b| Mutex::new(Some(b))).collect();
        let outputs: Vec<Mutex<Option<CompileResult<CompiledFunction>>>> =
            (0..count).map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let work = || {
            let mut ctx = Context::new();
            let mut fctx = FunctionBuilderContext::new();
            let mut allocs = FuncValidatorAllocations::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let input = inputs[i]
                    .lock()
                    .expect("no panics while holding the lock")
                    .take()
                    .expect("each body is taken once");
                let def = DefinedFuncIndex::from_u32(u32::try_from(i).expect("bounded count"));
                let result = self.compile_one(&env, def, input, &mut ctx, &mut fctx, &mut allocs);
                let failed = result.is_err();
                *outputs[i].lock().expect("no panics while holding the lock") = Some(result);
                if failed {
                    // Stop handing out work; earlier functions still finish
                    // so the reported error is the first by index.
                    next.fetch_max(count, Ordering::Relaxed);
                }
            }
        };
        if threads <= 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 1..threads {
                    s.spawn(work);
                }
                work();
            });
        }

        let mut functions = PrimaryMap::with_capacity(count);
        for output in outputs {
            match output
                .into_inner()
                .expect("no panics while holding the lock")
            {
                Some(result) => {
                    functions.push(result?);
                }
                None => unreachable!("a function was skipped without an earlier error"),
            }
        }
        Ok(functions)
    }

    fn compile_one(
        &self,
        env: &TranslateEnv<'_>,
        def: DefinedFuncIndex,
        input: FunctionInput<'_>,
        ctx: &mut Context,
        fctx: &mut FunctionBuilderContext,
        allocs: &mut FuncValidatorAllocations,
    ) -> CompileResult<CompiledFunction> {
        let index = env.info.func_index(def);
        let mut validator = input.validator.into_validator(std::mem::take(allocs));
        clear_context(ctx);
        translate_function(env, index, &mut validator, &input.body, &mut ctx.func, fctx)?;
        *allocs = validator.into_allocations();
        self.emit(ctx, index.as_u32())
    }

    /// Runs Cranelift on `ctx.func` and collects the code and its metadata.
    pub(crate) fn emit(
        &self,
        ctx: &mut Context,
        func_index: u32,
    ) -> CompileResult<CompiledFunction> {
        let codegen_error = |message: String| CompileError::Codegen {
            func_index,
            message,
        };
        ctx.compile(&*self.isa, &mut ControlPlane::default())
            .map_err(|e| codegen_error(format!("{:?}", e.inner)))?;
        let code = ctx
            .compiled_code()
            .ok_or_else(|| codegen_error("no code produced".into()))?;
        let func = &ctx.func;

        let mut relocations = Vec::new();
        for r in code.buffer.relocs() {
            let target = match &r.target {
                FinalizedRelocTarget::ExternalName(ExternalName::User(name)) => {
                    let name = &func.params.user_named_funcs()[*name];
                    RelocTarget::Function(FuncIndex::from_u32(name.index))
                }
                FinalizedRelocTarget::ExternalName(ExternalName::LibCall(lc)) => {
                    RelocTarget::LibCall(*lc)
                }
                other => {
                    return Err(codegen_error(format!(
                        "unexpected relocation target {other:?}"
                    )));
                }
            };
            relocations.push(Relocation {
                offset: r.offset,
                kind: r.kind,
                target,
                addend: r.addend,
            });
        }

        let mut traps = TrapTable::default();
        let mut sites: Vec<_> = code
            .buffer
            .traps()
            .iter()
            .map(|t| (t.offset, t.code))
            .collect();
        sites.sort_by_key(|&(offset, _)| offset);
        for (offset, code) in sites {
            let trap = trap_from_code(code)
                .ok_or_else(|| codegen_error(format!("unknown trap code {code}")))?;
            traps.push(offset, trap);
        }

        // Stack maps by return offset: the pointer-sized slots, from the
        // stack pointer at the call, and the frame's size below its frame
        // pointer there.
        let pointer = self.isa.pointer_type();
        let mut stack_maps = std::collections::BTreeMap::new();
        for (return_offset, span, map) in code.buffer.user_stack_maps() {
            let slots = map
                .entries()
                .map(|(ty, offset)| {
                    (ty == pointer).then_some(offset).ok_or_else(|| {
                        codegen_error("a stack map entry of a non-pointer type".into())
                    })
                })
                .collect::<CompileResult<Vec<u32>>>()?;
            stack_maps.insert(*return_offset, (*span, slots));
        }
        let mut handlers = HandlerTable::default();
        for site in code.buffer.call_sites() {
            let gc = stack_maps.remove(&site.ret_addr);
            if site.exception_handlers.is_empty() && gc.is_none() {
                continue;
            }
            let (span, gc_slots) = gc.unwrap_or_default();
            let frame_offset = match site.frame_offset {
                Some(offset) => offset,
                None if span != 0 => span,
                None => return Err(codegen_error("a call site without a frame offset".into())),
            };
            if span != 0 && span != frame_offset {
                return Err(codegen_error(format!(
                    "a stack map's frame size {span} is not its call's {frame_offset}"
                )));
            }
            let clauses = site
                .exception_handlers
                .iter()
                .map(|h| match *h {
                    FinalizedMachExceptionHandler::Tag(tag, landing) => Ok(HandlerClause::Tag {
                        tag: tag.as_u32(),
                        landing,
                    }),
                    FinalizedMachExceptionHandler::Default(landing) => {
                        Ok(HandlerClause::CatchAll { landing })
                    }
                    FinalizedMachExceptionHandler::Context(ExceptionContextLoc::SPOffset(off)) => {
                        Ok(HandlerClause::Context { sp_offset: off })
                    }
                    FinalizedMachExceptionHandler::Context(ExceptionContextLoc::GPR(_)) => Err(
                        codegen_error("an exception context left in a register".into()),
                    ),
                })
                .collect::<CompileResult<Vec<_>>>()?;
            handlers.push(HandlerSite {
                return_offset: site.ret_addr,
                frame_offset,
                clauses,
                gc_slots,
            });
        }
        if let Some(offset) = stack_maps.keys().next() {
            return Err(codegen_error(format!(
                "a stack map at offset {offset} has no call site"
            )));
        }

        let mut address_map = AddressMap::default();
        for loc in code.buffer.get_srclocs_sorted() {
            if !loc.loc.is_default() {
                address_map.push(loc.start, loc.loc.bits());
            }
        }

        let frame_size = code
            .buffer
            .frame_layout()
            .map_or(0, |l| l.frame_to_fp_offset);
        Ok(CompiledFunction {
            frame_size,
            body: code.code_buffer().to_vec(),
            // The target's preferred function alignment (32 bytes on
            // x86-64), not just what the code needs: where a hot loop falls
            // relative to fetch blocks costs up to 20% on call-heavy code
            // (measured on fib: see benches/).
            alignment: code
                .buffer
                .alignment
                .max(self.isa.function_alignment().preferred),
            relocations,
            traps,
            address_map,
            handlers,
        })
    }
}

/// Readies a reused Cranelift context for the next function.
///
/// `Context::clear` leaves the function's exception tables behind
/// (cranelift-codegen 0.135's `DataFlowGraph::clear` forgets them), so on
/// a thread that compiles many functions with `try_call`s they pile up, and
/// every later function pays for all of them in the passes that walk every
/// table: Yosys's compile spent 17% in the unreachable-code pass alone.
pub(crate) fn clear_context(ctx: &mut Context) {
    ctx.clear();
    ctx.func.dfg.exception_tables.clear();
}

/// Below this many bytes of function bodies, compiling on one thread beats
/// spawning workers.
const PARALLEL_THRESHOLD_BYTES: usize = 16 * 1024;

/// Compiles for the host with default settings; a convenience for tests.
///
/// # Errors
///
/// As [`Compiler::compile`].
pub fn compile_for_host(wasm: &[u8], features: WasmFeatures) -> CompileResult<CompiledModule> {
    Compiler::new(&Target::Host, Tunables::default(), features)?.compile(wasm)
}

//! Lazy compilation's compiler side: a module is parsed and validated whole
//! up front (an invalid module is refused before anything of it runs), its
//! trampolines are compiled at once, and its functions are kept as bodies
//! to compile one at a time when the runtime first calls them.

use std::ops::Range;

use cranelift_codegen::Context;
use cranelift_entity::PrimaryMap;
use cranelift_frontend::FunctionBuilderContext;
use wasmparser::{
    BinaryReader, FuncToValidate, FuncValidatorAllocations, FunctionBody, ValidatorResources,
    WasmFeatures,
};

use crate::abi::{HotnessCounter, VmOffsets};
use crate::compile::{CompiledFunction, CompiledModule, Compiler};
use crate::error::{CompileError, CompileResult};
use crate::features::explain_invalid;
use crate::indices::DefinedFuncIndex;
use crate::module_info::{ModuleInfo, parse};
use crate::shared_bytes::SharedBytes;
use crate::translate::{TranslateEnv, translate_function};

/// One function body kept for later: where it lies in the module's bytes
/// and the validator that knows its types.
struct LazyBody {
    range: Range<usize>,
    validator: FuncToValidate<ValidatorResources>,
}

impl LazyBody {
    /// A validator for this body (its resources are shared, not copied).
    fn validator(&self) -> FuncToValidate<ValidatorResources> {
        FuncToValidate {
            resources: self.validator.resources.clone(),
            index: self.validator.index,
            ty: self.validator.ty,
            features: self.validator.features,
        }
    }
}

/// A validated module's function bodies, each compiled on request by
/// [`Compiler::compile_lazy_function`].
pub struct LazyBodies {
    wasm: SharedBytes,
    bodies: PrimaryMap<DefinedFuncIndex, LazyBody>,
    features: WasmFeatures,
    /// Every function may throw: working out which cannot needs every body,
    /// which is what lazy compilation avoids reading.
    may_throw: Vec<bool>,
}

impl std::fmt::Debug for LazyBodies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyBodies")
            .field("functions", &self.bodies.len())
            .field("bytes", &self.wasm.len())
            .finish_non_exhaustive()
    }
}

impl LazyBodies {
    /// Number of defined functions.
    pub fn len(&self) -> usize {
        self.bodies.len()
    }

    /// Whether the module defines no function.
    pub fn is_empty(&self) -> bool {
        self.bodies.is_empty()
    }

    /// The module's bytes.
    pub fn wasm(&self) -> &[u8] {
        &self.wasm
    }

    /// Bytes of function bodies in all.
    pub fn code_bytes(&self) -> usize {
        self.bodies.values().map(|b| b.range.len()).sum()
    }

    fn body(&self, def: DefinedFuncIndex) -> FunctionBody<'_> {
        let range = self.bodies[def].range.clone();
        FunctionBody::new(BinaryReader::new_features(
            &self.wasm[range.clone()],
            range.start as u64,
            self.features,
        ))
    }
}

impl Compiler {
    /// Parses and validates `wasm` whole (every function body included,
    /// on all cores), compiles its trampolines, and keeps its bodies:
    /// a [`CompiledModule`] with no functions, and the bodies to compile
    /// them from.
    ///
    /// # Errors
    ///
    /// As [`Compiler::compile`] for invalid modules.
    pub fn compile_lazy(&self, wasm: &[u8]) -> CompileResult<(CompiledModule, LazyBodies)> {
        self.compile_lazy_shared(SharedBytes::from(wasm.to_vec()))
    }

    /// [`Compiler::compile_lazy`] for bytes the bodies can keep without a
    /// copy (a window onto the module file's bytes, say).
    ///
    /// # Errors
    ///
    /// As [`Compiler::compile`] for invalid modules.
    pub fn compile_lazy_shared(
        &self,
        wasm: SharedBytes,
    ) -> CompileResult<(CompiledModule, LazyBodies)> {
        self.lazy_module(wasm)
            .map_err(|(e, wasm)| explain_invalid(&wasm, self.features(), e))
    }

    fn lazy_module(
        &self,
        wasm: SharedBytes,
    ) -> Result<(CompiledModule, LazyBodies), (CompileError, SharedBytes)> {
        let (info, lazy) = self.unvalidated_bodies(wasm)?;
        if let Err(e) = self.validate_bodies(&lazy) {
            return Err((e, lazy.wasm));
        }
        let offsets = VmOffsets::new(self.isa().pointer_bytes(), info.vm_counts());
        let (trampolines, array_to_wasm, wasm_to_array) =
            match self.compile_trampolines(&info, &offsets) {
                Ok(trampolines) => trampolines,
                Err(e) => return Err((e, lazy.wasm)),
            };
        let module = CompiledModule {
            info,
            offsets,
            tunables: *self.tunables(),
            functions: PrimaryMap::new(),
            trampolines,
            array_to_wasm,
            wasm_to_array,
            target: self.code_target().clone(),
        };
        Ok((module, lazy))
    }

    /// Parses `wasm` (its sections validated) and keeps its bodies, not yet
    /// validated.
    fn unvalidated_bodies(
        &self,
        wasm: SharedBytes,
    ) -> Result<(ModuleInfo, LazyBodies), (CompileError, SharedBytes)> {
        let parsed = match parse(&wasm, self.features()) {
            Ok(parsed) => parsed,
            Err(e) => return Err((e, wasm)),
        };
        let info = parsed.info;
        let features = self.features();
        let mut bodies = PrimaryMap::with_capacity(parsed.bodies.len());
        for input in parsed.bodies {
            let range = input.body.range();
            bodies.push(LazyBody {
                range: usize::try_from(range.start).expect("in the module")
                    ..usize::try_from(range.end).expect("in the module"),
                validator: input.validator,
            });
        }
        let lazy = LazyBodies {
            wasm,
            may_throw: vec![true; info.functions.len()],
            bodies,
            features,
        };
        Ok((info, lazy))
    }

    /// Validates every body, on all cores for a large module; reports the
    /// first invalid one by index.
    fn validate_bodies(&self, lazy: &LazyBodies) -> CompileResult<()> {
        let count = lazy.len();
        let threads = if self.is_parallel() && lazy.code_bytes() > 256 * 1024 {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(count.max(1))
        } else {
            1
        };
        let validate = |part: usize| -> CompileResult<()> {
            let mut allocs = FuncValidatorAllocations::default();
            for (def, body) in lazy.bodies.iter().skip(part).step_by(threads) {
                let mut validator = body.validator().into_validator(allocs);
                validator.validate(&lazy.body(def))?;
                allocs = validator.into_allocations();
            }
            Ok(())
        };
        if threads <= 1 {
            return validate(0);
        }
        let results: Vec<CompileResult<()>> = std::thread::scope(|s| {
            let handles: Vec<_> = (1..threads).map(|p| s.spawn(move || validate(p))).collect();
            let mut results = vec![validate(0)];
            results.extend(
                handles
                    .into_iter()
                    .map(|h| h.join().expect("validation does not panic")),
            );
            results
        });
        // The error of the lowest-offset invalid body, as eager
        // validation would report it first.
        results
            .into_iter()
            .filter_map(Result::err)
            .min_by_key(error_offset)
            .map_or(Ok(()), Err)
    }

    /// Compiles one defined function of a module set up by
    /// [`Compiler::compile_lazy`]: its code calls other defined functions
    /// through relocations the runtime resolves. With `hotness`, the code
    /// counts its entries and loop iterations for tier-up.
    ///
    /// # Errors
    ///
    /// Code generation failures (the body was validated already).
    pub fn compile_lazy_function(
        &self,
        info: &ModuleInfo,
        offsets: &VmOffsets,
        lazy: &LazyBodies,
        def: DefinedFuncIndex,
        hotness: Option<HotnessCounter>,
    ) -> CompileResult<CompiledFunction> {
        let env = TranslateEnv {
            info,
            may_throw: &lazy.may_throw,
            offsets,
            tunables: self.tunables(),
            isa: &**self.isa(),
            hotness,
        };
        let index = info.func_index(def);
        // A fresh set when this thread's is in use (never, as compiling
        // runs no wasm) or was lost to a panic.
        let mut scratch = SCRATCH.take().unwrap_or_else(Scratch::new);
        let Scratch { ctx, fctx, allocs } = &mut scratch;
        let mut validator = lazy.bodies[def]
            .validator()
            .into_validator(std::mem::take(allocs));
        crate::compile::clear_context(ctx);
        let translated = translate_function(
            &env,
            index,
            &mut validator,
            &lazy.body(def),
            &mut ctx.func,
            fctx,
        );
        *allocs = validator.into_allocations();
        let compiled = translated.and_then(|()| self.emit(ctx, index.as_u32()));
        // A translation that failed part-way leaves the builder context
        // mid-function (only `finalize` empties it), so that set is
        // dropped; reused, it would corrupt the next function.
        if compiled.is_ok() && scratch.ctx.func.dfg.num_insts() <= SCRATCH_KEPT_INSTS {
            SCRATCH.set(Some(scratch));
        }
        compiled
    }
}

/// What compiling a function allocates, kept per thread between lazy
/// compilations: a program compiles thousands of functions one at a time,
/// and fresh contexts made each of them grow every table from empty.
struct Scratch {
    ctx: Context,
    fctx: FunctionBuilderContext,
    allocs: FuncValidatorAllocations,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            ctx: Context::new(),
            fctx: FunctionBuilderContext::new(),
            allocs: FuncValidatorAllocations::default(),
        }
    }
}

/// The largest function (in Cranelift instructions) whose scratch a thread
/// keeps: a giant one's tables are let go rather than held for good.
const SCRATCH_KEPT_INSTS: usize = 32 * 1024;

thread_local! {
    static SCRATCH: std::cell::Cell<Option<Scratch>> = const { std::cell::Cell::new(None) };
}

fn error_offset(e: &CompileError) -> u64 {
    match e {
        CompileError::Invalid { offset, .. } => *offset,
        _ => u64::MAX,
    }
}

/// Bytes in the code section of `wasm`: the size of what lazy compilation
/// would defer (0 without one, or if the module does not parse up to it;
/// compiling it then reports what is wrong).
pub fn code_section_bytes(wasm: &[u8]) -> usize {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload {
            Ok(wasmparser::Payload::CodeSectionStart { size, .. }) => return size as usize,
            Ok(_) => {}
            Err(_) => return 0,
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::Tunables;
    use crate::indices::DefinedFuncIndex;
    use crate::target::Target;

    /// A function whose translation stops part-way (a GC instruction,
    /// which `compile_lazy` refuses up front but the bodies here skip)
    /// must not leave the thread's reused scratch mid-function: the next
    /// function compiled on the thread would inherit its state (Cranelift
    /// panicked lowering it).
    #[test]
    fn a_failed_translation_leaves_the_next_one_sound() {
        let wasm = wat::parse_str(
            r#"(module
                (func (param i32) (result i32) (local i64 f64)
                    (block (result i32)
                        (local.set 1 (i64.const 1))
                        (drop (br_if 0 (local.get 0) (local.get 0)))
                        (i32.add (i32.const 1) (local.get 1))))
                (func (param i32) (result i32) (local i32)
                    (block
                        (loop
                            (br_if 1 (i32.eqz (local.get 0)))
                            (local.set 1 (i32.add (local.get 1) (local.get 0)))
                            (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                            (br 0)))
                    (local.get 1)))"#,
        )
        .unwrap();
        let compiler = Compiler::new(
            &Target::Host,
            Tunables::default(),
            crate::features::default_features(),
        )
        .unwrap()
        .fast_tier()
        .unwrap();
        let (info, bodies) = compiler
            .unvalidated_bodies(SharedBytes::from(wasm))
            .map_err(|(e, _)| e)
            .unwrap();
        let offsets = VmOffsets::new(compiler.isa().pointer_bytes(), info.vm_counts());
        let compile = |i| {
            compiler.compile_lazy_function(
                &info,
                &offsets,
                &bodies,
                DefinedFuncIndex::from_u32(i),
                None,
            )
        };
        for _ in 0..3 {
            let error = compile(0).unwrap_err();
            assert!(error.to_string().contains("type mismatch"), "{error}");
        }
        let compiled = compile(1).unwrap();
        assert!(!compiled.body.is_empty());
    }
}

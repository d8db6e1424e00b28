//! Translation of one function body from WebAssembly to Cranelift IR.
//!
//! ```text
//!   operators ──► Visitor ──► validator (wasmparser)      every operator
//!                        └──► FuncTranslator::visit_*     reachable ones (+ control)
//!                                   │
//!                  control.rs  locals.rs  memory.rs  numeric.rs
//!                  conversions.rs  tables.rs  calls.rs  simd/
//!                                   │
//!                           env.rs (everything that touches the VMContext)
//! ```
//!
//! The translator keeps the wasm operand stack as a stack of SSA values and a
//! control stack of frames, in the manner of a one-pass compiler. Each family
//! of operators lives in its own file as inherent `visit_*` methods; the
//! [`Visitor`] below is generated from `wasmparser::for_each_visit_operator!`
//! and forwards every operator of a supported proposal to the method of the
//! same name, so an operator with no translation is a compile error.

mod atomics;
mod bounds_checks;
mod calls;
mod control;
mod conversions;
mod env;
mod exceptions;
mod gc;
mod gc_objects;
mod legacy_exceptions;
mod limits;
mod locals;
mod memory;
mod numeric;
mod simd;
mod stack_maps;
mod tables;

use cranelift_codegen::ir::{self, Block, InstBuilder, SourceLoc, UserFuncName, Value};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use wasmparser::{FuncValidator, FunctionBody, ValidatorResources, VisitOperator};

pub(crate) use self::control::ControlFrame;
pub(crate) use self::env::{
    array_call_signature, builtin_signature, trap_code, trap_from_code, wasm_signature,
};

use crate::abi::{Tunables, VmOffsets};
use crate::error::{CompileResult, unsupported};
use crate::indices::FuncIndex;
use crate::module_info::{ModuleInfo, val_type};
use crate::types::ValType;

/// The result type of every `visit_*` method.
pub(crate) type TResult = CompileResult<()>;

/// Translation state for one function.
pub(crate) struct FuncTranslator<'a, 'f> {
    pub(crate) builder: FunctionBuilder<'f>,
    pub(crate) info: &'a ModuleInfo,
    pub(crate) offsets: &'a VmOffsets,
    pub(crate) tunables: &'a Tunables,
    pub(crate) isa: &'a dyn TargetIsa,
    pub(crate) pointer_type: ir::Type,
    /// The operand stack.
    pub(crate) stack: Vec<Value>,
    /// The control stack; the function body is the outermost frame.
    pub(crate) control: Vec<ControlFrame>,
    /// One variable per local, parameters first.
    pub(crate) locals: Vec<Variable>,
    /// Whether the current position can be reached.
    pub(crate) reachable: bool,
    /// The callee's VMContext (first parameter).
    pub(crate) vmctx: Value,
    /// Per-function caches of imported signatures and functions.
    pub(crate) env: env::FuncCaches,
    /// Fuel accounting, when the tunables ask for it.
    pub(crate) fuel: Option<limits::FuelState>,
    /// Interrupt checks emitted so far (each loads at its own offset).
    pub(crate) interrupt_checks: u32,
    /// The function entry's interrupt check, if it has one.
    pub(crate) interrupt_entry: Option<ir::Inst>,
    /// Whether the body has a loop or a call (so needs its entry check).
    pub(crate) loops_or_calls: bool,
    /// The handler scopes of the enclosing `try_table`s, outermost first.
    pub(crate) handlers: Vec<exceptions::HandlerScope>,
    /// Every legacy `try` of the body, by `FrameKind::LegacyTry::index`.
    pub(crate) legacy: Vec<legacy_exceptions::LegacyTry>,
    /// For every function, whether a call to it may throw.
    pub(crate) may_throw: &'a [bool],
    /// Counting for tier-up (see `limits.rs`).
    pub(crate) hotness: Option<crate::abi::HotnessCounter>,
    /// Whether the module has struct or array types, so that values may
    /// point into the GC heap and need stack maps (see `stack_maps.rs`).
    pub(crate) gc_values: bool,
    /// Operand-stack values already looked at for stack maps.
    pub(crate) stack_map_checked: cranelift_codegen::entity::EntitySet<Value>,
}

impl FuncTranslator<'_, '_> {
    /// Pushes a value on the operand stack.
    pub(crate) fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    /// Pops the top value. Validation guarantees there is one.
    pub(crate) fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }

    /// Pops two values, returning them in push order.
    pub(crate) fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    /// Pops three values, returning them in push order.
    pub(crate) fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    /// The top `n` values, in push order.
    pub(crate) fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    /// Pops `n` values, returning them in push order.
    pub(crate) fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }
}

/// The Cranelift type that holds a value of wasm type `ty`.
pub(crate) fn ir_type(ty: ValType, pointer_type: ir::Type) -> ir::Type {
    match ty {
        ValType::I32 => ir::types::I32,
        ValType::I64 => ir::types::I64,
        ValType::F32 => ir::types::F32,
        ValType::F64 => ir::types::F64,
        ValType::V128 => ir::types::I8X16,
        ValType::Ref(_) => pointer_type,
    }
}

/// Shared, read-only inputs of function translation.
pub(crate) struct TranslateEnv<'a> {
    pub(crate) info: &'a ModuleInfo,
    /// For every function, whether a call to it may throw (see
    /// `throws.rs`).
    pub(crate) may_throw: &'a [bool],
    pub(crate) offsets: &'a VmOffsets,
    pub(crate) tunables: &'a Tunables,
    pub(crate) isa: &'a dyn TargetIsa,
    /// Counting for tier-up, in fast-tier code compiled in-process.
    pub(crate) hotness: Option<crate::abi::HotnessCounter>,
}

/// Validates and translates one function body into `func`.
pub(crate) fn translate_function(
    env: &TranslateEnv<'_>,
    index: FuncIndex,
    validator: &mut FuncValidator<ValidatorResources>,
    body: &FunctionBody<'_>,
    func: &mut ir::Function,
    func_ctx: &mut FunctionBuilderContext,
) -> TResult {
    let pointer_type = env.isa.pointer_type();
    let ty = env.info.func_type(index);
    func.signature = wasm_signature(ty, pointer_type);
    func.name = UserFuncName::user(0, index.as_u32());
    env::install_stack_limit(func, env.offsets, pointer_type);

    let mut builder = FunctionBuilder::new(func, func_ctx);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let vmctx = builder.block_params(entry)[0];

    let gc_values = stack_maps::module_has_gc_values(env.info);
    let mut locals = Vec::new();
    for (i, &param) in ty.params().iter().enumerate() {
        let var = builder.declare_var(ir_type(param, pointer_type));
        if gc_values && stack_maps::may_point_into_heap(param) {
            builder.declare_var_needs_stack_map(var);
        }
        let value = builder.block_params(entry)[i + 2];
        builder.def_var(var, value);
        locals.push(var);
    }

    let mut reader = body.get_binary_reader();
    reader.set_features(*validator.features());
    let local_groups = reader.read_var_u32()?;
    for _ in 0..local_groups {
        let offset = reader.original_position();
        let count = reader.read_var_u32()?;
        let wasm_ty = reader.read()?;
        validator.define_locals(offset, count, wasm_ty)?;
        let ty = val_type(wasm_ty, offset, &|i| env.info.type_kind(i))?;
        let ir_ty = ir_type(ty, pointer_type);
        let zero = match ty {
            ValType::F32 => builder.ins().f32const(0.0),
            ValType::F64 => builder.ins().f64const(0.0),
            ValType::V128 => {
                let zero = builder.func.dfg.constants.insert(vec![0u8; 16].into());
                builder.ins().vconst(ir_ty, zero)
            }
            _ => builder.ins().iconst(ir_ty, 0),
        };
        for _ in 0..count {
            let var = builder.declare_var(ir_ty);
            if gc_values && stack_maps::may_point_into_heap(ty) {
                builder.declare_var_needs_stack_map(var);
            }
            builder.def_var(var, zero);
            locals.push(var);
        }
    }

    let exit = builder.create_block();
    for &result in ty.results() {
        builder.append_block_param(exit, ir_type(result, pointer_type));
    }

    let mut translator = FuncTranslator {
        builder,
        info: env.info,
        offsets: env.offsets,
        tunables: env.tunables,
        isa: env.isa,
        pointer_type,
        stack: Vec::new(),
        control: vec![ControlFrame::function_body(exit, ty.results().len())],
        locals,
        reachable: true,
        vmctx,
        env: env::FuncCaches::default(),
        fuel: None,
        interrupt_checks: 0,
        interrupt_entry: None,
        loops_or_calls: false,
        handlers: Vec::new(),
        legacy: Vec::new(),
        may_throw: env.may_throw,
        hotness: env.hotness,
        gc_values,
        stack_map_checked: Default::default(),
    };
    translator.limits_at_function_entry();

    let mut ops = wasmparser::OperatorsReader::new(reader);
    while !ops.eof() {
        let offset = ops.original_position();
        translator
            .builder
            .set_srcloc(SourceLoc::new(u32::try_from(offset).unwrap_or(u32::MAX)));
        let mut visitor = Visitor {
            tr: &mut translator,
            validator: &mut *validator,
            offset,
        };
        ops.visit_operator(&mut visitor)??;
        if translator.gc_values && translator.reachable {
            translator.declare_gc_values(validator)?;
        }
    }
    ops.finish()?;
    translator.limits_at_function_end();

    let FuncTranslator { mut builder, .. } = translator;
    builder.seal_all_blocks();
    builder.finalize(env.isa.frontend_config());
    Ok(())
}

/// Validates each operator, then translates it if it is reachable (or is a
/// structured-control operator, which must be tracked even when not).
struct Visitor<'v, 'a, 'f> {
    tr: &'v mut FuncTranslator<'a, 'f>,
    validator: &'v mut FuncValidator<ValidatorResources>,
    offset: u64,
}

/// Structured-control operators run even in unreachable code, to keep the
/// control stack in step with the validator's.
macro_rules! runs_when_unreachable {
    (Block) => {
        true
    };
    (Loop) => {
        true
    };
    (If) => {
        true
    };
    (Else) => {
        true
    };
    (End) => {
        true
    };
    (TryTable) => {
        true
    };
    (Try) => {
        true
    };
    (Catch) => {
        true
    };
    (CatchAll) => {
        true
    };
    (Delegate) => {
        true
    };
    ($other:ident) => {
        false
    };
}

macro_rules! translate_op {
    // Proposals cljit implements: forward to the translator.
    (mvp $($rest:tt)*) => { translate_op!(@forward $($rest)*) };
    (sign_extension $($rest:tt)*) => { translate_op!(@forward $($rest)*) };
    (saturating_float_to_int $($rest:tt)*) => { translate_op!(@forward $($rest)*) };
    (bulk_memory $($rest:tt)*) => { translate_op!(@forward $($rest)*) };
    (reference_types $($rest:tt)*) => { translate_op!(@forward $($rest)*) };
    (simd $($rest:tt)*) => { translate_op!(@forward $($rest)*) };
    (relaxed_simd $($rest:tt)*) => { translate_op!(@forward $($rest)*) };
    (wide_arithmetic $($rest:tt)*) => { translate_op!(@forward $($rest)*) };
    (tail_call $($rest:tt)*) => { translate_op!(@forward $($rest)*) };
    (function_references $($rest:tt)*) => { translate_op!(@forward $($rest)*) };
    (exceptions $($rest:tt)*) => { translate_op!(@forward $($rest)*) };
    (legacy_exceptions $($rest:tt)*) => { translate_op!(@forward $($rest)*) };
    (gc $($rest:tt)*) => { translate_op!(@forward $($rest)*) };
    (threads $($rest:tt)*) => { translate_op!(@forward $($rest)*) };
    // Everything else is refused (validation normally refuses it first,
    // since those features are never enabled).
    ($proposal:ident $this:ident $op:ident $visit:ident $($arg:ident)*) => {{
        $( let _ = $arg; )*
        Err(unsupported(
            Some($this.offset),
            concat!(stringify!($op), " (", stringify!($proposal), " proposal)"),
        ))
    }};
    (@forward $this:ident $op:ident $visit:ident $($arg:ident)*) => {{
        if $this.tr.reachable {
            $this.tr.fuel_before_op(limits::fuel_cost!($op), limits::fuel_point!($op));
            let result = $this.tr.$visit($($arg),*);
            if limits::reloads_fuel_after!($op) {
                $this.tr.fuel_after_call();
            }
            result
        } else if runs_when_unreachable!($op) {
            $this.tr.$visit($($arg),*)
        } else {
            Ok(())
        }
    }};
}

macro_rules! define_visitor {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        $(
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
                self.validator
                    .visitor(self.offset)
                    .$visit($($($arg.clone()),*)?)?;
                translate_op!($proposal self $op $visit $($($arg)*)?)
            }
        )*
    };
}

/// As `define_visitor`, for the operators of `VisitSimdOperator` (which
/// the validator checks through its SIMD visitor).
macro_rules! define_simd_visitor {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        $(
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
                self.validator
                    .simd_visitor(self.offset)
                    .$visit($($($arg.clone()),*)?)?;
                translate_op!($proposal self $op $visit $($($arg)*)?)
            }
        )*
    };
}

impl<'a> VisitOperator<'a> for Visitor<'_, '_, '_> {
    type Output = TResult;

    fn simd_visitor(
        &mut self,
    ) -> Option<&mut dyn wasmparser::VisitSimdOperator<'a, Output = TResult>> {
        Some(self)
    }

    wasmparser::for_each_visit_operator!(define_visitor);
}

impl<'a> wasmparser::VisitSimdOperator<'a> for Visitor<'_, '_, '_> {
    wasmparser::for_each_visit_simd_operator!(define_simd_visitor);
}

/// Emits `return` of the top `n` values (used by `return` and the body's end).
pub(crate) fn emit_return(tr: &mut FuncTranslator<'_, '_>, values: &[Value]) {
    tr.fuel_before_return();
    tr.builder.ins().return_(values);
}

/// Creates a block with parameters of the given wasm types.
pub(crate) fn block_with_params(tr: &mut FuncTranslator<'_, '_>, types: &[ValType]) -> Block {
    let block = tr.builder.create_block();
    for &ty in types {
        tr.builder
            .append_block_param(block, ir_type(ty, tr.pointer_type));
    }
    block
}

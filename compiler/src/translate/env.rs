//! Everything the translator emits that touches the VMContext: loads of its
//! fields, signatures of wasm functions and builtins, builtin calls, trap
//! codes, and the stack-limit check.
//!
//! Offsets come only from [`VmOffsets`]; no other translator file computes
//! one. Fields that never change during an instance's life (pointers to
//! definitions, the builtin table, signature ids, a non-moving memory's base)
//! are loaded with `readonly + can_move` flags, which makes the loads pure, so
//! Cranelift deduplicates them and hoists them out of loops.

use std::collections::HashMap;

use cranelift_codegen::ir::{
    self, AbiParam, ArgumentPurpose, FuncRef, GlobalValueData, InstBuilder, MemFlagsData, SigRef,
    Signature, TrapCode, Value,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};

use super::{FuncTranslator, ir_type};
use crate::abi::{Builtin, BuiltinType, GROW_TRAP, Trap, VmOffsets};
use crate::indices::{FuncIndex, GlobalIndex, MemoryIndex, TableIndex, TypeIndex};
use crate::types::FuncType;

/// Signatures and function references imported into the function being
/// translated, so each is declared once.
#[derive(Default)]
pub(crate) struct FuncCaches {
    sigs: HashMap<TypeIndex, SigRef>,
    funcs: HashMap<FuncIndex, FuncRef>,
    builtins: HashMap<u32, SigRef>,
}

/// User trap codes start here; Cranelift reserves its own codes for the
/// traps it raises itself (stack overflow, heap, division, conversion).
const USER_TRAP_BASE: u8 = 1;

/// The Cranelift trap code that stands for `trap`.
pub(crate) fn trap_code(trap: Trap) -> TrapCode {
    match trap {
        Trap::StackOverflow => TrapCode::STACK_OVERFLOW,
        Trap::MemoryOutOfBounds => TrapCode::HEAP_OUT_OF_BOUNDS,
        Trap::IntegerOverflow => TrapCode::INTEGER_OVERFLOW,
        Trap::IntegerDivisionByZero => TrapCode::INTEGER_DIVISION_BY_ZERO,
        Trap::BadConversionToInteger => TrapCode::BAD_CONVERSION_TO_INTEGER,
        other => TrapCode::unwrap_user(USER_TRAP_BASE + other.code()),
    }
}

/// The trap a Cranelift trap code stands for, if it is one of ours.
pub(crate) fn trap_from_code(code: TrapCode) -> Option<Trap> {
    Some(match code {
        TrapCode::STACK_OVERFLOW => Trap::StackOverflow,
        TrapCode::HEAP_OUT_OF_BOUNDS => Trap::MemoryOutOfBounds,
        TrapCode::INTEGER_OVERFLOW => Trap::IntegerOverflow,
        TrapCode::INTEGER_DIVISION_BY_ZERO => Trap::IntegerDivisionByZero,
        TrapCode::BAD_CONVERSION_TO_INTEGER => Trap::BadConversionToInteger,
        other => Trap::from_code(other.as_raw().get().checked_sub(USER_TRAP_BASE)?)?,
    })
}

/// The native signature of a wasm function of type `ty`:
/// `(callee_vmctx, caller_vmctx, params...) -> results`, tail-call convention.
pub(crate) fn wasm_signature(ty: &FuncType, pointer_type: ir::Type) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params
        .push(AbiParam::special(pointer_type, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(pointer_type));
    for &p in ty.params() {
        sig.params.push(AbiParam::new(ir_type(p, pointer_type)));
    }
    for &r in ty.results() {
        sig.returns.push(AbiParam::new(ir_type(r, pointer_type)));
    }
    sig
}

/// The signature of the "array call" entry of every function:
/// `(callee_vmctx, caller_vmctx, wasm_call, values, values_len) -> status`,
/// platform C convention.
pub(crate) fn array_call_signature(pointer_type: ir::Type, isa: &dyn TargetIsa) -> Signature {
    let mut sig = Signature::new(isa.default_call_conv());
    for _ in 0..5 {
        sig.params.push(AbiParam::new(pointer_type));
    }
    sig.returns.push(AbiParam::new(ir::types::I32));
    sig
}

fn builtin_type(ty: BuiltinType, pointer_type: ir::Type) -> ir::Type {
    match ty {
        BuiltinType::VmContext | BuiltinType::Pointer => pointer_type,
        BuiltinType::I32 => ir::types::I32,
        BuiltinType::I64 => ir::types::I64,
    }
}

pub(crate) fn builtin_signature(
    builtin: Builtin,
    pointer_type: ir::Type,
    isa: &dyn TargetIsa,
) -> Signature {
    let call_conv = if builtin.preserves_all_registers() {
        CallConv::PreserveAll
    } else if builtin.is_throw() {
        CallConv::Tail
    } else {
        isa.default_call_conv()
    };
    let mut sig = Signature::new(call_conv);
    for &p in builtin.params() {
        sig.params
            .push(AbiParam::new(builtin_type(p, pointer_type)));
    }
    if let Some(r) = builtin.result() {
        sig.returns
            .push(AbiParam::new(builtin_type(r, pointer_type)));
    }
    sig
}

/// Makes Cranelift check, in the prologue, that the stack pointer stays above
/// `VmRuntimeLimits::stack_limit` (reached through the vmctx), trapping with
/// a stack overflow otherwise.
pub(crate) fn install_stack_limit(
    func: &mut ir::Function,
    offsets: &VmOffsets,
    pointer_type: ir::Type,
) {
    let pure = func
        .dfg
        .mem_flags
        .insert(MemFlagsData::trusted().with_readonly().with_can_move())
        .expect("few memflags per function");
    let trusted = func
        .dfg
        .mem_flags
        .insert(MemFlagsData::trusted())
        .expect("few memflags per function");
    let vmctx = func.create_global_value(GlobalValueData::VMContext);
    let limits = func.create_global_value(GlobalValueData::Load {
        base: vmctx,
        offset: offset32(offsets.vmctx_runtime_limits()),
        global_type: pointer_type,
        flags: pure,
    });
    let limit = func.create_global_value(GlobalValueData::Load {
        base: limits,
        offset: offset32(offsets.runtime_limits_stack_limit()),
        global_type: pointer_type,
        flags: trusted,
    });
    func.stack_limit = Some(limit);
}

/// Converts a layout offset to a Cranelift immediate. Layout offsets are far
/// below 2 GiB (see `VmOffsets`).
pub(crate) fn offset32(offset: u32) -> ir::immediates::Offset32 {
    ir::immediates::Offset32::new(i32::try_from(offset).expect("vmctx offsets fit in i32"))
}

/// Flags for loads of fields that never change while the instance lives.
pub(crate) fn pure_flags() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

impl FuncTranslator<'_, '_> {
    /// Loads a field of the VMContext that never changes (pure, hoistable).
    pub(crate) fn load_vmctx_pure(&mut self, ty: ir::Type, offset: u32) -> Value {
        let vmctx = self.vmctx;
        self.builder
            .ins()
            .load(ty, pure_flags(), vmctx, offset32(offset))
    }

    /// Loads `base + offset` with trusted flags (never traps, may change).
    pub(crate) fn load_trusted(&mut self, ty: ir::Type, base: Value, offset: u32) -> Value {
        self.builder
            .ins()
            .load(ty, MemFlagsData::trusted(), base, offset32(offset))
    }

    /// Loads `base + offset` that never changes while the instance lives.
    pub(crate) fn load_pure(&mut self, ty: ir::Type, base: Value, offset: u32) -> Value {
        self.builder
            .ins()
            .load(ty, pure_flags(), base, offset32(offset))
    }

    /// Emits an unconditional trap.
    pub(crate) fn trap(&mut self, trap: Trap) {
        self.builder.ins().trap(trap_code(trap));
    }

    /// Traps if `cond` is non-zero.
    pub(crate) fn trapnz(&mut self, cond: Value, trap: Trap) {
        self.builder.ins().trapnz(cond, trap_code(trap));
    }

    /// Traps if `cond` is zero.
    pub(crate) fn trapz(&mut self, cond: Value, trap: Trap) {
        self.builder.ins().trapz(cond, trap_code(trap));
    }

    /// Emits `path` in a cold block taken when `cond` is non-zero, after
    /// which the code goes on (in a new block) as when it is zero.
    pub(crate) fn cold_path(&mut self, cond: Value, path: impl FnOnce(&mut Self)) {
        let cold = self.builder.create_block();
        let next = self.builder.create_block();
        self.builder.set_cold_block(cold);
        self.builder.ins().brif(cond, cold, &[], next, &[]);
        self.builder.seal_block(cold);
        self.builder.switch_to_block(cold);
        path(self);
        self.builder.ins().jump(next, &[]);
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
    }

    /// The signature of the `throw` builtin, declared once.
    pub(crate) fn throw_signature(&mut self) -> SigRef {
        let index = Builtin::throw.index();
        if let Some(&sig) = self.env.builtins.get(&index) {
            return sig;
        }
        let sig = builtin_signature(Builtin::throw, self.pointer_type, self.isa);
        let sig = self.builder.import_signature(sig);
        self.env.builtins.insert(index, sig);
        sig
    }

    /// The signature reference for wasm type `index`, declared once.
    pub(crate) fn signature_ref(&mut self, index: TypeIndex) -> SigRef {
        if let Some(&sig) = self.env.sigs.get(&index) {
            return sig;
        }
        let sig = wasm_signature(self.info.types[index].func(), self.pointer_type);
        let sig = self.builder.import_signature(sig);
        self.env.sigs.insert(index, sig);
        sig
    }

    /// The function reference for a direct call to defined function `index`.
    pub(crate) fn direct_func_ref(&mut self, index: FuncIndex) -> FuncRef {
        if let Some(&f) = self.env.funcs.get(&index) {
            return f;
        }
        let sig = self.signature_ref(self.info.functions[index]);
        let name = self
            .builder
            .func
            .declare_imported_user_function(ir::UserExternalName::new(0, index.as_u32()));
        let f = self.builder.import_function(ir::ExtFuncData {
            name: ir::ExternalName::User(name),
            signature: sig,
            colocated: true,
            patchable: false,
        });
        self.env.funcs.insert(index, f);
        f
    }

    /// Calls a builtin through the VMContext's builtin table; the vmctx
    /// argument is supplied here. Returns the builtin's result, if any.
    pub(crate) fn call_builtin(&mut self, builtin: Builtin, args: &[Value]) -> Option<Value> {
        let sig = match self.env.builtins.get(&builtin.index()) {
            Some(&sig) => sig,
            None => {
                let sig = builtin_signature(builtin, self.pointer_type, self.isa);
                let sig = self.builder.import_signature(sig);
                self.env.builtins.insert(builtin.index(), sig);
                sig
            }
        };
        let ptr = self.pointer_type;
        let slot = builtin.index() * self.offsets.pointer_size();
        let callee = if builtin.preserves_all_registers() {
            // A cold call: load its address where it is made, so it is
            // not hoisted into a register held across the hot code.
            let vmctx = self.vmctx;
            let table = self.load_trusted(ptr, vmctx, self.offsets.vmctx_builtins());
            self.load_trusted(ptr, table, slot)
        } else {
            let table = self.load_vmctx_pure(ptr, self.offsets.vmctx_builtins());
            self.load_pure(ptr, table, slot)
        };
        let mut call_args = Vec::with_capacity(args.len() + 1);
        call_args.push(self.vmctx);
        call_args.extend_from_slice(args);
        let call = self.builder.ins().call_indirect(sig, callee, &call_args);
        let result = self.builder.inst_results(call).first().copied();
        if let (Some(trap), Some(status)) = (builtin.trap(), result) {
            self.trapnz(status, trap);
        }
        result
    }

    /// The result of `memory.grow`/`table.grow` from their builtin's `i64`
    /// (narrowed to `i32` unless the memory or table is 64-bit): traps when the builtin says the store's limiter made the
    /// refusal an error ([`GROW_TRAP`]).
    pub(crate) fn grow_result(&mut self, result: Value, is64: bool) -> Value {
        let refused = self
            .builder
            .ins()
            .icmp_imm_s(ir::condcodes::IntCC::Equal, result, GROW_TRAP);
        self.trapnz(refused, Trap::HostError);
        if is64 {
            result
        } else {
            self.builder.ins().ireduce(ir::types::I32, result)
        }
    }

    /// An `i32` constant.
    pub(crate) fn iconst32(&mut self, v: u32) -> Value {
        self.builder.ins().iconst(ir::types::I32, i64::from(v))
    }

    /// The pointer to memory `index`'s `VmMemoryDefinition`.
    pub(crate) fn memory_definition(&mut self, index: MemoryIndex) -> Value {
        let offset = self.offsets.vmctx_memory(index.as_u32());
        self.load_vmctx_pure(self.pointer_type, offset)
    }

    /// The base address of memory `index`; a pure load when the memory never
    /// moves (see `Tunables::memory_never_moves`).
    pub(crate) fn memory_base(&mut self, index: MemoryIndex) -> Value {
        let def = self.memory_definition(index);
        let offset = self.offsets.memory_definition_base();
        if self.tunables.memory_never_moves(&self.info.memories[index]) {
            self.load_pure(self.pointer_type, def, offset)
        } else {
            self.load_memory_definition_field(def, offset)
        }
    }

    /// The current length in bytes of memory `index`.
    pub(crate) fn memory_length(&mut self, index: MemoryIndex) -> Value {
        let def = self.memory_definition(index);
        let offset = self.offsets.memory_definition_current_length();
        self.load_memory_definition_field(def, offset)
    }

    /// Loads a pointer-sized field of memory definition `def` that may
    /// change (see `memory_definition_flags`).
    fn load_memory_definition_field(&mut self, def: Value, offset: u32) -> Value {
        let flags = self.memory_definition_flags();
        self.builder
            .ins()
            .load(self.pointer_type, flags, def, offset32(offset))
    }

    /// The pointer to table `index`'s `VmTableDefinition`.
    pub(crate) fn table_definition(&mut self, index: TableIndex) -> Value {
        let offset = self.offsets.vmctx_table(index.as_u32());
        self.load_vmctx_pure(self.pointer_type, offset)
    }

    /// The address of global `index`'s value: the base pointer and the offset
    /// to add to it.
    pub(crate) fn global_address(&mut self, index: GlobalIndex) -> (Value, u32) {
        match self.info.defined_global_index(index) {
            Some(defined) => (
                self.vmctx,
                self.offsets.vmctx_defined_global(defined.as_u32()),
            ),
            None => {
                let offset = self.offsets.vmctx_imported_global(index.as_u32());
                (self.load_vmctx_pure(self.pointer_type, offset), 0)
            }
        }
    }

    /// The engine-wide signature id of module type `index`.
    pub(crate) fn signature_id(&mut self, index: TypeIndex) -> Value {
        let ids = self.load_vmctx_pure(self.pointer_type, self.offsets.vmctx_type_ids());
        self.load_pure(ir::types::I32, ids, index.as_u32() * 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trap_has_a_distinct_code_that_round_trips() {
        let mut seen = std::collections::HashSet::new();
        for trap in Trap::ALL {
            let code = trap_code(trap);
            assert!(seen.insert(code), "{trap:?} shares a code");
            assert_eq!(trap_from_code(code), Some(trap));
        }
    }
}

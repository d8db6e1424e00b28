//! Calls: `call`, `call_indirect` and `call_ref`, and their tail-call
//! forms `return_call`, `return_call_indirect` and `return_call_ref`.
//!
//! Wasm functions use Cranelift's `tail` calling convention, in which the
//! callee pops its stack arguments, so a tail call reuses the caller's
//! frame whatever the two signatures: a chain of tail calls of any length
//! runs in constant stack space, between functions of one module, across
//! modules and into imports (host functions' trampolines share the
//! convention).
//!
//! Every wasm function takes `(callee_vmctx, caller_vmctx, params...)`.
//! A call to a function of this module is a direct, relocated call. A call to
//! an import goes through the import's `{wasm_call, vmctx}` pair in the
//! VMContext. `call_indirect` checks the index against the table size
//! ("undefined element"), the entry against null ("uninitialized element"),
//! and the entry's engine-wide signature id against the expected one ("indirect
//! call type mismatch"): one compare of two `u32`s.
//!
//! !!! The `call_indirect` checks guard the sandbox. Changes need a second
//! reviewer. !!!

use cranelift_codegen::ir::{self, InstBuilder, Value, condcodes::IntCC, types};

use super::{FuncTranslator, TResult};
use crate::abi::{Builtin, Trap};
use crate::indices::{FuncIndex, TableIndex, TypeIndex};

impl FuncTranslator<'_, '_> {
    fn push_call_results(&mut self, call: cranelift_codegen::ir::Inst) {
        let results = self.builder.inst_results(call).to_vec();
        self.stack.extend(results);
    }

    pub(crate) fn visit_call(&mut self, function_index: u32) -> TResult {
        self.call_function(function_index, CallKind::Call)
    }

    pub(crate) fn visit_return_call(&mut self, function_index: u32) -> TResult {
        self.call_function(function_index, CallKind::Tail)
    }

    pub(crate) fn visit_call_indirect(&mut self, type_index: u32, table_index: u32) -> TResult {
        self.call_table(type_index, table_index, CallKind::Call)
    }

    pub(crate) fn visit_return_call_indirect(
        &mut self,
        type_index: u32,
        table_index: u32,
    ) -> TResult {
        self.call_table(type_index, table_index, CallKind::Tail)
    }

    pub(crate) fn visit_call_ref(&mut self, type_index: u32) -> TResult {
        self.call_reference(type_index, CallKind::Call)
    }

    pub(crate) fn visit_return_call_ref(&mut self, type_index: u32) -> TResult {
        self.call_reference(type_index, CallKind::Tail)
    }

    /// `call_ref`: the validator has checked the reference's type, so only
    /// null is left to check.
    fn call_reference(&mut self, type_index: u32, kind: CallKind) -> TResult {
        self.note_loop_or_call();
        let ty = TypeIndex::from_u32(type_index);
        let func_ref = self.pop();
        let num_params = self.info.types[ty].func().params().len();
        let params = self.popn(num_params);
        self.trapz(func_ref, Trap::NullFunctionReference);
        self.call_func_ref(func_ref, ty, params, kind);
        Ok(())
    }

    /// Calls through `func_ref` (checked: not null, of type `ty`) with
    /// `params`: its code with its vmctx, and ours as the caller's.
    fn call_func_ref(
        &mut self,
        func_ref: Value,
        ty: TypeIndex,
        params: Vec<Value>,
        kind: CallKind,
    ) {
        let ptr = self.pointer_type;
        let code = self.load_trusted(ptr, func_ref, self.offsets.func_ref_wasm_call());
        let callee_vmctx = self.load_trusted(ptr, func_ref, self.offsets.func_ref_vmctx());
        let sig = self.signature_ref(ty);
        let mut args: Vec<Value> = Vec::with_capacity(params.len() + 2);
        args.push(callee_vmctx);
        args.push(self.vmctx);
        args.extend(params);
        self.emit_call(Callee::Indirect(sig, code), &args, kind);
    }

    /// Emits a call of `callee` (a direct reference, or a code pointer of
    /// signature `sig`) with `args`, pushing its results; or, as a tail
    /// call, replaces this function's frame with the callee's, after which
    /// the rest of the block is unreachable.
    pub(crate) fn emit_call(&mut self, callee: Callee, args: &[Value], kind: CallKind) {
        self.emit_call_that(callee, args, kind, true);
    }

    /// As [`emit_call`](Self::emit_call); a callee that cannot throw
    /// (`may_throw` false) is called plainly even inside a `try_table`.
    fn emit_call_that(&mut self, callee: Callee, args: &[Value], kind: CallKind, may_throw: bool) {
        match kind {
            CallKind::Call if may_throw && !self.handlers.is_empty() => {
                // Inside a try_table: exceptions land in its clauses.
                let sig = match callee {
                    Callee::Direct(func) => self.builder.func.dfg.ext_funcs[func].signature,
                    Callee::Indirect(sig, _) => sig,
                };
                let results: Vec<ir::Type> = self.builder.func.dfg.signatures[sig]
                    .returns
                    .iter()
                    .map(|r| r.value_type)
                    .collect();
                let normal = self.builder.create_block();
                for &ty in &results {
                    self.builder.append_block_param(normal, ty);
                }
                let table = self.exception_table(sig, normal, &results);
                match callee {
                    Callee::Direct(func) => self.builder.ins().try_call(func, args, table),
                    Callee::Indirect(_, code) => {
                        self.builder.ins().try_call_indirect(code, args, table)
                    }
                };
                self.builder.seal_block(normal);
                self.builder.switch_to_block(normal);
                let values = self.builder.block_params(normal).to_vec();
                self.stack.extend(values);
            }
            CallKind::Call => {
                let call = match callee {
                    Callee::Direct(func) => self.builder.ins().call(func, args),
                    Callee::Indirect(sig, code) => {
                        self.builder.ins().call_indirect(sig, code, args)
                    }
                };
                self.push_call_results(call);
            }
            CallKind::Tail => {
                // The store must hold the fuel count the callee starts from.
                self.fuel_before_return();
                match callee {
                    Callee::Direct(func) => self.builder.ins().return_call(func, args),
                    Callee::Indirect(sig, code) => {
                        self.builder.ins().return_call_indirect(sig, code, args)
                    }
                };
                self.reachable = false;
            }
        }
    }

    fn call_function(&mut self, function_index: u32, kind: CallKind) -> TResult {
        self.note_loop_or_call();
        let index = FuncIndex::from_u32(function_index);
        let ty = self.info.functions[index];
        let num_params = self.info.types[ty].func().params().len();
        let params = self.popn(num_params);
        let mut args = Vec::with_capacity(num_params + 2);
        let callee = if self.info.is_imported_func(index) {
            let sig = self.signature_ref(ty);
            let import = self.offsets.vmctx_function_import(index.as_u32());
            let vmctx = self.vmctx;
            let code = self.load_pure(
                self.pointer_type,
                vmctx,
                import + self.offsets.function_import_wasm_call(),
            );
            let callee_vmctx = self.load_pure(
                self.pointer_type,
                vmctx,
                import + self.offsets.function_import_vmctx(),
            );
            args.push(callee_vmctx);
            args.push(vmctx);
            args.extend(params);
            Callee::Indirect(sig, code)
        } else {
            let func = self.direct_func_ref(index);
            args.push(self.vmctx);
            args.push(self.vmctx);
            args.extend(params);
            Callee::Direct(func)
        };
        let may_throw = self.may_throw[index.as_u32() as usize];
        self.emit_call_that(callee, &args, kind, may_throw);
        Ok(())
    }

    fn call_table(&mut self, type_index: u32, table_index: u32, kind: CallKind) -> TResult {
        self.note_loop_or_call();
        let ty = TypeIndex::from_u32(type_index);
        let index = self.pop();
        let num_params = self.info.types[ty].func().params().len();
        let params = self.popn(num_params);

        let entry = self.table_element_address(
            TableIndex::from_u32(table_index),
            index,
            Trap::IndirectCallOutOfBounds,
        );
        let ptr = self.pointer_type;
        let func_ref = self.load_trusted(ptr, entry, 0);
        self.trapz(func_ref, Trap::IndirectCallToNull);
        let actual = self.load_trusted(types::I32, func_ref, self.offsets.func_ref_type_id());
        let expected = self.signature_id(ty);
        let mismatch = self.builder.ins().icmp(IntCC::NotEqual, actual, expected);
        if self.info.subtype_decl(ty).is_final {
            // No type can declare a final type its supertype.
            self.trapnz(mismatch, Trap::BadSignature);
        } else {
            // A function of a declared subtype is called too: the
            // registry walks `actual`'s supertypes (and traps if
            // `expected` is not among them).
            self.cold_path(mismatch, |tr| {
                tr.call_builtin(Builtin::func_subtype, &[actual, expected]);
            });
        }
        self.call_func_ref(func_ref, ty, params, kind);
        Ok(())
    }
}

/// Whether a call returns here or replaces the caller's frame.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    /// An ordinary call: its results are pushed.
    Call,
    /// A tail call (`return_call*`): the callee returns to our caller.
    Tail,
}

/// What a call calls.
pub(crate) enum Callee {
    /// A function of this module, by a relocated direct reference.
    Direct(ir::FuncRef),
    /// A code pointer, called with a signature.
    Indirect(ir::SigRef, Value),
}

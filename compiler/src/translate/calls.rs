//! Calls: `call` and `call_indirect`.
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

use cranelift_codegen::ir::{InstBuilder, Value, condcodes::IntCC, types};

use super::{FuncTranslator, TResult};
use crate::abi::Trap;
use crate::indices::{FuncIndex, TableIndex, TypeIndex};

impl FuncTranslator<'_, '_> {
    fn push_call_results(&mut self, call: cranelift_codegen::ir::Inst) {
        let results = self.builder.inst_results(call).to_vec();
        self.stack.extend(results);
    }

    pub(crate) fn visit_call(&mut self, function_index: u32) -> TResult {
        self.note_loop_or_call();
        let index = FuncIndex::from_u32(function_index);
        let ty = self.info.functions[index];
        let num_params = self.info.types[ty].params().len();
        let params = self.popn(num_params);
        let mut args = Vec::with_capacity(num_params + 2);
        let call = if self.info.is_imported_func(index) {
            let sig = self.signature_ref(ty);
            let import = self.offsets.vmctx_function_import(index.as_u32());
            let vmctx = self.vmctx;
            let callee = self.load_pure(
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
            self.builder.ins().call_indirect(sig, callee, &args)
        } else {
            let func = self.direct_func_ref(index);
            args.push(self.vmctx);
            args.push(self.vmctx);
            args.extend(params);
            self.builder.ins().call(func, &args)
        };
        self.push_call_results(call);
        Ok(())
    }

    pub(crate) fn visit_call_indirect(&mut self, type_index: u32, table_index: u32) -> TResult {
        self.note_loop_or_call();
        let ty = TypeIndex::from_u32(type_index);
        let index = self.pop();
        let num_params = self.info.types[ty].params().len();
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
        self.trapnz(mismatch, Trap::BadSignature);

        let callee = self.load_trusted(ptr, func_ref, self.offsets.func_ref_wasm_call());
        let callee_vmctx = self.load_trusted(ptr, func_ref, self.offsets.func_ref_vmctx());
        let sig = self.signature_ref(ty);
        let mut args: Vec<Value> = Vec::with_capacity(num_params + 2);
        args.push(callee_vmctx);
        args.push(self.vmctx);
        args.extend(params);
        let call = self.builder.ins().call_indirect(sig, callee, &args);
        self.push_call_results(call);
        Ok(())
    }
}

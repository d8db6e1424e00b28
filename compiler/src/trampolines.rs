//! Trampolines between the host's "array call" convention and wasm's native
//! convention, one pair shape per function type.
//!
//! ```text
//!  host ──array_to_wasm(callee_vmctx, caller_vmctx, wasm_call, values, len)──► wasm function
//!  wasm ──wasm_to_array(host_ctx, caller_vmctx, params...)──► host_ctx.func_ref.array_call(...)
//! ```
//!
//! In the array convention every argument and result takes one 16-byte slot
//! of `values` (see `VALUE_SLOT_BYTES`), so the runtime can call any function
//! without code generated per Rust signature. The wasm-to-array direction
//! stores its arguments on its own stack, calls the host function's array
//! entry, and turns a non-zero status into a `HostError` trap raised right
//! there, in compiled code: the error itself waits in the runtime's
//! per-thread state, and no Rust frame is ever unwound. The status
//! `HOST_THROWS` instead throws the wasm exception the host function
//! returned (in the first value slot) on into the calling wasm, through
//! the `throw` builtin.

use cranelift_codegen::ir::{
    self, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, UserFuncName,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use crate::abi::vmoffsets::VALUE_SLOT_BYTES;
use crate::abi::{Builtin, HOST_THROWS, Trap, VmOffsets};
use crate::translate::{
    array_call_signature, builtin_signature, ir_type, trap_code, wasm_signature,
};
use crate::types::FuncType;

fn value_slot(i: usize) -> i32 {
    i32::try_from(i).expect("function arity is bounded by wasmparser") * VALUE_SLOT_BYTES as i32
}

/// Builds the host-to-wasm trampoline for functions of type `ty` into `func`.
pub(crate) fn build_array_to_wasm(
    isa: &dyn TargetIsa,
    ty: &FuncType,
    func: &mut ir::Function,
    fctx: &mut FunctionBuilderContext,
) {
    let ptr = isa.pointer_type();
    func.signature = array_call_signature(ptr, isa);
    func.name = UserFuncName::default();
    let mut builder = FunctionBuilder::new(func, fctx);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let params = builder.block_params(entry).to_vec();
    let (callee_vmctx, caller_vmctx, wasm_call, values) =
        (params[0], params[1], params[2], params[3]);

    let mut args = vec![callee_vmctx, caller_vmctx];
    for (i, &p) in ty.params().iter().enumerate() {
        let v = builder.ins().load(
            ir_type(p, ptr),
            MemFlagsData::trusted(),
            values,
            value_slot(i),
        );
        args.push(v);
    }
    let sig = builder.import_signature(wasm_signature(ty, ptr));
    let call = builder.ins().call_indirect(sig, wasm_call, &args);
    let results = builder.inst_results(call).to_vec();
    for (i, r) in results.into_iter().enumerate() {
        builder
            .ins()
            .store(MemFlagsData::trusted(), r, values, value_slot(i));
    }
    let ok = builder.ins().iconst(ir::types::I32, 0);
    builder.ins().return_(&[ok]);
    builder.finalize(isa.frontend_config());
}

/// Builds the wasm-to-host trampoline for functions of type `ty` into `func`.
pub(crate) fn build_wasm_to_array(
    isa: &dyn TargetIsa,
    offsets: &VmOffsets,
    ty: &FuncType,
    func: &mut ir::Function,
    fctx: &mut FunctionBuilderContext,
) {
    let ptr = isa.pointer_type();
    func.signature = wasm_signature(ty, ptr);
    func.name = UserFuncName::default();
    let slots = ty.params().len().max(ty.results().len()).max(1);
    let mut builder = FunctionBuilder::new(func, fctx);
    let slot = builder.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        u32::try_from(slots).expect("bounded arity") * VALUE_SLOT_BYTES,
        4,
    ));
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let params = builder.block_params(entry).to_vec();
    let (host_ctx, caller_vmctx) = (params[0], params[1]);

    // Leave this frame's pointer where the GC collector starts its walk of
    // the caller's wasm frames, should the host collect.
    let fp = builder.ins().get_frame_pointer(ptr);
    let limits = builder.ins().load(
        ptr,
        MemFlagsData::trusted().with_readonly(),
        caller_vmctx,
        i32::try_from(offsets.vmctx_runtime_limits()).expect("small offset"),
    );
    builder.ins().store(
        MemFlagsData::trusted(),
        fp,
        limits,
        i32::try_from(offsets.runtime_limits_last_exit_fp()).expect("small offset"),
    );

    let values = builder.ins().stack_addr(ptr, slot, 0);
    for (i, &p) in params[2..].iter().enumerate() {
        builder
            .ins()
            .store(MemFlagsData::trusted(), p, values, value_slot(i));
    }
    let array_call_offset = offsets.host_func_func_ref() + offsets.func_ref_array_call();
    let array_call = builder.ins().load(
        ptr,
        MemFlagsData::trusted().with_readonly(),
        host_ctx,
        i32::try_from(array_call_offset).expect("small offset"),
    );
    let null = builder.ins().iconst(ptr, 0);
    let len = builder
        .ins()
        .iconst(ptr, i64::try_from(slots).expect("bounded arity"));
    let sig = builder.import_signature(array_call_signature(ptr, isa));
    let call = builder.ins().call_indirect(
        sig,
        array_call,
        &[host_ctx, caller_vmctx, null, values, len],
    );
    let status = builder.inst_results(call)[0];
    let failed = builder.create_block();
    let done = builder.create_block();
    builder.ins().brif(status, failed, &[], done, &[]);
    builder.seal_block(failed);
    builder.switch_to_block(failed);
    builder.set_cold_block(failed);
    // The host threw a wasm exception (in slot 0): throw it on from here,
    // so the unwinder starts in this frame. Any other status is an error
    // the runtime recorded.
    let throws =
        builder
            .ins()
            .icmp_imm_u(ir::condcodes::IntCC::Equal, status, i64::from(HOST_THROWS));
    builder.ins().trapz(throws, trap_code(Trap::HostError));
    let exn = builder
        .ins()
        .load(ptr, MemFlagsData::trusted(), values, value_slot(0));
    let table = builder.ins().load(
        ptr,
        MemFlagsData::trusted().with_readonly(),
        caller_vmctx,
        i32::try_from(offsets.vmctx_builtins()).expect("small offset"),
    );
    let slot = Builtin::throw.index() * offsets.pointer_size();
    let throw = builder.ins().load(
        ptr,
        MemFlagsData::trusted().with_readonly(),
        table,
        i32::try_from(slot).expect("small offset"),
    );
    let throw_sig = builder.import_signature(builtin_signature(Builtin::throw, ptr, isa));
    builder
        .ins()
        .call_indirect(throw_sig, throw, &[caller_vmctx, exn]);
    builder.ins().trap(trap_code(Trap::UnreachableCodeReached));
    builder.seal_block(done);
    builder.switch_to_block(done);
    let mut results = Vec::with_capacity(ty.results().len());
    for (i, &r) in ty.results().iter().enumerate() {
        let v = builder.ins().load(
            ir_type(r, ptr),
            MemFlagsData::trusted(),
            values,
            value_slot(i),
        );
        results.push(v);
    }
    builder.ins().return_(&results);
    builder.finalize(isa.frontend_config());
}

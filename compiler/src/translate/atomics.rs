//! The threads proposal's instructions: atomic loads, stores,
//! read-modify-writes and compare-exchanges of every width, `atomic.fence`,
//! and `memory.atomic.wait32`/`wait64`/`notify` (which call builtins).
//!
//! !!! Addresses here guard the sandbox. Changes need a second reviewer. !!!
//!
//! Every atomic access is sequentially consistent (the proposal's only
//! ordering) and must be naturally aligned: the effective address is
//! checked first and a misaligned one traps with [`Trap::HeapMisaligned`],
//! as wasmtime does, before the bounds check or the access. Linear
//! memories are page-aligned, so the native address's low bits are the
//! effective address's. Accesses then go through [`memory_address`] like
//! ordinary ones (guard pages or an explicit check); the waits and notify
//! hand a native address to the runtime, so theirs is always checked
//! explicitly, whatever the layout. A wait on an unshared memory traps
//! (nothing could ever notify it); a notify on one wakes no one. A wait
//! ends with [`Trap::Interrupt`] when the store's epoch deadline passes
//! (the runtime returns `WAIT_INTERRUPTED`), so deadlines bound waiting
//! guests too.
//!
//! [`memory_address`]: FuncTranslator::memory_address

use cranelift_codegen::ir::{self, AtomicRmwOp, InstBuilder, Value, condcodes::IntCC, types};
use wasmparser::MemArg;

use super::memory::memory_of;
use super::{FuncTranslator, TResult};
use crate::abi::{Builtin, Trap, WAIT_INTERRUPTED};

/// The integer type of an access of `bytes` bytes.
fn access_type(bytes: u32) -> ir::Type {
    match bytes {
        1 => types::I8,
        2 => types::I16,
        4 => types::I32,
        8 => types::I64,
        _ => unreachable!("no atomic access of {bytes} bytes"),
    }
}

impl FuncTranslator<'_, '_> {
    /// Traps with [`Trap::HeapMisaligned`] unless `index + offset` is a
    /// multiple of `bytes`.
    fn check_atomic_alignment(&mut self, index: Value, offset: u64, bytes: u32) {
        if bytes == 1 {
            return;
        }
        let mask = i64::from(bytes - 1);
        // Only the low bits matter, so the sum may wrap.
        let ea = self.builder.ins().iadd_imm_u(index, offset as i64 & mask);
        let misaligned = self.builder.ins().band_imm_u(ea, mask);
        self.trapnz(misaligned, Trap::HeapMisaligned);
    }

    /// The native address of an aligned atomic access of `bytes` at wasm
    /// address `index` plus `offset`, with the offset folded in (atomic
    /// instructions take none).
    fn atomic_address(&mut self, memarg: &MemArg, index: Value, bytes: u32) -> CompileAddr {
        let memory = memory_of(memarg)?;
        self.check_atomic_alignment(index, memarg.offset, bytes);
        let addr = self.memory_address(memory, index, memarg.offset, bytes);
        Ok(self.fold_offset(addr.address, addr.offset))
    }

    fn fold_offset(&mut self, address: Value, offset: i32) -> Value {
        if offset == 0 {
            address
        } else {
            self.builder.ins().iadd_imm_s(address, i64::from(offset))
        }
    }

    fn atomic_load(&mut self, memarg: MemArg, result: ir::Type, bytes: u32) -> TResult {
        let index = self.pop();
        let addr = self.atomic_address(&memarg, index, bytes)?;
        let flags = self.heap_flags();
        let access = access_type(bytes);
        let v = self.builder.ins().atomic_load(access, flags, addr);
        let v = self.widen_to(v, result);
        self.push(v);
        Ok(())
    }

    fn atomic_store(&mut self, memarg: MemArg, bytes: u32) -> TResult {
        let value = self.pop();
        let index = self.pop();
        let addr = self.atomic_address(&memarg, index, bytes)?;
        let value = self.narrow_to(value, access_type(bytes));
        let flags = self.heap_flags();
        self.builder.ins().atomic_store(flags, value, addr);
        Ok(())
    }

    fn atomic_rmw(
        &mut self,
        memarg: MemArg,
        result: ir::Type,
        bytes: u32,
        op: AtomicRmwOp,
    ) -> TResult {
        let value = self.pop();
        let index = self.pop();
        let addr = self.atomic_address(&memarg, index, bytes)?;
        let access = access_type(bytes);
        let value = self.narrow_to(value, access);
        let flags = self.heap_flags();
        let old = self
            .builder
            .ins()
            .atomic_rmw(access, flags, op, addr, value);
        let old = self.widen_to(old, result);
        self.push(old);
        Ok(())
    }

    fn atomic_cmpxchg(&mut self, memarg: MemArg, result: ir::Type, bytes: u32) -> TResult {
        let (index, expected, replacement) = self.pop3();
        let addr = self.atomic_address(&memarg, index, bytes)?;
        let access = access_type(bytes);
        let expected = self.narrow_to(expected, access);
        let replacement = self.narrow_to(replacement, access);
        let flags = self.heap_flags();
        let old = self
            .builder
            .ins()
            .atomic_cas(flags, addr, expected, replacement);
        let old = self.widen_to(old, result);
        self.push(old);
        Ok(())
    }

    /// `v` wrapped to `ty` (no-op when it already is).
    fn narrow_to(&mut self, v: Value, ty: ir::Type) -> Value {
        if self.builder.func.dfg.value_type(v) == ty {
            v
        } else {
            self.builder.ins().ireduce(ty, v)
        }
    }

    /// `v` zero-extended to `ty` (no-op when it already is).
    fn widen_to(&mut self, v: Value, ty: ir::Type) -> Value {
        if self.builder.func.dfg.value_type(v) == ty {
            v
        } else {
            self.builder.ins().uextend(ty, v)
        }
    }

    /// The native address for a wait or notify on `bytes` at `index` plus
    /// the memarg's offset: aligned, and checked against the memory's
    /// current length explicitly (the runtime reads it, not compiled code,
    /// so no guard page can catch it).
    fn wait_notify_address(&mut self, memarg: &MemArg, index: Value, bytes: u32) -> CompileAddr {
        let memory = memory_of(memarg)?;
        self.check_atomic_alignment(index, memarg.offset, bytes);
        let ty = self.info.memories[memory];
        let index = self.index_to_pointer(index);
        let length = self.memory_length(memory);
        let end = self.access_end(&ty, index, memarg.offset, bytes);
        let oob = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThan, end, length);
        self.trapnz(oob, Trap::MemoryOutOfBounds);
        let base = self.memory_base(memory);
        let start = self.builder.ins().iadd(base, index);
        Ok(self.builder.ins().iadd_imm_u(start, memarg.offset as i64))
    }

    fn is_shared(&self, memarg: &MemArg) -> crate::error::CompileResult<bool> {
        Ok(self.info.memories[memory_of(memarg)?].shared)
    }

    fn atomic_wait(&mut self, memarg: MemArg, bytes: u32) -> TResult {
        let (index, expected, timeout) = self.pop3();
        let addr = self.wait_notify_address(&memarg, index, bytes)?;
        if !self.is_shared(&memarg)? {
            self.trap(Trap::AtomicWaitNonSharedMemory);
            self.reachable = false;
            return Ok(());
        }
        let builtin = if bytes == 4 {
            Builtin::memory_atomic_wait32
        } else {
            Builtin::memory_atomic_wait64
        };
        let result = self
            .call_builtin(builtin, &[addr, expected, timeout])
            .expect("a wait returns a value");
        // The store's deadline passed while the thread waited.
        let interrupted =
            self.builder
                .ins()
                .icmp_imm_s(IntCC::Equal, result, i64::from(WAIT_INTERRUPTED));
        self.trapnz(interrupted, Trap::Interrupt);
        self.push(result);
        Ok(())
    }

    pub(crate) fn visit_memory_atomic_notify(&mut self, memarg: MemArg) -> TResult {
        let (index, count) = self.pop2();
        let addr = self.wait_notify_address(&memarg, index, 4)?;
        let woken = if self.is_shared(&memarg)? {
            self.call_builtin(Builtin::memory_atomic_notify, &[addr, count])
                .expect("notify returns a value")
        } else {
            // No thread can wait on an unshared memory.
            self.iconst32(0)
        };
        self.push(woken);
        Ok(())
    }
    pub(crate) fn visit_memory_atomic_wait32(&mut self, memarg: MemArg) -> TResult {
        self.atomic_wait(memarg, 4)
    }
    pub(crate) fn visit_memory_atomic_wait64(&mut self, memarg: MemArg) -> TResult {
        self.atomic_wait(memarg, 8)
    }
    pub(crate) fn visit_atomic_fence(&mut self, _ordering: wasmparser::Ordering) -> TResult {
        self.builder.ins().fence();
        Ok(())
    }
}

type CompileAddr = crate::error::CompileResult<Value>;

/// Defines `visit_*` methods that forward to one of the helpers above.
macro_rules! atomic_visitors {
    ($( $visit:ident => $helper:ident($($arg:expr),*); )*) => {
        impl FuncTranslator<'_, '_> {
            $(
                pub(crate) fn $visit(&mut self, memarg: MemArg) -> TResult {
                    self.$helper(memarg, $($arg),*)
                }
            )*
        }
    };
}

atomic_visitors! {
    visit_i32_atomic_load => atomic_load(types::I32, 4);
    visit_i64_atomic_load => atomic_load(types::I64, 8);
    visit_i32_atomic_load8_u => atomic_load(types::I32, 1);
    visit_i32_atomic_load16_u => atomic_load(types::I32, 2);
    visit_i64_atomic_load8_u => atomic_load(types::I64, 1);
    visit_i64_atomic_load16_u => atomic_load(types::I64, 2);
    visit_i64_atomic_load32_u => atomic_load(types::I64, 4);
    visit_i32_atomic_store => atomic_store(4);
    visit_i64_atomic_store => atomic_store(8);
    visit_i32_atomic_store8 => atomic_store(1);
    visit_i32_atomic_store16 => atomic_store(2);
    visit_i64_atomic_store8 => atomic_store(1);
    visit_i64_atomic_store16 => atomic_store(2);
    visit_i64_atomic_store32 => atomic_store(4);
    visit_i32_atomic_rmw_cmpxchg => atomic_cmpxchg(types::I32, 4);
    visit_i64_atomic_rmw_cmpxchg => atomic_cmpxchg(types::I64, 8);
    visit_i32_atomic_rmw8_cmpxchg_u => atomic_cmpxchg(types::I32, 1);
    visit_i32_atomic_rmw16_cmpxchg_u => atomic_cmpxchg(types::I32, 2);
    visit_i64_atomic_rmw8_cmpxchg_u => atomic_cmpxchg(types::I64, 1);
    visit_i64_atomic_rmw16_cmpxchg_u => atomic_cmpxchg(types::I64, 2);
    visit_i64_atomic_rmw32_cmpxchg_u => atomic_cmpxchg(types::I64, 4);
}

/// Defines the read-modify-write visitors of one operation in all widths.
macro_rules! rmw_visitors {
    ($( $op:ident: $i32:ident $i64:ident $i32_8:ident $i32_16:ident
        $i64_8:ident $i64_16:ident $i64_32:ident; )*) => {
        atomic_visitors! {
            $(
                $i32 => atomic_rmw(types::I32, 4, AtomicRmwOp::$op);
                $i64 => atomic_rmw(types::I64, 8, AtomicRmwOp::$op);
                $i32_8 => atomic_rmw(types::I32, 1, AtomicRmwOp::$op);
                $i32_16 => atomic_rmw(types::I32, 2, AtomicRmwOp::$op);
                $i64_8 => atomic_rmw(types::I64, 1, AtomicRmwOp::$op);
                $i64_16 => atomic_rmw(types::I64, 2, AtomicRmwOp::$op);
                $i64_32 => atomic_rmw(types::I64, 4, AtomicRmwOp::$op);
            )*
        }
    };
}

rmw_visitors! {
    Add: visit_i32_atomic_rmw_add visit_i64_atomic_rmw_add visit_i32_atomic_rmw8_add_u
        visit_i32_atomic_rmw16_add_u visit_i64_atomic_rmw8_add_u visit_i64_atomic_rmw16_add_u
        visit_i64_atomic_rmw32_add_u;
    Sub: visit_i32_atomic_rmw_sub visit_i64_atomic_rmw_sub visit_i32_atomic_rmw8_sub_u
        visit_i32_atomic_rmw16_sub_u visit_i64_atomic_rmw8_sub_u visit_i64_atomic_rmw16_sub_u
        visit_i64_atomic_rmw32_sub_u;
    And: visit_i32_atomic_rmw_and visit_i64_atomic_rmw_and visit_i32_atomic_rmw8_and_u
        visit_i32_atomic_rmw16_and_u visit_i64_atomic_rmw8_and_u visit_i64_atomic_rmw16_and_u
        visit_i64_atomic_rmw32_and_u;
    Or: visit_i32_atomic_rmw_or visit_i64_atomic_rmw_or visit_i32_atomic_rmw8_or_u
        visit_i32_atomic_rmw16_or_u visit_i64_atomic_rmw8_or_u visit_i64_atomic_rmw16_or_u
        visit_i64_atomic_rmw32_or_u;
    Xor: visit_i32_atomic_rmw_xor visit_i64_atomic_rmw_xor visit_i32_atomic_rmw8_xor_u
        visit_i32_atomic_rmw16_xor_u visit_i64_atomic_rmw8_xor_u visit_i64_atomic_rmw16_xor_u
        visit_i64_atomic_rmw32_xor_u;
    Xchg: visit_i32_atomic_rmw_xchg visit_i64_atomic_rmw_xchg visit_i32_atomic_rmw8_xchg_u
        visit_i32_atomic_rmw16_xchg_u visit_i64_atomic_rmw8_xchg_u visit_i64_atomic_rmw16_xchg_u
        visit_i64_atomic_rmw32_xchg_u;
}

//! Turning a wasm address into a native address, with a bounds check when
//! the guard region cannot catch the access.
//!
//! !!! This file guards the sandbox. Changes need a second reviewer. !!!
//!
//! Two regimes, chosen per access from the tunables (see
//! `Tunables::access_needs_no_check`):
//!
//! - **Guarded**: the memory's reservation plus guard covers every address
//!   `base + zext(index) + offset + size` can reach (index < 2^32). Anything
//!   beyond the current length is `PROT_NONE`, so an out-of-bounds access
//!   faults and the signal handler turns the fault into a trap (the load or
//!   store carries the heap trap code). No check is emitted.
//! - **Checked**: `zext(index) + offset + size > current_length` makes the
//!   access trap (see below for how). For 32-bit memories the sum is
//!   computed in 64 bits, where it cannot overflow (index < 2^32, offset <
//!   2^32, size <= 16). For
//!   64-bit memories (always checked: no reservation covers 2^64) each
//!   addition traps on unsigned overflow, since such an access is out of
//!   bounds whatever the memory's length.
//!
//! A checked access is also guarded against speculation (unless
//! `Tunables::spectre_guard` is off): out of bounds, its address is
//! replaced by null with `select_spectre_guard` (a conditional move, which
//! is not predicted), the offset folded in first. The access then faults
//! on the unmapped first page (Linux maps nothing below
//! `vm.mmap_min_addr`, 64 KiB by default, and the engine refuses to start
//! if that page is mapped), and the fault is the trap, as under guard
//! pages: the load or store carries the heap trap code. So there is no
//! branch to mispredict, and no access, speculative or not, reaches
//! another guest's or the host's memory. Without the guard, a conditional
//! trap precedes the access. (wasmtime does the same.)
//!
//! Why not wrap on 32 bits: the effective address of wasm is the infinite
//! precision sum index + offset (spec: memory instructions, "let ea be i +
//! memarg.offset"), so an access at index 0xffff_fff0 with offset 0x20 is out
//! of bounds, not a wrapped access at 0x10.
//! <https://webassembly.github.io/spec/core/exec/instructions.html#memory-instructions>

use cranelift_codegen::ir::{InstBuilder, Value, condcodes::IntCC, types};

use super::FuncTranslator;
use crate::abi::Trap;
use crate::indices::MemoryIndex;
use crate::types::MemoryType;

/// A native address and the immediate offset to use with it.
pub(crate) struct NativeAddress {
    pub(crate) address: Value,
    pub(crate) offset: i32,
}

impl FuncTranslator<'_, '_> {
    /// Computes the native address of an access of `access_bytes` bytes at
    /// wasm address `index` (an `i32`, or an `i64` for 64-bit memories) plus static `offset` in memory
    /// `memory`, emitting a bounds check if the guard region does not cover
    /// it.
    pub(crate) fn memory_address(
        &mut self,
        memory: MemoryIndex,
        index: Value,
        offset: u64,
        access_bytes: u32,
    ) -> NativeAddress {
        let ty = self.info.memories[memory];
        let ptr = self.pointer_type;
        let index = self.index_to_pointer(index);
        let mut checked = None;
        if !self
            .tunables
            .access_needs_no_check(&ty, offset, u64::from(access_bytes))
        {
            let length = self.memory_length(memory);
            let end = self.access_end(&ty, index, offset, access_bytes);
            let oob = self
                .builder
                .ins()
                .icmp(IntCC::UnsignedGreaterThan, end, length);
            // With the Spectre guard, the null address it substitutes is
            // itself the trap: the access faults there (see the module
            // documentation), so no branch is needed.
            if !self.tunables.spectre_guard {
                self.trapnz(oob, Trap::MemoryOutOfBounds);
            }
            checked = Some(oob);
        }
        debug_assert_eq!(self.builder.func.dfg.value_type(index), ptr);
        let base = self.memory_base(memory);
        let mut address = self.builder.ins().iadd(base, index);
        let mut offset = match i32::try_from(offset) {
            Ok(imm) => imm,
            Err(_) => {
                // Offsets of 64-bit memories may exceed `i64::MAX`; the
                // addition wraps as an unsigned one would, and the bounds
                // check above has already ruled out a real wrap.
                address = self.builder.ins().iadd_imm_u(address, offset as i64);
                0
            }
        };
        if let Some(oob) = checked.filter(|_| self.tunables.spectre_guard) {
            if offset != 0 {
                address = self.builder.ins().iadd_imm_u(address, i64::from(offset));
                offset = 0;
            }
            let null = self.builder.ins().iconst(ptr, 0);
            address = self.builder.ins().select_spectre_guard(oob, null, address);
        }
        NativeAddress { address, offset }
    }

    /// The end (exclusive) of an access of `access_bytes` at `index` (a
    /// pointer-sized value) plus `offset`, trapping when it does not fit
    /// the pointer: such an access is out of bounds whatever the length.
    pub(crate) fn access_end(
        &mut self,
        ty: &MemoryType,
        index: Value,
        offset: u64,
        access_bytes: u32,
    ) -> Value {
        let ptr = self.pointer_type;
        let oob = super::trap_code(Trap::MemoryOutOfBounds);
        let reach = offset.checked_add(u64::from(access_bytes));
        match reach {
            // A 32-bit index on a 64-bit host: cannot overflow, as index <
            // 2^32 and reach < 2^33.
            Some(reach) if !ty.memory64 && ptr == types::I64 => self
                .builder
                .ins()
                .iadd_imm_u(index, i64::try_from(reach).expect("reach < 2^33")),
            Some(reach) => {
                // Bits of an unsigned reach; the add checks for overflow.
                let reach = self.builder.ins().iconst(ptr, reach as i64);
                self.builder.ins().uadd_overflow_trap(index, reach, oob)
            }
            None => {
                // offset + size overflows 64 bits: add them one at a time.
                let offset = self.builder.ins().iconst(ptr, offset as i64);
                let start = self.builder.ins().uadd_overflow_trap(index, offset, oob);
                let size = self.builder.ins().iconst(ptr, i64::from(access_bytes));
                self.builder.ins().uadd_overflow_trap(start, size, oob)
            }
        }
    }

    /// Zero-extends an `i32` index (of a 32-bit memory or table) to the
    /// pointer type; `i64` indices of 64-bit ones already are.
    pub(crate) fn index_to_pointer(&mut self, index: Value) -> Value {
        let ptr = self.pointer_type;
        let ty = self.builder.func.dfg.value_type(index);
        if ty == ptr {
            index
        } else {
            assert!(ty.bits() < ptr.bits(), "64-bit indices need a 64-bit host");
            self.builder.ins().uextend(ptr, index)
        }
    }
}

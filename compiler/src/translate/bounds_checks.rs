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
//! - **Checked**: `zext(index) + offset + size > current_length` traps before
//!   the access. The sum is computed in 64 bits, where it cannot overflow
//!   (index < 2^32, offset < 2^32, size <= 16).
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

/// A native address and the immediate offset to use with it.
pub(crate) struct NativeAddress {
    pub(crate) address: Value,
    pub(crate) offset: i32,
}

impl FuncTranslator<'_, '_> {
    /// Computes the native address of an access of `access_bytes` bytes at
    /// wasm address `index` (an `i32`) plus static `offset` in memory
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
        let index = if ptr == types::I64 {
            self.builder.ins().uextend(types::I64, index)
        } else {
            index
        };
        if !self
            .tunables
            .access_needs_no_check(&ty, offset, u64::from(access_bytes))
        {
            let length = self.memory_length(memory);
            let reach = offset + u64::from(access_bytes);
            let end = if ptr == types::I64 {
                // Cannot overflow: index < 2^32 and reach < 2^33.
                self.builder
                    .ins()
                    .iadd_imm_u(index, i64::try_from(reach).expect("reach < 2^33"))
            } else {
                let reach = self.builder.ins().iconst(ptr, reach as i64);
                self.builder.ins().uadd_overflow_trap(
                    index,
                    reach,
                    super::trap_code(Trap::MemoryOutOfBounds),
                )
            };
            let oob = self
                .builder
                .ins()
                .icmp(IntCC::UnsignedGreaterThan, end, length);
            self.trapnz(oob, Trap::MemoryOutOfBounds);
        }
        let base = self.memory_base(memory);
        let mut address = self.builder.ins().iadd(base, index);
        let offset = match i32::try_from(offset) {
            Ok(imm) => imm,
            Err(_) => {
                let off = i64::try_from(offset).expect("wasm32 offsets fit in i64");
                address = self.builder.ins().iadd_imm_u(address, off);
                0
            }
        };
        NativeAddress { address, offset }
    }
}

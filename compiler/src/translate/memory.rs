//! Memory instructions: loads and stores of every width, `memory.size`,
//! `memory.grow`, and the bulk operations `memory.copy`/`fill`/`init` and
//! `data.drop` (which call builtins).
//!
//! Accesses are little-endian and may be unaligned; the alignment hint of a
//! `memarg` does not change semantics, so it is ignored.

use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, Value, types};
use wasmparser::{MemArg, MemArgTarget};

use super::{FuncTranslator, TResult};
use crate::abi::Builtin;
use crate::indices::MemoryIndex;

/// Alias-region ids, unique within a function (cljit does not inline).
const HEAP_REGION: u32 = 1;
const MEMORY_DEFINITIONS_REGION: u32 = 2;

impl FuncTranslator<'_, '_> {
    /// Flags for a guest memory access: may trap (out of bounds),
    /// little-endian, in the alias region of linear memories. Accesses to
    /// linear memory can only reach linear memory, so Cranelift may keep a
    /// value loaded from elsewhere (a memory's length, its base) across a
    /// guest store instead of treating the store as a fence.
    pub(crate) fn heap_flags(&mut self) -> MemFlagsData {
        let region = self.region(HEAP_REGION, "linear memories");
        MemFlagsData::new()
            .with_endianness(ir::Endianness::Little)
            .with_alias_region(Some(region))
    }

    /// Flags for reading a memory definition's fields that can change (the
    /// length; the base of a memory that may move): only the host writes
    /// them, during calls, which Cranelift treats as fences.
    pub(crate) fn memory_definition_flags(&mut self) -> MemFlagsData {
        let region = self.region(MEMORY_DEFINITIONS_REGION, "memory definitions");
        MemFlagsData::trusted().with_alias_region(Some(region))
    }

    fn region(&mut self, user_id: u32, description: &'static str) -> ir::AliasRegion {
        self.builder
            .func
            .dfg
            .alias_regions
            .insert(ir::AliasRegionData {
                user_id,
                description: description.into(),
            })
    }
}

/// The memory a `memarg` addresses; GC array accesses are not supported.
pub(crate) fn memory_of(memarg: &MemArg) -> crate::error::CompileResult<MemoryIndex> {
    match memarg.target {
        MemArgTarget::Memory(index) => Ok(MemoryIndex::from_u32(index)),
        MemArgTarget::Array(_) => Err(crate::error::unsupported(None, "GC array accesses")),
    }
}

/// How a load widens its value.
#[derive(Clone, Copy)]
enum Extend {
    None,
    Signed,
    Unsigned,
}

impl FuncTranslator<'_, '_> {
    fn load(&mut self, memarg: MemArg, result: ir::Type, bytes: u32, extend: Extend) -> TResult {
        let index = self.pop();
        let memory = memory_of(&memarg)?;
        let addr = self.memory_address(memory, index, memarg.offset, bytes);
        let flags = self.heap_flags();
        let (a, o) = (addr.address, addr.offset);
        let ins = self.builder.ins();
        let v = match (extend, bytes) {
            (Extend::None, _) => ins.load(result, flags, a, o),
            (Extend::Signed, 1) => ins.sload8(result, flags, a, o),
            (Extend::Unsigned, 1) => ins.uload8(result, flags, a, o),
            (Extend::Signed, 2) => ins.sload16(result, flags, a, o),
            (Extend::Unsigned, 2) => ins.uload16(result, flags, a, o),
            (Extend::Signed, 4) => ins.sload32(flags, a, o),
            (Extend::Unsigned, 4) => ins.uload32(flags, a, o),
            _ => unreachable!("no such load"),
        };
        self.push(v);
        Ok(())
    }

    fn store(&mut self, memarg: MemArg, bytes: u32) -> TResult {
        let value = self.pop();
        let index = self.pop();
        let memory = memory_of(&memarg)?;
        let addr = self.memory_address(memory, index, memarg.offset, bytes);
        let flags = self.heap_flags();
        let (a, o) = (addr.address, addr.offset);
        let value_bytes = self.builder.func.dfg.value_type(value).bytes();
        let ins = self.builder.ins();
        match bytes {
            b if b == value_bytes => ins.store(flags, value, a, o),
            1 => ins.istore8(flags, value, a, o),
            2 => ins.istore16(flags, value, a, o),
            4 => ins.istore32(flags, value, a, o),
            _ => unreachable!("no such store"),
        };
        Ok(())
    }

    pub(crate) fn visit_i32_load(&mut self, memarg: MemArg) -> TResult {
        self.load(memarg, types::I32, 4, Extend::None)
    }
    pub(crate) fn visit_i64_load(&mut self, memarg: MemArg) -> TResult {
        self.load(memarg, types::I64, 8, Extend::None)
    }
    pub(crate) fn visit_f32_load(&mut self, memarg: MemArg) -> TResult {
        self.load(memarg, types::F32, 4, Extend::None)
    }
    pub(crate) fn visit_f64_load(&mut self, memarg: MemArg) -> TResult {
        self.load(memarg, types::F64, 8, Extend::None)
    }
    pub(crate) fn visit_i32_load8_s(&mut self, memarg: MemArg) -> TResult {
        self.load(memarg, types::I32, 1, Extend::Signed)
    }
    pub(crate) fn visit_i32_load8_u(&mut self, memarg: MemArg) -> TResult {
        self.load(memarg, types::I32, 1, Extend::Unsigned)
    }
    pub(crate) fn visit_i32_load16_s(&mut self, memarg: MemArg) -> TResult {
        self.load(memarg, types::I32, 2, Extend::Signed)
    }
    pub(crate) fn visit_i32_load16_u(&mut self, memarg: MemArg) -> TResult {
        self.load(memarg, types::I32, 2, Extend::Unsigned)
    }
    pub(crate) fn visit_i64_load8_s(&mut self, memarg: MemArg) -> TResult {
        self.load(memarg, types::I64, 1, Extend::Signed)
    }
    pub(crate) fn visit_i64_load8_u(&mut self, memarg: MemArg) -> TResult {
        self.load(memarg, types::I64, 1, Extend::Unsigned)
    }
    pub(crate) fn visit_i64_load16_s(&mut self, memarg: MemArg) -> TResult {
        self.load(memarg, types::I64, 2, Extend::Signed)
    }
    pub(crate) fn visit_i64_load16_u(&mut self, memarg: MemArg) -> TResult {
        self.load(memarg, types::I64, 2, Extend::Unsigned)
    }
    pub(crate) fn visit_i64_load32_s(&mut self, memarg: MemArg) -> TResult {
        self.load(memarg, types::I64, 4, Extend::Signed)
    }
    pub(crate) fn visit_i64_load32_u(&mut self, memarg: MemArg) -> TResult {
        self.load(memarg, types::I64, 4, Extend::Unsigned)
    }

    pub(crate) fn visit_i32_store(&mut self, memarg: MemArg) -> TResult {
        self.store(memarg, 4)
    }
    pub(crate) fn visit_i64_store(&mut self, memarg: MemArg) -> TResult {
        self.store(memarg, 8)
    }
    pub(crate) fn visit_f32_store(&mut self, memarg: MemArg) -> TResult {
        self.store(memarg, 4)
    }
    pub(crate) fn visit_f64_store(&mut self, memarg: MemArg) -> TResult {
        self.store(memarg, 8)
    }
    pub(crate) fn visit_i32_store8(&mut self, memarg: MemArg) -> TResult {
        self.store(memarg, 1)
    }
    pub(crate) fn visit_i32_store16(&mut self, memarg: MemArg) -> TResult {
        self.store(memarg, 2)
    }
    pub(crate) fn visit_i64_store8(&mut self, memarg: MemArg) -> TResult {
        self.store(memarg, 1)
    }
    pub(crate) fn visit_i64_store16(&mut self, memarg: MemArg) -> TResult {
        self.store(memarg, 2)
    }
    pub(crate) fn visit_i64_store32(&mut self, memarg: MemArg) -> TResult {
        self.store(memarg, 4)
    }

    pub(crate) fn visit_memory_size(&mut self, mem: u32) -> TResult {
        let index = MemoryIndex::from_u32(mem);
        let ty = self.info.memories[index];
        let length = self.memory_length(index);
        let pages = self
            .builder
            .ins()
            .ushr_imm_u(length, i64::from(ty.page_size_log2));
        let pages = self.as_index_type(pages, ty.memory64);
        self.push(pages);
        Ok(())
    }

    pub(crate) fn visit_memory_grow(&mut self, mem: u32) -> TResult {
        let memory64 = self.info.memories[MemoryIndex::from_u32(mem)].memory64;
        let delta = self.pop();
        let delta = self.widen(delta);
        let mem = self.iconst32(mem);
        let old = self
            .call_builtin(Builtin::memory_grow, &[mem, delta])
            .expect("memory_grow returns a value");
        let old = self.grow_result(old, memory64);
        self.push(old);
        Ok(())
    }

    /// Widens an `i32` address or length to `i64` for the builtins; those of
    /// 64-bit memories and tables already are.
    pub(crate) fn widen(&mut self, v: Value) -> Value {
        if self.builder.func.dfg.value_type(v) == types::I64 {
            v
        } else {
            self.builder.ins().uextend(types::I64, v)
        }
    }

    /// A pointer-sized size or index as the index type of a memory or table:
    /// `i64` when 64-bit, `i32` otherwise.
    pub(crate) fn as_index_type(&mut self, v: Value, is64: bool) -> Value {
        if is64 { v } else { self.narrow_to_i32(v) }
    }

    /// Reduces a pointer-sized value to `i32`.
    pub(crate) fn narrow_to_i32(&mut self, v: Value) -> Value {
        if self.pointer_type == types::I32 {
            v
        } else {
            self.builder.ins().ireduce(types::I32, v)
        }
    }

    pub(crate) fn visit_memory_copy(&mut self, dst_mem: u32, src_mem: u32) -> TResult {
        let (dst, src, len) = self.pop3();
        let (dst, src, len) = (self.widen(dst), self.widen(src), self.widen(len));
        let dst_mem = self.iconst32(dst_mem);
        let src_mem = self.iconst32(src_mem);
        self.call_builtin(Builtin::memory_copy, &[dst_mem, dst, src_mem, src, len]);
        Ok(())
    }

    pub(crate) fn visit_memory_fill(&mut self, mem: u32) -> TResult {
        let (dst, value, len) = self.pop3();
        let (dst, len) = (self.widen(dst), self.widen(len));
        let mem = self.iconst32(mem);
        self.call_builtin(Builtin::memory_fill, &[mem, dst, value, len]);
        Ok(())
    }

    pub(crate) fn visit_memory_init(&mut self, data_index: u32, mem: u32) -> TResult {
        let (dst, src, len) = self.pop3();
        let dst = self.widen(dst);
        let mem = self.iconst32(mem);
        let data = self.iconst32(data_index);
        self.call_builtin(Builtin::memory_init, &[mem, data, dst, src, len]);
        Ok(())
    }

    pub(crate) fn visit_data_drop(&mut self, data_index: u32) -> TResult {
        let data = self.iconst32(data_index);
        self.call_builtin(Builtin::data_drop, &[data]);
        Ok(())
    }
}

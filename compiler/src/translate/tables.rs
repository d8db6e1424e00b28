//! Tables and references: `table.get`/`set`/`size`/`grow`/`fill`/`copy`/
//! `init`, `elem.drop`, `ref.null`, `ref.is_null`, `ref.as_non_null`,
//! `ref.func`.
//!
//! A table element is one pointer: a `*const VmFuncRef` for funcref tables,
//! an opaque host pointer for externref tables; null is zero. `get` and `set`
//! are inline with an explicit bounds check; the rest call builtins.
//!
//! !!! `table_element_address` guards the sandbox. Changes need a second
//! reviewer. !!!

use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, condcodes::IntCC, types};

use super::{FuncTranslator, TResult};
use crate::abi::{Builtin, Trap};
use crate::indices::TableIndex;

impl FuncTranslator<'_, '_> {
    /// The address of element `index` (an `i32`, or an `i64` for 64-bit
    /// tables) of table `table`, trapping
    /// with `trap` when `index` is not below the table's current size.
    pub(crate) fn table_element_address(
        &mut self,
        table: TableIndex,
        index: Value,
        trap: Trap,
    ) -> Value {
        let ptr = self.pointer_type;
        let def = self.table_definition(table);
        let length = self.load_trusted(ptr, def, self.offsets.table_definition_current_elements());
        let index = self.index_to_pointer(index);
        let oob = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, length);
        self.trapnz(oob, trap);
        let base = self.load_trusted(ptr, def, self.offsets.table_definition_base());
        let shift = self.offsets.size_of_table_element().trailing_zeros();
        let scaled = self.builder.ins().ishl_imm_u(index, i64::from(shift));
        self.builder.ins().iadd(base, scaled)
    }

    pub(crate) fn visit_table_get(&mut self, table: u32) -> TResult {
        let index = self.pop();
        let addr =
            self.table_element_address(TableIndex::from_u32(table), index, Trap::TableOutOfBounds);
        let v = self
            .builder
            .ins()
            .load(self.pointer_type, MemFlagsData::trusted(), addr, 0);
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_table_set(&mut self, table: u32) -> TResult {
        let (index, value) = self.pop2();
        let addr =
            self.table_element_address(TableIndex::from_u32(table), index, Trap::TableOutOfBounds);
        self.builder
            .ins()
            .store(MemFlagsData::trusted(), value, addr, 0);
        Ok(())
    }

    pub(crate) fn visit_table_size(&mut self, table: u32) -> TResult {
        let table = TableIndex::from_u32(table);
        let table64 = self.info.tables[table].table64;
        let def = self.table_definition(table);
        let length = self.load_trusted(
            self.pointer_type,
            def,
            self.offsets.table_definition_current_elements(),
        );
        let v = self.as_index_type(length, table64);
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_table_grow(&mut self, table: u32) -> TResult {
        let table64 = self.info.tables[TableIndex::from_u32(table)].table64;
        let (init, delta) = self.pop2();
        let delta = self.widen(delta);
        let table = self.iconst32(table);
        let old = self
            .call_builtin(Builtin::table_grow, &[table, delta, init])
            .expect("table_grow returns a value");
        let old = self.grow_result(old, table64);
        self.push(old);
        Ok(())
    }

    pub(crate) fn visit_table_fill(&mut self, table: u32) -> TResult {
        let (dst, value, len) = self.pop3();
        let (dst, len) = (self.widen(dst), self.widen(len));
        let table = self.iconst32(table);
        self.call_builtin(Builtin::table_fill, &[table, dst, value, len]);
        Ok(())
    }

    pub(crate) fn visit_table_copy(&mut self, dst_table: u32, src_table: u32) -> TResult {
        let (dst, src, len) = self.pop3();
        let (dst, src, len) = (self.widen(dst), self.widen(src), self.widen(len));
        let dst_table = self.iconst32(dst_table);
        let src_table = self.iconst32(src_table);
        self.call_builtin(Builtin::table_copy, &[dst_table, src_table, dst, src, len]);
        Ok(())
    }

    pub(crate) fn visit_table_init(&mut self, elem_index: u32, table: u32) -> TResult {
        let (dst, src, len) = self.pop3();
        let dst = self.widen(dst);
        let table = self.iconst32(table);
        let elem = self.iconst32(elem_index);
        self.call_builtin(Builtin::table_init, &[table, elem, dst, src, len]);
        Ok(())
    }

    pub(crate) fn visit_elem_drop(&mut self, elem_index: u32) -> TResult {
        let elem = self.iconst32(elem_index);
        self.call_builtin(Builtin::elem_drop, &[elem]);
        Ok(())
    }

    pub(crate) fn visit_ref_null(&mut self, hty: wasmparser::HeapType) -> TResult {
        let _ = hty;
        let v = self.builder.ins().iconst(self.pointer_type, 0);
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_ref_is_null(&mut self) -> TResult {
        let r = self.pop();
        let c = self.builder.ins().icmp_imm_u(IntCC::Equal, r, 0);
        let v = self.builder.ins().uextend(types::I32, c);
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_ref_as_non_null(&mut self) -> TResult {
        let r = self.pop();
        self.trapz(r, Trap::NullReference);
        self.push(r);
        Ok(())
    }

    pub(crate) fn visit_ref_func(&mut self, function_index: u32) -> TResult {
        let offset = self.offsets.vmctx_func_ref(function_index);
        let v = self.builder.ins().iadd_imm_u(self.vmctx, i64::from(offset));
        self.push(v);
        Ok(())
    }
}

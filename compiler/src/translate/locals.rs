//! Locals, globals and the parametric operators (`drop`, `select`).
//!
//! Locals are Cranelift variables (SSA construction is the frontend's job).
//! Globals live in the VMContext: defined ones inline, imported ones behind a
//! pointer (see `VmOffsets`). An immutable global is loaded with pure flags,
//! so repeated reads fold into one.

use cranelift_codegen::ir::{InstBuilder, MemFlagsData};

use super::env::{offset32, pure_flags};
use super::{FuncTranslator, TResult, ir_type};
use crate::error::unsupported;
use crate::indices::GlobalIndex;
use crate::types::ValType;

/// Flags for accessing a global: it cannot trap; an immutable one can be
/// read once and moved. A `v128` global's 16 bytes are only promised byte
/// alignment, so its accesses do not claim alignment (an aligned vector
/// access may be folded into an instruction that faults when misaligned).
fn global_flags(mutable: bool, ty: ValType) -> MemFlagsData {
    match (mutable, ty) {
        (true, ValType::V128) => MemFlagsData::new().with_notrap(),
        (false, ValType::V128) => MemFlagsData::new()
            .with_notrap()
            .with_readonly()
            .with_can_move(),
        (true, _) => MemFlagsData::trusted(),
        (false, _) => pure_flags(),
    }
}

impl FuncTranslator<'_, '_> {
    pub(crate) fn visit_local_get(&mut self, local_index: u32) -> TResult {
        let v = self.builder.use_var(self.locals[local_index as usize]);
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_local_set(&mut self, local_index: u32) -> TResult {
        let v = self.pop();
        self.builder.def_var(self.locals[local_index as usize], v);
        Ok(())
    }

    pub(crate) fn visit_local_tee(&mut self, local_index: u32) -> TResult {
        let v = *self.stack.last().expect("validated: tee of empty stack");
        self.builder.def_var(self.locals[local_index as usize], v);
        Ok(())
    }

    pub(crate) fn visit_global_get(&mut self, global_index: u32) -> TResult {
        let index = GlobalIndex::from_u32(global_index);
        let ty = self.info.globals[index];
        let (base, offset) = self.global_address(index);
        let flags = global_flags(ty.mutable, ty.content);
        let ir_ty = ir_type(ty.content, self.pointer_type);
        let v = self
            .builder
            .ins()
            .load(ir_ty, flags, base, offset32(offset));
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_global_set(&mut self, global_index: u32) -> TResult {
        let index = GlobalIndex::from_u32(global_index);
        let v = self.pop();
        let (base, offset) = self.global_address(index);
        let flags = global_flags(true, self.info.globals[index].content);
        self.builder.ins().store(flags, v, base, offset32(offset));
        Ok(())
    }

    pub(crate) fn visit_drop(&mut self) -> TResult {
        self.pop();
        Ok(())
    }

    pub(crate) fn visit_select(&mut self) -> TResult {
        let (a, b, cond) = self.pop3();
        let v = self.builder.ins().select(cond, a, b);
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_typed_select(&mut self, ty: wasmparser::ValType) -> TResult {
        let _ = ty;
        self.visit_select()
    }

    pub(crate) fn visit_typed_select_multi(&mut self, tys: Vec<wasmparser::ValType>) -> TResult {
        Err(unsupported(
            None,
            format!("select with {} result types", tys.len()),
        ))
    }
}

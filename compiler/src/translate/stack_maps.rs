//! Which values hold GC references, so that Cranelift keeps them where
//! the collector can find them.
//!
//! A value that may point into the GC heap (a reference of the `any` or
//! `extern` hierarchy) and is live across a call is spilled to a stack
//! slot at the call, and the call's stack map names the slot: the
//! collector reads exactly those slots of each wasm frame (see the
//! runtime's `gc/collect.rs`). Locals of such types are declared once;
//! every other value is declared when it appears on the operand stack,
//! typed by the validator, which runs in step with the translation.

use wasmparser::{
    AbstractHeapType, FuncValidator, HeapType, ValidatorResources, WasmModuleResources,
};

use super::{FuncTranslator, TResult};
use crate::module_info::ModuleInfo;
use crate::types::{self, ValType};

/// Whether any value of `info`'s functions may point into the GC heap: a
/// module that has struct or array types, or that can receive a
/// reference of the `any` or `extern` hierarchy (another module's object
/// as an `externref`, say) through a function type, a global or a table.
/// A module with none of those has no way to get one.
pub(crate) fn module_has_gc_values(info: &ModuleInfo) -> bool {
    info.types.values().any(|t| match t.as_func() {
        None => true,
        Some(f) => f
            .params()
            .iter()
            .chain(f.results())
            .any(|&v| may_point_into_heap(v)),
    }) || info
        .globals
        .values()
        .any(|g| may_point_into_heap(g.content))
        || info
            .tables
            .values()
            .any(|t| may_point_into_heap(ValType::Ref(t.element)))
}

/// Whether a value of type `ty` may point into the GC heap.
pub(crate) fn may_point_into_heap(ty: ValType) -> bool {
    matches!(ty, ValType::Ref(r) if matches!(r.heap.top(), types::HeapType::Any | types::HeapType::Extern))
}

impl FuncTranslator<'_, '_> {
    /// Declares the values the last operator left on the operand stack
    /// that may point into the GC heap as needing stack maps. Values
    /// below the first one already looked at were looked at before.
    ///
    /// # Errors
    ///
    /// If the operand stack is out of step with the validator's, which
    /// would leave references unrecorded: a compiler bug, refused rather
    /// than compiled unsafely.
    pub(crate) fn declare_gc_values(
        &mut self,
        validator: &FuncValidator<ValidatorResources>,
    ) -> TResult {
        if validator.operand_stack_height() as usize != self.stack.len() {
            return Err(crate::error::unsupported(
                None,
                "an operand stack out of step with the validator's (stack maps)",
            ));
        }
        for depth in 0..self.stack.len() {
            let value = self.stack[self.stack.len() - 1 - depth];
            if !self.stack_map_checked.insert(value) {
                break;
            }
            let Some(Some(wasmparser::ValType::Ref(r))) = validator.get_operand_type(depth) else {
                continue;
            };
            let top = validator.resources().top_type(&r.heap_type());
            if matches!(
                top,
                HeapType::Abstract {
                    ty: AbstractHeapType::Any | AbstractHeapType::Extern,
                    ..
                }
            ) {
                self.builder.declare_value_needs_stack_map(value);
            }
        }
        Ok(())
    }
}

//! The GC proposal's instructions on reference words (see `abi::gc` for
//! the word): `i31` references, `ref.eq`, the conversions between `any`
//! and `extern`, and the casts (`ref.test`, `ref.cast`, `br_on_cast`,
//! `br_on_cast_fail`).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Block, InstBuilder, MemFlagsData, Value, types};

use super::control::block_args;
use super::{FuncTranslator, TResult};
use crate::abi::Builtin;
use crate::abi::Trap;
use crate::abi::gc::{GcKind, HEADER_KIND_OFFSET, HEADER_TYPE_OFFSET, I31_TAG};
use crate::indices::TypeIndex;
use crate::module_info::ref_type;
use crate::types::{HeapType, RefType, TypeKind};

impl FuncTranslator<'_, '_> {
    pub(crate) fn visit_ref_i31(&mut self) -> TResult {
        let v = self.pop();
        let shifted = self.builder.ins().ishl_imm_u(v, 1);
        let tagged = self.builder.ins().bor_imm_u(shifted, I31_TAG);
        let word = self.builder.ins().uextend(self.pointer_type, tagged);
        self.push(word);
        Ok(())
    }

    pub(crate) fn visit_i31_get_s(&mut self) -> TResult {
        let low = self.i31_low_word();
        let v = self.builder.ins().sshr_imm_u(low, 1);
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_i31_get_u(&mut self) -> TResult {
        let low = self.i31_low_word();
        let v = self.builder.ins().ushr_imm_u(low, 1);
        self.push(v);
        Ok(())
    }

    /// Pops an `i31ref`, traps if it is null, and gives the low 32 bits of
    /// its word (the value shifted left by one, with the tag).
    fn i31_low_word(&mut self) -> Value {
        let r = self.pop();
        self.trapz(r, Trap::NullI31Reference);
        self.builder.ins().ireduce(types::I32, r)
    }

    pub(crate) fn visit_ref_eq(&mut self) -> TResult {
        // Objects are equal when they are the same object, `i31`s when
        // their values are (each value has one word), null when both are.
        let (a, b) = self.pop2();
        let eq = self.builder.ins().icmp(IntCC::Equal, a, b);
        let v = self.builder.ins().uextend(types::I32, eq);
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_any_convert_extern(&mut self) -> TResult {
        // The word stays as it is (see `abi::gc`).
        Ok(())
    }

    pub(crate) fn visit_extern_convert_any(&mut self) -> TResult {
        Ok(())
    }

    pub(crate) fn visit_ref_test_non_null(&mut self, hty: wasmparser::HeapType) -> TResult {
        self.ref_test(RefType::new(false, self.cast_heap_type(hty)))
    }

    pub(crate) fn visit_ref_test_nullable(&mut self, hty: wasmparser::HeapType) -> TResult {
        self.ref_test(RefType::new(true, self.cast_heap_type(hty)))
    }

    pub(crate) fn visit_ref_cast_non_null(&mut self, hty: wasmparser::HeapType) -> TResult {
        self.ref_cast(RefType::new(false, self.cast_heap_type(hty)))
    }

    pub(crate) fn visit_ref_cast_nullable(&mut self, hty: wasmparser::HeapType) -> TResult {
        self.ref_cast(RefType::new(true, self.cast_heap_type(hty)))
    }

    pub(crate) fn visit_br_on_cast(
        &mut self,
        relative_depth: u32,
        from_ref_type: wasmparser::RefType,
        to_ref_type: wasmparser::RefType,
    ) -> TResult {
        let _ = from_ref_type;
        self.br_on_cast(relative_depth, to_ref_type, true)
    }

    pub(crate) fn visit_br_on_cast_fail(
        &mut self,
        relative_depth: u32,
        from_ref_type: wasmparser::RefType,
        to_ref_type: wasmparser::RefType,
    ) -> TResult {
        let _ = from_ref_type;
        self.br_on_cast(relative_depth, to_ref_type, false)
    }

    /// Our form of a validated cast's heap type. Only shared types, which
    /// the validator refuses without shared-everything, fail to convert.
    fn cast_heap_type(&self, hty: wasmparser::HeapType) -> HeapType {
        crate::module_info::heap_type(hty, 0, &|i| self.info.type_kind(i)).unwrap_or(HeapType::None)
    }

    fn ref_test(&mut self, to: RefType) -> TResult {
        let r = self.pop();
        let ok = self.emit_ref_test(r, to);
        let v = self.builder.ins().uextend(types::I32, ok);
        self.push(v);
        Ok(())
    }

    fn ref_cast(&mut self, to: RefType) -> TResult {
        let r = self.pop();
        let ok = self.emit_ref_test(r, to);
        self.trapz(ok, Trap::CastFailure);
        self.push(r);
        Ok(())
    }

    /// `br_on_cast` (`on_success`) or `br_on_cast_fail`: branches with the
    /// reference when the cast succeeds (or fails), and otherwise goes on
    /// with it.
    fn br_on_cast(&mut self, depth: u32, to: wasmparser::RefType, on_success: bool) -> TResult {
        let to = ref_type(to, 0, &|i| self.info.type_kind(i))
            .unwrap_or(RefType::new(true, HeapType::None));
        let r = *self.stack.last().expect("validated: a reference to cast");
        let ok = self.emit_ref_test(r, to);
        // The reference is the last of the target's arguments.
        let (target, n) = self.branch_target(depth);
        let args = block_args(self.peekn(n));
        let next = self.builder.create_block();
        if on_success {
            self.builder.ins().brif(ok, target, &args, next, &[]);
        } else {
            self.builder.ins().brif(ok, next, &[], target, &args);
        }
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
        Ok(())
    }

    /// Whether reference word `r` is a value of type `to`, as an `i8`
    /// (1 or 0). `to`'s hierarchy is the reference's (validated), so the
    /// word is one of that hierarchy: a function reference, an exception,
    /// or (for `any` and `extern`) null, an `i31` or an object with a
    /// header (see `abi::gc`).
    fn emit_ref_test(&mut self, r: Value, to: RefType) -> Value {
        let is_null = self.builder.ins().icmp_imm_u(IntCC::Equal, r, 0);
        let heap = to.heap;
        if heap == heap.top() {
            // Every value but null.
            return if to.nullable {
                self.builder.ins().iconst(types::I8, 1)
            } else {
                self.builder.ins().icmp_imm_u(IntCC::NotEqual, r, 0)
            };
        }
        if heap == heap.bottom() {
            // Only null.
            return if to.nullable {
                is_null
            } else {
                self.builder.ins().iconst(types::I8, 0)
            };
        }
        if heap == HeapType::I31 {
            // Null's word has no tag either.
            let tag = self.builder.ins().band_imm_u(r, I31_TAG);
            let is_i31 = self.builder.ins().icmp_imm_u(IntCC::NotEqual, tag, 0);
            return if to.nullable {
                self.builder.ins().bor(is_i31, is_null)
            } else {
                is_i31
            };
        }
        // The rest reads the object: `eq`, `struct`, `array` and
        // concrete types.
        let done = self.builder.create_block();
        let ok = self.builder.append_block_param(done, types::I8);
        let non_null = self.builder.create_block();
        let null_result = self.builder.ins().iconst(types::I8, i64::from(to.nullable));
        self.builder
            .ins()
            .brif(is_null, done, &[null_result.into()], non_null, &[]);
        self.builder.seal_block(non_null);
        self.builder.switch_to_block(non_null);
        match heap {
            HeapType::Module(TypeKind::Func, index) => {
                let ty = TypeIndex::from_u32(index);
                let actual = self.load_trusted(types::I32, r, self.offsets.func_ref_type_id());
                self.type_id_is(actual, ty, done);
            }
            _ => {
                let object = self.builder.create_block();
                let tag = self.builder.ins().band_imm_u(r, I31_TAG);
                let i31_result = self
                    .builder
                    .ins()
                    .iconst(types::I8, i64::from(heap == HeapType::Eq));
                self.builder
                    .ins()
                    .brif(tag, done, &[i31_result.into()], object, &[]);
                self.builder.seal_block(object);
                self.builder.switch_to_block(object);
                if let HeapType::Module(_, index) = heap {
                    // A struct or array of the type or a declared
                    // subtype. (A host value's type id is no type's.)
                    let actual = self.builder.ins().load(
                        types::I32,
                        MemFlagsData::trusted().with_readonly(),
                        r,
                        HEADER_TYPE_OFFSET as i32,
                    );
                    self.type_id_is(actual, TypeIndex::from_u32(index), done);
                } else {
                    let kind = self.builder.ins().uload8(
                        types::I32,
                        // The kind never changes, but the load must stay
                        // behind the checks above.
                        MemFlagsData::trusted().with_readonly(),
                        r,
                        HEADER_KIND_OFFSET as i32,
                    );
                    let (cc, kind_wanted) = match heap {
                        HeapType::Eq => (IntCC::NotEqual, GcKind::Extern),
                        HeapType::Struct => (IntCC::Equal, GcKind::Struct),
                        _ => (IntCC::Equal, GcKind::Array),
                    };
                    let matched = self.builder.ins().icmp_imm_u(cc, kind, kind_wanted as i64);
                    self.builder.ins().jump(done, &[matched.into()]);
                }
            }
        }
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
        ok
    }

    /// Ends the current block by jumping to `done` with whether engine
    /// type id `actual` is module type `ty` or (for an open type) one of
    /// its declared subtypes.
    fn type_id_is(&mut self, actual: Value, ty: TypeIndex, done: Block) {
        let expected = self.signature_id(ty);
        let same = self.builder.ins().icmp(IntCC::Equal, actual, expected);
        if self.info.subtype_decl(ty).is_final {
            // No type can declare a final type its supertype.
            self.builder.ins().jump(done, &[same.into()]);
            return;
        }
        let slow = self.builder.create_block();
        self.builder.set_cold_block(slow);
        let yes = self.builder.ins().iconst(types::I8, 1);
        self.builder
            .ins()
            .brif(same, done, &[yes.into()], slow, &[]);
        self.builder.seal_block(slow);
        self.builder.switch_to_block(slow);
        let sub = self
            .call_builtin(Builtin::is_subtype, &[actual, expected])
            .expect("is_subtype returns a flag");
        let sub = self.builder.ins().icmp_imm_u(IntCC::NotEqual, sub, 0);
        self.builder.ins().jump(done, &[sub.into()]);
    }
}

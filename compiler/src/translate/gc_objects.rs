//! The GC proposal's struct and array instructions (see `abi::gc` for the
//! object layout). Field and element accesses, lengths, bounds checks and
//! fills are inline, and so is the allocation of a struct or fixed-size
//! array of up to [`INLINE_ALLOC_MAX_BYTES`]: a pop from the free list of
//! its size class, with a cold call to the runtime when the list is empty.
//! Other allocations and the segment instructions call builtins.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};

use super::{FuncTranslator, TResult, ir_type};
use crate::abi::gc::{
    ARRAY_DATA_OFFSET, ARRAY_LENGTH_OFFSET, FREE_NEXT_OFFSET, GcKind, HEADER_BYTES,
    INLINE_ALLOC_MAX_BYTES, array_bytes, inline_size_class, storage_bytes, struct_layout,
};
use crate::abi::{Builtin, Trap};
use crate::indices::TypeIndex;
use crate::types::{CompositeType, StorageType};

/// How a packed field is read: `struct.get` of a value type, or the `_s`
/// and `_u` forms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Extend {
    None,
    Signed,
    Unsigned,
}

/// Flags for an object's fields: never trapping (the object is checked
/// non-null, the index in bounds), and not movable past those checks.
fn field_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

impl FuncTranslator<'_, '_> {
    fn struct_fields(&self, ty: u32) -> (Vec<StorageType>, Vec<u32>) {
        let CompositeType::Struct(s) = &self.info.types[TypeIndex::from_u32(ty)] else {
            unreachable!("validated: a struct type");
        };
        let layout = struct_layout(s, self.offsets.pointer_size() as u8);
        (s.fields.iter().map(|f| f.storage).collect(), layout.offsets)
    }

    fn array_element(&self, ty: u32) -> (StorageType, u32) {
        let CompositeType::Array(a) = &self.info.types[TypeIndex::from_u32(ty)] else {
            unreachable!("validated: an array type");
        };
        let storage = a.element.storage;
        (
            storage,
            storage_bytes(storage, self.offsets.pointer_size() as u8),
        )
    }

    fn load_storage(
        &mut self,
        storage: StorageType,
        addr: Value,
        offset: u32,
        ext: Extend,
    ) -> Value {
        let offset = offset as i32;
        let ins = self.builder.ins();
        match (storage, ext) {
            (StorageType::I8, Extend::Signed) => {
                ins.sload8(types::I32, field_flags(), addr, offset)
            }
            (StorageType::I8, _) => ins.uload8(types::I32, field_flags(), addr, offset),
            (StorageType::I16, Extend::Signed) => {
                ins.sload16(types::I32, field_flags(), addr, offset)
            }
            (StorageType::I16, _) => ins.uload16(types::I32, field_flags(), addr, offset),
            (StorageType::Val(t), _) => {
                let ty = ir_type(t, self.pointer_type);
                self.builder.ins().load(ty, field_flags(), addr, offset)
            }
        }
    }

    fn store_storage(&mut self, storage: StorageType, value: Value, addr: Value, offset: u32) {
        let offset = offset as i32;
        let ins = self.builder.ins();
        match storage {
            StorageType::I8 => ins.istore8(field_flags(), value, addr, offset),
            StorageType::I16 => ins.istore16(field_flags(), value, addr, offset),
            StorageType::Val(_) => ins.store(field_flags(), value, addr, offset),
        };
    }

    /// Traps with `trap` if `object` is null.
    fn null_check(&mut self, object: Value, trap: Trap) {
        self.trapz(object, trap);
    }

    pub(crate) fn visit_struct_new(&mut self, struct_type_index: u32) -> TResult {
        let (fields, offsets) = self.struct_fields(struct_type_index);
        let values = self.popn(fields.len());
        let object = self.new_struct(struct_type_index, true);
        for ((&storage, &offset), value) in fields.iter().zip(&offsets).zip(values) {
            self.store_storage(storage, value, object, offset);
        }
        self.push(object);
        Ok(())
    }

    pub(crate) fn visit_struct_new_default(&mut self, struct_type_index: u32) -> TResult {
        // A new object is zeroed: every field is its default.
        let object = self.new_struct(struct_type_index, false);
        self.push(object);
        Ok(())
    }

    /// A new struct of type `ty`, zeroed but for the fields the caller
    /// will store when `stored` (`struct.new`; `struct.new_default` stores
    /// none).
    fn new_struct(&mut self, ty: u32, stored: bool) -> Value {
        let info = self.info;
        let CompositeType::Struct(s) = &info.types[TypeIndex::from_u32(ty)] else {
            unreachable!("validated: a struct type");
        };
        let pointer = self.offsets.pointer_size() as u8;
        let layout = struct_layout(s, pointer);
        let size = layout.size;
        let written: Vec<(u32, u32)> = if stored {
            let sizes = s.fields.iter().map(|f| storage_bytes(f.storage, pointer));
            layout.offsets.iter().copied().zip(sizes).collect()
        } else {
            Vec::new()
        };
        let id = self.signature_id(TypeIndex::from_u32(ty));
        self.alloc_object(id, size, GcKind::Struct, &written, |this, id| {
            let size = this.iconst32(size);
            this.call_builtin(Builtin::struct_new, &[id, size])
                .expect("struct_new returns the object")
        })
    }

    /// A new object of engine type `id` and `size` bytes, popped inline
    /// from the free list of its size class when it is small enough; its
    /// words are zeroed but for those the byte ranges `written` (offset,
    /// length) cover, which the caller stores. `slow` makes one through
    /// the runtime (zeroed, or null when the heap is full); it runs when
    /// the object is too large or its list is empty.
    fn alloc_object(
        &mut self,
        id: Value,
        size: u32,
        kind: GcKind,
        written: &[(u32, u32)],
        slow: impl FnOnce(&mut Self, Value) -> Value,
    ) -> Value {
        let Some(class) = inline_size_class(size) else {
            let object = slow(self, id);
            self.trapz(object, Trap::GcHeapOutOfMemory);
            return object;
        };
        let limits = self.runtime_limits();
        let heads = self.load_pure(
            self.pointer_type,
            limits,
            self.offsets.runtime_limits_gc_free(),
        );
        let head = class * self.offsets.pointer_size();
        let slot = self.load_trusted(self.pointer_type, heads, head);
        let fast = self.builder.create_block();
        let cold = self.builder.create_block();
        let done = self.builder.create_block();
        self.builder.set_cold_block(cold);
        let object = self.builder.append_block_param(done, self.pointer_type);
        self.builder.ins().brif(slot, fast, &[], cold, &[]);

        self.builder.seal_block(fast);
        self.builder.switch_to_block(fast);
        let next = self.load_trusted(self.pointer_type, slot, FREE_NEXT_OFFSET);
        self.builder
            .ins()
            .store(MemFlagsData::trusted(), next, heads, head as i32);
        // The header: the type id, then the kind byte; the mark byte
        // clear.
        let id64 = self.builder.ins().uextend(types::I64, id);
        let header = self
            .builder
            .ins()
            .bor_imm_u(id64, i64::from(kind as u8) << 32);
        self.builder
            .ins()
            .store(MemFlagsData::trusted(), header, slot, 0);
        let zero = self.builder.ins().iconst(types::I64, 0);
        for word in (HEADER_BYTES..size).step_by(8) {
            let covered = (word..word + 8).all(|byte| {
                written
                    .iter()
                    .any(|&(at, len)| (at..at + len).contains(&byte))
            });
            if !covered {
                self.builder
                    .ins()
                    .store(field_flags(), zero, slot, word as i32);
            }
        }
        self.builder.ins().jump(done, &[slot.into()]);

        self.builder.seal_block(cold);
        self.builder.switch_to_block(cold);
        let made = slow(self, id);
        self.trapz(made, Trap::GcHeapOutOfMemory);
        self.builder.ins().jump(done, &[made.into()]);

        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
        object
    }

    pub(crate) fn visit_struct_get(&mut self, struct_type_index: u32, field_index: u32) -> TResult {
        self.struct_get(struct_type_index, field_index, Extend::None)
    }

    pub(crate) fn visit_struct_get_s(
        &mut self,
        struct_type_index: u32,
        field_index: u32,
    ) -> TResult {
        self.struct_get(struct_type_index, field_index, Extend::Signed)
    }

    pub(crate) fn visit_struct_get_u(
        &mut self,
        struct_type_index: u32,
        field_index: u32,
    ) -> TResult {
        self.struct_get(struct_type_index, field_index, Extend::Unsigned)
    }

    fn struct_get(&mut self, ty: u32, field: u32, ext: Extend) -> TResult {
        let (fields, offsets) = self.struct_fields(ty);
        let object = self.pop();
        self.null_check(object, Trap::NullStructReference);
        let v = self.load_storage(fields[field as usize], object, offsets[field as usize], ext);
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_struct_set(&mut self, struct_type_index: u32, field_index: u32) -> TResult {
        let (fields, offsets) = self.struct_fields(struct_type_index);
        let (object, value) = self.pop2();
        self.null_check(object, Trap::NullStructReference);
        self.store_storage(
            fields[field_index as usize],
            value,
            object,
            offsets[field_index as usize],
        );
        Ok(())
    }

    /// A new zeroed array of `len` (`i32`) elements of type `ty`.
    fn new_array(&mut self, ty: u32, len: Value) -> Value {
        let (_, element_size) = self.array_element(ty);
        let id = self.signature_id(TypeIndex::from_u32(ty));
        let element_size = self.iconst32(element_size);
        let array = self
            .call_builtin(Builtin::array_new, &[id, element_size, len])
            .expect("array_new returns the array");
        self.trapz(array, Trap::GcHeapOutOfMemory);
        array
    }

    pub(crate) fn visit_array_new(&mut self, array_type_index: u32) -> TResult {
        let (value, len) = self.pop2();
        let array = self.new_array(array_type_index, len);
        let (storage, size) = self.array_element(array_type_index);
        let start = self.element_address(array, None, size);
        self.fill(start, len, size, storage, value);
        self.push(array);
        Ok(())
    }

    pub(crate) fn visit_array_new_default(&mut self, array_type_index: u32) -> TResult {
        let len = self.pop();
        let array = self.new_array(array_type_index, len);
        self.push(array);
        Ok(())
    }

    pub(crate) fn visit_array_new_fixed(
        &mut self,
        array_type_index: u32,
        array_size: u32,
    ) -> TResult {
        let values = self.popn(array_size as usize);
        let len = self.iconst32(array_size);
        let (storage, size) = self.array_element(array_type_index);
        let array = match array_bytes(size, array_size).filter(|&b| b <= INLINE_ALLOC_MAX_BYTES) {
            Some(bytes) => {
                let id = self.signature_id(TypeIndex::from_u32(array_type_index));
                let written = [
                    (ARRAY_LENGTH_OFFSET, 4),
                    (ARRAY_DATA_OFFSET, size * array_size),
                ];
                let array = self.alloc_object(id, bytes, GcKind::Array, &written, |this, id| {
                    let size = this.iconst32(size);
                    this.call_builtin(Builtin::array_new, &[id, size, len])
                        .expect("array_new returns the array")
                });
                self.builder
                    .ins()
                    .store(field_flags(), len, array, ARRAY_LENGTH_OFFSET as i32);
                array
            }
            None => self.new_array(array_type_index, len),
        };
        for (i, value) in (0u32..).zip(values) {
            self.store_storage(storage, value, array, ARRAY_DATA_OFFSET + i * size);
        }
        self.push(array);
        Ok(())
    }

    pub(crate) fn visit_array_new_data(
        &mut self,
        array_type_index: u32,
        array_data_index: u32,
    ) -> TResult {
        self.array_new_segment(
            array_type_index,
            array_data_index,
            Builtin::array_new_data,
            Trap::MemoryOutOfBounds,
        )
    }

    pub(crate) fn visit_array_new_elem(
        &mut self,
        array_type_index: u32,
        array_elem_index: u32,
    ) -> TResult {
        self.array_new_segment(
            array_type_index,
            array_elem_index,
            Builtin::array_new_elem,
            Trap::TableOutOfBounds,
        )
    }

    fn array_new_segment(
        &mut self,
        ty: u32,
        segment: u32,
        builtin: Builtin,
        out_of_bounds: Trap,
    ) -> TResult {
        let (src, len) = self.pop2();
        let ty = self.iconst32(ty);
        let segment = self.iconst32(segment);
        let array = self
            .call_builtin(builtin, &[ty, segment, src, len])
            .expect("the builtin returns the array");
        let short = self.builder.ins().icmp_imm_u(
            IntCC::Equal,
            array,
            crate::abi::ARRAY_NEW_OUT_OF_BOUNDS as i64,
        );
        self.trapnz(short, out_of_bounds);
        self.trapz(array, Trap::GcHeapOutOfMemory);
        self.push(array);
        Ok(())
    }

    /// The length of a non-null array, as an `i32`.
    fn array_len(&mut self, array: Value) -> Value {
        self.builder.ins().load(
            types::I32,
            MemFlagsData::trusted().with_readonly(),
            array,
            ARRAY_LENGTH_OFFSET as i32,
        )
    }

    /// The address of element `index` (an `i32`; `None`: the first) of
    /// `array`, of `size` bytes each.
    fn element_address(&mut self, array: Value, index: Option<Value>, size: u32) -> Value {
        let data = self
            .builder
            .ins()
            .iadd_imm_u(array, i64::from(ARRAY_DATA_OFFSET));
        let Some(index) = index else {
            return data;
        };
        let index = self.builder.ins().uextend(self.pointer_type, index);
        let scaled = self.builder.ins().imul_imm_u(index, i64::from(size));
        self.builder.ins().iadd(data, scaled)
    }

    /// Traps unless `array` is non-null and `index` lies within it.
    fn checked_element(&mut self, array: Value, index: Value, size: u32) -> Value {
        self.null_check(array, Trap::NullArrayReference);
        let len = self.array_len(array);
        let outside = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.trapnz(outside, Trap::ArrayOutOfBounds);
        self.element_address(array, Some(index), size)
    }

    /// Traps unless `array` is non-null and elements `start..start + n`
    /// (`i32`s) lie within it.
    fn check_range(&mut self, array: Value, start: Value, n: Value) {
        self.null_check(array, Trap::NullArrayReference);
        let len = self.array_len(array);
        let wide = |tr: &mut Self, v| tr.builder.ins().uextend(types::I64, v);
        let (start, n, len) = (wide(self, start), wide(self, n), wide(self, len));
        let end = self.builder.ins().iadd(start, n);
        let outside = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThan, end, len);
        self.trapnz(outside, Trap::ArrayOutOfBounds);
    }

    pub(crate) fn visit_array_get(&mut self, array_type_index: u32) -> TResult {
        self.array_get(array_type_index, Extend::None)
    }

    pub(crate) fn visit_array_get_s(&mut self, array_type_index: u32) -> TResult {
        self.array_get(array_type_index, Extend::Signed)
    }

    pub(crate) fn visit_array_get_u(&mut self, array_type_index: u32) -> TResult {
        self.array_get(array_type_index, Extend::Unsigned)
    }

    fn array_get(&mut self, ty: u32, ext: Extend) -> TResult {
        let (storage, size) = self.array_element(ty);
        let (array, index) = self.pop2();
        let addr = self.checked_element(array, index, size);
        let v = self.load_storage(storage, addr, 0, ext);
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_array_set(&mut self, array_type_index: u32) -> TResult {
        let (storage, size) = self.array_element(array_type_index);
        let (array, index, value) = self.pop3();
        let addr = self.checked_element(array, index, size);
        self.store_storage(storage, value, addr, 0);
        Ok(())
    }

    pub(crate) fn visit_array_len(&mut self) -> TResult {
        let array = self.pop();
        self.null_check(array, Trap::NullArrayReference);
        let len = self.array_len(array);
        self.push(len);
        Ok(())
    }

    pub(crate) fn visit_array_fill(&mut self, array_type_index: u32) -> TResult {
        let (storage, size) = self.array_element(array_type_index);
        let n = self.pop();
        let (array, start, value) = self.pop3();
        self.check_range(array, start, n);
        let at = self.element_address(array, Some(start), size);
        self.fill(at, n, size, storage, value);
        Ok(())
    }

    /// Stores `value` in `n` (an `i32`) consecutive elements of `size`
    /// bytes from address `start`.
    fn fill(&mut self, start: Value, n: Value, size: u32, storage: StorageType, value: Value) {
        let n = self.builder.ins().uextend(self.pointer_type, n);
        let bytes = self.builder.ins().imul_imm_u(n, i64::from(size));
        let end = self.builder.ins().iadd(start, bytes);
        let header = self.builder.create_block();
        let body = self.builder.create_block();
        let done = self.builder.create_block();
        let at = self.builder.append_block_param(header, self.pointer_type);
        self.builder.ins().jump(header, &[start.into()]);
        self.builder.switch_to_block(header);
        let finished = self.builder.ins().icmp(IntCC::Equal, at, end);
        self.builder.ins().brif(finished, done, &[], body, &[]);
        self.builder.switch_to_block(body);
        self.builder.seal_block(body);
        self.store_storage(storage, value, at, 0);
        let next = self.builder.ins().iadd_imm_u(at, i64::from(size));
        self.builder.ins().jump(header, &[next.into()]);
        self.builder.seal_block(header);
        self.builder.switch_to_block(done);
        self.builder.seal_block(done);
    }

    pub(crate) fn visit_array_copy(
        &mut self,
        array_type_index_dst: u32,
        array_type_index_src: u32,
    ) -> TResult {
        let _ = array_type_index_src;
        let (_, size) = self.array_element(array_type_index_dst);
        let n = self.pop();
        let (src, src_start) = self.pop2();
        let (dst, dst_start) = self.pop2();
        self.check_range(dst, dst_start, n);
        self.check_range(src, src_start, n);
        let to = self.element_address(dst, Some(dst_start), size);
        let from = self.element_address(src, Some(src_start), size);
        let n = self.builder.ins().uextend(types::I64, n);
        let bytes = self.builder.ins().imul_imm_u(n, i64::from(size));
        self.call_builtin(Builtin::gc_memmove, &[to, from, bytes]);
        Ok(())
    }

    pub(crate) fn visit_array_init_data(
        &mut self,
        array_type_index: u32,
        array_data_index: u32,
    ) -> TResult {
        let (dst, src, n) = self.pop3();
        let array = self.pop();
        self.check_range(array, dst, n);
        let ty = self.iconst32(array_type_index);
        let data = self.iconst32(array_data_index);
        self.call_builtin(Builtin::array_init_data, &[ty, array, data, dst, src, n]);
        Ok(())
    }

    pub(crate) fn visit_array_init_elem(
        &mut self,
        array_type_index: u32,
        array_elem_index: u32,
    ) -> TResult {
        let _ = array_type_index;
        let (dst, src, n) = self.pop3();
        let array = self.pop();
        self.check_range(array, dst, n);
        let elem = self.iconst32(array_elem_index);
        self.call_builtin(Builtin::array_init_elem, &[array, elem, dst, src, n]);
        Ok(())
    }
}

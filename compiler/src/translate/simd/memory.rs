//! Vector loads and stores: whole `v128`s, splat, zero-extending, widening
//! and single-lane accesses.
//!
//! Each access is bounds-checked (or guarded) for exactly the bytes it
//! touches: 16 for `v128.load`, 8 for `v128.load8x8_s`, the lane width for
//! splats and lane accesses. Accesses may be unaligned, like scalar ones.

use cranelift_codegen::ir::{InstBuilder, Type, Value, types};
use wasmparser::MemArg;

use super::super::memory::memory_of;
use super::super::{FuncTranslator, TResult};
use crate::error::CompileResult;

/// What a load does with the bytes it reads.
#[derive(Clone, Copy)]
enum VecLoad {
    /// Sixteen bytes, as they are.
    Whole,
    /// One lane of `ty`, copied to every lane.
    Splat(Type),
    /// One lane of `ty` into lane 0, the rest zero.
    Zero(Type),
    /// Eight bytes widened lane-wise to `ty` (signed or not).
    Extend(Type, bool),
}

impl FuncTranslator<'_, '_> {
    /// Pops the address operand of an access of `bytes` bytes and returns
    /// the native address and immediate offset.
    fn vec_address(&mut self, memarg: &MemArg, bytes: u32) -> CompileResult<(Value, i32)> {
        let index = self.pop();
        let memory = memory_of(memarg)?;
        let addr = self.memory_address(memory, index, memarg.offset, bytes);
        Ok((addr.address, addr.offset))
    }

    fn vec_load(&mut self, memarg: MemArg, kind: VecLoad) -> TResult {
        let bytes = match kind {
            VecLoad::Whole => 16,
            VecLoad::Splat(ty) | VecLoad::Zero(ty) => ty.lane_type().bytes(),
            VecLoad::Extend(..) => 8,
        };
        let (a, o) = self.vec_address(&memarg, bytes)?;
        let flags = self.heap_flags();
        let v = match kind {
            VecLoad::Whole => self.builder.ins().load(types::I8X16, flags, a, o),
            VecLoad::Splat(ty) => {
                let x = self.builder.ins().load(ty.lane_type(), flags, a, o);
                self.builder.ins().splat(ty, x)
            }
            VecLoad::Zero(ty) => {
                let x = self.builder.ins().load(ty.lane_type(), flags, a, o);
                self.builder.ins().scalar_to_vector(ty, x)
            }
            VecLoad::Extend(ty, signed) => {
                let ins = self.builder.ins();
                match (ty, signed) {
                    (types::I16X8, true) => ins.sload8x8(flags, a, o),
                    (types::I16X8, false) => ins.uload8x8(flags, a, o),
                    (types::I32X4, true) => ins.sload16x4(flags, a, o),
                    (types::I32X4, false) => ins.uload16x4(flags, a, o),
                    (types::I64X2, true) => ins.sload32x2(flags, a, o),
                    (types::I64X2, false) => ins.uload32x2(flags, a, o),
                    _ => unreachable!("no such extending load"),
                }
            }
        };
        self.push_vec(v);
        Ok(())
    }

    fn load_lane(&mut self, memarg: MemArg, ty: Type, lane: u8) -> TResult {
        let v = self.pop_vec(ty);
        let (a, o) = self.vec_address(&memarg, ty.lane_type().bytes())?;
        let flags = self.heap_flags();
        let x = self.builder.ins().load(ty.lane_type(), flags, a, o);
        let r = self.builder.ins().insertlane(v, x, lane);
        self.push_vec(r);
        Ok(())
    }

    fn store_lane(&mut self, memarg: MemArg, ty: Type, lane: u8) -> TResult {
        let v = self.pop_vec(ty);
        let (a, o) = self.vec_address(&memarg, ty.lane_type().bytes())?;
        let x = self.builder.ins().extractlane(v, lane);
        let flags = self.heap_flags();
        self.builder.ins().store(flags, x, a, o);
        Ok(())
    }

    pub(crate) fn visit_v128_load(&mut self, memarg: MemArg) -> TResult {
        self.vec_load(memarg, VecLoad::Whole)
    }
    pub(crate) fn visit_v128_load8x8_s(&mut self, memarg: MemArg) -> TResult {
        self.vec_load(memarg, VecLoad::Extend(types::I16X8, true))
    }
    pub(crate) fn visit_v128_load8x8_u(&mut self, memarg: MemArg) -> TResult {
        self.vec_load(memarg, VecLoad::Extend(types::I16X8, false))
    }
    pub(crate) fn visit_v128_load16x4_s(&mut self, memarg: MemArg) -> TResult {
        self.vec_load(memarg, VecLoad::Extend(types::I32X4, true))
    }
    pub(crate) fn visit_v128_load16x4_u(&mut self, memarg: MemArg) -> TResult {
        self.vec_load(memarg, VecLoad::Extend(types::I32X4, false))
    }
    pub(crate) fn visit_v128_load32x2_s(&mut self, memarg: MemArg) -> TResult {
        self.vec_load(memarg, VecLoad::Extend(types::I64X2, true))
    }
    pub(crate) fn visit_v128_load32x2_u(&mut self, memarg: MemArg) -> TResult {
        self.vec_load(memarg, VecLoad::Extend(types::I64X2, false))
    }
    pub(crate) fn visit_v128_load8_splat(&mut self, memarg: MemArg) -> TResult {
        self.vec_load(memarg, VecLoad::Splat(types::I8X16))
    }
    pub(crate) fn visit_v128_load16_splat(&mut self, memarg: MemArg) -> TResult {
        self.vec_load(memarg, VecLoad::Splat(types::I16X8))
    }
    pub(crate) fn visit_v128_load32_splat(&mut self, memarg: MemArg) -> TResult {
        self.vec_load(memarg, VecLoad::Splat(types::I32X4))
    }
    pub(crate) fn visit_v128_load64_splat(&mut self, memarg: MemArg) -> TResult {
        self.vec_load(memarg, VecLoad::Splat(types::I64X2))
    }
    pub(crate) fn visit_v128_load32_zero(&mut self, memarg: MemArg) -> TResult {
        self.vec_load(memarg, VecLoad::Zero(types::I32X4))
    }
    pub(crate) fn visit_v128_load64_zero(&mut self, memarg: MemArg) -> TResult {
        self.vec_load(memarg, VecLoad::Zero(types::I64X2))
    }

    pub(crate) fn visit_v128_store(&mut self, memarg: MemArg) -> TResult {
        let v = self.pop_vec(types::I8X16);
        let (a, o) = self.vec_address(&memarg, 16)?;
        let flags = self.heap_flags();
        self.builder.ins().store(flags, v, a, o);
        Ok(())
    }

    pub(crate) fn visit_v128_load8_lane(&mut self, memarg: MemArg, lane: u8) -> TResult {
        self.load_lane(memarg, types::I8X16, lane)
    }
    pub(crate) fn visit_v128_load16_lane(&mut self, memarg: MemArg, lane: u8) -> TResult {
        self.load_lane(memarg, types::I16X8, lane)
    }
    pub(crate) fn visit_v128_load32_lane(&mut self, memarg: MemArg, lane: u8) -> TResult {
        self.load_lane(memarg, types::I32X4, lane)
    }
    pub(crate) fn visit_v128_load64_lane(&mut self, memarg: MemArg, lane: u8) -> TResult {
        self.load_lane(memarg, types::I64X2, lane)
    }
    pub(crate) fn visit_v128_store8_lane(&mut self, memarg: MemArg, lane: u8) -> TResult {
        self.store_lane(memarg, types::I8X16, lane)
    }
    pub(crate) fn visit_v128_store16_lane(&mut self, memarg: MemArg, lane: u8) -> TResult {
        self.store_lane(memarg, types::I16X8, lane)
    }
    pub(crate) fn visit_v128_store32_lane(&mut self, memarg: MemArg, lane: u8) -> TResult {
        self.store_lane(memarg, types::I32X4, lane)
    }
    pub(crate) fn visit_v128_store64_lane(&mut self, memarg: MemArg, lane: u8) -> TResult {
        self.store_lane(memarg, types::I64X2, lane)
    }
}

//! Vector constants, shuffles, swizzles, splats and lane access.

use cranelift_codegen::ir::{InstBuilder, Type, types};
use wasmparser::V128;

use super::super::{FuncTranslator, TResult};

impl FuncTranslator<'_, '_> {
    pub(crate) fn visit_v128_const(&mut self, value: V128) -> TResult {
        let v = self.vconst(types::I8X16, *value.bytes());
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_i8x16_shuffle(&mut self, lanes: [u8; 16]) -> TResult {
        // Validation guarantees every lane index is below 32, the range
        // Cranelift's `shuffle` takes (0-15 pick from `a`, 16-31 from `b`).
        let (a, b) = self.pop2_vec(types::I8X16);
        let mask = self.builder.func.dfg.immediates.push(lanes.to_vec().into());
        let v = self.builder.ins().shuffle(a, b, mask);
        self.push_vec(v);
        Ok(())
    }

    pub(crate) fn visit_i8x16_swizzle(&mut self) -> TResult {
        // `swizzle` zeroes lanes whose index is 16 or more, as wasm does.
        let (a, s) = self.pop2_vec(types::I8X16);
        let v = self.builder.ins().swizzle(a, s);
        self.push_vec(v);
        Ok(())
    }

    /// `splat` of a scalar operand; an `i32` operand of an 8- or 16-bit lane
    /// is truncated to the lane first.
    fn splat(&mut self, ty: Type) -> TResult {
        let mut x = self.pop();
        let lane = ty.lane_type();
        if self.builder.func.dfg.value_type(x) != lane {
            x = self.builder.ins().ireduce(lane, x);
        }
        let v = self.builder.ins().splat(ty, x);
        self.push_vec(v);
        Ok(())
    }

    pub(crate) fn visit_i8x16_splat(&mut self) -> TResult {
        self.splat(types::I8X16)
    }
    pub(crate) fn visit_i16x8_splat(&mut self) -> TResult {
        self.splat(types::I16X8)
    }
    pub(crate) fn visit_i32x4_splat(&mut self) -> TResult {
        self.splat(types::I32X4)
    }
    pub(crate) fn visit_i64x2_splat(&mut self) -> TResult {
        self.splat(types::I64X2)
    }
    pub(crate) fn visit_f32x4_splat(&mut self) -> TResult {
        self.splat(types::F32X4)
    }
    pub(crate) fn visit_f64x2_splat(&mut self) -> TResult {
        self.splat(types::F64X2)
    }
}

/// How an extracted lane narrower than `i32` becomes an `i32`.
#[derive(Clone, Copy)]
enum Widen {
    None,
    Signed,
    Unsigned,
}

impl FuncTranslator<'_, '_> {
    fn extract_lane(&mut self, ty: Type, lane: u8, widen: Widen) -> TResult {
        let v = self.pop_vec(ty);
        let x = self.builder.ins().extractlane(v, lane);
        let x = match widen {
            Widen::None => x,
            Widen::Signed => self.builder.ins().sextend(types::I32, x),
            Widen::Unsigned => self.builder.ins().uextend(types::I32, x),
        };
        self.push(x);
        Ok(())
    }

    fn replace_lane(&mut self, ty: Type, lane: u8) -> TResult {
        let mut x = self.pop();
        let v = self.pop_vec(ty);
        let lane_ty = ty.lane_type();
        if self.builder.func.dfg.value_type(x) != lane_ty {
            x = self.builder.ins().ireduce(lane_ty, x);
        }
        let r = self.builder.ins().insertlane(v, x, lane);
        self.push_vec(r);
        Ok(())
    }

    pub(crate) fn visit_i8x16_extract_lane_s(&mut self, lane: u8) -> TResult {
        self.extract_lane(types::I8X16, lane, Widen::Signed)
    }
    pub(crate) fn visit_i8x16_extract_lane_u(&mut self, lane: u8) -> TResult {
        self.extract_lane(types::I8X16, lane, Widen::Unsigned)
    }
    pub(crate) fn visit_i16x8_extract_lane_s(&mut self, lane: u8) -> TResult {
        self.extract_lane(types::I16X8, lane, Widen::Signed)
    }
    pub(crate) fn visit_i16x8_extract_lane_u(&mut self, lane: u8) -> TResult {
        self.extract_lane(types::I16X8, lane, Widen::Unsigned)
    }
    pub(crate) fn visit_i32x4_extract_lane(&mut self, lane: u8) -> TResult {
        self.extract_lane(types::I32X4, lane, Widen::None)
    }
    pub(crate) fn visit_i64x2_extract_lane(&mut self, lane: u8) -> TResult {
        self.extract_lane(types::I64X2, lane, Widen::None)
    }
    pub(crate) fn visit_f32x4_extract_lane(&mut self, lane: u8) -> TResult {
        self.extract_lane(types::F32X4, lane, Widen::None)
    }
    pub(crate) fn visit_f64x2_extract_lane(&mut self, lane: u8) -> TResult {
        self.extract_lane(types::F64X2, lane, Widen::None)
    }

    pub(crate) fn visit_i8x16_replace_lane(&mut self, lane: u8) -> TResult {
        self.replace_lane(types::I8X16, lane)
    }
    pub(crate) fn visit_i16x8_replace_lane(&mut self, lane: u8) -> TResult {
        self.replace_lane(types::I16X8, lane)
    }
    pub(crate) fn visit_i32x4_replace_lane(&mut self, lane: u8) -> TResult {
        self.replace_lane(types::I32X4, lane)
    }
    pub(crate) fn visit_i64x2_replace_lane(&mut self, lane: u8) -> TResult {
        self.replace_lane(types::I64X2, lane)
    }
    pub(crate) fn visit_f32x4_replace_lane(&mut self, lane: u8) -> TResult {
        self.replace_lane(types::F32X4, lane)
    }
    pub(crate) fn visit_f64x2_replace_lane(&mut self, lane: u8) -> TResult {
        self.replace_lane(types::F64X2, lane)
    }
}

//! Relaxed SIMD: operators whose result the spec lets depend on the
//! hardware, so that each can be one native instruction.
//! <https://github.com/WebAssembly/relaxed-simd/blob/main/proposals/relaxed-simd/Overview.md>
//!
//! The choice is made at compile time from the target and its CPU features,
//! so one compiled module gives the same answer on every run (and the
//! features are recorded in the compiled module). With
//! `Tunables::relaxed_simd_deterministic` every operator takes the
//! "deterministic" column, which is the same on every machine.
//!
//! | operator                               | x86-64                                     | deterministic (also aarch64)           |
//! |----------------------------------------|--------------------------------------------|----------------------------------------|
//! | `i8x16.relaxed_swizzle`                | `pshufb` (SSSE3): index >= 128 gives 0, else lane `index % 16` | `i8x16.swizzle`                        |
//! | `i32x4.relaxed_trunc_f32x4_s`          | `cvttps2dq`: NaN and out of range give `i32::MIN` | `i32x4.trunc_sat_f32x4_s`              |
//! | `i32x4.relaxed_trunc_f32x4_u`          | `i32x4.trunc_sat_f32x4_u`                  | `i32x4.trunc_sat_f32x4_u`              |
//! | `i32x4.relaxed_trunc_f64x2_s_zero`     | `cvttpd2dq`: NaN and out of range give `i32::MIN` | `i32x4.trunc_sat_f64x2_s_zero`         |
//! | `i32x4.relaxed_trunc_f64x2_u_zero`     | `i32x4.trunc_sat_f64x2_u_zero`             | `i32x4.trunc_sat_f64x2_u_zero`         |
//! | `f32x4`/`f64x2` `.relaxed_madd`/`nmadd`| fused (`vfmadd`) with FMA, else multiply then add (two roundings) | fused multiply-add                     |
//! | `i8x16`/`i32x4`/`i64x2` `.relaxed_laneselect` | `pblendvb`/`blendvps`/`blendvpd` (SSE4.1): top bit of each mask lane | `v128.bitselect`                       |
//! | `i16x8.relaxed_laneselect`             | `v128.bitselect`                           | `v128.bitselect`                       |
//! | `f32x4`/`f64x2` `.relaxed_min`/`max`   | `minps`/`maxps` (the `pmin`/`pmax` forms)  | `min`/`max`                            |
//! | `i16x8.relaxed_q15mulr_s`              | `pmulhrsw` (SSSE3): `MIN * MIN` gives `i16::MIN` | `i16x8.q15mulr_sat_s`                  |
//! | `i16x8.relaxed_dot_i8x16_i7x16_s`      | `pmaddubsw` (SSSE3): second operand unsigned, pair sums saturate | signed dot product, exact              |
//! | `i32x4.relaxed_dot_i8x16_i7x16_add_s`  | `pmaddubsw`, then pairwise add and add     | signed dot product, exact, then add    |
//!
//! Where an x86-64 feature is missing, the deterministic form is used.

use cranelift_codegen::ir::{InstBuilder, Type, types};

use super::super::{FuncTranslator, TResult};

impl FuncTranslator<'_, '_> {
    /// Whether relaxed operators take the x86-64 native forms.
    fn relaxed_x86(&self) -> bool {
        !self.tunables.relaxed_simd_deterministic && self.isa.name() == "x64"
    }

    pub(crate) fn visit_i8x16_relaxed_swizzle(&mut self) -> TResult {
        let (a, s) = self.pop2_vec(types::I8X16);
        let r = if self.relaxed_x86() && self.isa.has_x86_pshufb_lowering() {
            self.builder.ins().x86_pshufb(a, s)
        } else {
            self.builder.ins().swizzle(a, s)
        };
        self.push_vec(r);
        Ok(())
    }

    pub(crate) fn visit_i32x4_relaxed_trunc_f32x4_s(&mut self) -> TResult {
        if !self.relaxed_x86() {
            return self.visit_i32x4_trunc_sat_f32x4_s();
        }
        let v = self.pop_vec(types::F32X4);
        let r = self.builder.ins().x86_cvtt2dq(types::I32X4, v);
        self.push_vec(r);
        Ok(())
    }

    pub(crate) fn visit_i32x4_relaxed_trunc_f32x4_u(&mut self) -> TResult {
        self.visit_i32x4_trunc_sat_f32x4_u()
    }

    pub(crate) fn visit_i32x4_relaxed_trunc_f64x2_s_zero(&mut self) -> TResult {
        if !self.relaxed_x86() {
            return self.visit_i32x4_trunc_sat_f64x2_s_zero();
        }
        // The backend turns this exact shape into one `cvttpd2dq`.
        let v = self.pop_vec(types::F64X2);
        let c = self.builder.ins().x86_cvtt2dq(types::I64X2, v);
        let r = self.narrow_to_i32x4_zero(c, true);
        self.push_vec(r);
        Ok(())
    }

    pub(crate) fn visit_i32x4_relaxed_trunc_f64x2_u_zero(&mut self) -> TResult {
        self.visit_i32x4_trunc_sat_f64x2_u_zero()
    }

    /// `a * b + c`, negating `a` first for `nmadd`.
    fn relaxed_madd(&mut self, ty: Type, negate: bool) -> TResult {
        let (mut a, b, c) = self.pop3_vec(ty);
        if negate {
            a = self.builder.ins().fneg(a);
        }
        let fused = self.tunables.relaxed_simd_deterministic || self.isa.has_native_fma();
        let r = if fused {
            self.builder.ins().fma(a, b, c)
        } else {
            let m = self.builder.ins().fmul(a, b);
            self.builder.ins().fadd(m, c)
        };
        self.push_vec(r);
        Ok(())
    }

    pub(crate) fn visit_f32x4_relaxed_madd(&mut self) -> TResult {
        self.relaxed_madd(types::F32X4, false)
    }
    pub(crate) fn visit_f32x4_relaxed_nmadd(&mut self) -> TResult {
        self.relaxed_madd(types::F32X4, true)
    }
    pub(crate) fn visit_f64x2_relaxed_madd(&mut self) -> TResult {
        self.relaxed_madd(types::F64X2, false)
    }
    pub(crate) fn visit_f64x2_relaxed_nmadd(&mut self) -> TResult {
        self.relaxed_madd(types::F64X2, true)
    }

    /// wasm `(a, b, mask)`: lanes of `a` where the mask is set, else `b`.
    fn relaxed_laneselect(&mut self, ty: Type) -> TResult {
        let (a, b, mask) = self.pop3_vec(ty);
        let r = if self.relaxed_x86() && self.isa.has_blendv_lowering(ty) {
            self.builder.ins().blendv(mask, a, b)
        } else {
            self.builder.ins().bitselect(mask, a, b)
        };
        self.push_vec(r);
        Ok(())
    }

    pub(crate) fn visit_i8x16_relaxed_laneselect(&mut self) -> TResult {
        self.relaxed_laneselect(types::I8X16)
    }
    pub(crate) fn visit_i16x8_relaxed_laneselect(&mut self) -> TResult {
        self.relaxed_laneselect(types::I16X8)
    }
    pub(crate) fn visit_i32x4_relaxed_laneselect(&mut self) -> TResult {
        self.relaxed_laneselect(types::I32X4)
    }
    pub(crate) fn visit_i64x2_relaxed_laneselect(&mut self) -> TResult {
        self.relaxed_laneselect(types::I64X2)
    }

    fn relaxed_min_max(&mut self, ty: Type, max: bool) -> TResult {
        if self.relaxed_x86() {
            return self.pseudo_min_max(ty, max);
        }
        let (a, b) = self.pop2_vec(ty);
        let r = if max {
            self.builder.ins().fmax(a, b)
        } else {
            self.builder.ins().fmin(a, b)
        };
        self.push_vec(r);
        Ok(())
    }

    pub(crate) fn visit_f32x4_relaxed_min(&mut self) -> TResult {
        self.relaxed_min_max(types::F32X4, false)
    }
    pub(crate) fn visit_f32x4_relaxed_max(&mut self) -> TResult {
        self.relaxed_min_max(types::F32X4, true)
    }
    pub(crate) fn visit_f64x2_relaxed_min(&mut self) -> TResult {
        self.relaxed_min_max(types::F64X2, false)
    }
    pub(crate) fn visit_f64x2_relaxed_max(&mut self) -> TResult {
        self.relaxed_min_max(types::F64X2, true)
    }

    pub(crate) fn visit_i16x8_relaxed_q15mulr_s(&mut self) -> TResult {
        if !(self.relaxed_x86() && self.isa.has_x86_pmulhrsw_lowering()) {
            return self.visit_i16x8_q15mulr_sat_s();
        }
        let (a, b) = self.pop2_vec(types::I16X8);
        let r = self.builder.ins().x86_pmulhrsw(a, b);
        self.push_vec(r);
        Ok(())
    }

    /// The `i8x16 x i7x16 -> i16x8` dot product of the two top operands.
    fn relaxed_dot_i8x16(&mut self) -> cranelift_codegen::ir::Value {
        let (a, b) = self.pop2_vec(types::I8X16);
        if self.relaxed_x86() && self.isa.has_x86_pmaddubsw_lowering() {
            // `a` signed, `b` unsigned: equal to the signed product while
            // `b`'s lanes are 7-bit, as the operator requires.
            self.builder.ins().x86_pmaddubsw(a, b)
        } else {
            self.signed_dot(a, b)
        }
    }

    pub(crate) fn visit_i16x8_relaxed_dot_i8x16_i7x16_s(&mut self) -> TResult {
        let r = self.relaxed_dot_i8x16();
        self.push_vec(r);
        Ok(())
    }

    pub(crate) fn visit_i32x4_relaxed_dot_i8x16_i7x16_add_s(&mut self) -> TResult {
        let c = self.pop_vec(types::I32X4);
        let dot = self.relaxed_dot_i8x16();
        let wide = self.pairwise_widen_add(dot);
        let r = self.builder.ins().iadd(wide, c);
        self.push_vec(r);
        Ok(())
    }
}

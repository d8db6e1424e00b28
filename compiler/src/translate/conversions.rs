//! Conversions: wrap, extend, truncate (trapping and saturating), convert,
//! demote, promote, reinterpret, and the sign-extension operators.
//!
//! The trapping float-to-int conversions map onto Cranelift's
//! `fcvt_to_{s,u}int`, which trap with "bad conversion" on NaN and "integer
//! overflow" out of range, the two wasm traps.
//! <https://webassembly.github.io/spec/core/exec/numerics.html#op-trunc>

use cranelift_codegen::ir::{InstBuilder, MemFlagsData, types};

use super::{FuncTranslator, TResult};

/// Defines `visit_*` methods that pop one value and push `ins().$op($ty, x)`.
macro_rules! convert {
    ($($visit:ident => $op:ident($ty:ident)),* $(,)?) => {
        impl FuncTranslator<'_, '_> {
            $(
                pub(crate) fn $visit(&mut self) -> TResult {
                    let x = self.pop();
                    let v = self.builder.ins().$op(types::$ty, x);
                    self.push(v);
                    Ok(())
                }
            )*
        }
    };
}

convert! {
    visit_i32_wrap_i64 => ireduce(I32),
    visit_i64_extend_i32_s => sextend(I64),
    visit_i64_extend_i32_u => uextend(I64),
    visit_i32_trunc_f32_s => fcvt_to_sint(I32),
    visit_i32_trunc_f32_u => fcvt_to_uint(I32),
    visit_i32_trunc_f64_s => fcvt_to_sint(I32),
    visit_i32_trunc_f64_u => fcvt_to_uint(I32),
    visit_i64_trunc_f32_s => fcvt_to_sint(I64),
    visit_i64_trunc_f32_u => fcvt_to_uint(I64),
    visit_i64_trunc_f64_s => fcvt_to_sint(I64),
    visit_i64_trunc_f64_u => fcvt_to_uint(I64),
    visit_i32_trunc_sat_f32_s => fcvt_to_sint_sat(I32),
    visit_i32_trunc_sat_f32_u => fcvt_to_uint_sat(I32),
    visit_i32_trunc_sat_f64_s => fcvt_to_sint_sat(I32),
    visit_i32_trunc_sat_f64_u => fcvt_to_uint_sat(I32),
    visit_i64_trunc_sat_f32_s => fcvt_to_sint_sat(I64),
    visit_i64_trunc_sat_f32_u => fcvt_to_uint_sat(I64),
    visit_i64_trunc_sat_f64_s => fcvt_to_sint_sat(I64),
    visit_i64_trunc_sat_f64_u => fcvt_to_uint_sat(I64),
    visit_f32_convert_i32_s => fcvt_from_sint(F32),
    visit_f32_convert_i32_u => fcvt_from_uint(F32),
    visit_f32_convert_i64_s => fcvt_from_sint(F32),
    visit_f32_convert_i64_u => fcvt_from_uint(F32),
    visit_f64_convert_i32_s => fcvt_from_sint(F64),
    visit_f64_convert_i32_u => fcvt_from_uint(F64),
    visit_f64_convert_i64_s => fcvt_from_sint(F64),
    visit_f64_convert_i64_u => fcvt_from_uint(F64),
    visit_f32_demote_f64 => fdemote(F32),
    visit_f64_promote_f32 => fpromote(F64),
}

/// Defines reinterpretations (bit casts between same-width types).
macro_rules! reinterpret {
    ($($visit:ident => $ty:ident),* $(,)?) => {
        impl FuncTranslator<'_, '_> {
            $(
                pub(crate) fn $visit(&mut self) -> TResult {
                    let x = self.pop();
                    let v = self.builder.ins().bitcast(types::$ty, MemFlagsData::new(), x);
                    self.push(v);
                    Ok(())
                }
            )*
        }
    };
}

reinterpret! {
    visit_i32_reinterpret_f32 => I32,
    visit_i64_reinterpret_f64 => I64,
    visit_f32_reinterpret_i32 => F32,
    visit_f64_reinterpret_i64 => F64,
}

/// Defines sign-extension operators: narrow to `$from`, sign-extend back.
macro_rules! sign_extend {
    ($($visit:ident => $from:ident to $to:ident),* $(,)?) => {
        impl FuncTranslator<'_, '_> {
            $(
                pub(crate) fn $visit(&mut self) -> TResult {
                    let x = self.pop();
                    let narrow = self.builder.ins().ireduce(types::$from, x);
                    let v = self.builder.ins().sextend(types::$to, narrow);
                    self.push(v);
                    Ok(())
                }
            )*
        }
    };
}

sign_extend! {
    visit_i32_extend8_s => I8 to I32,
    visit_i32_extend16_s => I16 to I32,
    visit_i64_extend8_s => I8 to I64,
    visit_i64_extend16_s => I16 to I64,
    visit_i64_extend32_s => I32 to I64,
}

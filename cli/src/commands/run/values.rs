//! `--invoke`: calling one export with arguments parsed by its signature,
//! and printing its results.

use anyhow::{Context as _, anyhow, bail};
use cljit::{Func, Store, Val, ValType};

use super::Host;

/// Calls `func` with `args`, each parsed as its parameter's type.
pub(super) fn invoke(
    store: &mut Store<Host>,
    func: Func,
    args: &[String],
) -> anyhow::Result<Vec<Val>> {
    let ty = func.ty(&*store);
    if args.len() != ty.params().len() {
        bail!(
            "the function takes {} argument(s) of type {ty}, but {} were given",
            ty.params().len(),
            args.len()
        );
    }
    let params = ty
        .params()
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, (&t, a))| parse_value(t, a).with_context(|| format!("argument {}", i + 1)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut results: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
    func.call(&mut *store, &params, &mut results)?;
    Ok(results)
}

/// Parses a command-line argument as a value of type `ty`.
fn parse_value(ty: ValType, s: &str) -> anyhow::Result<Val> {
    let bad = || anyhow!("`{s}` is not a valid {ty}");
    Ok(match ty {
        ValType::I32 => Val::I32(
            s.parse::<i32>()
                .or_else(|_| s.parse::<u32>().map(|v| v as i32))
                .map_err(|_| bad())?,
        ),
        ValType::I64 => Val::I64(
            s.parse::<i64>()
                .or_else(|_| s.parse::<u64>().map(|v| v as i64))
                .map_err(|_| bad())?,
        ),
        ValType::F32 => Val::from(s.parse::<f32>().map_err(|_| bad())?),
        ValType::F64 => Val::from(s.parse::<f64>().map_err(|_| bad())?),
        ValType::V128 => Val::V128(parse_v128(s).ok_or_else(bad)?),
        ValType::Ref(_) => {
            bail!("cannot pass a {ty} argument from the command line")
        }
    })
}

/// Parses a `v128` argument: a decimal or `0x` hexadecimal 128-bit integer
/// (how wasmtime prints one), or the text format's lane syntax, such as
/// `i32x4 1 2 3 4` or `f32x4 0.5 -1 inf nan`.
fn parse_v128(s: &str) -> Option<u128> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u128::from_str_radix(&hex.replace('_', ""), 16).ok();
    }
    if let Ok(v) = s.parse::<u128>() {
        return Some(v);
    }
    let buffer = wast::parser::ParseBuffer::new(s).ok()?;
    let lanes = wast::parser::parse::<wast::core::V128Const>(&buffer).ok()?;
    Some(u128::from_le_bytes(lanes.to_le_bytes()))
}

/// Formats a result the way wasmtime prints it.
pub(super) fn format_value(v: &Val) -> String {
    match v {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(bits) => f32::from_bits(*bits).to_string(),
        Val::F64(bits) => f64::from_bits(*bits).to_string(),
        Val::V128(v) => v.to_string(),
        Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) | Val::AnyRef(None) => {
            "null".to_string()
        }
        Val::FuncRef(Some(_)) => "<funcref>".to_string(),
        Val::ExternRef(Some(_)) => "<externref>".to_string(),
        Val::ExnRef(Some(_)) => "<exnref>".to_string(),
        Val::AnyRef(Some(a)) => match a.as_i31() {
            Some(i) => format!("i31 {}", i.get_i32()),
            None => "<anyref>".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arguments_by_type() {
        assert_eq!(parse_value(ValType::I32, "-3").unwrap().i32(), Some(-3));
        assert_eq!(
            parse_value(ValType::I32, "4294967295").unwrap().i32(),
            Some(-1)
        );
        assert_eq!(parse_value(ValType::I64, "12").unwrap().i64(), Some(12));
        assert_eq!(parse_value(ValType::F64, "1.5").unwrap().f64(), Some(1.5));
        assert!(parse_value(ValType::I32, "1.5").is_err());
        assert!(parse_value(ValType::FUNCREF, "0").is_err());
    }

    #[test]
    fn parses_v128_forms() {
        assert_eq!(parse_v128("5"), Some(5));
        assert_eq!(parse_v128("0xff_00"), Some(0xff00));
        assert_eq!(parse_v128(&u128::MAX.to_string()), Some(u128::MAX));
        assert_eq!(
            parse_v128("i32x4 1 2 3 -1"),
            Some(1 | 2 << 32 | 3 << 64 | (0xffff_ffffu128 << 96))
        );
        assert_eq!(parse_v128("i64x2 0 1"), Some(1 << 64));
        assert_eq!(
            parse_v128("f32x4 1 0 0 0"),
            Some(u128::from(1f32.to_bits()))
        );
        assert_eq!(parse_v128("i8x16 1 2"), None);
        assert_eq!(parse_v128("-1"), None);
        assert_eq!(
            parse_v128("0x1_0000_0000_0000_0000_0000_0000_0000_0000"),
            None
        );
        assert_eq!(format_value(&Val::V128(1 << 64)), "18446744073709551616");
    }

    #[test]
    fn formats_results() {
        assert_eq!(format_value(&Val::I32(-1)), "-1");
        assert_eq!(format_value(&Val::from(2.5f32)), "2.5");
        assert_eq!(format_value(&Val::FuncRef(None)), "null");
    }
}

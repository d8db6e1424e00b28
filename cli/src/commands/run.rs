//! `cljit run`: instantiate a module and run it, or invoke one export with
//! arguments parsed by its signature.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, anyhow, bail};
use cljit::{Engine, Func, Linker, Module, Store, Val, ValType};

use crate::flags::CommonOptions;

/// Runs a WebAssembly module.
#[derive(clap::Args, Debug)]
pub struct RunCommand {
    #[command(flatten)]
    common: CommonOptions,

    /// Call this export instead of `_start`, with ARGS as its arguments,
    /// and print each result on its own line.
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,

    /// Instantiate another module first and make its exports importable
    /// under NAME.
    #[arg(long, value_name = "NAME=PATH", value_parser = parse_preload)]
    preload: Vec<(String, PathBuf)>,

    /// The module to run: binary (`.wasm`) or text (`.wat`).
    #[arg(value_name = "WASM")]
    module: PathBuf,

    /// Arguments: of the invoked function, or of the program.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

fn parse_preload(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok((name.to_string(), PathBuf::from(path)))
        }
        _ => Err(format!("expected NAME=PATH, got `{s}`")),
    }
}

impl RunCommand {
    /// Runs the command.
    ///
    /// # Errors
    ///
    /// Everything that can go wrong, with context; a trap or exit request
    /// stays inspectable through `downcast_ref::<cljit::Error>()`.
    pub fn execute(self) -> anyhow::Result<()> {
        let engine = Engine::new(&self.common.config()?)?;
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        for (name, path) in &self.preload {
            let module = Module::from_file(&engine, path)
                .with_context(|| format!("failed to compile `{}`", path.display()))?;
            let instance = linker
                .instantiate(&mut store, &module)
                .with_context(|| format!("failed to instantiate `{}`", path.display()))?;
            linker.instance(&mut store, name, instance)?;
        }
        let module = Module::from_file(&engine, &self.module)
            .with_context(|| format!("failed to compile `{}`", self.module.display()))?;
        let instance = linker
            .instantiate(&mut store, &module)
            .with_context(|| format!("failed to instantiate `{}`", self.module.display()))?;

        match &self.invoke {
            Some(name) => {
                let func = instance
                    .get_func(&store, name)
                    .ok_or_else(|| anyhow!("failed to find an exported function `{name}`"))?;
                let results = invoke(&mut store, func, &self.args)
                    .with_context(|| format!("failed to invoke `{name}`"))?;
                let mut out = std::io::stdout().lock();
                for value in results {
                    // A closed stdout is not worth a panic; the run happened.
                    let _ = writeln!(out, "{}", format_value(&value));
                }
            }
            None => {
                if let Some(start) = instance.get_func(&store, "_start") {
                    start
                        .call(&mut store, &[], &mut [])
                        .context("failed to run `_start`")?;
                } else if !self.args.is_empty() {
                    bail!(
                        "the module exports no `_start` function to pass arguments to (use --invoke)"
                    );
                }
            }
        }
        Ok(())
    }
}

fn invoke(store: &mut Store<()>, func: Func, args: &[String]) -> anyhow::Result<Vec<Val>> {
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
        ValType::V128 | ValType::Ref(_) => {
            bail!("cannot pass a {ty} argument from the command line")
        }
    })
}

/// Formats a result the way wasmtime prints it.
fn format_value(v: &Val) -> String {
    match v {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(bits) => f32::from_bits(*bits).to_string(),
        Val::F64(bits) => f64::from_bits(*bits).to_string(),
        Val::V128(v) => format!("{v:#034x}"),
        Val::FuncRef(None) | Val::ExternRef(None) => "null".to_string(),
        Val::FuncRef(Some(_)) => "<funcref>".to_string(),
        Val::ExternRef(Some(_)) => "<externref>".to_string(),
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
    fn formats_results() {
        assert_eq!(format_value(&Val::I32(-1)), "-1");
        assert_eq!(format_value(&Val::from(2.5f32)), "2.5");
        assert_eq!(format_value(&Val::FuncRef(None)), "null");
    }
}

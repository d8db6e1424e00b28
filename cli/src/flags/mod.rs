//! Flags shared by every command: `-W` for wasm features and limits, `-O`
//! for code generation and memory layout, named as wasmtime names them.

use anyhow::{Context as _, anyhow, bail};
use cljit::{Config, OptLevel};

/// Options that shape the engine.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CommonOptions {
    /// WebAssembly features and limits, comma-separated or repeated:
    /// `NAME[=y|n]` toggles a proposal (bulk-memory, multi-value,
    /// reference-types, sign-extension, saturating-float-to-int,
    /// mutable-global, simd, relaxed-simd, ...); `max-wasm-stack=BYTES` sets
    /// the stack budget; `relaxed-simd-deterministic[=y|n]` gives relaxed
    /// SIMD operators the same results on every machine.
    #[arg(short = 'W', value_name = "KEY[=VAL]")]
    pub wasm: Vec<String>,

    /// Code generation and memory options, comma-separated or repeated:
    /// `opt-level=0|1|2|s`, `memory-reservation=BYTES`,
    /// `memory-guard-size=BYTES` (a reservation below 4 GiB selects explicit
    /// bounds checks).
    #[arg(short = 'O', value_name = "KEY[=VAL]")]
    pub optimize: Vec<String>,
}

/// Where the compile cache lives and how big it may grow.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CacheLocation {
    /// The cache directory (default: `$CLJIT_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/cljit`, else `~/.cache/cljit`).
    #[arg(long, value_name = "DIR", global = true)]
    pub cache_dir: Option<std::path::PathBuf>,

    /// The cache's size limit, least recently used entries going first
    /// (default: `$CLJIT_CACHE_LIMIT`, else 1G; K, M and G suffixes).
    #[arg(long, value_name = "BYTES", global = true)]
    pub cache_limit: Option<String>,
}

impl CacheLocation {
    /// The cache these options name.
    ///
    /// # Errors
    ///
    /// No directory is given and no default can be named (no `HOME`), or
    /// the limit is malformed.
    pub fn cache(&self) -> anyhow::Result<cljit::Cache> {
        let dir = match &self.cache_dir {
            Some(dir) => dir.clone(),
            None => cljit::Cache::default_dir().ok_or_else(|| {
                anyhow!("no cache directory: set --cache-dir, CLJIT_CACHE_DIR or HOME")
            })?,
        };
        let env_limit = std::env::var("CLJIT_CACHE_LIMIT").ok();
        let limit = match self.cache_limit.as_deref().or(env_limit.as_deref()) {
            Some(limit) => parse_bytes("cache limit", Some(limit))?,
            None => cljit::DEFAULT_CACHE_LIMIT,
        };
        Ok(cljit::Cache::new(dir).with_limit(limit))
    }
}

fn pairs(values: &[String]) -> impl Iterator<Item = (&str, Option<&str>)> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|s| !s.is_empty())
        .map(|s| match s.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (s.trim(), None),
        })
}

fn parse_bool(key: &str, value: Option<&str>) -> anyhow::Result<bool> {
    match value {
        None | Some("y" | "yes" | "true") => Ok(true),
        Some("n" | "no" | "false") => Ok(false),
        Some(other) => bail!("invalid value `{other}` for `{key}`: expected y or n"),
    }
}

/// Parses a byte count: decimal or `0x` hex, with an optional K, M or G
/// suffix (powers of 1024).
pub fn parse_bytes(key: &str, value: Option<&str>) -> anyhow::Result<u64> {
    let value = value.ok_or_else(|| anyhow!("`{key}` needs a value"))?;
    let cleaned = value.replace('_', "");
    let (digits, scale) = match cleaned.chars().last() {
        Some('K' | 'k') => (&cleaned[..cleaned.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&cleaned[..cleaned.len() - 1], 1 << 20),
        Some('G' | 'g') => (&cleaned[..cleaned.len() - 1], 1 << 30),
        _ => (cleaned.as_str(), 1),
    };
    let n = match digits.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => digits.parse(),
    }
    .with_context(|| format!("invalid byte count `{value}` for `{key}`"))?;
    n.checked_mul(scale)
        .ok_or_else(|| anyhow!("byte count `{value}` for `{key}` is too large"))
}

impl CommonOptions {
    /// The engine configuration these options describe.
    ///
    /// # Errors
    ///
    /// Unknown keys or malformed values.
    pub fn config(&self) -> anyhow::Result<Config> {
        let mut config = Config::new();
        for (key, value) in pairs(&self.wasm) {
            match key {
                "max-wasm-stack" => {
                    let bytes = parse_bytes(key, value)?;
                    config.max_wasm_stack(usize::try_from(bytes).context("stack size too large")?);
                }
                "relaxed-simd-deterministic" => {
                    config.relaxed_simd_deterministic(parse_bool(key, value)?);
                }
                _ => {
                    let enable = parse_bool(key, value)?;
                    config
                        .wasm_feature(key, enable)
                        .map_err(|e| anyhow!("{e} (in -W {key})"))?;
                }
            }
        }
        for (key, value) in pairs(&self.optimize) {
            match key {
                "opt-level" => {
                    let level = match value {
                        Some("0") => OptLevel::None,
                        Some("1" | "2") | None => OptLevel::Speed,
                        Some("s") => OptLevel::SpeedAndSize,
                        Some(other) => bail!("invalid opt-level `{other}`: expected 0, 1, 2 or s"),
                    };
                    config.cranelift_opt_level(level);
                }
                "memory-reservation" => {
                    config.memory_reservation(parse_bytes(key, value)?);
                }
                "memory-guard-size" => {
                    config.memory_guard_size(parse_bytes(key, value)?);
                }
                other => bail!("unknown option `-O {other}`"),
            }
        }
        Ok(config)
    }
}

/// A note for an error that says a module uses a proposal that was turned
/// off: the `-W` option that turns it back on, or that cljit does not
/// support it yet.
pub fn disabled_feature_hint(error: &anyhow::Error) -> Option<String> {
    let feature =
        error
            .chain()
            .find_map(|cause| match cause.downcast_ref::<cljit::Error>()?.kind() {
                cljit::ErrorKind::Compile(cljit::CompileError::DisabledFeature {
                    feature, ..
                }) => Some(*feature),
                _ => None,
            })?;
    let supported = cljit::FEATURE_NAMES
        .iter()
        .any(|(name, f)| *name == feature && cljit::supported_features().contains(*f));
    Some(if supported {
        format!(
            "the module uses the `{feature}` proposal, which is disabled; `-W {feature}=y` enables it"
        )
    } else {
        format!("the module uses the `{feature}` proposal, which cljit does not support yet")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts() {
        assert_eq!(parse_bytes("k", Some("4G")).unwrap(), 4 << 30);
        assert_eq!(parse_bytes("k", Some("0x10")).unwrap(), 16);
        assert_eq!(parse_bytes("k", Some("1_000")).unwrap(), 1000);
        assert!(parse_bytes("k", Some("x")).is_err());
        assert!(parse_bytes("k", None).is_err());
    }

    #[test]
    fn options_build_a_config() {
        let opts = CommonOptions {
            wasm: vec![
                "bulk-memory=n,multi-value".into(),
                "max-wasm-stack=64K".into(),
            ],
            optimize: vec!["memory-reservation=0".into()],
        };
        let config = opts.config().unwrap();
        assert!(!config.features().bulk_memory());
        assert_eq!(config.tunables().memory_reservation, 0);
        let bad = CommonOptions {
            wasm: vec!["no-such-feature".into()],
            optimize: vec![],
        };
        assert!(bad.config().is_err());
    }
}

//! `-C cache-config=FILE`: wasmtime's cache configuration file (TOML, a
//! `[cache]` table), read for what applies to cljit's cache.
//!
//! `directory` and `files-total-size-soft-limit` set the cache's place and
//! size limit; `enabled = false` (older wasmtimes) turns it off. The other
//! keys wasmtime knows tune its background worker and compression, which
//! cljit's cache does not have: they are accepted and have no effect. Any
//! other key is an error, as in wasmtime.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};

/// Keys wasmtime knows that tune machinery cljit's cache does not have.
const IGNORED: &[&str] = &[
    "worker-event-queue-size",
    "baseline-compression-level",
    "optimized-compression-level",
    "optimized-compression-usage-counter-threshold",
    "cleanup-interval",
    "optimizing-compression-task-timeout",
    "allowed-clock-drift-for-files-from-future",
    "file-count-soft-limit",
    "files-total-size-limit-percent-if-deleting",
    "file-count-limit-percent-if-deleting",
];

/// What a cache configuration file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheConfigFile {
    /// `enabled` (absent: true).
    pub enabled: bool,
    /// `directory`.
    pub directory: Option<PathBuf>,
    /// `files-total-size-soft-limit`, in bytes.
    pub size_limit: Option<u64>,
}

/// A size with an optional SI suffix: `K`, `M`, `G`, `T`, `P` (powers of
/// 1000) or `Ki`, `Mi`, `Gi`, `Ti`, `Pi` (powers of 1024).
fn si_size(text: &str) -> Option<u64> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    let n: u64 = digits.parse().ok()?;
    let scale: u64 = match suffix {
        "" => 1,
        "K" => 1_000,
        "Ki" => 1 << 10,
        "M" => 1_000_000,
        "Mi" => 1 << 20,
        "G" => 1_000_000_000,
        "Gi" => 1 << 30,
        "T" => 1_000_000_000_000,
        "Ti" => 1 << 40,
        "P" => 1_000_000_000_000_000,
        "Pi" => 1 << 50,
        _ => return None,
    };
    n.checked_mul(scale)
}

impl CacheConfigFile {
    /// Reads and checks the file at `path`.
    ///
    /// # Errors
    ///
    /// An unreadable file, invalid TOML, a missing `[cache]` table, an
    /// unknown key, or a value of the wrong type.
    pub fn read(path: &Path) -> anyhow::Result<CacheConfigFile> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "failed to read the cache configuration `{}`",
                path.display()
            )
        })?;
        CacheConfigFile::parse(&text)
            .with_context(|| format!("invalid cache configuration `{}`", path.display()))
    }

    /// Parses a configuration's text.
    ///
    /// # Errors
    ///
    /// As [`CacheConfigFile::read`].
    pub fn parse(text: &str) -> anyhow::Result<CacheConfigFile> {
        let document: toml::Table = text.parse()?;
        let mut config = CacheConfigFile {
            enabled: true,
            ..CacheConfigFile::default()
        };
        if let Some(name) = document.keys().find(|name| *name != "cache") {
            bail!("unknown table or key `{name}` (settings go in `[cache]`)");
        }
        let cache = document
            .get("cache")
            .and_then(toml::Value::as_table)
            .ok_or_else(|| anyhow!("no `[cache]` table"))?;
        for (name, value) in cache {
            match name.as_str() {
                "enabled" => {
                    config.enabled = value
                        .as_bool()
                        .ok_or_else(|| anyhow!("`enabled` must be true or false"))?;
                }
                "directory" => {
                    let dir = value
                        .as_str()
                        .ok_or_else(|| anyhow!("`directory` must be a string"))?;
                    if !Path::new(dir).is_absolute() {
                        bail!("`directory` must be an absolute path, not `{dir}`");
                    }
                    config.directory = Some(PathBuf::from(dir));
                }
                "files-total-size-soft-limit" => {
                    let limit = value.as_str().and_then(si_size).ok_or_else(|| {
                        anyhow!("`files-total-size-soft-limit` must be a size such as \"1Gi\"")
                    })?;
                    config.size_limit = Some(limit);
                }
                other if IGNORED.contains(&other) => {}
                other => bail!("unknown setting `{other}` in `[cache]`"),
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_applies_and_accepts_the_rest() {
        let config = CacheConfigFile::parse(
            "[cache]\ndirectory = \"/tmp/c\"\nfiles-total-size-soft-limit = \"2Gi\"\ncleanup-interval = \"30m\"\n",
        )
        .unwrap();
        assert_eq!(
            config,
            CacheConfigFile {
                enabled: true,
                directory: Some(PathBuf::from("/tmp/c")),
                size_limit: Some(2 << 30),
            }
        );
        assert!(
            !CacheConfigFile::parse("[cache]\nenabled = false\n")
                .unwrap()
                .enabled
        );
        assert_eq!(si_size("5M"), Some(5_000_000));
        assert_eq!(si_size("5Mx"), None);
    }

    #[test]
    fn refuses_what_wasmtime_refuses() {
        for (text, needle) in [
            ("[cache]\ncolour = \"red\"\n", "unknown setting `colour`"),
            ("[cache]\ndirectory = \"relative\"\n", "absolute path"),
            ("[cache]\nfiles-total-size-soft-limit = 5\n", "size such as"),
            ("directory = \"/x\"\n", "unknown table or key"),
            ("", "no `[cache]` table"),
        ] {
            let error = format!("{:#}", CacheConfigFile::parse(text).unwrap_err());
            assert!(error.contains(needle), "{text:?}: {error}");
        }
        assert!(CacheConfigFile::parse("[cache").is_err());
    }
}

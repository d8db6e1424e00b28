//! `cljit cache`: look after the compile cache (`dir`, `stats`, `clear`,
//! `verify`).

use std::io::Write as _;

use anyhow::Context as _;

use crate::flags::CacheLocation;

/// Shows or maintains the compile cache.
#[derive(clap::Args, Debug)]
pub struct CacheCommand {
    #[command(subcommand)]
    action: CacheAction,

    #[command(flatten)]
    location: CacheLocation,
}

#[derive(clap::Subcommand, Debug)]
enum CacheAction {
    /// Print the cache directory.
    Dir,
    /// Show the entries, their size, the limit, and this user's hits and
    /// misses.
    Stats,
    /// Remove every entry (and reset the hit and miss counts).
    Clear,
    /// Check every entry (signature, format, checksum) and remove the bad
    /// ones.
    Verify,
}

/// `1234567 (1.2 MiB)`.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n}");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{n} ({value:.1} {})", UNITS[unit])
}

impl CacheCommand {
    /// Runs the command.
    ///
    /// # Errors
    ///
    /// No cache directory can be named, or an entry cannot be removed.
    pub fn execute(self) -> anyhow::Result<()> {
        let cache = self.location.cache()?;
        let mut out = std::io::stdout().lock();
        match self.action {
            CacheAction::Dir => writeln!(out, "{}", cache.dir().display())?,
            CacheAction::Stats => {
                let s = cache.stats();
                writeln!(out, "directory: {}", cache.dir().display())?;
                writeln!(out, "entries:   {}", s.entries)?;
                writeln!(out, "bytes:     {}", bytes(s.bytes))?;
                writeln!(out, "limit:     {}", bytes(s.limit))?;
                writeln!(out, "hits:      {}", s.hits)?;
                writeln!(out, "misses:    {}", s.misses)?;
            }
            CacheAction::Clear => {
                let removed = cache.clear().context("failed to clear the cache")?;
                writeln!(out, "removed {removed} entries")?;
            }
            CacheAction::Verify => {
                let report = cache.verify().context("failed to verify the cache")?;
                for (path, reason) in &report.removed {
                    writeln!(out, "removed {}: {reason}", path.display())?;
                }
                writeln!(
                    out,
                    "{} valid, {} removed",
                    report.valid,
                    report.removed.len()
                )?;
            }
        }
        Ok(())
    }
}

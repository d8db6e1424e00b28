//! `cljit wast`: run WebAssembly spec scripts.

use std::path::PathBuf;

use std::io::Write as _;

use anyhow::Context as _;

use crate::flags::CommonOptions;
use crate::wast::WastContext;

/// Runs spec scripts (`.wast`), printing each file's assertion count and
/// failures, then `assertions: N` for all files.
#[derive(clap::Args, Debug)]
pub struct WastCommand {
    #[command(flatten)]
    common: CommonOptions,

    /// The scripts to run.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

impl WastCommand {
    /// Runs the command; returns whether every script passed.
    ///
    /// # Errors
    ///
    /// Bad options. Unreadable or unparsable scripts count as failures.
    pub fn execute(self) -> anyhow::Result<bool> {
        let options = self.common.parse()?;
        if !options.help.is_empty() {
            print!("{}", CommonOptions::help_text(&options.help));
            return Ok(true);
        }
        let config = options.config()?;
        let mut out = std::io::stdout().lock();
        // Output errors (a closed stdout) are ignored: the exit code tells.
        macro_rules! say {
            ($($arg:tt)*) => {
                let _ = writeln!(out, $($arg)*);
            };
        }
        let mut total = 0;
        let mut ok = true;
        for file in &self.files {
            let name = file.display().to_string();
            let result = std::fs::read_to_string(file)
                .with_context(|| format!("failed to read `{name}`"))
                .and_then(|contents| {
                    let mut cx = WastContext::new(&config)?;
                    cx.apply_limits(&options)?;
                    cx.run(&name, &contents)
                });
            match result {
                Ok(report) => {
                    total += report.assertions;
                    say!("{name}: {} assertions", report.assertions);
                    for f in &report.failures {
                        say!("{name}:{}:{}: {}", f.line, f.column, f.message);
                    }
                    if !report.failures.is_empty() {
                        say!("{name}: {} failed", report.failures.len());
                        ok = false;
                    }
                }
                Err(e) => {
                    say!("{name}: error: {e:#}");
                    ok = false;
                }
            }
        }
        say!("assertions: {total}");
        Ok(ok)
    }
}

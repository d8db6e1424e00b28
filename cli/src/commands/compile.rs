//! `cljit compile`: compile a module ahead of time into a `.cwasm`
//! artifact, for this machine or another (`--target`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use cljit::Engine;

use crate::flags::CommonOptions;

/// Compiles a WebAssembly module into an artifact that `cljit run` loads
/// without compiling.
#[derive(clap::Args, Debug)]
pub struct CompileCommand {
    #[command(flatten)]
    common: CommonOptions,

    /// Compile for this target triple instead of the host, for example
    /// `aarch64-unknown-linux-gnu` (with its baseline CPU features).
    #[arg(long, value_name = "TRIPLE")]
    target: Option<String>,

    /// Where to write the artifact (default: the module's file name with
    /// the extension `.cwasm`, in the current directory).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: Option<PathBuf>,

    /// The module to compile (binary `.wasm` or text `.wat`).
    #[arg(value_name = "WASM")]
    module: PathBuf,
}

/// Writes `bytes` to `path` through a temporary file in the same directory
/// and a rename, so a reader (a running `cljit run` of the old file) never
/// sees a half-written file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().context("the output has no file name")?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = std::fs::File::create(&temporary)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&temporary, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result.with_context(|| format!("failed to write `{}`", path.display()))
}

impl CompileCommand {
    /// Runs the command.
    ///
    /// # Errors
    ///
    /// Bad options or target, unreadable or invalid modules, and write
    /// failures.
    pub fn execute(self) -> anyhow::Result<()> {
        let options = self.common.parse()?;
        if !options.help.is_empty() {
            print!("{}", CommonOptions::help_text(&options.help));
            return Ok(());
        }
        let mut config = options.config()?;
        if let Some(target) = &self.target {
            config.target(target);
        }
        let engine = Engine::new(&config)?;
        let bytes = std::fs::read(&self.module)
            .with_context(|| format!("failed to read `{}`", self.module.display()))?;
        let artifact = engine
            .precompile_module(&bytes)
            .with_context(|| format!("failed to compile `{}`", self.module.display()))?;
        let output = match self.output {
            Some(o) => o,
            None => {
                let stem = self
                    .module
                    .file_stem()
                    .context("the module path has no file name")?;
                PathBuf::from(stem).with_extension("cwasm")
            }
        };
        write_atomically(&output, &artifact)
    }
}

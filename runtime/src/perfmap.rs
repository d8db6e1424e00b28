//! Perf maps: `/tmp/perf-<pid>.map`, one line `START SIZE NAME` (hex
//! address and size) per function of JIT code, the format `perf report`
//! reads to name code it has no symbols for. Written when
//! [`Config::profile_perfmap`](crate::Config::profile_perfmap) is on.

use std::io::Write as _;
use std::sync::Mutex;

use cljit_compiler::ModuleInfo;

use crate::traps::registry::CodeKind;

/// The symbol of code item `i`: `wasm[MODULE]::function[N]::NAME` (the name
/// from the name section, if any), or `wasm[MODULE]::trampoline[i]`. Unique
/// within a module, as cranelift-jit requires.
pub(crate) fn symbol(info: Option<&ModuleInfo>, kind: CodeKind, i: usize) -> String {
    let module = info.and_then(|m| m.name.as_deref()).unwrap_or("module");
    match kind {
        CodeKind::Wasm(index) => match info.and_then(|m| m.func_name(index)) {
            Some(name) => format!("wasm[{module}]::function[{}]::{name}", index.as_u32()),
            None => format!("wasm[{module}]::function[{}]", index.as_u32()),
        },
        CodeKind::Trampoline => format!("wasm[{module}]::trampoline[{i}]"),
    }
}

/// Serialises appends from modules loading on several threads.
static LOCK: Mutex<()> = Mutex::new(());

/// Whether to write map entries: when asked (`--profile perfmap`), and
/// under `perf record` (which sets PERF_BUILDID_DIR), where cranelift-jit
/// names only each module's whole text.
pub(crate) fn enabled(asked: bool) -> bool {
    asked || std::env::var_os("PERF_BUILDID_DIR").is_some()
}

/// Appends the functions of one loaded module: (kind, offset in the text,
/// length), the text being at `base`. Failing to write the map is not an
/// error of the program being profiled: it is reported once on stderr and
/// the run goes on.
pub(crate) fn record(info: &ModuleInfo, base: usize, functions: &[(CodeKind, u32, u32)]) {
    let mut text = String::new();
    for (i, &(kind, start, len)) in functions.iter().enumerate() {
        let name = symbol(Some(info), kind, i);
        let start = base + start as usize;
        text.push_str(&format!("{start:x} {len:x} {name}\n"));
    }
    let path = format!("/tmp/perf-{}.map", std::process::id());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| eprintln!("warning: cannot write the perf map {path}: {e}"));
    }
}

//! Perf maps: `/tmp/perf-<pid>.map`, one line `START SIZE NAME` (hex
//! address and size) per function of JIT code, the format `perf report`
//! reads to name code it has no symbols for. Written when
//! [`Config::profile_perfmap`](crate::Config::profile_perfmap) is on.

use std::io::Write as _;
use std::sync::Mutex;

use cljit_compiler::ModuleInfo;

use crate::code_memory::CodeItem;
use crate::traps::registry::CodeKind;

/// Serialises appends from modules loading on several threads.
static LOCK: Mutex<()> = Mutex::new(());

/// Appends the functions of one loaded module. Failing to write the map is
/// not an error of the program being profiled: it is reported once on
/// stderr and the run goes on.
pub(crate) fn record(info: &ModuleInfo, items: &[CodeItem<'_>], addresses: &[usize]) {
    let module = info.name.as_deref().unwrap_or("module");
    let mut text = String::new();
    for (item, &start) in items.iter().zip(addresses) {
        let name = match item.kind {
            CodeKind::Wasm(index) => match info.func_name(index) {
                Some(name) => format!("wasm[{module}]::{name}"),
                None => format!("wasm[{module}]::function[{}]", index.as_u32()),
            },
            CodeKind::Trampoline => format!("wasm[{module}]::trampoline"),
        };
        text.push_str(&format!(
            "{start:x} {:x} {name}\n",
            item.function.body.len()
        ));
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

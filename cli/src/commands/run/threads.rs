//! `-S threads`: wasi-threads for `cljit run`. Shared memories for the
//! module's imports, and the stores, limits and error handling of the
//! program's threads.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, bail};
use cljit::wasi::WasiCtx;
use cljit::{Engine, Linker, Module, Store};

use super::{Host, apply_limits};
use crate::flags::Options;

/// Defines a new shared memory for each shared memory `module` imports
/// that nothing defined yet: a wasi-threads program imports the memory
/// all its threads' instances share (wasmtime does the same).
pub(super) fn define_shared_memories(
    linker: &mut Linker<Host>,
    engine: &Engine,
    module: &Module,
) -> anyhow::Result<()> {
    for (m, n, ty) in module.imports() {
        let cljit::ExternType::Memory(ty) = ty else {
            continue;
        };
        if !ty.shared || linker.is_defined(m, n) {
            continue;
        }
        let memory = cljit::SharedMemory::new(engine, ty)
            .with_context(|| format!("failed to create the shared memory `{m}::{n}`"))?;
        linker.define(m, n, memory)?;
    }
    Ok(())
}

/// wasi-threads for `module` (`-S threads`): each thread's store shares
/// `wasi` and has the same limits as the main one; a thread that traps or
/// exits ends the process with the status the main thread would have.
pub(super) fn thread_support(
    engine: &Engine,
    module: &Module,
    options: &Options,
    wasi: Arc<Mutex<WasiCtx>>,
) -> anyhow::Result<cljit::wasi::threads::WasiThreads<Host>> {
    if !engine
        .config()
        .features()
        .contains(cljit::WasmFeatures::THREADS)
    {
        bail!("`-S threads` needs the threads proposal: add `-W threads=y`");
    }
    let engine = engine.clone();
    let options = options.clone();
    let limits = options.store_limits()?.unwrap_or_default();
    let new_store = move || -> cljit::Result<Store<Host>> {
        let host = Host {
            wasi: None,
            shared_wasi: Some(Arc::clone(&wasi)),
            limits: limits.clone(),
        };
        let mut store = Store::new(&engine, host);
        apply_limits(&mut store, &options).map_err(|e| cljit::Error::msg(format!("{e:#}")))?;
        Ok(store)
    };
    let on_error = |error: cljit::Error| {
        // Two threads failing at once: the first reports and exits, the
        // second waits for the process to end (`exit` is not safe to run
        // twice at once, and one report is what the user should see).
        static ENDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if ENDING.swap(true, std::sync::atomic::Ordering::SeqCst) {
            loop {
                std::thread::park();
            }
        }
        let error = anyhow::Error::new(error).context("failed to run a wasi thread");
        let status = crate::exit::status_for(&error);
        // The whole program ends, as wasi-threads asks of a trap or an
        // exit in any thread.
        let _ = std::io::stdout().flush();
        std::process::exit(i32::from(status));
    };
    Ok(cljit::wasi::threads::WasiThreads::new(
        module.clone(),
        new_store,
        on_error,
    ))
}

//! wasi-threads: the `wasi` module's `thread-spawn`, which starts a thread
//! running a new instance of the same module on the same shared memory.
//!
//! <https://github.com/WebAssembly/wasi-threads>
//!
//! ```text
//!  guest pthread_create ─► wasi::thread-spawn(start_arg) ─► tid (or < 0)
//!                                  │ (a new OS thread)
//!          new store (the embedder's) ─► instantiate the module with the
//!          same linker (its shared memory import included)
//!                                  ─► wasi_thread_start(tid, start_arg)
//! ```
//!
//! Each thread has its own store, so its own fuel, deadline and limiter,
//! as the embedder's store factory sets them up; the stores share the
//! memory and, through [`add_to_linker_shared`](crate::add_to_linker_shared),
//! one WASI context. How a thread that ends badly (a trap, `proc_exit`)
//! ends the program is the embedder's choice ([`WasiThreads::new`]'s
//! `on_error`): the CLI exits the process, as wasi-threads asks.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use cljit_runtime::{Caller, Error, Linker, Module, Result, Store, Val};

/// The highest thread id wasi-threads allows (ids are positive and fit 29
/// bits, leaving the rest of an `i32` to the guest's mutexes).
const MAX_TID: u32 = 0x1FFF_FFFF;

/// What `thread-spawn` returns when no thread could be started (wasi-threads
/// leaves negative values to the host; `-EAGAIN`).
const SPAWN_FAILED: i32 = -6;

/// Native stack for each wasm thread, at least: the engine's wasm stack
/// budget plus [`HOST_STACK_BYTES`] when that is more.
const THREAD_STACK_BYTES: usize = 16 << 20;

/// Room for the host frames under and between the wasm ones (the
/// thread's start, instantiation, host calls).
const HOST_STACK_BYTES: usize = 4 << 20;

/// How many spawned threads may run at once unless the embedder says
/// otherwise ([`WasiThreads::max_threads`]): a guest asking for more gets
/// a failed spawn (`pthread_create` returns `EAGAIN`), not a process full
/// of OS threads.
pub const DEFAULT_MAX_THREADS: u32 = 1024;

/// The state `thread-spawn` needs: the module every thread instantiates,
/// the linker it is instantiated with, how to make a thread's store, and
/// what to do when a thread fails. Cheap to clone.
pub struct WasiThreads<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for WasiThreads<T> {
    fn clone(&self) -> Self {
        WasiThreads {
            inner: Arc::clone(&self.inner),
        }
    }
}

type NewStore<T> = dyn Fn() -> Result<Store<T>> + Send + Sync;
type OnError = dyn Fn(Error) + Send + Sync;

struct Inner<T> {
    module: Module,
    linker: OnceLock<Linker<T>>,
    new_store: Box<NewStore<T>>,
    on_error: Box<OnError>,
    next_tid: AtomicU32,
    /// Spawned threads still running, and how many may.
    live: AtomicU32,
    max_live: AtomicU32,
}

impl<T> std::fmt::Debug for WasiThreads<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiThreads")
            .field(
                "spawned",
                &(self.inner.next_tid.load(Ordering::Relaxed) - 1),
            )
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> WasiThreads<T> {
    /// Threads of `module`: each gets a store from `new_store`, and a
    /// thread whose `wasi_thread_start` fails (traps, or exits through
    /// `proc_exit`) hands the error to `on_error`, on its own thread.
    pub fn new(
        module: Module,
        new_store: impl Fn() -> Result<Store<T>> + Send + Sync + 'static,
        on_error: impl Fn(Error) + Send + Sync + 'static,
    ) -> WasiThreads<T> {
        WasiThreads {
            inner: Arc::new(Inner {
                module,
                linker: OnceLock::new(),
                new_store: Box::new(new_store),
                on_error: Box::new(on_error),
                next_tid: AtomicU32::new(1),
                live: AtomicU32::new(0),
                max_live: AtomicU32::new(DEFAULT_MAX_THREADS),
            }),
        }
    }

    /// Caps the spawned threads running at once (the main thread not
    /// counted); a spawn beyond it fails, as the guest's libc expects of
    /// a system out of threads.
    pub fn max_threads(&self, max: u32) {
        self.inner.max_live.store(max, Ordering::Relaxed);
    }

    /// Sets the linker threads are instantiated with: the complete one,
    /// with `thread-spawn` and the shared memory defined. Until it is set,
    /// `thread-spawn` fails; it can be set once.
    ///
    /// # Errors
    ///
    /// If it was set already.
    pub fn set_linker(&self, linker: Linker<T>) -> Result<()> {
        self.inner
            .linker
            .set(linker)
            .map_err(|_| Error::msg("the wasi-threads linker is already set"))
    }

    /// The native stack a thread gets: enough that the wasm stack budget,
    /// not the thread's stack, is what deep recursion runs into.
    fn stack_bytes(&self) -> usize {
        let budget = self.inner.module.engine().config().wasm_stack_budget();
        budget
            .saturating_add(HOST_STACK_BYTES)
            .max(THREAD_STACK_BYTES)
    }

    /// Starts a thread running `wasi_thread_start(tid, start_arg)`:
    /// returns its id, or a negative value when it could not start.
    fn spawn(&self, start_arg: i32) -> i32 {
        if self.inner.linker.get().is_none() {
            return SPAWN_FAILED;
        }
        let max = self.inner.max_live.load(Ordering::Relaxed);
        let live = self.inner.live.fetch_add(1, Ordering::SeqCst);
        if live >= max {
            self.inner.live.fetch_sub(1, Ordering::SeqCst);
            return SPAWN_FAILED;
        }
        let tid = self.inner.next_tid.fetch_add(1, Ordering::Relaxed);
        if tid > MAX_TID {
            self.inner.live.fetch_sub(1, Ordering::SeqCst);
            return SPAWN_FAILED;
        }
        let inner = Arc::clone(&self.inner);
        let started = std::thread::Builder::new()
            .name(format!("wasi-thread-{tid}"))
            .stack_size(self.stack_bytes())
            .spawn(move || {
                let outcome = inner.run(tid, start_arg);
                inner.live.fetch_sub(1, Ordering::SeqCst);
                if let Err(error) = outcome {
                    (inner.on_error)(error);
                }
            });
        match started {
            Ok(_) => tid as i32,
            Err(_) => {
                self.inner.live.fetch_sub(1, Ordering::SeqCst);
                SPAWN_FAILED
            }
        }
    }
}

impl<T: Send + 'static> Inner<T> {
    /// A thread's life: its store, its instance, its entry point.
    fn run(&self, tid: u32, start_arg: i32) -> Result<()> {
        let linker = self.linker.get().expect("checked before spawning");
        let mut store = (self.new_store)()?;
        let instance = linker.instantiate(&mut store, &self.module)?;
        let start = instance
            .get_func(&store, "wasi_thread_start")
            .ok_or_else(|| Error::msg("a wasi-threads module must export `wasi_thread_start`"))?;
        let args = [Val::I32(tid as i32), Val::I32(start_arg)];
        start.call(&mut store, &args, &mut [])
    }
}

/// Defines `wasi::thread-spawn` in `linker`, starting threads of
/// `threads`' module. Call [`WasiThreads::set_linker`] with the finished
/// linker afterwards.
///
/// # Errors
///
/// If the name is already defined and shadowing is off.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    threads: &WasiThreads<T>,
) -> Result<()> {
    // Weak: the linker is inside `threads` (see `set_linker`), and a
    // strong reference here would keep both alive forever.
    let weak = Arc::downgrade(&threads.inner);
    linker.func_wrap(
        "wasi",
        "thread-spawn",
        move |_: Caller<'_, T>, start_arg: i32| -> i32 {
            match weak.upgrade() {
                Some(inner) => WasiThreads { inner }.spawn(start_arg),
                None => SPAWN_FAILED,
            }
        },
    )?;
    Ok(())
}

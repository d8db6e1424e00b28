//! How a WASI call reaches the [`WasiCtx`]: borrowed from the store's data
//! (one store, one context), or locked through a mutex (the stores of a
//! threaded program's threads share one context), and given up while a
//! call blocks on something that needs no context.

use std::sync::{Mutex, MutexGuard};

use crate::ctx::WasiCtx;

/// How WASI functions reach their [`WasiCtx`] in a store's data: directly
/// (one store, one context), or through a mutex (the stores of a program's
/// threads share one context; each call holds the lock while it runs,
/// except where it gives it up, see [`CtxGuard::unlocked`]).
pub(crate) trait CtxAccess<T>: Copy + Send + Sync + 'static {
    /// The context, borrowed or locked for one call.
    fn ctx(self, data: &mut T) -> CtxGuard<'_>;
}

/// A context borrowed, or locked, for one call.
pub(crate) enum CtxGuard<'a> {
    Direct(&'a mut WasiCtx),
    Locked {
        mutex: &'a Mutex<WasiCtx>,
        /// `None` only inside [`CtxGuard::unlocked`].
        guard: Option<MutexGuard<'a, WasiCtx>>,
    },
}

fn lock(mutex: &Mutex<WasiCtx>) -> MutexGuard<'_, WasiCtx> {
    // A call that panicked mid-way left no half-made change that matters
    // more than the program going on.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl CtxGuard<'_> {
    /// Runs `f`, which blocks and touches no part of the context, with a
    /// shared context unlocked, so that the other threads' calls go on
    /// meanwhile (a thread sleeping in `poll_oneoff` must not stop another
    /// from writing).
    pub(crate) fn unlocked<R>(&mut self, f: impl FnOnce() -> R) -> R {
        match self {
            CtxGuard::Direct(_) => f(),
            CtxGuard::Locked { mutex, guard } => {
                drop(guard.take());
                let result = f();
                *guard = Some(lock(mutex));
                result
            }
        }
    }
}

impl std::ops::Deref for CtxGuard<'_> {
    type Target = WasiCtx;
    fn deref(&self) -> &WasiCtx {
        match self {
            CtxGuard::Direct(cx) => cx,
            CtxGuard::Locked { guard, .. } => guard.as_ref().expect("locked outside `unlocked`"),
        }
    }
}

impl std::ops::DerefMut for CtxGuard<'_> {
    fn deref_mut(&mut self) -> &mut WasiCtx {
        match self {
            CtxGuard::Direct(cx) => cx,
            CtxGuard::Locked { guard, .. } => guard.as_mut().expect("locked outside `unlocked`"),
        }
    }
}

pub(crate) struct Direct<T>(pub(crate) fn(&mut T) -> &mut WasiCtx);

impl<T> Clone for Direct<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Direct<T> {}

impl<T: 'static> CtxAccess<T> for Direct<T> {
    fn ctx(self, data: &mut T) -> CtxGuard<'_> {
        CtxGuard::Direct((self.0)(data))
    }
}

pub(crate) struct Shared<T>(pub(crate) fn(&mut T) -> &Mutex<WasiCtx>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Shared<T> {}

impl<T: 'static> CtxAccess<T> for Shared<T> {
    fn ctx(self, data: &mut T) -> CtxGuard<'_> {
        let mutex = (self.0)(data);
        CtxGuard::Locked {
            mutex,
            guard: Some(lock(mutex)),
        }
    }
}

//! A lazy module's background thread: it compiles, on the second core,
//! the functions the program is likely to call next (the callees of
//! compiled functions, breadth first) and recompiles the functions found
//! hot with the optimising compiler, hot ones first.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, Weak};

use super::LazyState;

/// The work of a module's background thread: functions to compile before
/// they are called, in the order they were found.
#[derive(Default)]
pub(super) struct Prefetch {
    queue: Mutex<PrefetchQueue>,
    ready: Condvar,
}

#[derive(Default)]
struct PrefetchQueue {
    /// Hot functions to recompile with the optimising compiler: first.
    hot: VecDeque<u32>,
    functions: VecDeque<(u32, u8)>,
    started: bool,
    stopped: bool,
}

impl Prefetch {
    /// Queues `functions` (at `depth`) for the fast tier.
    pub(super) fn push(&self, functions: impl Iterator<Item = u32>, depth: u8) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if !queue.stopped {
            queue.functions.extend(functions.map(|f| (f, depth)));
            self.ready.notify_one();
        }
    }

    /// Queues a hot function for the optimising compiler.
    pub(super) fn push_hot(&self, function: u32) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if !queue.stopped {
            queue.hot.push_back(function);
            self.ready.notify_one();
        }
    }

    /// True for the one caller that must start the thread.
    pub(super) fn claim_start(&self) -> bool {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        !queue.stopped && !std::mem::replace(&mut queue.started, true)
    }

    /// The next work: hot functions first; `None` once the module is gone.
    fn pop(&self) -> Option<Work> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if queue.stopped {
                return None;
            }
            if let Some(hot) = queue.hot.pop_front() {
                return Some(Work::TierUp(hot));
            }
            if let Some((function, depth)) = queue.functions.pop_front() {
                return Some(Work::Compile(function, depth));
            }
            queue = self.ready.wait(queue).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Ends the background thread's work (the module is dropped).
    pub(super) fn stop(&self) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.stopped = true;
        queue.functions.clear();
        queue.hot.clear();
        self.ready.notify_all();
    }
}

/// What the background thread does next.
enum Work {
    /// Compile a function (this many calls from a called one) in the fast
    /// tier.
    Compile(u32, u8),
    /// Recompile a hot function with the optimising compiler.
    TierUp(u32),
}

/// A module's background thread: compiles queued functions until the module
/// is dropped. It holds the module's state only while compiling, so it
/// never keeps a dropped module alive for long.
pub(super) fn background_thread(state: &Weak<LazyState>, prefetch: &Prefetch) {
    while let Some(work) = prefetch.pop() {
        let Some(state) = state.upgrade() else {
            return;
        };
        // A failure is left for the call that needs the function to report
        // (or, for tier-up, leaves the fast code in place).
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match work {
            Work::Compile(index, depth) => state.code_of(index as usize, depth).map(drop),
            Work::TierUp(index) => state.tier_up(index as usize),
        }));
    }
}

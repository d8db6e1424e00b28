//! Where threads block in `memory.atomic.wait32`/`wait64` until a
//! `memory.atomic.notify` on the same address wakes them, or their timeout
//! passes.
//!
//! Waiters are keyed by native address: a shared memory is mapped once
//! per process and never moves, so every thread's instance sees one
//! address for one cell. Addresses hash to a fixed set of buckets, each a
//! mutex over its waiters (oldest first, so notify wakes in arrival
//! order, as the proposal asks) and one condition variable.
//!
//! No wakeup is lost: a waiter compares the cell with its expected value
//! while holding its bucket's lock and stays registered under it, and a
//! notifier (which stored to the cell first) takes the same lock to find
//! it. A real block, not a spin: the thread sleeps on the condition
//! variable until notified or timed out.
//!
//! A waiting guest stays subject to its store's deadline: a wait also
//! ends when the caller's `interrupted` check says so, which it asks when
//! it starts and whenever it wakes, and [`wake_all`] (called when an
//! epoch deadline passes) wakes every waiter to ask. Otherwise a guest
//! could wait forever under `-W timeout`.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How a wait ended, as `memory.atomic.wait*` returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitResult {
    /// A notify woke the thread (0).
    Ok = 0,
    /// The cell did not hold the expected value (1).
    Mismatch = 1,
    /// The timeout passed first (2).
    TimedOut = 2,
}

const BUCKETS: usize = 64;

/// One waiting thread.
struct Waiter {
    addr: usize,
    ticket: u64,
    woken: bool,
}

struct Queue {
    waiters: Vec<Waiter>,
    next_ticket: u64,
}

struct Bucket {
    queue: Mutex<Queue>,
    wake: Condvar,
}

static LOT: [Bucket; BUCKETS] = [const {
    Bucket {
        queue: Mutex::new(Queue {
            waiters: Vec::new(),
            next_ticket: 0,
        }),
        wake: Condvar::new(),
    }
}; BUCKETS];

fn bucket(addr: usize) -> &'static Bucket {
    // Cells are at least 4-byte aligned; mix the bits above that.
    let h = (addr >> 2).wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize);
    &LOT[(h >> (usize::BITS - 6)) % BUCKETS]
}

fn lock(bucket: &Bucket) -> MutexGuard<'_, Queue> {
    // A panic elsewhere never leaves the queue half-changed.
    bucket.queue.lock().unwrap_or_else(|e| e.into_inner())
}

/// A cell a thread can wait on: a 32- or 64-bit value and what it must
/// hold for the wait to block.
#[derive(Debug, Clone, Copy)]
pub enum Cell {
    /// `memory.atomic.wait32`.
    U32(*const AtomicU32, u32),
    /// `memory.atomic.wait64`.
    U64(*const AtomicU64, u64),
}

impl Cell {
    fn addr(self) -> usize {
        match self {
            Cell::U32(p, _) => p as usize,
            Cell::U64(p, _) => p as usize,
        }
    }

    /// # Safety
    ///
    /// The cell must be live, aligned memory.
    unsafe fn holds_expected(self) -> bool {
        // SAFETY: the caller vouches for the pointer.
        unsafe {
            match self {
                Cell::U32(p, v) => (*p).load(Ordering::SeqCst) == v,
                Cell::U64(p, v) => (*p).load(Ordering::SeqCst) == v,
            }
        }
    }
}

/// Blocks while `cell` holds its expected value until a [`notify`] of its
/// address wakes this thread, or `timeout` passes (`None`: no timeout), or
/// `interrupted` returns true: then `None`.
///
/// # Safety
///
/// The cell's pointer must be aligned and stay valid (mapped) for the
/// whole call: a shared memory's cell, kept alive by the caller's instance.
pub unsafe fn wait(
    cell: Cell,
    timeout: Option<Duration>,
    interrupted: &dyn Fn() -> bool,
) -> Option<WaitResult> {
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    let addr = cell.addr();
    let bucket = bucket(addr);
    let mut queue = lock(bucket);
    if interrupted() {
        return None;
    }
    // SAFETY: the caller guarantees the cell is live and aligned.
    if !unsafe { cell.holds_expected() } {
        return Some(WaitResult::Mismatch);
    }
    if timeout == Some(Duration::ZERO) {
        return Some(WaitResult::TimedOut);
    }
    let ticket = queue.next_ticket;
    queue.next_ticket += 1;
    queue.waiters.push(Waiter {
        addr,
        ticket,
        woken: false,
    });
    loop {
        let at = queue
            .waiters
            .iter()
            .position(|w| w.ticket == ticket)
            .expect("a waiter stays queued until it leaves");
        if queue.waiters[at].woken {
            queue.waiters.remove(at);
            return Some(WaitResult::Ok);
        }
        if interrupted() {
            queue.waiters.remove(at);
            return None;
        }
        let now = Instant::now();
        match deadline {
            Some(deadline) if now >= deadline => {
                queue.waiters.remove(at);
                return Some(WaitResult::TimedOut);
            }
            Some(deadline) => {
                queue = bucket
                    .wake
                    .wait_timeout(queue, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            // No timeout, or one too far to represent as an instant.
            None => {
                queue = bucket.wake.wait(queue).unwrap_or_else(|e| e.into_inner());
            }
        }
    }
}

/// Wakes up to `count` threads waiting on `addr`, oldest first, and
/// returns how many it woke.
pub fn notify(addr: usize, count: u32) -> u32 {
    if count == 0 {
        return 0;
    }
    let bucket = bucket(addr);
    let mut queue = lock(bucket);
    let mut woken = 0;
    for waiter in queue.waiters.iter_mut() {
        if woken == count {
            break;
        }
        if waiter.addr == addr && !waiter.woken {
            waiter.woken = true;
            woken += 1;
        }
    }
    drop(queue);
    if woken > 0 {
        // Others in the bucket wake too, see they are not woken, and sleep
        // again.
        bucket.wake.notify_all();
    }
    woken
}

/// Wakes every waiting thread to look again at whether it was notified,
/// timed out or interrupted (each bucket's lock is taken, so a waiter
/// that is about to sleep is asleep by the time it is woken).
pub fn wake_all() {
    for bucket in &LOT {
        let queue = lock(bucket);
        if !queue.waiters.is_empty() {
            bucket.wake.notify_all();
        }
        drop(queue);
    }
}

/// The timeout a wait instruction's `i64` operand means: nanoseconds, or
/// none when negative.
pub fn timeout_of(nanos: i64) -> Option<Duration> {
    u64::try_from(nanos).ok().map(Duration::from_nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_mismatch_returns_at_once_and_a_timeout_times_out() {
        let cell = AtomicU32::new(7);
        let never = &|| false;
        // SAFETY: `cell` is a live, aligned local for every call.
        unsafe {
            assert_eq!(
                wait(Cell::U32(&cell, 8), None, never),
                Some(WaitResult::Mismatch)
            );
            let start = Instant::now();
            let timeout = Some(Duration::from_millis(20));
            let r = wait(Cell::U32(&cell, 7), timeout, never);
            assert_eq!(r, Some(WaitResult::TimedOut));
            assert!(start.elapsed() >= Duration::from_millis(20));
            // Interrupted before it starts: no wait at all.
            assert_eq!(wait(Cell::U32(&cell, 7), None, &|| true), None);
        }
        assert_eq!(notify(&cell as *const _ as usize, 1), 0);
    }

    #[test]
    fn notify_wakes_as_many_as_asked_in_order() {
        let cell = Arc::new(AtomicU64::new(0));
        let addr = Arc::as_ptr(&cell) as usize;
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let cell = Arc::clone(&cell);
                std::thread::spawn(move || {
                    // SAFETY: the Arc keeps the cell alive for the call.
                    unsafe { wait(Cell::U64(Arc::as_ptr(&cell), 0), None, &|| false) }
                })
            })
            .collect();
        // Wait until all three are queued.
        while lock(bucket(addr))
            .waiters
            .iter()
            .filter(|w| w.addr == addr)
            .count()
            < 3
        {
            std::thread::yield_now();
        }
        assert_eq!(notify(addr, 2), 2);
        assert_eq!(notify(addr, 5), 1);
        for t in threads {
            assert_eq!(t.join().unwrap(), Some(WaitResult::Ok));
        }
        assert_eq!(notify(addr, 1), 0);
    }

    #[test]
    fn wake_all_lets_an_interrupted_waiter_go() {
        use std::sync::atomic::AtomicBool;
        let cell = Arc::new(AtomicU32::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let addr = Arc::as_ptr(&cell) as usize;
        let waiter = {
            let (cell, stop) = (Arc::clone(&cell), Arc::clone(&stop));
            std::thread::spawn(move || {
                let interrupted = || stop.load(Ordering::SeqCst);
                // SAFETY: the Arc keeps the cell alive for the call.
                unsafe { wait(Cell::U32(Arc::as_ptr(&cell), 0), None, &interrupted) }
            })
        };
        while lock(bucket(addr)).waiters.iter().all(|w| w.addr != addr) {
            std::thread::yield_now();
        }
        stop.store(true, Ordering::SeqCst);
        wake_all();
        assert_eq!(waiter.join().unwrap(), None);
        assert!(lock(bucket(addr)).waiters.iter().all(|w| w.addr != addr));
    }
}

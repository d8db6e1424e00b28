//! Epoch interruption: an engine-wide epoch counter, per-store deadlines,
//! and the interrupt page that turns a passed deadline into a fault.
//!
//! !!! This file bounds untrusted guests. Changes need a second reviewer. !!!
//!
//! ```text
//!  Engine::increment_epoch ─► Epochs { epoch, waiting: deadline -> store }
//!                                           │ deadline reached
//!                                           ▼
//!  Store ─► InterruptPage  (readable ──mprotect──► inaccessible)
//!              ▲
//!  compiled code: one byte load at every function entry and loop header
//!                 (faults once inaccessible: the trap table says Interrupt)
//! ```
//!
//! Compiled code never reads the epoch: it loads from its store's page,
//! which costs one L1 hit while the deadline is ahead. When the epoch
//! reaches a store's deadline, whoever advanced it (any thread) makes the
//! page inaccessible; the running guest's next check faults, and the signal
//! handler we already have reports `Trap::Interrupt`. The page stays
//! inaccessible until the store is given a new deadline.
//!
//! As in wasmtime, a store's deadline starts at zero: a store of an engine
//! with epoch interruption traps at once until
//! [`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline) is
//! called.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use cljit_compiler::abi::vmoffsets::INTERRUPT_REGION_BYTES;

/// A store's interrupt region: [`INTERRUPT_REGION_BYTES`] of address space,
/// readable or inaccessible as a whole.
///
/// Whether the store is interrupted (its deadline has passed) and whether
/// the region is inaccessible are two facts: they agree whenever wasm of
/// the store may run, because the one entry from the host into wasm
/// (`call_raw`) refuses an interrupted store, and every interruption makes
/// the region inaccessible before it returns. Only a store that has not
/// run since it became interrupted (a new store, whose deadline starts
/// passed) may have a readable region: a region reused from the pool stays
/// as it was until the store is given a deadline, which is then free.
pub(crate) struct InterruptPage {
    /// `None` only while being dropped (the mapping goes back to the pool).
    mapping: Option<Mapping>,
    /// Whether the store is interrupted.
    interrupted: AtomicBool,
    /// Whether the region is inaccessible; serialises protection changes,
    /// so the flags and the mapping agree.
    inaccessible: Mutex<bool>,
    pool: Option<Arc<InterruptPagePool>>,
}

/// The mapping of an interrupt region.
struct Mapping(region::Allocation);

// SAFETY: the allocation is address space owned by whoever holds the
// mapping; nothing writes through it, and its protection is changed only
// under the owning page's lock (or while no page owns it, in the pool).
unsafe impl Send for Mapping {}

impl std::fmt::Debug for InterruptPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InterruptPage")
            .field("address", &self.as_ptr())
            .field("interrupted", &self.is_interrupted())
            .finish()
    }
}

// SAFETY: the mapping is only read by compiled code and re-protected under
// `inaccessible`'s lock; nothing writes through it.
unsafe impl Send for InterruptPage {}
// SAFETY: compiled code only reads the mapping, and every method takes
// `&self` and changes the protection under `inaccessible`'s lock.
unsafe impl Sync for InterruptPage {}

impl InterruptPage {
    /// A region of its own, inaccessible, for an interrupted store.
    ///
    /// # Errors
    ///
    /// When the address space cannot be mapped.
    #[cfg(test)]
    pub(crate) fn new() -> std::io::Result<InterruptPage> {
        Ok(InterruptPage {
            mapping: Some(Mapping::new()?),
            interrupted: AtomicBool::new(true),
            inaccessible: Mutex::new(true),
            pool: None,
        })
    }

    /// A region for an interrupted store, reused from `pool` if it holds
    /// one (as it was left: perhaps readable), which takes it back when the
    /// page goes.
    ///
    /// # Errors
    ///
    /// When a new region is needed and cannot be mapped.
    pub(crate) fn from_pool(pool: &Arc<InterruptPagePool>) -> std::io::Result<InterruptPage> {
        let (mapping, inaccessible) = match pool.take() {
            Some(idle) => idle,
            None => (Mapping::new()?, true),
        };
        Ok(InterruptPage {
            mapping: Some(mapping),
            interrupted: AtomicBool::new(true),
            inaccessible: Mutex::new(inaccessible),
            pool: Some(Arc::clone(pool)),
        })
    }

    fn mapping(&self) -> &region::Allocation {
        &self
            .mapping
            .as_ref()
            .expect("the mapping is only taken while dropping")
            .0
    }

    /// The address compiled code loads from.
    pub(crate) fn as_ptr(&self) -> *const u8 {
        self.mapping().as_ptr()
    }

    /// Whether the store is interrupted.
    pub(crate) fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// Interrupts the store and makes the region inaccessible (`true`), or
    /// makes the region readable and lets the store run (`false`).
    fn set_interrupted(&self, interrupted: bool) {
        let mut inaccessible = self.inaccessible.lock().unwrap_or_else(|e| e.into_inner());
        if *inaccessible != interrupted {
            let protection = if interrupted {
                region::Protection::NONE
            } else {
                region::Protection::READ
            };
            let mapping = self.mapping();
            // SAFETY: the range is exactly our own mapping, which lives as
            // long as `self`; changing its protection affects nothing else.
            // Compiled code only loads from it, and a load that faults is a
            // trap.
            let changed =
                unsafe { region::protect(mapping.as_ptr::<u8>(), mapping.len(), protection) };
            // mprotect of our own mapping fails only without memory for the
            // kernel's bookkeeping; then the region keeps its old state, and
            // so do the flags.
            if changed.is_err() {
                return;
            }
            *inaccessible = interrupted;
        }
        self.interrupted.store(interrupted, Ordering::SeqCst);
        if interrupted {
            // A guest of this store may be blocked in memory.atomic.wait:
            // wake every waiter to look at its store's flag.
            crate::memory::parking::wake_all();
        }
    }

    /// Whether the region is inaccessible.
    #[cfg(test)]
    fn is_inaccessible(&self) -> bool {
        *self.inaccessible.lock().unwrap()
    }
}

impl Drop for InterruptPage {
    fn drop(&mut self) {
        if let (Some(pool), Some(mapping)) = (&self.pool, self.mapping.take()) {
            let inaccessible = *self
                .inaccessible
                .get_mut()
                .unwrap_or_else(|e| e.into_inner());
            pool.put(mapping, inaccessible);
        }
    }
}

impl Mapping {
    fn new() -> std::io::Result<Mapping> {
        let bytes = usize::try_from(INTERRUPT_REGION_BYTES).expect("a u32 fits in usize");
        region::alloc(bytes, region::Protection::NONE)
            .map(Mapping)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

/// Interrupt regions of stores that are gone, kept by the engine for new
/// stores (mapping and unmapping one per store would cost a new store two
/// system calls, and its end a TLB shootdown). A region is never written,
/// so it reads as zeros whoever had it; the pool remembers whether it was
/// left inaccessible.
#[derive(Default)]
pub(crate) struct InterruptPagePool {
    idle: Mutex<Vec<(Mapping, bool)>>,
    capacity: usize,
}

impl std::fmt::Debug for InterruptPagePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InterruptPagePool")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl InterruptPagePool {
    /// A pool keeping at most `capacity` idle regions.
    pub(crate) fn new(capacity: usize) -> InterruptPagePool {
        InterruptPagePool {
            idle: Mutex::new(Vec::new()),
            capacity,
        }
    }

    fn take(&self) -> Option<(Mapping, bool)> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    fn put(&self, mapping: Mapping, inaccessible: bool) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.capacity {
            idle.push((mapping, inaccessible));
        }
    }
}

/// The epoch counter of an engine and the stores waiting for it.
#[derive(Debug, Default)]
pub(crate) struct Epochs {
    epoch: AtomicU64,
    /// The earliest deadline in `waiting` (`u64::MAX` when none), so an
    /// increment that reaches no deadline takes no lock.
    next_due: AtomicU64,
    /// Stores with a deadline ahead, by (deadline, store serial).
    waiting: Mutex<BTreeMap<(u64, u64), Weak<InterruptPage>>>,
}

impl Epochs {
    /// A fresh counter at epoch zero, with no store waiting.
    pub(crate) fn new() -> Epochs {
        Epochs {
            epoch: AtomicU64::new(0),
            next_due: AtomicU64::new(u64::MAX),
            waiting: Mutex::new(BTreeMap::new()),
        }
    }

    /// The current epoch.
    pub(crate) fn current(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Advances the epoch by one and interrupts every store whose deadline
    /// it reaches.
    pub(crate) fn increment(&self) {
        let now = self.epoch.fetch_add(1, Ordering::SeqCst).wrapping_add(1);
        if now >= self.next_due.load(Ordering::SeqCst) {
            self.interrupt_due();
        }
    }

    /// Interrupts the stores whose deadline has been reached.
    fn interrupt_due(&self) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.current();
        while let Some(entry) = waiting.first_entry() {
            if entry.key().0 > now {
                break;
            }
            if let Some(page) = entry.remove().upgrade() {
                page.set_interrupted(true);
            }
        }
        self.publish_next_due(&waiting);
    }

    fn publish_next_due(&self, waiting: &BTreeMap<(u64, u64), Weak<InterruptPage>>) {
        let next = waiting.keys().next().map_or(u64::MAX, |&(due, _)| due);
        self.next_due.store(next, Ordering::SeqCst);
    }

    /// Gives a store the deadline `ticks` epochs from now, replacing the one
    /// it had (`slot`, its entry in the waiting list). Zero ticks
    /// interrupts it at once.
    pub(crate) fn set_deadline(
        &self,
        page: &Arc<InterruptPage>,
        serial: u64,
        slot: &mut Option<(u64, u64)>,
        ticks: u64,
    ) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = slot.take() {
            waiting.remove(&key);
        }
        let deadline = self.current().saturating_add(ticks);
        if ticks == 0 {
            page.set_interrupted(true);
        } else {
            let key = (deadline, serial);
            waiting.insert(key, Arc::downgrade(page));
            *slot = Some(key);
            page.set_interrupted(false);
        }
        self.publish_next_due(&waiting);
        drop(waiting);
        // An increment between reading the epoch above and publishing
        // `next_due` may have missed this deadline: look again.
        if ticks != 0 && self.current() >= deadline {
            self.interrupt_due();
        }
    }

    /// Forgets a store's deadline (the store is going away).
    pub(crate) fn remove(&self, slot: &mut Option<(u64, u64)>) {
        if let Some(key) = slot.take() {
            let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
            waiting.remove(&key);
            self.publish_next_due(&waiting);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readable(page: &InterruptPage) -> bool {
        !page.is_interrupted()
    }

    #[test]
    fn deadlines_interrupt_when_the_epoch_reaches_them() {
        let epochs = Epochs::new();
        let a = Arc::new(InterruptPage::new().unwrap());
        let b = Arc::new(InterruptPage::new().unwrap());
        assert!(!readable(&a), "a new store starts interrupted");
        let (mut slot_a, mut slot_b) = (None, None);
        epochs.set_deadline(&a, 1, &mut slot_a, 1);
        epochs.set_deadline(&b, 2, &mut slot_b, 3);
        assert!(readable(&a) && readable(&b));
        // SAFETY: the page is readable (checked above) and lives here.
        assert_eq!(unsafe { *a.as_ptr().add(100) }, 0);
        epochs.increment();
        assert!(!readable(&a) && readable(&b));
        epochs.increment();
        assert!(readable(&b));
        epochs.increment();
        assert!(!readable(&b));
        // A new deadline makes the page readable again.
        epochs.set_deadline(&a, 1, &mut slot_a, 2);
        assert!(readable(&a));
        epochs.set_deadline(&a, 1, &mut slot_a, 0);
        assert!(!readable(&a));
    }

    #[test]
    fn a_reused_region_is_interrupted_until_given_a_deadline() {
        let epochs = Epochs::new();
        let pool = Arc::new(InterruptPagePool::new(1));
        let a = Arc::new(InterruptPage::from_pool(&pool).unwrap());
        let address = a.as_ptr();
        let mut slot = None;
        epochs.set_deadline(&a, 1, &mut slot, 5);
        assert!(readable(&a) && !a.is_inaccessible());
        epochs.remove(&mut slot);
        drop(a);
        // The next store gets the same region, readable as it was left, but
        // interrupted: nothing of it runs until it has a deadline.
        let b = Arc::new(InterruptPage::from_pool(&pool).unwrap());
        assert_eq!(b.as_ptr(), address);
        assert!(b.is_interrupted() && !b.is_inaccessible());
        let mut slot = None;
        epochs.set_deadline(&b, 2, &mut slot, 1);
        assert!(readable(&b));
        // SAFETY: the region is readable and lives as long as `b`.
        assert_eq!(unsafe { *b.as_ptr().add(7) }, 0);
        epochs.increment();
        assert!(b.is_interrupted() && b.is_inaccessible());
        drop(b);
        // Left inaccessible, it comes back so.
        let c = InterruptPage::from_pool(&pool).unwrap();
        assert!(c.is_interrupted() && c.is_inaccessible());
        // A pool of no capacity keeps nothing.
        let none = Arc::new(InterruptPagePool::new(0));
        drop(InterruptPage::from_pool(&none).unwrap());
        assert!(none.take().is_none());
    }

    #[test]
    fn removed_and_dropped_stores_are_skipped() {
        let epochs = Epochs::new();
        let a = Arc::new(InterruptPage::new().unwrap());
        let mut slot = None;
        epochs.set_deadline(&a, 1, &mut slot, 1);
        epochs.remove(&mut slot);
        epochs.increment();
        assert!(readable(&a));
        let b = Arc::new(InterruptPage::new().unwrap());
        let mut slot = None;
        epochs.set_deadline(&b, 2, &mut slot, 1);
        drop(b);
        epochs.increment();
        assert_eq!(epochs.current(), 2);
        assert_eq!(epochs.next_due.load(Ordering::SeqCst), u64::MAX);
    }
}

//! Linear memories: a reservation plus guard region, grown in place, or (in
//! explicit-bounds-check mode, when the reservation is too small) moved to a
//! bigger one.
//!
//! ```text
//!  base                       current_length        reservation      + guard
//!   |---- accessible (RW) ---------|---- PROT_NONE ----------|---- PROT_NONE ----|
//! ```
//!
//! Whether a memory may move is decided by the same `Tunables` the code was
//! compiled with (`Tunables::memory_never_moves`): code for a memory that
//! never moves loads its base once; code for one that may move reloads it.

pub mod image;
pub mod mmap;
pub mod parking;
pub mod pool;
pub mod shared;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cljit_compiler::abi::Tunables;
use cljit_compiler::types::MemoryType;

use self::image::MemoryImage;
use self::mmap::Mmap;
use self::pool::MemoryPool;
use crate::vm::vmcontext::VmMemoryDefinition;

/// Reservations of the configured layout the room left under an
/// address-space limit must hold for the engine to keep it: a process with
/// room for fewer memories than this (and its code, stacks and heap) would
/// fail on its second or third instance instead of its first.
const RESERVATIONS_PER_LIMIT: u64 = 8;

/// The memory layout an engine uses when `tunables`' reservation does not
/// fit this process: `None` when it does (or when it asks for none),
/// otherwise the explicit-bounds-check layout (each memory reserves only
/// its own size, with no guard, and moves when it grows) and why the
/// configured one was given up. Compiled code follows the tunables, so
/// this is decided once, when the engine is made.
pub(crate) fn fallback_layout(tunables: &Tunables) -> Option<(Tunables, String)> {
    let wanted = tunables
        .memory_reservation
        .saturating_add(tunables.memory_guard_size);
    if wanted == 0 {
        return None;
    }
    let mib = |bytes: u64| bytes >> 20;
    let free = address_space_limit().map(|limit| limit.saturating_sub(address_space_used()));
    let reason = match free {
        Some(free) if free / RESERVATIONS_PER_LIMIT < wanted => Some(format!(
            "the address-space limit (RLIMIT_AS) leaves {} MiB free, fewer than \
             {RESERVATIONS_PER_LIMIT} reservations of {} MiB",
            mib(free),
            mib(wanted)
        )),
        _ => usize::try_from(wanted)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::OutOfMemory))
            .and_then(Mmap::reserve)
            .err()
            .map(|e| format!("reserving {} MiB for a memory failed: {e}", mib(wanted))),
    }?;
    let explicit = Tunables {
        memory_reservation: 0,
        memory_guard_size: 0,
        ..*tunables
    };
    Some((explicit, reason))
}

/// Whether anything is mapped at address 0 (the first page). Explicitly
/// checked accesses under the Spectre guard turn an out-of-bounds address
/// into null and rely on the access faulting there (see the compiler's
/// `bounds_checks.rs`); Linux maps nothing below `vm.mmap_min_addr` unless
/// a privileged process asks.
pub(crate) fn first_page_mapped() -> bool {
    let page = region::page::size();
    // SAFETY: `msync` only inspects the mapping of [0, page); it fails
    // with ENOMEM when nothing is mapped there and touches no memory.
    let rc = unsafe { libc::msync(std::ptr::null_mut(), page, libc::MS_ASYNC) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ENOMEM)
}

/// The address space the process uses now, in bytes (0 if unknown): what
/// `RLIMIT_AS` counts against its limit.
fn address_space_used() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0);
    pages.saturating_mul(region::page::size() as u64)
}

/// The process's address-space limit (`RLIMIT_AS`) in bytes, if it has one.
fn address_space_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` through a pointer to a live,
    // properly aligned local.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) };
    (rc == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

/// One linear memory, owned by a store.
#[derive(Debug)]
pub struct LinearMemory {
    ty: MemoryType,
    mmap: Mmap,
    guard_bytes: usize,
    may_move: bool,
    max_bytes: u64,
    /// Shared with compiled code through vmctx pointers; boxed so its
    /// address is stable.
    definition: Box<VmMemoryDefinition>,
    /// The engine's pool, which takes the reservation back.
    pool: Arc<MemoryPool>,
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        let mmap = std::mem::replace(&mut self.mmap, Mmap::none());
        self.pool.recycle(mmap);
    }
}

fn to_usize(bytes: u64) -> Option<usize> {
    usize::try_from(bytes).ok()
}

impl LinearMemory {
    /// Creates a memory of type `ty` laid out as `tunables` promised the
    /// code, its reservation from `pool` (which takes it back when the
    /// memory goes). It reads as zeros, except over `image`'s range, which
    /// reads as the image (mapped copy-on-write).
    ///
    /// # Errors
    ///
    /// When the address space cannot be reserved, the initial pages
    /// cannot be committed, or the image cannot be mapped.
    pub fn new(
        ty: MemoryType,
        tunables: &Tunables,
        pool: &Arc<MemoryPool>,
        image: Option<&Arc<MemoryImage>>,
    ) -> std::io::Result<LinearMemory> {
        let oom = || std::io::Error::new(std::io::ErrorKind::OutOfMemory, "memory too large");
        let max_bytes = ty.max_bytes();
        let initial = ty.bytes_of(ty.min_pages).ok_or_else(oom)?;
        let may_move = !tunables.memory_never_moves(&ty);
        let reservation = if may_move {
            tunables.memory_reservation.max(initial)
        } else {
            // A shared memory never moves even where others may: it
            // reserves its whole maximum (which it must declare).
            tunables.memory_reservation.max(max_bytes)
        };
        let guard_bytes = to_usize(tunables.memory_guard_size).ok_or_else(oom)?;
        let total = to_usize(reservation)
            .and_then(|r| r.checked_add(guard_bytes))
            .ok_or_else(oom)?;
        let initial = to_usize(initial).ok_or_else(oom)?;
        let mmap = pool.reserve(total, initial, image).map_err(|e| {
            if total < 1 << 30 {
                return e;
            }
            std::io::Error::new(
                e.kind(),
                format!(
                    "reserving {} MiB of address space for it failed ({e}); with many \
                     live memories, explicit bounds checks (a memory reservation of 0) \
                     reserve only each memory's own size",
                    total >> 20
                ),
            )
        })?;
        let definition = Box::new(VmMemoryDefinition {
            base: mmap.as_ptr(),
            current_length: AtomicUsize::new(initial),
        });
        Ok(LinearMemory {
            ty,
            mmap,
            guard_bytes,
            may_move,
            max_bytes,
            definition,
            pool: Arc::clone(pool),
        })
    }

    /// Whether the memory was made with an image it still maps.
    pub fn has_image(&self) -> bool {
        self.mmap.image().is_some()
    }

    /// Turns the image's bytes back into zeros: for an instantiation that
    /// must apply its data segments one by one after all.
    ///
    /// # Errors
    ///
    /// If the pages cannot be replaced.
    pub fn clear_image(&mut self) -> std::io::Result<()> {
        self.mmap.remove_image()
    }

    /// The memory's type, with its current size as the minimum.
    pub fn ty(&self) -> MemoryType {
        MemoryType {
            min_pages: self.pages(),
            ..self.ty
        }
    }

    /// Current size in bytes.
    pub fn byte_size(&self) -> usize {
        self.definition.current_length.load(Ordering::Acquire)
    }

    /// Current size in pages (of the memory's page size).
    pub fn pages(&self) -> u64 {
        self.byte_size() as u64 >> self.ty.page_size_log2
    }

    /// Start of the memory.
    pub fn base(&self) -> *mut u8 {
        self.definition.base
    }

    /// The definition compiled code reads.
    pub fn definition_ptr(&mut self) -> *mut VmMemoryDefinition {
        &mut *self.definition
    }

    /// Grows by `delta_pages`, returning the old size in pages, or `None`
    /// when the memory cannot grow that much (its maximum, or the system's
    /// memory); the memory is then unchanged.
    pub fn grow(&mut self, delta_pages: u64) -> Option<u64> {
        let old_pages = self.pages();
        let new_pages = old_pages.checked_add(delta_pages)?;
        let new_bytes = self.ty.bytes_of(new_pages)?;
        if new_bytes > self.max_bytes {
            return None;
        }
        let new_len = to_usize(new_bytes)?;
        let reserved = self.mmap.len() - self.guard_bytes;
        if new_len <= reserved {
            self.mmap.make_accessible(new_len).ok()?;
        } else if self.may_move {
            // Move to a bigger reservation: double, to amortise copies.
            let want = new_len
                .max(reserved.saturating_mul(2))
                .min(to_usize(self.max_bytes)?);
            let mut bigger = Mmap::reserve(want.checked_add(self.guard_bytes)?).ok()?;
            bigger.make_accessible(new_len).ok()?;
            // SAFETY: both regions are accessible for `byte_size()` bytes and
            // are distinct mappings.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    self.mmap.as_ptr(),
                    bigger.as_ptr(),
                    self.byte_size(),
                );
            }
            let old = std::mem::replace(&mut self.mmap, bigger);
            self.pool.recycle(old);
            self.definition.base = self.mmap.as_ptr();
        } else {
            return None;
        }
        // Release: another thread that sees the new length sees the pages
        // made accessible before it.
        self.definition
            .current_length
            .store(new_len, Ordering::Release);
        Some(old_pages)
    }

    /// The accessible bytes.
    #[cfg(test)]
    pub fn data(&self) -> &[u8] {
        // SAFETY: [base, base + current_length) is accessible and owned by
        // this memory; `&self` prevents growth (which could move it) while
        // the slice lives.
        unsafe { std::slice::from_raw_parts(self.base(), self.byte_size()) }
    }

    /// The accessible bytes, mutably.
    #[cfg(test)]
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, with exclusive access through `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.base(), self.byte_size()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(min: u64, max: Option<u64>) -> MemoryType {
        MemoryType::new(min, max)
    }

    #[test]
    fn a_reservation_the_process_cannot_have_falls_back_to_explicit_checks() {
        // Asking for nothing never falls back.
        let explicit = Tunables {
            memory_reservation: 0,
            memory_guard_size: 0,
            ..Tunables::default()
        };
        assert!(fallback_layout(&explicit).is_none());
        // 2^62 bytes is beyond any x86-64 or aarch64 address space.
        let huge = Tunables {
            memory_reservation: 1 << 62,
            ..Tunables::default()
        };
        let (tunables, why) = fallback_layout(&huge).expect("falls back");
        assert_eq!(tunables, explicit);
        assert!(why.starts_with("reserving 4398046513152 MiB"), "{why}");
        assert!(why.contains("for a memory failed"), "{why}");
        // Whatever else the fallback changes, it keeps the other knobs.
        let fuel = Tunables {
            consume_fuel: true,
            ..huge
        };
        assert!(fallback_layout(&fuel).expect("falls back").0.consume_fuel);
    }

    #[test]
    fn the_first_page_is_not_mapped() {
        assert!(!first_page_mapped());
    }

    #[test]
    fn static_memory_grows_in_place_up_to_its_maximum() {
        let pool = Arc::new(MemoryPool::new(0, 0));
        let mut m =
            LinearMemory::new(ty(1, Some(3)), &Tunables::default(), &pool, None).expect("memory");
        let base = m.base();
        assert_eq!(m.grow(1), Some(1));
        assert_eq!(m.grow(1), Some(2));
        assert_eq!(m.grow(1), None);
        assert_eq!(m.pages(), 3);
        assert_eq!(m.base(), base);
        assert!(m.data().iter().all(|&b| b == 0));
    }

    #[test]
    fn dynamic_memory_moves_and_keeps_contents() {
        let tunables = Tunables {
            memory_reservation: 0,
            memory_guard_size: 0,
            ..Tunables::default()
        };
        let pool = Arc::new(MemoryPool::new(4, 1 << 16));
        let mut m = LinearMemory::new(ty(1, None), &tunables, &pool, None).expect("memory");
        m.data_mut()[10] = 42;
        assert_eq!(m.grow(3), Some(1));
        assert_eq!(m.byte_size(), 4 * 65536);
        assert_eq!(m.data()[10], 42);
        assert_eq!(m.data()[4 * 65536 - 1], 0);
    }
}

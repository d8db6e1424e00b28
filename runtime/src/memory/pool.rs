//! Reservations of freed linear memories, kept by the engine for the next
//! memory of the same layout.
//!
//! !!! This file guards the sandbox. Changes need a second reviewer. !!!
//!
//! Reserving a memory's address space (4 GiB plus a 2 GiB guard by default)
//! and releasing it costs an `mmap`, an `mprotect` and an `munmap` whose
//! page-table teardown dominates a short-lived instance (a function-as-a-
//! service request). A freed reservation is instead zeroed with
//! `MADV_DONTNEED` (its touched pages go back to the kernel; untouched ones
//! cost nothing) and kept, its accessible prefix as it was; the next memory
//! of the same reservation size takes it and only adjusts that prefix.
//!
//! A reservation that carries a memory image keeps it: reset, its image
//! range reads as the image again, and the next memory with the same image
//! (the next instance of the same module) takes it without mapping
//! anything.
//!
//! Invariant: every idle reservation reads as zeros, except over the range
//! of the image it carries, which reads as that image, and keeps the
//! mapping invariant of [`Mmap`] (`[0, accessible)` read-write, the rest
//! inaccessible). A reservation that cannot be reset is unmapped, never
//! kept.

use std::io;
use std::sync::{Arc, Mutex};

use super::image::MemoryImage;
use super::mmap::{Mmap, round_up_to_pages};

/// Idle reservations, at most `capacity` of them.
#[derive(Debug)]
pub struct MemoryPool {
    idle: Mutex<Vec<Mmap>>,
    capacity: usize,
    keep_resident: usize,
}

impl MemoryPool {
    /// A pool keeping at most `capacity` idle reservations (0: none, every
    /// freed reservation is unmapped), zeroing the first `keep_resident`
    /// bytes of each with stores and giving the rest back to the kernel.
    pub fn new(capacity: usize, keep_resident: usize) -> MemoryPool {
        MemoryPool {
            idle: Mutex::new(Vec::new()),
            capacity,
            keep_resident,
        }
    }

    /// A reservation of `len` bytes whose first `initial` bytes (rounded up
    /// to pages) are accessible and the rest not, reading as zeros except
    /// over `image`'s range, which reads as the image: an idle one if one
    /// fits (one carrying the same image first), otherwise a new one.
    ///
    /// # Errors
    ///
    /// When a new reservation cannot be made, committed, or given the
    /// image.
    pub fn reserve(
        &self,
        len: usize,
        initial: usize,
        image: Option<&Arc<MemoryImage>>,
    ) -> io::Result<Mmap> {
        // A reservation that cannot be adjusted is dropped (unmapped), and a
        // new one made.
        if let Some(mut reused) = self.take(len, image)
            && Self::prepare(&mut reused, initial, image).is_ok()
        {
            return Ok(reused);
        }
        let mut mmap = Mmap::reserve(len)?;
        Self::prepare(&mut mmap, initial, image)?;
        Ok(mmap)
    }

    /// Gives a zeroed (or reset) reservation `initial` accessible bytes and
    /// `image`, dropping any other image it carries.
    fn prepare(
        mmap: &mut Mmap,
        initial: usize,
        image: Option<&Arc<MemoryImage>>,
    ) -> io::Result<()> {
        if !carries(mmap, image) {
            mmap.remove_image()?;
        }
        mmap.shrink_accessible(initial)?;
        mmap.make_accessible(initial)?;
        if let Some(image) = image {
            mmap.map_image(image)?;
        }
        Ok(())
    }

    fn take(&self, len: usize, image: Option<&Arc<MemoryImage>>) -> Option<Mmap> {
        let len = round_up_to_pages(len.max(1))?;
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let at = idle
            .iter()
            .rposition(|m| m.len() == len && carries(m, image))
            .or_else(|| idle.iter().rposition(|m| m.len() == len))?;
        Some(idle.swap_remove(at))
    }

    /// Takes back the reservation of a memory that is gone: zeroed and kept
    /// if there is room, unmapped otherwise.
    pub fn recycle(&self, mut mmap: Mmap) {
        if self.capacity == 0 || mmap.len() == 0 {
            return;
        }
        if self.idle.lock().unwrap_or_else(|e| e.into_inner()).len() >= self.capacity {
            return;
        }
        // Resetting happens outside the lock; a failure unmaps the mapping.
        if mmap.zero(self.keep_resident).is_err() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.capacity {
            idle.push(mmap);
        }
    }

    /// How many reservations are idle.
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.idle.lock().unwrap().len()
    }
}

/// Whether `mmap` carries exactly `image` (or no image when `None`).
fn carries(mmap: &Mmap, image: Option<&Arc<MemoryImage>>) -> bool {
    match (mmap.image(), image) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_recycled_reservation_comes_back_zeroed_with_the_asked_prefix() {
        let pool = MemoryPool::new(2, 0);
        let page = region::page::size();
        let first = pool.reserve(1 << 20, 4 * page, None).expect("reserve");
        let base = first.as_ptr();
        // SAFETY: four pages are accessible.
        unsafe { *first.as_ptr().add(4 * page - 1) = 9 };
        pool.recycle(first);
        assert_eq!(pool.idle(), 1);

        let second = pool.reserve(1 << 20, page, None).expect("reuse");
        assert_eq!(second.as_ptr(), base, "the same reservation");
        assert_eq!(second.accessible(), page);
        // SAFETY: the first page is accessible.
        assert_eq!(unsafe { *second.as_ptr() }, 0);
        pool.recycle(second);

        let mut third = pool.reserve(1 << 20, 4 * page, None).expect("reuse");
        assert_eq!(third.as_ptr(), base);
        // SAFETY: four pages are accessible again, and read as zeros.
        assert_eq!(unsafe { *third.as_ptr().add(4 * page - 1) }, 0);
        third.make_accessible(5 * page).expect("grow");
        // Another size is not reused.
        let other = pool.reserve(2 << 20, page, None).expect("reserve");
        assert_ne!(other.as_ptr(), base);
        pool.recycle(third);
        pool.recycle(other);
        assert_eq!(pool.idle(), 2);
        // Beyond the capacity, reservations are unmapped.
        let extra = Mmap::reserve(1 << 20).expect("reserve");
        pool.recycle(extra);
        assert_eq!(pool.idle(), 2);
    }

    #[test]
    fn a_pool_of_no_capacity_keeps_nothing() {
        let pool = MemoryPool::new(0, 0);
        let m = pool.reserve(1 << 20, 0, None).expect("reserve");
        pool.recycle(m);
        assert_eq!(pool.idle(), 0);
    }
}

//! An anonymous mapping reserved inaccessible and made accessible from the
//! front as a linear memory grows.
//!
//! !!! This file guards the sandbox. Changes need a second reviewer. !!!
//!
//! Invariant: bytes `[0, accessible)` are readable and writable; bytes
//! `[accessible, len)` are `PROT_NONE`, so any access there faults. Compiled
//! code that elides bounds checks relies on exactly this. A mapping may
//! carry a memory image (see `image.rs`) mapped copy-on-write over part of
//! its accessible bytes; the image's range always lies within them.

use std::io;
use std::ptr::NonNull;
use std::sync::Arc;

use super::image::MemoryImage;

/// A reserved region of address space.
#[derive(Debug)]
pub struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
    accessible: usize,
    /// The image mapped over `[image.offset(), image.end())`, if any.
    image: Option<Arc<MemoryImage>>,
}

// SAFETY: the mapping is owned memory; its users synchronise through the
// owning store.
unsafe impl Send for Mmap {}
// SAFETY: `&Mmap` only exposes the base address and sizes.
unsafe impl Sync for Mmap {}

fn page_size() -> usize {
    region::page::size()
}

/// Rounds `bytes` up to the page size, or `None` on overflow.
pub fn round_up_to_pages(bytes: usize) -> Option<usize> {
    let page = page_size();
    bytes.checked_add(page - 1).map(|b| b & !(page - 1))
}

impl Mmap {
    /// No mapping at all (what a memory holds once its reservation has
    /// gone back to the pool).
    pub fn none() -> Mmap {
        Mmap {
            ptr: NonNull::dangling(),
            len: 0,
            accessible: 0,
            image: None,
        }
    }

    /// Reserves `len` bytes (rounded up to pages) of inaccessible address
    /// space. Nothing is committed until made accessible.
    ///
    /// # Errors
    ///
    /// The `mmap` error, e.g. when the address space is exhausted.
    pub fn reserve(len: usize) -> io::Result<Mmap> {
        let len = round_up_to_pages(len.max(1))
            .ok_or_else(|| io::Error::new(io::ErrorKind::OutOfMemory, "reservation too large"))?;
        // SAFETY: an anonymous private mapping at an address of the kernel's
        // choosing has no preconditions.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mmap {
            ptr: NonNull::new(ptr.cast()).expect("mmap never returns null on success"),
            len,
            accessible: 0,
            image: None,
        })
    }

    /// Makes the first `bytes` bytes (rounded up to pages) readable and
    /// writable. Never shrinks.
    ///
    /// # Errors
    ///
    /// If `bytes` exceeds the reservation, or `mprotect` fails (for example
    /// when the system is out of memory).
    pub fn make_accessible(&mut self, bytes: usize) -> io::Result<()> {
        let bytes = round_up_to_pages(bytes)
            .ok_or_else(|| io::Error::new(io::ErrorKind::OutOfMemory, "size overflow"))?;
        if bytes > self.len {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "growth beyond the reservation",
            ));
        }
        if bytes <= self.accessible {
            return Ok(());
        }
        let start = self.accessible;
        // SAFETY: [start, bytes) lies inside our reservation; changing its
        // protection affects no other object.
        unsafe {
            region::protect(
                self.ptr.as_ptr().add(start),
                bytes - start,
                region::Protection::READ_WRITE,
            )
        }
        .map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e.to_string()))?;
        self.accessible = bytes;
        Ok(())
    }

    /// Makes everything from `bytes` (rounded up to pages) on inaccessible
    /// again: the inverse of [`make_accessible`](Mmap::make_accessible),
    /// for a reservation reused by a smaller memory.
    ///
    /// # Errors
    ///
    /// If `mprotect` fails; the mapping is then unchanged.
    pub fn shrink_accessible(&mut self, bytes: usize) -> io::Result<()> {
        let bytes = round_up_to_pages(bytes)
            .ok_or_else(|| io::Error::new(io::ErrorKind::OutOfMemory, "size overflow"))?;
        if bytes >= self.accessible {
            return Ok(());
        }
        // An image reaching past the new end would show through when the
        // bytes become accessible again, where zeros belong.
        if self.image.as_ref().is_some_and(|i| i.end() > bytes) {
            self.remove_image()?;
        }
        // SAFETY: [bytes, accessible) lies inside our reservation; making
        // it inaccessible affects no other object, and nothing refers into
        // it (the memory that used it is gone).
        unsafe {
            region::protect(
                self.ptr.as_ptr().add(bytes),
                self.accessible - bytes,
                region::Protection::NONE,
            )
        }
        .map_err(|e| io::Error::other(e.to_string()))?;
        self.accessible = bytes;
        Ok(())
    }

    /// The image mapped over part of the accessible bytes, if any.
    pub fn image(&self) -> Option<&Arc<MemoryImage>> {
        self.image.as_ref()
    }

    /// Maps `image` copy-on-write over its range, replacing the bytes there
    /// (and any other image). Mapping the image this mapping already
    /// carries does nothing: callers reset it first (see [`Mmap::zero`]).
    ///
    /// # Errors
    ///
    /// If the range is not within the accessible bytes, or `mmap` fails;
    /// the range then reads as before or as zeros, never as anything else.
    pub fn map_image(&mut self, image: &Arc<MemoryImage>) -> io::Result<()> {
        if self.image.as_ref().is_some_and(|i| Arc::ptr_eq(i, image)) {
            return Ok(());
        }
        self.remove_image()?;
        if image.end() > self.accessible {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a memory image beyond the accessible bytes",
            ));
        }
        let file_offset = libc::off_t::try_from(image.file_offset())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "image offset"))?;
        // SAFETY: [offset, end) lies inside the accessible part of our
        // reservation (checked above); MAP_FIXED replaces exactly those
        // pages of our own mapping with a private, read-write mapping of
        // the image's file (page-aligned, as `MemoryImage` guarantees).
        // Private: the memory's writes never reach the file, and whatever
        // the file holds is only ever guest data.
        let ptr = unsafe {
            libc::mmap(
                self.ptr.as_ptr().add(image.offset()).cast(),
                image.len(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                image.raw_fd(),
                file_offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        self.image = Some(Arc::clone(image));
        Ok(())
    }

    /// Replaces the image's pages, if any, with zeros: a fresh anonymous
    /// mapping, accessible as far as the rest is.
    ///
    /// # Errors
    ///
    /// If `mmap` or `mprotect` fails; the mapping must then not be reused.
    pub fn remove_image(&mut self) -> io::Result<()> {
        let Some(image) = self.image.take() else {
            return Ok(());
        };
        // SAFETY: [offset, end) lies inside our reservation; MAP_FIXED
        // replaces exactly those pages of our own mapping with inaccessible
        // anonymous ones.
        let ptr = unsafe {
            libc::mmap(
                self.ptr.as_ptr().add(image.offset()).cast(),
                image.len(),
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let readable_end = image.end().min(self.accessible);
        if readable_end > image.offset() {
            // SAFETY: [offset, readable_end) lies inside the accessible part
            // of our reservation, which the invariant keeps read-write.
            unsafe {
                region::protect(
                    self.ptr.as_ptr().add(image.offset()),
                    readable_end - image.offset(),
                    region::Protection::READ_WRITE,
                )
            }
            .map_err(|e| io::Error::other(e.to_string()))?;
        }
        Ok(())
    }

    /// Resets the accessible bytes: zeros, except over an image's range,
    /// which reads as the image again. The first `keep_resident` bytes
    /// (stopping where an image starts) are zeroed with stores (their
    /// pages stay in memory, so the next user takes no page faults there
    /// and no other CPU's TLB is flushed), the rest by giving their pages
    /// back to the kernel (`MADV_DONTNEED`: a private anonymous mapping
    /// reads as zeros after it, a private mapping of the image as the
    /// image, and only pages touched since cost anything). Giving pages
    /// back is Linux only: other systems do not promise that, so there
    /// this fails unless stores cover everything.
    ///
    /// # Errors
    ///
    /// If `madvise` fails, or is needed on another system; the contents
    /// are then unknown and the mapping must not be reused.
    pub fn zero(&mut self, keep_resident: usize) -> io::Result<()> {
        let below_image = self.image.as_ref().map_or(usize::MAX, |i| i.offset());
        let stored = keep_resident.min(self.accessible).min(below_image);
        // SAFETY: [0, accessible) is read-write and owned by us; nothing
        // else refers into it any more.
        unsafe { std::ptr::write_bytes(self.ptr.as_ptr(), 0, stored) };
        let rest = self.accessible - stored;
        if rest == 0 {
            return Ok(());
        }
        if !cfg!(target_os = "linux") {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "only Linux zeroes pages given back with MADV_DONTNEED",
            ));
        }
        // `stored` may end mid-page: give back only whole pages after it
        // (the stores zeroed the rest of that page).
        let start = round_up_to_pages(stored).unwrap_or(self.accessible);
        if start < self.accessible && stored < start {
            // SAFETY: [stored, start) is inside the accessible prefix.
            unsafe { std::ptr::write_bytes(self.ptr.as_ptr().add(stored), 0, start - stored) };
        }
        if start >= self.accessible {
            return Ok(());
        }
        // SAFETY: [start, accessible) is our own private mapping (anonymous,
        // or the sealed image file over the image's range) and nothing
        // refers into it any more; DONTNEED discards its private pages,
        // which read as zeros, or as the image, afterwards.
        let rc = unsafe {
            libc::madvise(
                self.ptr.as_ptr().add(start).cast(),
                self.accessible - start,
                libc::MADV_DONTNEED,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The start of the mapping.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Total reserved bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes currently accessible, from the start.
    #[cfg(test)]
    pub fn accessible(&self) -> usize {
        self.accessible
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        if self.len == 0 {
            // `Mmap::none()`: nothing is mapped.
            return;
        }
        // SAFETY: we own this mapping and nothing refers to it any more (the
        // owning memory is being dropped with its store).
        let rc = unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
        debug_assert_eq!(rc, 0, "munmap failed: {}", io::Error::last_os_error());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_and_shrunk_mappings_are_like_new() {
        let mut m = Mmap::reserve(1 << 20).expect("reserve");
        m.make_accessible(3 * page_size()).expect("grow");
        // SAFETY: the first three pages are accessible.
        unsafe {
            *m.as_ptr() = 1;
            *m.as_ptr().add(3 * page_size() - 1) = 2;
        }
        // Stores for the first page and a half, the kernel for the rest.
        if cfg!(target_os = "linux") {
            m.zero(page_size() + page_size() / 2).expect("madvise");
            // SAFETY: still accessible: zeroing keeps the protection.
            unsafe {
                assert_eq!(*m.as_ptr(), 0);
                assert_eq!(*m.as_ptr().add(3 * page_size() - 1), 0);
            }
        } else {
            assert!(m.zero(page_size()).is_err());
        }
        // SAFETY: the first page is accessible.
        unsafe { *m.as_ptr().add(5) = 3 };
        m.zero(usize::MAX).expect("stores only");
        // SAFETY: the first page is still accessible (zeroing keeps it so).
        assert_eq!(unsafe { *m.as_ptr().add(5) }, 0);
        m.shrink_accessible(page_size()).expect("shrink");
        assert_eq!(m.accessible(), page_size());
        m.make_accessible(2 * page_size()).expect("grow again");
        assert_eq!(m.accessible(), 2 * page_size());
    }

    #[test]
    fn reserve_then_grow_exposes_zeroed_pages() {
        let mut m = Mmap::reserve(1 << 20).expect("reserve");
        assert_eq!(m.accessible(), 0);
        m.make_accessible(100).expect("grow");
        assert_eq!(m.accessible(), page_size());
        // SAFETY: the first page is accessible.
        unsafe {
            assert_eq!(*m.as_ptr(), 0);
            *m.as_ptr().add(99) = 7;
            assert_eq!(*m.as_ptr().add(99), 7);
        }
        assert!(m.make_accessible(2 << 20).is_err());
    }
}

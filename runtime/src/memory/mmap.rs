//! An anonymous mapping reserved inaccessible and made accessible from the
//! front as a linear memory grows.
//!
//! !!! This file guards the sandbox. Changes need a second reviewer. !!!
//!
//! Invariant: bytes `[0, accessible)` are readable and writable; bytes
//! `[accessible, len)` are `PROT_NONE`, so any access there faults. Compiled
//! code that elides bounds checks relies on exactly this.

use std::io;
use std::ptr::NonNull;

/// A reserved region of address space.
#[derive(Debug)]
pub struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
    accessible: usize,
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

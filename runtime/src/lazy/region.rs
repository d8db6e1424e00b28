//! The address range a lazy module's code lives in, mapped twice.
//!
//! The range is reserved once. Its first pages (slots and counters) are
//! private read-write memory. The rest (stubs and code) is one `memfd`
//! mapped twice: read-execute where it runs, and read-write at another
//! address of the kernel's choosing, where the compiler writes. Placing a
//! function therefore changes no page's protection: no `mprotect`, no
//! TLB shoot-down on the other cores, and functions packed side by side
//! instead of one per page. No page is ever both writable and executable
//! at one address; the writable view is never handed to wasm, and only
//! `LazyState::place` writes through it, to bytes not yet published.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};

/// The reserved range and the writable view of its shared part; both
/// unmapped on drop.
pub(super) struct Region {
    /// The whole range: private read-write pages, then the shared part,
    /// read-execute.
    run: region::Allocation,
    /// Offset in `run` where the shared part begins (page-aligned).
    shared: usize,
    /// The writable view of the shared part: `run`'s length less `shared`
    /// bytes.
    write: usize,
}

// SAFETY: the range and the view are addresses no thread owns; what is
// written into them is synchronised by `LazyState` (stubs before any call,
// code under its placing lock, slots with atomics).
unsafe impl Send for Region {}
// SAFETY: as above: shared access only reads the addresses and lengths;
// writes go through `LazyState`'s synchronisation.
unsafe impl Sync for Region {}

impl Region {
    /// Reserves `size` bytes: the first `shared` (a multiple of the page
    /// size) private and read-write, the rest shared as described above.
    ///
    /// # Errors
    ///
    /// When the address space or the `memfd` cannot be had.
    pub(super) fn new(size: usize, shared: usize) -> io::Result<Region> {
        let run = region::alloc(size, region::Protection::NONE).map_err(io::Error::other)?;
        let base = run.as_ptr::<u8>() as usize;
        let shared_len = run.len() - shared;
        // SAFETY: the first `shared` bytes lie inside the reservation just
        // made, which nothing else refers to yet.
        unsafe {
            region::protect(base as *const u8, shared, region::Protection::READ_WRITE)
                .map_err(io::Error::other)?;
        }
        // SAFETY: the name is a NUL-terminated string; the flags are valid.
        let fd = unsafe { libc::memfd_create(c"cljit-lazy-code".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and is owned by nothing else.
        let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        // Sparse: only the pages written are ever allocated.
        file.set_len(shared_len as u64)?;
        let map = |at: *mut libc::c_void, prot: libc::c_int, fixed: libc::c_int| {
            // SAFETY: a shared mapping of the whole memfd, either at an
            // address of the kernel's choosing or (`MAP_FIXED`) over the
            // reservation's own shared part, which nothing uses yet.
            let ptr = unsafe {
                libc::mmap(
                    at,
                    shared_len,
                    prot,
                    libc::MAP_SHARED | fixed,
                    file.as_raw_fd(),
                    0,
                )
            };
            if ptr == libc::MAP_FAILED {
                Err(io::Error::last_os_error())
            } else {
                Ok(ptr as usize)
            }
        };
        map(
            (base + shared) as *mut libc::c_void,
            libc::PROT_READ | libc::PROT_EXEC,
            libc::MAP_FIXED,
        )?;
        let write = map(std::ptr::null_mut(), libc::PROT_READ | libc::PROT_WRITE, 0)?;
        Ok(Region { run, shared, write })
    }

    /// Where the range starts.
    pub(super) fn base(&self) -> usize {
        self.run.as_ptr::<u8>() as usize
    }

    /// The range's length in bytes.
    pub(super) fn len(&self) -> usize {
        self.run.len()
    }

    /// The writable address of the byte that runs at `at`, which must lie
    /// in the shared part with `len` bytes after it.
    pub(super) fn writable(&self, at: usize, len: usize) -> *mut u8 {
        let from = self.base() + self.shared;
        assert!(
            at >= from
                && at
                    .checked_add(len)
                    .is_some_and(|end| end <= self.base() + self.len()),
            "a write inside the shared part of the code region"
        );
        (self.write + (at - from)) as *mut u8
    }

    /// Copies `bytes` to the code that runs at `at`.
    ///
    /// # Safety
    ///
    /// `at..at + bytes.len()` must lie in the shared part and hold no code
    /// that any thread may run or read yet (unpublished bytes).
    pub(super) unsafe fn write(&self, at: usize, bytes: &[u8]) {
        let to = self.writable(at, bytes.len());
        // SAFETY: `to` is the writable view of `bytes.len()` bytes inside
        // the shared part (checked by `writable`), which no one else
        // reads or writes yet (the caller's unpublished range); `bytes`
        // cannot overlap it, as no reference into the view is ever made.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), to, bytes.len()) };
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: the view mapped in `new`, of exactly this length; nothing
        // writes through it any more (the state owning this is dropping).
        unsafe {
            libc::munmap(
                self.write as *mut libc::c_void,
                self.run.len() - self.shared,
            );
        }
        // `run` unmaps the whole range, the shared mapping within it too.
    }
}

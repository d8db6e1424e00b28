//! Memory images: a defined memory's active data segments laid out once per
//! module, page-aligned, in a file that each new instance maps
//! copy-on-write instead of copying every segment.
//!
//! !!! This file guards the sandbox. Changes need a second reviewer. !!!
//!
//! Which memories get an image, and what it holds, is
//! [`ImageLayout`]'s rule (in the compiler, which also stores images in
//! artifacts). The file is either a sealed `memfd` built here from the
//! module's segments, which no one can change, or the artifact the module
//! was loaded from, at the offset where the artifact stores the image.
//! Either way each memory maps it privately: writes go to the writer's own
//! copy of the page, and the file is only ever read.
//!
//! Whether an instance may use the image is decided at instantiation
//! (`instantiate.rs`): only when no segment of the instance traps, so that
//! a failed instantiation leaves its memories exactly as the spec's
//! in-order copying would.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;

use cljit_compiler::ModuleInfo;
use cljit_compiler::data_image::ImageLayout;
use cljit_compiler::indices::MemoryIndex;
use cljit_compiler::types::MemoryType;

/// A memory's initial contents over the pages its data segments touch.
#[derive(Debug)]
pub struct MemoryImage {
    file: Arc<File>,
    /// Where the image starts in `file` (page-aligned).
    file_offset: u64,
    /// Where the image starts in the memory (page-aligned).
    offset: usize,
    /// The image's length (page-aligned, non-zero).
    len: usize,
}

impl MemoryImage {
    /// The image of memory `index` of `info` (a defined memory of type
    /// `ty`) in a sealed `memfd`, or `None` when its segments do not
    /// qualify (see [`ImageLayout`]) or hold fewer than `min_bytes`.
    ///
    /// # Errors
    ///
    /// Creating, filling or sealing the `memfd`.
    pub fn build(
        info: &ModuleInfo,
        index: MemoryIndex,
        ty: &MemoryType,
        min_bytes: usize,
    ) -> io::Result<Option<MemoryImage>> {
        let page = region::page::size();
        let Some(layout) = ImageLayout::of(info, index, ty, page, min_bytes) else {
            return Ok(None);
        };
        let file = sealed_memfd(layout.len, |bytes| layout.fill(info, bytes))?;
        Ok(Some(MemoryImage {
            file: Arc::new(file),
            file_offset: 0,
            offset: layout.offset,
            len: layout.len,
        }))
    }

    /// An image stored in an artifact: `len` bytes of `file` from
    /// `file_offset`, for the memory's bytes from `offset`. `None` when the
    /// host's page size does not divide all three, so that they cannot be
    /// mapped (the memory then copies its segments).
    pub fn stored(
        file: &Arc<File>,
        file_offset: u64,
        offset: usize,
        len: usize,
    ) -> Option<MemoryImage> {
        let page = region::page::size();
        let placed = file_offset.is_multiple_of(page as u64)
            && offset.is_multiple_of(page)
            && len.is_multiple_of(page)
            && len > 0;
        placed.then(|| MemoryImage {
            file: Arc::clone(file),
            file_offset,
            offset,
            len,
        })
    }

    /// Where the image starts in the memory (page-aligned).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The image's length (page-aligned).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Where the image ends in the memory.
    pub fn end(&self) -> usize {
        self.offset + self.len
    }

    /// The file descriptor to map.
    pub(super) fn raw_fd(&self) -> i32 {
        self.file.as_raw_fd()
    }

    /// Where the image starts in the file (page-aligned).
    pub(super) fn file_offset(&self) -> u64 {
        self.file_offset
    }
}

/// A `memfd` of `len` bytes (a multiple of the page size) that `fill`
/// writes, starting from zeros, then sealed so that it can never change.
fn sealed_memfd(len: usize, fill: impl FnOnce(&mut [u8])) -> io::Result<File> {
    // SAFETY: the name is a NUL-terminated string; the flags are valid.
    let fd = unsafe {
        libc::memfd_create(
            c"cljit-memory-image".as_ptr(),
            libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just created and is owned by nothing else.
    let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    file.set_len(len as u64)?;
    // Filled through a shared mapping: pages nothing writes stay holes.
    // SAFETY: a fresh shared mapping of the whole file, which nothing else
    // maps or writes; it is unmapped before the file is sealed.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the mapping is `len` writable bytes that only this slice
    // refers to until the munmap below.
    fill(unsafe { std::slice::from_raw_parts_mut(ptr.cast::<u8>(), len) });
    // SAFETY: `ptr` and `len` are the mapping made above, no longer used.
    if unsafe { libc::munmap(ptr, len) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: `file` is an open memfd made with MFD_ALLOW_SEALING, and no
    // writable shared mapping of it exists (F_SEAL_WRITE needs none).
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(file)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::os::unix::fs::FileExt as _;

    use super::*;

    #[test]
    fn a_sealed_memfd_cannot_be_written() {
        let page = region::page::size();
        let mut bytes = vec![0u8; 3 * page];
        bytes[page + 5] = 7;
        let file = sealed_memfd(3 * page, |b| b[page + 5] = 7).expect("memfd");
        let mut back = vec![1u8; 3 * page];
        file.read_exact_at(&mut back, 0).expect("read");
        assert_eq!(back, bytes);
        assert!(file.write_all_at(&[1], 0).is_err(), "the image is sealed");
        assert!(
            file.set_len(page as u64).is_err(),
            "the image cannot shrink"
        );
    }
}

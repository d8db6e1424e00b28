//! [`FileBytes`]: a whole file read into private memory, fast for big files.
//!
//! Modules and artifacts are read, never mapped: a mapped file that another
//! process truncates or rewrites in place changes under us or faults
//! (`SIGBUS`), while a copy cannot change. Reading tens of megabytes into a
//! fresh `Vec` costs one page fault per 4 KiB page; large files therefore go
//! into an anonymous mapping populated in one step. (Transparent huge pages
//! would make the copy four times faster, but asking for them can stall for
//! tens of milliseconds while the kernel compacts memory.)
//!
//! [`FileBytes::map`] maps instead, for the one kind of file cljit knows is
//! never changed in place: its own cache entries, which are only ever
//! replaced by renaming a new file over them. [`FileBytes::map_range`]
//! maps an artifact's data section, which holds guest data only (see
//! `artifact_file.rs`).

use std::fs::File;
use std::io::{self, Read as _};
use std::path::Path;
use std::ptr::NonNull;

use cljit_compiler::shared_bytes::SharedBytes;

/// Files from this size on are read into an anonymous mapping.
const LARGE: usize = 4 << 20;
const HUGE_PAGE: usize = 2 << 20;

/// The bytes of a file, read into memory this process owns.
pub struct FileBytes {
    inner: Inner,
}

enum Inner {
    Heap(Vec<u8>),
    Mapped {
        ptr: NonNull<u8>,
        len: usize,
        mapped: usize,
        /// An anonymous private mapping the bytes were read into (else a
        /// read-only mapping of the file).
        anonymous: bool,
    },
}

impl FileBytes {
    /// Maps the whole file at `path` read-only, without copying it.
    ///
    /// Only for files nobody truncates or rewrites in place while they are
    /// mapped (a truncated mapping faults with `SIGBUS` when read): cljit
    /// uses it for its cache entries, which are replaced only by renames.
    ///
    /// # Errors
    ///
    /// Opening or mapping the file.
    pub fn map(path: impl AsRef<Path>) -> io::Result<FileBytes> {
        FileBytes::map_file(&File::open(path)?)
    }

    /// [`FileBytes::map`] for a file already open.
    ///
    /// # Errors
    ///
    /// Mapping the file (for example, a directory or a pipe).
    pub fn map_file(file: &File) -> io::Result<FileBytes> {
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| io::Error::new(io::ErrorKind::OutOfMemory, "file too large"))?;
        FileBytes::map_range(file, 0, len, true)
    }

    /// Maps `len` bytes of `file` from `offset` (a multiple of the page
    /// size) read-only, with their page-table entries made at once when
    /// `populate`, else on first read. The same caveat as
    /// [`FileBytes::map`]: the bytes past the file's end, if someone
    /// truncates it, fault with `SIGBUS`.
    ///
    /// # Errors
    ///
    /// A misaligned offset, or mapping the file.
    pub fn map_range(
        file: &File,
        offset: u64,
        len: usize,
        populate: bool,
    ) -> io::Result<FileBytes> {
        if len == 0 {
            return Ok(FileBytes {
                inner: Inner::Heap(Vec::new()),
            });
        }
        let offset = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "offset too large"))?;
        let flags = libc::MAP_PRIVATE | if populate { libc::MAP_POPULATE } else { 0 };
        // SAFETY: a private read-only view of an open file at an address of
        // the kernel's choosing (mmap checks the offset's alignment); the
        // mapping outlives the descriptor.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                flags,
                std::os::fd::AsRawFd::as_raw_fd(file),
                offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).expect("mmap does not return null");
        Ok(FileBytes {
            inner: Inner::Mapped {
                ptr,
                len,
                mapped: len,
                anonymous: false,
            },
        })
    }
}

impl std::fmt::Debug for FileBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBytes")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

// SAFETY: the mapping is owned, private memory, only read through `&self`.
unsafe impl Send for FileBytes {}
// SAFETY: the mapping is owned and private, and `&FileBytes` gives only
// shared, read-only access to the bytes.
unsafe impl Sync for FileBytes {}

impl FileBytes {
    /// Reads the whole file at `path`.
    ///
    /// # Errors
    ///
    /// Opening or reading the file.
    pub fn read(path: impl AsRef<Path>) -> io::Result<FileBytes> {
        let mut file = File::open(path)?;
        let size = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
        if size < LARGE {
            let mut bytes = Vec::with_capacity(size);
            file.read_to_end(&mut bytes)?;
            return Ok(FileBytes {
                inner: Inner::Heap(bytes),
            });
        }
        // One spare byte shows whether the file grew while being read.
        let mapped = (size + 1).next_multiple_of(HUGE_PAGE);
        let ptr = populated_anonymous(mapped)?;
        let mut bytes = FileBytes {
            inner: Inner::Mapped {
                ptr,
                len: 0,
                mapped,
                anonymous: true,
            },
        };
        // SAFETY: the mapping is `mapped` bytes of writable memory we own.
        let buffer = unsafe { std::slice::from_raw_parts_mut(ptr.as_ptr(), mapped) };
        let mut len = 0;
        while len < mapped {
            match file.read(&mut buffer[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if len == mapped {
            // Grew by more than the spare byte: read the rest the slow way.
            let mut rest = Vec::new();
            file.read_to_end(&mut rest)?;
            let mut all = buffer.to_vec();
            all.extend_from_slice(&rest);
            return Ok(FileBytes {
                inner: Inner::Heap(all),
            });
        }
        if let Inner::Mapped { len: l, .. } = &mut bytes.inner {
            *l = len;
        }
        Ok(bytes)
    }
}

impl FileBytes {
    /// Reads the first `len` bytes of `file` (from its start, wherever its
    /// position is), into an anonymous mapping of their own if they are
    /// many, as [`FileBytes::read`] does.
    ///
    /// # Errors
    ///
    /// Reading, or the file being shorter than `len`.
    pub fn read_head(file: &File, len: usize) -> io::Result<FileBytes> {
        use std::os::unix::fs::FileExt as _;
        if len < LARGE {
            let mut bytes = vec![0; len];
            file.read_exact_at(&mut bytes, 0)?;
            return Ok(FileBytes {
                inner: Inner::Heap(bytes),
            });
        }
        let mapped = len.next_multiple_of(HUGE_PAGE);
        let ptr = populated_anonymous(mapped)?;
        let bytes = FileBytes {
            inner: Inner::Mapped {
                ptr,
                len,
                mapped,
                anonymous: true,
            },
        };
        // SAFETY: the mapping is `mapped` >= `len` bytes of writable memory
        // that `bytes` owns and nothing else refers to yet.
        let buffer = unsafe { std::slice::from_raw_parts_mut(ptr.as_ptr(), len) };
        file.read_exact_at(buffer, 0)?;
        Ok(bytes)
    }

    /// For bytes read into an anonymous private mapping of their own: the
    /// mapping's address and length (page-aligned, at least the bytes'
    /// length), which the owner may reprotect. `None` otherwise.
    pub(crate) fn private_mapping(&self) -> Option<(NonNull<u8>, usize)> {
        match self.inner {
            Inner::Mapped {
                ptr,
                mapped,
                anonymous: true,
                ..
            } => Some((ptr, mapped)),
            _ => None,
        }
    }
}

/// A fresh anonymous read-write mapping of `len` bytes, populated.
fn populated_anonymous(len: usize) -> io::Result<NonNull<u8>> {
    // SAFETY: an anonymous private mapping at an address of the kernel's
    // choosing has no preconditions.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(NonNull::new(ptr.cast::<u8>()).expect("mmap does not return null"))
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.inner {
            Inner::Heap(v) => v,
            // SAFETY: the first `len` bytes of the mapping hold the file
            // (read into it, or mapped), and it lives as long as `self`.
            Inner::Mapped { ptr, len, .. } => unsafe {
                std::slice::from_raw_parts(ptr.as_ptr(), *len)
            },
        }
    }
}

impl FileBytes {
    /// The bytes as [`SharedBytes`], kept where they are.
    pub(crate) fn into_shared(self) -> SharedBytes {
        let len = self.len();
        SharedBytes::window(std::sync::Arc::new(self), 0..len).expect("the whole of the bytes")
    }
}

impl AsRef<[u8]> for FileBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl Drop for FileBytes {
    fn drop(&mut self) {
        if let Inner::Mapped { ptr, mapped, .. } = self.inner {
            // SAFETY: our own mapping, no longer borrowed (we are dropped).
            unsafe {
                libc::munmap(ptr.as_ptr().cast(), mapped);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_files_read_whole() {
        let dir = std::env::temp_dir().join(format!("cljit-file-bytes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for size in [
            0,
            1,
            4095,
            LARGE - 1,
            LARGE,
            HUGE_PAGE * 3 - 1,
            HUGE_PAGE * 3,
        ] {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            let path = dir.join(format!("f{size}"));
            std::fs::write(&path, &data).unwrap();
            let read = FileBytes::read(&path).unwrap();
            assert_eq!(&*read, &data[..], "size {size}");
        }
        assert!(FileBytes::read(dir.join("missing")).is_err());
        let path = dir.join(format!("f{LARGE}"));
        assert_eq!(
            &*FileBytes::map(&path).unwrap(),
            &std::fs::read(&path).unwrap()[..]
        );
        std::fs::write(&path, b"").unwrap();
        assert!(FileBytes::map(&path).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

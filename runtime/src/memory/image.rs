//! Memory images: a defined memory's active data segments laid out once per
//! module, page-aligned, in a sealed `memfd`, which each new instance maps
//! copy-on-write instead of copying every segment.
//!
//! !!! This file guards the sandbox. Changes need a second reviewer. !!!
//!
//! A module's memory gets an image when every active data segment for it
//! has a constant offset (no `global.get`) and ends within the memory's
//! initial size, and the segments are dense enough that the image is not
//! mostly zeros. The image holds what applying those segments in order to
//! a zeroed memory gives, over the pages they touch. The file is sealed
//! against writes, growth and shrinking, so every mapping of it reads the
//! same bytes for as long as it exists; writes to a private mapping go to
//! the writer's own copy of the page.
//!
//! Whether an instance may use the image is decided at instantiation
//! (`instantiate.rs`): only when no segment of the instance traps, so that
//! a failed instantiation leaves its memories exactly as the spec's
//! in-order copying would.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use cljit_compiler::indices::MemoryIndex;
use cljit_compiler::types::{ConstExpr, ConstOp, MemoryType};
use cljit_compiler::{ModuleInfo, SegmentMode};

/// An image is not made for a span above this many times its data plus one
/// MiB (sparse segments would make the file mostly zeros).
const MAX_SPARSENESS: usize = 2;

/// A memory's initial contents over the pages its data segments touch.
#[derive(Debug)]
pub struct MemoryImage {
    fd: OwnedFd,
    /// Where the image starts in the memory (page-aligned).
    offset: usize,
    /// The image's length (page-aligned, non-zero).
    len: usize,
}

impl MemoryImage {
    /// The image of memory `index` of `info` (a defined memory of type
    /// `ty`), or `None` when its segments do not qualify (see the module
    /// documentation) or hold fewer than `min_bytes`.
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
        let Some(initial) = ty.bytes_of(ty.min_pages) else {
            return Ok(None);
        };
        let mut segments = Vec::new();
        for segment in info.data.values() {
            let SegmentMode::Active { target, offset } = &segment.mode else {
                continue;
            };
            if *target != index {
                continue;
            }
            let Some(start) = constant_offset(offset, ty.memory64) else {
                return Ok(None);
            };
            let end = start.checked_add(segment.len as u64);
            if end.is_none_or(|end| end > initial) {
                return Ok(None);
            }
            if segment.len != 0 {
                segments.push((start as usize, info.segment_bytes(segment)));
            }
        }
        let Some(first) = segments.iter().map(|&(s, _)| s).min() else {
            return Ok(None);
        };
        let last = segments
            .iter()
            .map(|&(s, b)| s + b.len())
            .max()
            .expect("segments is not empty");
        let page = region::page::size();
        let offset = first & !(page - 1);
        let Some(end) = last.checked_add(page - 1).map(|e| e & !(page - 1)) else {
            return Ok(None);
        };
        let len = end - offset;
        let data: usize = segments.iter().map(|&(_, b)| b.len()).sum();
        if data < min_bytes || len > MAX_SPARSENESS * data + (1 << 20) {
            return Ok(None);
        }
        let file = sealed_memfd(len, |bytes| {
            for (start, b) in segments {
                bytes[start - offset..start - offset + b.len()].copy_from_slice(b);
            }
        })?;
        Ok(Some(MemoryImage {
            fd: file.into(),
            offset,
            len,
        }))
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
        self.fd.as_raw_fd()
    }
}

/// The value of an offset expression made of constants only (including
/// extended-const arithmetic), as an unsigned offset.
fn constant_offset(expr: &ConstExpr, memory64: bool) -> Option<u64> {
    let mut stack: Vec<i64> = Vec::new();
    for op in &expr.ops {
        let value = match *op {
            ConstOp::I32Const(v) => i64::from(v),
            ConstOp::I64Const(v) => v,
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let (b, a) = (stack.pop()? as i32, stack.pop()? as i32);
                i64::from(match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let (b, a) = (stack.pop()?, stack.pop()?);
                match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }
            }
            _ => return None,
        };
        stack.push(value);
    }
    let [value] = stack[..] else { return None };
    Some(if memory64 {
        value as u64
    } else {
        u64::from(value as u32)
    })
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

    use cljit_compiler::types::ConstExpr;

    #[test]
    fn offsets_fold_constants_and_refuse_globals() {
        let e = |ops: &[ConstOp]| ConstExpr { ops: ops.to_vec() };
        assert_eq!(
            constant_offset(&e(&[ConstOp::I32Const(-1)]), false),
            Some(0xffff_ffff)
        );
        assert_eq!(
            constant_offset(
                &e(&[
                    ConstOp::I32Const(4096),
                    ConstOp::I32Const(8),
                    ConstOp::I32Add
                ]),
                false
            ),
            Some(4104)
        );
        assert_eq!(
            constant_offset(&e(&[ConstOp::I64Const(1 << 40)]), true),
            Some(1 << 40)
        );
        assert_eq!(constant_offset(&e(&[ConstOp::GlobalGet(0)]), false), None);
    }

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

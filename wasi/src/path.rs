//! Sandboxed path resolution beneath a directory descriptor.
//!
//! ```text
//! ┌──────────────────────────────────────────────────────────────────┐
//! │ SANDBOX BOUNDARY: this file decides which host files a guest can │
//! │ name. Changes need a second reviewer.                            │
//! └──────────────────────────────────────────────────────────────────┘
//! ```
//!
//! A guest path is resolved one component at a time, each step an `openat`
//! with `O_NOFOLLOW | O_DIRECTORY | O_PATH` relative to the directory reached
//! so far. The kernel is never handed a path with more than one component
//! (except a trailing `/`), so it never walks `..` or a symlink on our behalf:
//!
//! - `..` pops our own stack of opened directories; popping past the start
//!   directory is `notcapable`. Because we never ask the kernel for `..`, a
//!   directory renamed elsewhere meanwhile cannot lead outside.
//! - An absolute path, or a symlink whose target is absolute, is
//!   `notcapable`.
//! - A symlink in the middle of a path is read with `readlinkat` and its
//!   target's components are resolved the same way, relative to the
//!   directory holding the link, as POSIX does; more than
//!   [`MAX_SYMLINK_EXPANSIONS`] expansions is `loop`.
//! - The last component is returned unresolved together with the directory
//!   holding it, for the caller to hand to an `*at` call that does not
//!   follow symlinks (`O_NOFOLLOW`, `AT_SYMLINK_NOFOLLOW`, or calls such as
//!   `unlinkat` that never follow). When the caller asks to follow, a
//!   symlink in the last position is expanded here first.
//!
//! Hard links cannot lead out either: `path_link` resolves both ends with
//! this function, so a guest can only link files it can already name.

use std::collections::VecDeque;
use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::errno::{Errno, WasiResult};
use crate::sys;

/// How many symlinks one resolution may expand (Linux's `MAXSYMLINKS`).
pub const MAX_SYMLINK_EXPANSIONS: u32 = 40;

/// The result of resolving a path: the directory that holds the last
/// component, and that component's name.
#[derive(Debug)]
pub struct Resolved<'a> {
    start: BorrowedFd<'a>,
    opened: Vec<OwnedFd>,
    name: CString,
}

impl Resolved<'_> {
    /// The directory holding the last component.
    pub fn dir(&self) -> BorrowedFd<'_> {
        match self.opened.last() {
            Some(fd) => fd.as_fd(),
            None => self.start,
        }
    }

    /// The last component (`.` when the path names the directory itself; it
    /// keeps a trailing `/` if the path had one, so the kernel insists on a
    /// directory).
    pub fn name(&self) -> &CString {
        &self.name
    }
}

fn components(path: &[u8]) -> (VecDeque<Vec<u8>>, bool) {
    let mut out = VecDeque::new();
    let mut must_dir = false;
    for c in path.split(|&b| b == b'/') {
        match c {
            b"" | b"." => must_dir = true,
            _ => {
                out.push_back(c.to_vec());
                must_dir = false;
            }
        }
    }
    // "a/." and "a/" both insist that `a` be a directory; a path that ends
    // in a plain name does not.
    let ends_plain = path
        .rsplit(|&b| b == b'/')
        .next()
        .is_some_and(|last| !last.is_empty() && last != b".");
    (out, must_dir && !ends_plain)
}

/// Resolves `path` beneath `start`.
///
/// # Errors
///
/// `noent` for an empty path, `notcapable` for any way out of `start`,
/// `loop` for too many symlinks, `inval` for a NUL byte, and whatever the
/// host reports for a missing or non-directory intermediate component.
pub fn resolve<'a>(start: BorrowedFd<'a>, path: &str, follow: bool) -> WasiResult<Resolved<'a>> {
    let bytes = path.as_bytes();
    if bytes.is_empty() {
        return Err(Errno::Noent);
    }
    if bytes.contains(&0) {
        return Err(Errno::Inval);
    }
    if bytes[0] == b'/' {
        return Err(Errno::Notcapable);
    }
    let (mut queue, mut must_dir) = components(bytes);
    let mut opened: Vec<OwnedFd> = Vec::new();
    let mut expansions = 0u32;
    let mut last: Option<Vec<u8>> = None;
    while let Some(c) = queue.pop_front() {
        let is_last = queue.is_empty();
        let dir = opened.last().map_or(start, |f| f.as_fd());
        if c == b".." {
            if opened.pop().is_none() {
                return Err(Errno::Notcapable);
            }
            if is_last {
                must_dir = false;
                last = None;
            }
            continue;
        }
        let name = sys::cstring(&c)?;
        if !is_last {
            match sys::openat(
                dir,
                &name,
                libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW,
                0,
            ) {
                Ok(fd) => opened.push(fd),
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTDIR | libc::ELOOP)) => {
                    match sys::readlinkat(dir, &name) {
                        Ok(target) => {
                            expand(&mut queue, &target, &mut expansions, &mut must_dir, false)?
                        }
                        Err(_) => return Err(e.into()),
                    }
                }
                Err(e) => return Err(e.into()),
            }
            continue;
        }
        // The last component: expand a symlink here only when asked to, or
        // when a trailing slash needs it to be a directory.
        if (follow || must_dir)
            && let Ok(target) = sys::readlinkat(dir, &name)
        {
            if !follow {
                return Err(Errno::Notdir);
            }
            expand(&mut queue, &target, &mut expansions, &mut must_dir, true)?;
            continue;
        }
        last = Some(c);
    }

    let mut name = last.unwrap_or_else(|| b".".to_vec());
    if must_dir && name != b"." {
        name.push(b'/');
    }
    Ok(Resolved {
        start,
        opened,
        name: sys::cstring(&name)?,
    })
}

fn expand(
    queue: &mut VecDeque<Vec<u8>>,
    target: &[u8],
    expansions: &mut u32,
    must_dir: &mut bool,
    at_end: bool,
) -> WasiResult<()> {
    *expansions += 1;
    if *expansions > MAX_SYMLINK_EXPANSIONS {
        return Err(Errno::Loop);
    }
    if target.is_empty() {
        return Err(Errno::Noent);
    }
    if target[0] == b'/' {
        return Err(Errno::Notcapable);
    }
    let (comps, target_dir) = components(target);
    if at_end {
        // The link's target takes the place of the last component; a
        // trailing slash on either side asks for a directory.
        *must_dir = *must_dir || target_dir;
    }
    if comps.is_empty() {
        // A link to "." or "./": the directory holding it.
        queue.push_front(b".".to_vec());
        return Ok(());
    }
    for c in comps.into_iter().rev() {
        queue.push_front(c);
    }
    Ok(())
}

#[cfg(test)]
mod tests;

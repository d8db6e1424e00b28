//! `path_*`: operations on names beneath a directory descriptor, every one
//! resolved by [`crate::path::resolve`] so that nothing outside the
//! preopens can be named.

use super::fd::set_times;
use super::{Call, filestat};
use crate::errno::{Errno, WasiResult};
use crate::fd_table::Descriptor;
use crate::path::resolve;
use crate::sys;
use crate::types::{LOOKUP_SYMLINK_FOLLOW, fdflags, oflags, rights};

/// The directory `fd`, checked to be one and to hold `needed`.
fn dir<'c>(c: &'c Call<'_, '_>, fd: u32, needed: u64) -> WasiResult<&'c Descriptor> {
    let d = c.cx.fds.get(fd)?;
    if !d.is_dir() {
        return Err(Errno::Notdir);
    }
    d.check(needed)?;
    Ok(d)
}

fn follow(flags: u32) -> WasiResult<bool> {
    if flags & !LOOKUP_SYMLINK_FOLLOW != 0 {
        return Err(Errno::Inval);
    }
    Ok(flags & LOOKUP_SYMLINK_FOLLOW != 0)
}

fn guest_path(c: &Call<'_, '_>, ptr: u32, len: u32) -> WasiResult<String> {
    Ok(c.mem.str(ptr, len)?.to_string())
}

/// Resolves one path beneath `fd` (holding `needed`) without following a
/// final symlink, and applies `op` to the result.
fn at_path(
    c: &Call<'_, '_>,
    fd: u32,
    path: u32,
    len: u32,
    needed: u64,
    op: impl FnOnce(&crate::path::Resolved<'_>) -> std::io::Result<()>,
) -> WasiResult<()> {
    let p = guest_path(c, path, len)?;
    let d = dir(c, fd, needed)?;
    let r = resolve(d.host()?, &p, false)?;
    op(&r)?;
    Ok(())
}

/// Resolves a source and a target path, each `(dir fd, path, right
/// needed)`, without following final symlinks, and applies `op`.
fn at_two_paths(
    c: &Call<'_, '_>,
    from: (u32, &str, u64),
    to: (u32, &str, u64),
    op: impl FnOnce(&crate::path::Resolved<'_>, &crate::path::Resolved<'_>) -> std::io::Result<()>,
) -> WasiResult<()> {
    let from_dir = dir(c, from.0, from.2)?;
    let to_dir = dir(c, to.0, to.2)?;
    let f = resolve(from_dir.host()?, from.1, false)?;
    let t = resolve(to_dir.host()?, to.1, false)?;
    op(&f, &t)?;
    Ok(())
}

pub(crate) fn path_create_directory(
    c: &mut Call<'_, '_>,
    fd: u32,
    path: u32,
    len: u32,
) -> WasiResult<()> {
    at_path(c, fd, path, len, rights::PATH_CREATE_DIRECTORY, |r| {
        sys::mkdirat(r.dir(), r.name())
    })
}

pub(crate) fn path_filestat_get(
    c: &mut Call<'_, '_>,
    fd: u32,
    flags: u32,
    path: u32,
    len: u32,
    out: u32,
) -> WasiResult<()> {
    let p = guest_path(c, path, len)?;
    let size = c.abi.filestat_size();
    c.mem.slice(out, size)?;
    if !out.is_multiple_of(8) {
        return Err(Errno::Inval);
    }
    let d = dir(c, fd, rights::PATH_FILESTAT_GET)?;
    let r = resolve(d.host()?, &p, follow(flags)?)?;
    let st = filestat(&sys::fstatat(r.dir(), r.name(), false)?);
    let bytes = st.encode(c.abi);
    c.mem.copy_from(out, &bytes)?;
    Ok(())
}

#[expect(clippy::too_many_arguments, reason = "the WASI signature")]
pub(crate) fn path_filestat_set_times(
    c: &mut Call<'_, '_>,
    fd: u32,
    flags: u32,
    path: u32,
    len: u32,
    atim: u64,
    mtim: u64,
    fst: u32,
) -> WasiResult<()> {
    let p = guest_path(c, path, len)?;
    let (a, m) = set_times(atim, mtim, fst)?;
    let d = dir(c, fd, rights::PATH_FILESTAT_SET_TIMES)?;
    let r = resolve(d.host()?, &p, follow(flags)?)?;
    sys::utimensat(r.dir(), r.name(), a, m, false)?;
    Ok(())
}

#[expect(clippy::too_many_arguments, reason = "the WASI signature")]
pub(crate) fn path_link(
    c: &mut Call<'_, '_>,
    old_fd: u32,
    old_flags: u32,
    old: u32,
    old_len: u32,
    new_fd: u32,
    new: u32,
    new_len: u32,
) -> WasiResult<()> {
    let old_path = guest_path(c, old, old_len)?;
    let new_path = guest_path(c, new, new_len)?;
    // Following a symlink at the source would let a link point at a file
    // the kernel chose; as in wasmtime, it is refused.
    if follow(old_flags)? {
        return Err(Errno::Inval);
    }
    let from = (old_fd, old_path.as_str(), rights::PATH_LINK_SOURCE);
    let to = (new_fd, new_path.as_str(), rights::PATH_LINK_TARGET);
    at_two_paths(c, from, to, |o, n| {
        sys::linkat(o.dir(), o.name(), n.dir(), n.name())
    })
}

#[expect(clippy::too_many_arguments, reason = "the WASI signature")]
pub(crate) fn path_open(
    c: &mut Call<'_, '_>,
    fd: u32,
    dirflags: u32,
    path: u32,
    len: u32,
    oflags: u32,
    base: u64,
    inheriting: u64,
    fdflags: u32,
    out: u32,
) -> WasiResult<()> {
    let p = guest_path(c, path, len)?;
    c.mem.read::<u32>(out)?;
    let of = u16::try_from(oflags).map_err(|_| Errno::Inval)?;
    let ff = u16::try_from(fdflags).map_err(|_| Errno::Inval)?;
    let known_of = oflags::CREAT | oflags::DIRECTORY | oflags::EXCL | oflags::TRUNC;
    let known_ff =
        fdflags::APPEND | fdflags::DSYNC | fdflags::NONBLOCK | fdflags::RSYNC | fdflags::SYNC;
    if of & !known_of != 0 || ff & !known_ff != 0 {
        return Err(Errno::Inval);
    }
    let mut needed = rights::PATH_OPEN;
    if of & oflags::CREAT != 0 {
        needed |= rights::PATH_CREATE_FILE;
    }
    if of & oflags::TRUNC != 0 {
        needed |= rights::PATH_FILESTAT_SET_SIZE;
    }
    let d = dir(c, fd, needed)?;
    // A descriptor never gets more than its parent may hand down.
    let base = base & d.rights_inheriting;
    let inheriting = inheriting & d.rights_inheriting;

    let read = base & rights::READ_MODE != 0;
    let write =
        base & rights::WRITE_MODE != 0 || of & oflags::TRUNC != 0 || ff & fdflags::APPEND != 0;
    let mut flags = match (read, write) {
        (_, false) => libc::O_RDONLY,
        (false, true) => libc::O_WRONLY,
        (true, true) => libc::O_RDWR,
    } | libc::O_NOFOLLOW;
    for (bit, host) in [
        (oflags::CREAT, libc::O_CREAT),
        (oflags::DIRECTORY, libc::O_DIRECTORY),
        (oflags::EXCL, libc::O_EXCL),
        (oflags::TRUNC, libc::O_TRUNC),
    ] {
        if of & bit != 0 {
            flags |= host;
        }
    }
    for (bit, host) in [
        (fdflags::APPEND, libc::O_APPEND),
        (fdflags::DSYNC, libc::O_DSYNC),
        (fdflags::NONBLOCK, libc::O_NONBLOCK),
        (fdflags::RSYNC, libc::O_RSYNC),
        (fdflags::SYNC, libc::O_SYNC),
    ] {
        if ff & bit != 0 {
            flags |= host;
        }
    }
    let r = resolve(d.host()?, &p, follow(dirflags)?)?;
    let host = sys::openat(r.dir(), r.name(), flags, 0o666)?;
    drop(r);
    let desc = Descriptor::new(host, base, inheriting)?;
    let new = c.cx.fds.insert(desc)?;
    c.mem.write(out, new)?;
    Ok(())
}

pub(crate) fn path_readlink(
    c: &mut Call<'_, '_>,
    fd: u32,
    path: u32,
    len: u32,
    buf: u32,
    buf_len: u32,
    out: u32,
) -> WasiResult<()> {
    let p = guest_path(c, path, len)?;
    c.mem.slice(buf, buf_len)?;
    c.mem.read::<u32>(out)?;
    let d = dir(c, fd, rights::PATH_READLINK)?;
    let r = resolve(d.host()?, &p, false)?;
    let target = sys::readlinkat(r.dir(), r.name())?;
    let n = target.len().min(buf_len as usize);
    c.mem.copy_from(buf, &target[..n])?;
    c.mem.write(out, n as u32)?;
    Ok(())
}

pub(crate) fn path_remove_directory(
    c: &mut Call<'_, '_>,
    fd: u32,
    path: u32,
    len: u32,
) -> WasiResult<()> {
    at_path(c, fd, path, len, rights::PATH_REMOVE_DIRECTORY, |r| {
        sys::unlinkat(r.dir(), r.name(), true)
    })
}

pub(crate) fn path_rename(
    c: &mut Call<'_, '_>,
    fd: u32,
    old: u32,
    old_len: u32,
    new_fd: u32,
    new: u32,
    new_len: u32,
) -> WasiResult<()> {
    let old_path = guest_path(c, old, old_len)?;
    let new_path = guest_path(c, new, new_len)?;
    let from = (fd, old_path.as_str(), rights::PATH_RENAME_SOURCE);
    let to = (new_fd, new_path.as_str(), rights::PATH_RENAME_TARGET);
    at_two_paths(c, from, to, |o, n| {
        sys::renameat(o.dir(), o.name(), n.dir(), n.name())
    })
}

pub(crate) fn path_symlink(
    c: &mut Call<'_, '_>,
    old: u32,
    old_len: u32,
    fd: u32,
    new: u32,
    new_len: u32,
) -> WasiResult<()> {
    let target = guest_path(c, old, old_len)?;
    let new_path = guest_path(c, new, new_len)?;
    // Resolution never follows an absolute link, but one pointing at the
    // host's root has no use inside a sandbox and would mislead host tools
    // that later look at the directory.
    if target.starts_with('/') {
        return Err(Errno::Perm);
    }
    let target = sys::cstring(target.as_bytes())?;
    let d = dir(c, fd, rights::PATH_SYMLINK)?;
    let r = resolve(d.host()?, &new_path, false)?;
    sys::symlinkat(&target, r.dir(), r.name())?;
    Ok(())
}

pub(crate) fn path_unlink_file(
    c: &mut Call<'_, '_>,
    fd: u32,
    path: u32,
    len: u32,
) -> WasiResult<()> {
    at_path(c, fd, path, len, rights::PATH_UNLINK_FILE, |r| {
        sys::unlinkat(r.dir(), r.name(), false)
    })
}

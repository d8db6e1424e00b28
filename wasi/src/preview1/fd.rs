//! `fd_*`: operations on open descriptors.

use super::{Call, filestat, iovecs, read_into, write_from};
use crate::errno::{Errno, WasiResult};
use crate::fd_table::Descriptor;
use crate::pipe::MemoryStream;
use crate::sys::{self, SetTime};
use crate::types::{Filestat, PREOPENTYPE_DIR, advice, fdflags, filetype, fstflags, rights};

fn desc<'c>(c: &'c Call<'_, '_>, fd: u32, needed: u64) -> WasiResult<&'c Descriptor> {
    let d = c.cx.fds.get(fd)?;
    d.check(needed)?;
    Ok(d)
}

pub(crate) fn fd_advise(
    c: &mut Call<'_, '_>,
    fd: u32,
    offset: u64,
    len: u64,
    adv: u32,
) -> WasiResult<()> {
    let host = match u8::try_from(adv).map_err(|_| Errno::Inval)? {
        advice::NORMAL => libc::POSIX_FADV_NORMAL,
        advice::SEQUENTIAL => libc::POSIX_FADV_SEQUENTIAL,
        advice::RANDOM => libc::POSIX_FADV_RANDOM,
        advice::WILLNEED => libc::POSIX_FADV_WILLNEED,
        advice::DONTNEED => libc::POSIX_FADV_DONTNEED,
        advice::NOREUSE => libc::POSIX_FADV_NOREUSE,
        _ => return Err(Errno::Inval),
    };
    let d = desc(c, fd, rights::FD_ADVISE)?;
    if d.is_dir() {
        return Err(Errno::Isdir);
    }
    sys::fadvise(d.host()?, offset, len, host)?;
    Ok(())
}

pub(crate) fn fd_allocate(c: &mut Call<'_, '_>, fd: u32, offset: u64, len: u64) -> WasiResult<()> {
    let d = desc(c, fd, rights::FD_ALLOCATE)?;
    if offset
        .checked_add(len)
        .is_none_or(|end| end > i64::MAX as u64)
    {
        return Err(Errno::Fbig);
    }
    sys::fallocate(d.host()?, offset, len)?;
    Ok(())
}

pub(crate) fn fd_close(c: &mut Call<'_, '_>, fd: u32) -> WasiResult<()> {
    c.cx.fds.remove(fd).map(drop)
}

pub(crate) fn fd_datasync(c: &mut Call<'_, '_>, fd: u32) -> WasiResult<()> {
    let d = desc(c, fd, rights::FD_DATASYNC)?;
    // An in-memory output has nothing to flush.
    if !d.is_memory() {
        sys::sync(d.host()?, true)?;
    }
    Ok(())
}

pub(crate) fn fd_sync(c: &mut Call<'_, '_>, fd: u32) -> WasiResult<()> {
    let d = desc(c, fd, rights::FD_SYNC)?;
    if !d.is_memory() {
        sys::sync(d.host()?, false)?;
    }
    Ok(())
}

/// The WASI `fdflags` of a descriptor (none for an in-memory stream).
fn fdflags_of(d: &Descriptor) -> WasiResult<u16> {
    if d.is_memory() {
        return Ok(0);
    }
    let fl = sys::get_status_flags(d.host()?)?;
    let mut out = 0;
    if fl & libc::O_APPEND != 0 {
        out |= fdflags::APPEND;
    }
    if fl & libc::O_NONBLOCK != 0 {
        out |= fdflags::NONBLOCK;
    }
    if fl & libc::O_SYNC == libc::O_SYNC {
        out |= fdflags::SYNC | fdflags::RSYNC;
    }
    if fl & libc::O_DSYNC != 0 {
        out |= fdflags::DSYNC;
    }
    Ok(out)
}

pub(crate) fn fd_fdstat_get(c: &mut Call<'_, '_>, fd: u32, out: u32) -> WasiResult<()> {
    let d = c.cx.fds.get(fd)?;
    let flags = fdflags_of(d)?;
    let (ty, base, inheriting) = (d.filetype, d.rights_base, d.rights_inheriting);
    c.mem.slice_mut(out, 24)?;
    c.mem.write::<u8>(out, ty)?;
    c.mem.write::<u8>(out + 1, 0)?;
    c.mem.write::<u16>(out + 2, flags)?;
    c.mem.write::<u32>(out + 4, 0)?;
    c.mem.write::<u64>(out + 8, base)?;
    c.mem.write::<u64>(out + 16, inheriting)?;
    Ok(())
}

pub(crate) fn fd_fdstat_set_flags(c: &mut Call<'_, '_>, fd: u32, flags: u32) -> WasiResult<()> {
    let flags = u16::try_from(flags).map_err(|_| Errno::Inval)?;
    let d = desc(c, fd, rights::FD_FDSTAT_SET_FLAGS)?;
    let known =
        fdflags::APPEND | fdflags::DSYNC | fdflags::NONBLOCK | fdflags::RSYNC | fdflags::SYNC;
    if flags & !known != 0 {
        return Err(Errno::Inval);
    }
    // Linux cannot change the sync flags of an open file (F_SETFL ignores
    // them); asking for a change there is not supported rather than
    // silently ignored.
    let sync_bits = fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC;
    if flags & sync_bits != fdflags_of(d)? & sync_bits {
        return Err(Errno::Notsup);
    }
    // An in-memory stream never blocks and has no offset: append and
    // non-blocking change nothing.
    if d.is_memory() {
        return Ok(());
    }
    let mut fl = sys::get_status_flags(d.host()?)?;
    fl &= !(libc::O_APPEND | libc::O_NONBLOCK);
    if flags & fdflags::APPEND != 0 {
        fl |= libc::O_APPEND;
    }
    if flags & fdflags::NONBLOCK != 0 {
        fl |= libc::O_NONBLOCK;
    }
    sys::set_status_flags(d.host()?, fl)?;
    Ok(())
}

pub(crate) fn fd_fdstat_set_rights(
    c: &mut Call<'_, '_>,
    fd: u32,
    base: u64,
    inheriting: u64,
) -> WasiResult<()> {
    let d = c.cx.fds.get_mut(fd)?;
    if base & !d.rights_base != 0 || inheriting & !d.rights_inheriting != 0 {
        return Err(Errno::Notcapable);
    }
    d.rights_base = base;
    d.rights_inheriting = inheriting;
    Ok(())
}

pub(crate) fn fd_filestat_get(c: &mut Call<'_, '_>, fd: u32, out: u32) -> WasiResult<()> {
    let d = desc(c, fd, rights::FD_FILESTAT_GET)?;
    let st = if d.is_memory() {
        Filestat {
            dev: 0,
            ino: 0,
            filetype: d.filetype,
            nlink: 1,
            size: 0,
            atim: 0,
            mtim: 0,
            ctim: 0,
        }
    } else {
        let mut st = filestat(&sys::fstat(d.host()?)?);
        if st.filetype == filetype::SOCKET_STREAM {
            st.filetype = d.filetype;
        }
        st
    };
    let bytes = st.encode(c.abi);
    c.mem.slice(out, bytes.len() as u32)?;
    if !out.is_multiple_of(8) {
        return Err(Errno::Inval);
    }
    c.mem.copy_from(out, &bytes)?;
    Ok(())
}

pub(crate) fn fd_filestat_set_size(c: &mut Call<'_, '_>, fd: u32, size: u64) -> WasiResult<()> {
    let d = desc(c, fd, rights::FD_FILESTAT_SET_SIZE)?;
    sys::ftruncate(d.host()?, size)?;
    Ok(())
}

/// Decodes `fstflags` and the two times into what `utimensat` takes.
pub(crate) fn set_times(atim: u64, mtim: u64, flags: u32) -> WasiResult<(SetTime, SetTime)> {
    let flags = u16::try_from(flags).map_err(|_| Errno::Inval)?;
    let known = fstflags::ATIM | fstflags::ATIM_NOW | fstflags::MTIM | fstflags::MTIM_NOW;
    if flags & !known != 0 {
        return Err(Errno::Inval);
    }
    let pick = |set: u16, now: u16, value: u64| match (flags & set != 0, flags & now != 0) {
        (true, true) => Err(Errno::Inval),
        (true, false) => Ok(SetTime::At(value)),
        (false, true) => Ok(SetTime::Now),
        (false, false) => Ok(SetTime::Omit),
    };
    Ok((
        pick(fstflags::ATIM, fstflags::ATIM_NOW, atim)?,
        pick(fstflags::MTIM, fstflags::MTIM_NOW, mtim)?,
    ))
}

pub(crate) fn fd_filestat_set_times(
    c: &mut Call<'_, '_>,
    fd: u32,
    atim: u64,
    mtim: u64,
    flags: u32,
) -> WasiResult<()> {
    let (a, m) = set_times(atim, mtim, flags)?;
    let d = desc(c, fd, rights::FD_FILESTAT_SET_TIMES)?;
    sys::futimens(d.host()?, a, m)?;
    Ok(())
}

fn check_not_dir(d: &Descriptor) -> WasiResult<()> {
    if d.is_dir() {
        return Err(Errno::Isdir);
    }
    Ok(())
}

/// `fd_read` and `fd_pread`: at the current offset, or at `offset`
/// (which needs `FD_SEEK` too and leaves the offset alone).
fn read(
    c: &mut Call<'_, '_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: Option<u64>,
    out: u32,
) -> WasiResult<()> {
    let list = iovecs(&c.mem, iovs, iovs_len)?;
    c.mem.read::<u32>(out)?;
    let d = c.cx.fds.get_mut(fd)?;
    d.check(rights::FD_READ | offset.map_or(0, |_| rights::FD_SEEK))?;
    check_not_dir(d)?;
    if offset.is_some_and(|o| o > i64::MAX as u64) {
        return Err(Errno::Inval);
    }
    let n = match d.memory_stream() {
        Some(MemoryStream::Input(input)) => read_into(&mut c.mem, &list, |bufs| {
            Ok(bufs.iter_mut().map(|b| input.read(b)).sum())
        })?,
        Some(MemoryStream::Output(_)) => return Err(Errno::Badf),
        None => {
            let host = d.host()?;
            read_into(&mut c.mem, &list, |bufs| sys::readv(host, bufs, offset))?
        }
    };
    c.mem.write(out, n as u32)?;
    Ok(())
}

/// `fd_write` and `fd_pwrite`, as [`read`].
fn write(
    c: &mut Call<'_, '_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: Option<u64>,
    out: u32,
) -> WasiResult<()> {
    let list = iovecs(&c.mem, iovs, iovs_len)?;
    c.mem.read::<u32>(out)?;
    let d = c.cx.fds.get_mut(fd)?;
    d.check(rights::FD_WRITE | offset.map_or(0, |_| rights::FD_SEEK))?;
    check_not_dir(d)?;
    if offset.is_some_and(|o| o > i64::MAX as u64) {
        return Err(Errno::Inval);
    }
    let n = match d.memory_stream() {
        Some(MemoryStream::Output(output)) => {
            let mut taken = None;
            write_from(&c.mem, &list, |bufs| {
                taken = bufs
                    .iter()
                    .try_fold(0, |n, b| output.write(b).map(|w| n + w));
                Ok(0)
            })?;
            taken.ok_or(Errno::Nospc)?
        }
        Some(MemoryStream::Input(_)) => return Err(Errno::Badf),
        None => {
            let host = d.host()?;
            write_from(&c.mem, &list, |bufs| sys::writev(host, bufs, offset))?
        }
    };
    c.mem.write(out, n as u32)?;
    Ok(())
}

pub(crate) fn fd_read(
    c: &mut Call<'_, '_>,
    fd: u32,
    iovs: u32,
    len: u32,
    out: u32,
) -> WasiResult<()> {
    read(c, fd, iovs, len, None, out)
}

pub(crate) fn fd_pread(
    c: &mut Call<'_, '_>,
    fd: u32,
    iovs: u32,
    len: u32,
    offset: u64,
    out: u32,
) -> WasiResult<()> {
    read(c, fd, iovs, len, Some(offset), out)
}

pub(crate) fn fd_write(
    c: &mut Call<'_, '_>,
    fd: u32,
    iovs: u32,
    len: u32,
    out: u32,
) -> WasiResult<()> {
    write(c, fd, iovs, len, None, out)
}

pub(crate) fn fd_pwrite(
    c: &mut Call<'_, '_>,
    fd: u32,
    iovs: u32,
    len: u32,
    offset: u64,
    out: u32,
) -> WasiResult<()> {
    write(c, fd, iovs, len, Some(offset), out)
}

pub(crate) fn fd_prestat_get(c: &mut Call<'_, '_>, fd: u32, out: u32) -> WasiResult<()> {
    let d = c.cx.fds.get(fd)?;
    let name = d.preopen.as_ref().ok_or(Errno::Badf)?;
    let len = u32::try_from(name.len()).map_err(|_| Errno::Nametoolong)?;
    c.mem.write::<u32>(out, u32::from(PREOPENTYPE_DIR))?;
    c.mem.write::<u32>(out + 4, len)?;
    Ok(())
}

pub(crate) fn fd_prestat_dir_name(
    c: &mut Call<'_, '_>,
    fd: u32,
    buf: u32,
    len: u32,
) -> WasiResult<()> {
    c.mem.slice(buf, len)?;
    let d = c.cx.fds.get(fd)?;
    let name = d.preopen.clone().ok_or(Errno::Badf)?;
    if (len as usize) < name.len() {
        return Err(Errno::Nametoolong);
    }
    c.mem.copy_from(buf, name.as_bytes())?;
    Ok(())
}

pub(crate) fn fd_renumber(c: &mut Call<'_, '_>, from: u32, to: u32) -> WasiResult<()> {
    c.cx.fds.get(from)?;
    c.cx.fds.get(to)?;
    if from == to {
        return Ok(());
    }
    let d = c.cx.fds.remove(from)?;
    c.cx.fds.insert_at(to, d);
    Ok(())
}

pub(crate) fn fd_seek(
    c: &mut Call<'_, '_>,
    fd: u32,
    offset: u64,
    whence: u32,
    out: u32,
) -> WasiResult<()> {
    c.mem.read::<u64>(out)?;
    let whence = c.abi.whence(whence).ok_or(Errno::Inval)?;
    let needed = if offset == 0 && whence == libc::SEEK_CUR {
        rights::FD_TELL
    } else {
        rights::FD_SEEK
    };
    let d = desc(c, fd, needed)?;
    if d.is_dir() {
        return Err(Errno::Isdir);
    }
    let pos = sys::lseek(d.host()?, offset as i64, whence)?;
    c.mem.write(out, pos)?;
    Ok(())
}

pub(crate) fn fd_tell(c: &mut Call<'_, '_>, fd: u32, out: u32) -> WasiResult<()> {
    c.mem.read::<u64>(out)?;
    let d = desc(c, fd, rights::FD_TELL)?;
    if d.is_dir() {
        return Err(Errno::Isdir);
    }
    let pos = sys::lseek(d.host()?, 0, libc::SEEK_CUR)?;
    c.mem.write(out, pos)?;
    Ok(())
}

/// The WASI filetype of a directory entry.
fn dirent_type(d_type: u8, dir: &Descriptor, name: &[u8]) -> u8 {
    match d_type {
        libc::DT_DIR => filetype::DIRECTORY,
        libc::DT_REG => filetype::REGULAR_FILE,
        libc::DT_LNK => filetype::SYMBOLIC_LINK,
        libc::DT_CHR => filetype::CHARACTER_DEVICE,
        libc::DT_BLK => filetype::BLOCK_DEVICE,
        libc::DT_SOCK => filetype::SOCKET_STREAM,
        libc::DT_UNKNOWN => sys::cstring(name)
            .and_then(|n| {
                let host = dir
                    .host()
                    .map_err(|_| std::io::Error::other("no host descriptor"))?;
                sys::fstatat(host, &n, false)
            })
            .map(|st| filestat(&st).filetype)
            .unwrap_or(filetype::UNKNOWN),
        _ => filetype::UNKNOWN,
    }
}

/// `fd_readdir`: entries from `cookie` on, each a 24-byte `dirent` and its
/// name, packed into the buffer and cut off where it ends (the guest knows
/// the listing continues when the buffer comes back full). A cookie is the
/// index of the next entry in a listing taken when the guest starts from
/// cookie 0, so cookies stay valid across calls.
pub(crate) fn fd_readdir(
    c: &mut Call<'_, '_>,
    fd: u32,
    buf: u32,
    len: u32,
    cookie: u64,
    out: u32,
) -> WasiResult<()> {
    c.mem.slice(buf, len)?;
    c.mem.read::<u32>(out)?;
    let d = c.cx.fds.get_mut(fd)?;
    if !d.is_dir() {
        return Err(Errno::Notdir);
    }
    d.check(rights::FD_READDIR)?;
    if cookie == 0 || d.dir_listing.is_none() {
        d.dir_listing = Some(sys::read_dir(d.host()?)?);
    }
    let d = c.cx.fds.get(fd)?;
    let listing = d.dir_listing.as_deref().unwrap_or_default();
    let mut bytes = Vec::new();
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    for (i, e) in listing.iter().enumerate().skip(start) {
        if bytes.len() >= len as usize {
            break;
        }
        bytes.extend_from_slice(&(i as u64 + 1).to_le_bytes());
        bytes.extend_from_slice(&e.ino.to_le_bytes());
        bytes.extend_from_slice(&(e.name.len() as u32).to_le_bytes());
        bytes.push(dirent_type(e.d_type, d, &e.name));
        bytes.extend_from_slice(&[0; 3]);
        bytes.extend_from_slice(&e.name);
    }
    bytes.truncate(len as usize);
    c.mem.copy_from(buf, &bytes)?;
    c.mem.write(out, bytes.len() as u32)?;
    Ok(())
}

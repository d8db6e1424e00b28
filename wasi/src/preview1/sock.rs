//! `sock_*`: accept, receive, send and shut down on preopened sockets and
//! the connections accepted from them.

use super::{Call, iovecs, read_into, write_from};
use crate::errno::{Errno, WasiResult};
use crate::fd_table::Descriptor;
use crate::sys;
use crate::types::{RECV_DATA_TRUNCATED, fdflags, filetype, riflags, rights, sdflags};

fn socket<'c>(c: &'c Call<'_, '_>, fd: u32, needed: u64) -> WasiResult<&'c Descriptor> {
    let d = c.cx.fds.get(fd)?;
    if !matches!(d.filetype, filetype::SOCKET_STREAM | filetype::SOCKET_DGRAM) {
        return Err(Errno::Notsock);
    }
    d.check(needed)?;
    Ok(d)
}

pub(crate) fn sock_accept(c: &mut Call<'_, '_>, fd: u32, flags: u32, out: u32) -> WasiResult<()> {
    if flags & !u32::from(fdflags::NONBLOCK) != 0 {
        return Err(Errno::Inval);
    }
    c.mem.read::<u32>(out)?;
    let d = socket(c, fd, rights::SOCK_ACCEPT)?;
    let host_flags = if flags & u32::from(fdflags::NONBLOCK) != 0 {
        libc::SOCK_NONBLOCK
    } else {
        0
    };
    let conn = sys::accept(d.host()?, host_flags)?;
    let desc = Descriptor::new(conn, rights::SOCKET & !rights::SOCK_ACCEPT, 0)?;
    let new = c.cx.fds.insert(desc)?;
    c.mem.write(out, new)?;
    Ok(())
}

pub(crate) fn sock_recv(
    c: &mut Call<'_, '_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    flags: u32,
    out_len: u32,
    out_flags: u32,
) -> WasiResult<()> {
    let flags = u16::try_from(flags).map_err(|_| Errno::Inval)?;
    if flags & !(riflags::RECV_PEEK | riflags::RECV_WAITALL) != 0 {
        return Err(Errno::Inval);
    }
    let mut host_flags = 0;
    if flags & riflags::RECV_PEEK != 0 {
        host_flags |= libc::MSG_PEEK;
    }
    if flags & riflags::RECV_WAITALL != 0 {
        host_flags |= libc::MSG_WAITALL;
    }
    let list = iovecs(&c.mem, iovs, iovs_len)?;
    c.mem.read::<u32>(out_len)?;
    c.mem.read::<u16>(out_flags)?;
    let d = c.cx.fds.get(fd)?;
    if !matches!(d.filetype, filetype::SOCKET_STREAM | filetype::SOCKET_DGRAM) {
        return Err(Errno::Notsock);
    }
    d.check(rights::FD_READ)?;
    let host = d.host()?;
    let mut truncated = false;
    let n = read_into(&mut c.mem, &list, |bufs| {
        let (n, t) = sys::recv(host, bufs, host_flags)?;
        truncated = t;
        Ok(n)
    })?;
    c.mem.write(out_len, n as u32)?;
    c.mem
        .write(out_flags, if truncated { RECV_DATA_TRUNCATED } else { 0 })?;
    Ok(())
}

pub(crate) fn sock_send(
    c: &mut Call<'_, '_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    flags: u32,
    out: u32,
) -> WasiResult<()> {
    if flags != 0 {
        return Err(Errno::Inval);
    }
    let list = iovecs(&c.mem, iovs, iovs_len)?;
    c.mem.read::<u32>(out)?;
    let host = socket(c, fd, rights::FD_WRITE)?.host()?;
    let n = write_from(&c.mem, &list, |bufs| sys::send(host, bufs))?;
    c.mem.write(out, n as u32)?;
    Ok(())
}

pub(crate) fn sock_shutdown(c: &mut Call<'_, '_>, fd: u32, how: u32) -> WasiResult<()> {
    let how = match u8::try_from(how).map_err(|_| Errno::Inval)? {
        h if h == sdflags::RD | sdflags::WR => libc::SHUT_RDWR,
        sdflags::RD => libc::SHUT_RD,
        sdflags::WR => libc::SHUT_WR,
        _ => return Err(Errno::Inval),
    };
    let d = socket(c, fd, rights::SOCK_SHUTDOWN)?;
    sys::shutdown(d.host()?, how)?;
    Ok(())
}

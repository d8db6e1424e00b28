//! The `wasi_snapshot_preview1` and `wasi_unstable` functions, registered
//! on a [`Linker`] as ordinary host functions.
//!
//! Each call is a plain Rust function over a [`Call`]: the store's
//! [`WasiCtx`], a checked view of the caller's memory, and the ABI flavour.
//! It returns `Ok(())` or an [`Errno`]; [`dispatch`] turns that into the
//! `errno` the guest receives. Only `proc_exit` and `proc_raise` end the
//! wasm call instead of returning.

use cljit_runtime::{Caller, Error, Extern, GuestMemory, Linker, Memory, Result};

use std::sync::Mutex;

use self::access::CtxGuard;
use self::access::{CtxAccess, Direct, Shared};
use crate::ctx::WasiCtx;
use crate::errno::{Errno, WasiResult};
use crate::types::{Abi, Filestat, filetype};

mod access;
mod args;
mod clock;
mod fd;
mod path;
mod poll;
mod proc;
mod random;
mod sock;

/// One WASI call's view of the world.
pub(crate) struct Call<'a, 'm> {
    pub cx: CtxGuard<'a>,
    pub mem: GuestMemory<'m>,
    pub abi: Abi,
}

fn dispatch<T>(
    caller: &mut Caller<'_, T>,
    get: impl CtxAccess<T>,
    abi: Abi,
    f: impl FnOnce(&mut Call<'_, '_>) -> WasiResult<()>,
) -> Result<i32> {
    let missing = || Error::msg("a WASI call needs the module to export its memory as `memory`");
    let (bytes, data) = match caller.get_export("memory") {
        Some(Extern::Memory(m)) => m.data_and_store_mut(caller),
        Some(Extern::SharedMemory(m)) => {
            Memory::shared_data_and_store_mut(&m, caller).ok_or_else(missing)?
        }
        _ => return Err(missing()),
    };
    let mut call = Call {
        cx: get.ctx(data),
        mem: GuestMemory::new(bytes),
        abi,
    };
    Ok(match f(&mut call) {
        Ok(()) => 0,
        Err(e) => i32::from(e.raw()),
    })
}

macro_rules! define {
    ($linker:ident, $module:expr, $abi:expr, $get:ident;
     $($name:ident => $imp:path, ($($a:ident : $t:ty),*);)*) => {$(
        $linker.func_wrap(
            $module,
            stringify!($name),
            move |mut caller: Caller<'_, T>, $($a: $t),*| -> Result<i32> {
                dispatch(&mut caller, $get, $abi, |c| $imp(c, $($a),*))
            },
        )?;
    )*};
}

/// Defines every preview1 function under `wasi_snapshot_preview1` and the
/// older `wasi_unstable` in `linker`, reaching the [`WasiCtx`] through
/// `get`.
///
/// # Errors
///
/// If a name is already defined and shadowing is off.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut WasiCtx,
) -> Result<()> {
    add_with(linker, Direct(get))
}

/// As [`add_to_linker`], for stores that share one [`WasiCtx`] behind a
/// mutex: the threads of a wasi-threads program, each in its own store.
/// Each call holds the lock while it runs, except while `poll_oneoff`
/// waits (so a sleeping thread does not stop the others); a thread
/// blocked reading a pipe, socket or terminal holds up the others' calls
/// until its read returns.
///
/// # Errors
///
/// If a name is already defined and shadowing is off.
pub fn add_to_linker_shared<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &Mutex<WasiCtx>,
) -> Result<()> {
    add_with(linker, Shared(get))
}

fn add_with<T: 'static>(linker: &mut Linker<T>, get: impl CtxAccess<T>) -> Result<()> {
    for (module, abi) in [
        ("wasi_snapshot_preview1", Abi::Preview1),
        ("wasi_unstable", Abi::Unstable),
    ] {
        define! { linker, module, abi, get;
            args_get => args::args_get, (argv: u32, buf: u32);
            args_sizes_get => args::args_sizes_get, (argc: u32, size: u32);
            environ_get => args::environ_get, (environ: u32, buf: u32);
            environ_sizes_get => args::environ_sizes_get, (count: u32, size: u32);
            clock_res_get => clock::clock_res_get, (id: u32, out: u32);
            clock_time_get => clock::clock_time_get, (id: u32, precision: u64, out: u32);
            random_get => random::random_get, (buf: u32, len: u32);
            fd_advise => fd::fd_advise, (fd: u32, offset: u64, len: u64, advice: u32);
            fd_allocate => fd::fd_allocate, (fd: u32, offset: u64, len: u64);
            fd_close => fd::fd_close, (fd: u32);
            fd_datasync => fd::fd_datasync, (fd: u32);
            fd_fdstat_get => fd::fd_fdstat_get, (fd: u32, out: u32);
            fd_fdstat_set_flags => fd::fd_fdstat_set_flags, (fd: u32, flags: u32);
            fd_fdstat_set_rights => fd::fd_fdstat_set_rights, (fd: u32, base: u64, inheriting: u64);
            fd_filestat_get => fd::fd_filestat_get, (fd: u32, out: u32);
            fd_filestat_set_size => fd::fd_filestat_set_size, (fd: u32, size: u64);
            fd_filestat_set_times => fd::fd_filestat_set_times, (fd: u32, atim: u64, mtim: u64, flags: u32);
            fd_pread => fd::fd_pread, (fd: u32, iovs: u32, iovs_len: u32, offset: u64, out: u32);
            fd_prestat_get => fd::fd_prestat_get, (fd: u32, out: u32);
            fd_prestat_dir_name => fd::fd_prestat_dir_name, (fd: u32, buf: u32, len: u32);
            fd_pwrite => fd::fd_pwrite, (fd: u32, iovs: u32, iovs_len: u32, offset: u64, out: u32);
            fd_read => fd::fd_read, (fd: u32, iovs: u32, iovs_len: u32, out: u32);
            fd_readdir => fd::fd_readdir, (fd: u32, buf: u32, len: u32, cookie: u64, out: u32);
            fd_renumber => fd::fd_renumber, (from: u32, to: u32);
            fd_seek => fd::fd_seek, (fd: u32, offset: u64, whence: u32, out: u32);
            fd_sync => fd::fd_sync, (fd: u32);
            fd_tell => fd::fd_tell, (fd: u32, out: u32);
            fd_write => fd::fd_write, (fd: u32, iovs: u32, iovs_len: u32, out: u32);
            path_create_directory => path::path_create_directory, (fd: u32, path: u32, len: u32);
            path_filestat_get => path::path_filestat_get, (fd: u32, flags: u32, path: u32, len: u32, out: u32);
            path_filestat_set_times => path::path_filestat_set_times,
                (fd: u32, flags: u32, path: u32, len: u32, atim: u64, mtim: u64, fst: u32);
            path_link => path::path_link,
                (old_fd: u32, old_flags: u32, old: u32, old_len: u32, new_fd: u32, new: u32, new_len: u32);
            path_open => path::path_open,
                (fd: u32, dirflags: u32, path: u32, len: u32, oflags: u32, base: u64, inheriting: u64,
                 fdflags: u32, out: u32);
            path_readlink => path::path_readlink,
                (fd: u32, path: u32, len: u32, buf: u32, buf_len: u32, out: u32);
            path_remove_directory => path::path_remove_directory, (fd: u32, path: u32, len: u32);
            path_rename => path::path_rename,
                (fd: u32, old: u32, old_len: u32, new_fd: u32, new: u32, new_len: u32);
            path_symlink => path::path_symlink, (old: u32, old_len: u32, fd: u32, new: u32, new_len: u32);
            path_unlink_file => path::path_unlink_file, (fd: u32, path: u32, len: u32);
            poll_oneoff => poll::poll_oneoff, (subs: u32, events: u32, nsubs: u32, out: u32);
            sched_yield => proc::sched_yield, ();
            sock_recv => sock::sock_recv,
                (fd: u32, iovs: u32, iovs_len: u32, flags: u32, out_len: u32, out_flags: u32);
            sock_send => sock::sock_send, (fd: u32, iovs: u32, iovs_len: u32, flags: u32, out: u32);
            sock_shutdown => sock::sock_shutdown, (fd: u32, how: u32);
        }
        if abi == Abi::Preview1 {
            define! { linker, module, abi, get;
                sock_accept => sock::sock_accept, (fd: u32, flags: u32, out: u32);
            }
        }
        linker.func_wrap(
            module,
            "proc_exit",
            move |mut caller: Caller<'_, T>, code: u32| -> Result<()> {
                Err(proc::proc_exit(&mut get.ctx(caller.data_mut()), code))
            },
        )?;
        linker.func_wrap(
            module,
            "proc_raise",
            move |mut caller: Caller<'_, T>, sig: u32| -> Result<i32> {
                proc::proc_raise(&mut get.ctx(caller.data_mut()), sig)
            },
        )?;
    }
    Ok(())
}

/// A `filestat` from a host `stat`.
pub(crate) fn filestat(st: &libc::stat) -> Filestat {
    let ns = |s: i64, n: i64| {
        (s as u64)
            .wrapping_mul(1_000_000_000)
            .wrapping_add(n as u64)
    };
    let filetype = match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => filetype::DIRECTORY,
        libc::S_IFREG => filetype::REGULAR_FILE,
        libc::S_IFLNK => filetype::SYMBOLIC_LINK,
        libc::S_IFCHR => filetype::CHARACTER_DEVICE,
        libc::S_IFBLK => filetype::BLOCK_DEVICE,
        libc::S_IFSOCK => filetype::SOCKET_STREAM,
        _ => filetype::UNKNOWN,
    };
    Filestat {
        dev: st.st_dev,
        ino: st.st_ino,
        filetype,
        #[allow(
            clippy::useless_conversion,
            reason = "`st_nlink` is 64-bit on x86-64 and 32-bit on AArch64"
        )]
        nlink: u64::from(st.st_nlink),
        size: st.st_size as u64,
        atim: ns(st.st_atime, st.st_atime_nsec),
        mtim: ns(st.st_mtime, st.st_mtime_nsec),
        ctim: ns(st.st_ctime, st.st_ctime_nsec),
    }
}

/// Reads a guest `iovec` array: `(ptr, len)` pairs, each checked to lie in
/// memory.
pub(crate) fn iovecs(mem: &GuestMemory<'_>, iovs: u32, count: u32) -> WasiResult<Vec<(u32, u32)>> {
    let mut out = Vec::with_capacity(count.min(1024) as usize);
    for i in 0..count {
        let at = i
            .checked_mul(8)
            .and_then(|o| iovs.checked_add(o))
            .ok_or(Errno::Fault)?;
        let ptr: u32 = mem.read(at)?;
        let len: u32 = mem.read(at + 4)?;
        mem.slice(ptr, len)?;
        out.push((ptr, len));
    }
    Ok(out)
}

/// The most bytes one vectored call moves through a host buffer; larger
/// requests are served partly, as POSIX allows.
const MAX_IO_CHUNK: usize = 16 << 20;

/// Reads into the guest buffers `iovs` with `read`, which fills a host
/// buffer; returns the byte count.
pub(crate) fn read_into(
    mem: &mut GuestMemory<'_>,
    iovs: &[(u32, u32)],
    read: impl FnOnce(&mut [&mut [u8]]) -> std::io::Result<usize>,
) -> WasiResult<usize> {
    let nonempty: Vec<_> = iovs.iter().copied().filter(|&(_, l)| l > 0).collect();
    if let [(ptr, len)] = nonempty[..] {
        let buf = mem.slice_mut(ptr, len)?;
        return Ok(read(&mut [buf])?);
    }
    let total: usize = nonempty.iter().map(|&(_, l)| l as usize).sum();
    let mut host = vec![0u8; total.min(MAX_IO_CHUNK)];
    let n = read(&mut [&mut host[..]])?;
    let mut done = 0;
    for (ptr, len) in nonempty {
        if done == n {
            break;
        }
        let take = (len as usize).min(n - done);
        mem.copy_from(ptr, &host[done..done + take])?;
        done += take;
    }
    Ok(n)
}

/// Writes the guest buffers `iovs` with `write`; returns the byte count.
pub(crate) fn write_from(
    mem: &GuestMemory<'_>,
    iovs: &[(u32, u32)],
    write: impl FnOnce(&[&[u8]]) -> std::io::Result<usize>,
) -> WasiResult<usize> {
    let mut bufs = Vec::with_capacity(iovs.len());
    let mut total = 0usize;
    for &(ptr, len) in iovs {
        if len == 0 || total >= MAX_IO_CHUNK {
            continue;
        }
        let take = (len as usize).min(MAX_IO_CHUNK - total) as u32;
        bufs.push(mem.slice(ptr, take)?);
        total += take as usize;
    }
    Ok(write(&bufs)?)
}

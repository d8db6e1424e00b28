//! `args_*` and `environ_*`: NUL-terminated strings packed into one guest
//! buffer, with a pointer to each.

use super::Call;
use crate::ctx::WasiCtx;
use crate::errno::{Errno, WasiResult};

fn sizes(
    c: &mut Call<'_, '_>,
    list: fn(&WasiCtx) -> &[Vec<u8>],
    count: u32,
    size: u32,
) -> WasiResult<()> {
    let items = list(&c.cx);
    let n = u32::try_from(items.len()).map_err(|_| Errno::Overflow)?;
    let bytes: usize = items.iter().map(|a| a.len() + 1).sum();
    let bytes = u32::try_from(bytes).map_err(|_| Errno::Overflow)?;
    c.mem.write(count, n)?;
    c.mem.write(size, bytes)?;
    Ok(())
}

fn get(
    c: &mut Call<'_, '_>,
    list: fn(&WasiCtx) -> &[Vec<u8>],
    ptrs: u32,
    buf: u32,
) -> WasiResult<()> {
    let items: Vec<Vec<u8>> = list(&c.cx).to_vec();
    let mut at = buf;
    for (i, item) in items.iter().enumerate() {
        let slot = (i as u32)
            .checked_mul(4)
            .and_then(|o| ptrs.checked_add(o))
            .ok_or(Errno::Fault)?;
        c.mem.write(slot, at)?;
        c.mem.copy_from(at, item)?;
        let end = at.checked_add(item.len() as u32).ok_or(Errno::Fault)?;
        c.mem.copy_from(end, &[0])?;
        at = end + 1;
    }
    Ok(())
}

fn args(cx: &WasiCtx) -> &[Vec<u8>] {
    &cx.args
}

fn env(cx: &WasiCtx) -> &[Vec<u8>] {
    &cx.env
}

pub(crate) fn args_sizes_get(c: &mut Call<'_, '_>, argc: u32, size: u32) -> WasiResult<()> {
    sizes(c, args, argc, size)
}

pub(crate) fn args_get(c: &mut Call<'_, '_>, argv: u32, buf: u32) -> WasiResult<()> {
    get(c, args, argv, buf)
}

pub(crate) fn environ_sizes_get(c: &mut Call<'_, '_>, count: u32, size: u32) -> WasiResult<()> {
    sizes(c, env, count, size)
}

pub(crate) fn environ_get(c: &mut Call<'_, '_>, environ: u32, buf: u32) -> WasiResult<()> {
    get(c, env, environ, buf)
}

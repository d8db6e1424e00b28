//! `clock_res_get` and `clock_time_get` over `clock_gettime(2)`.

use super::Call;
use crate::errno::{Errno, WasiResult};
use crate::sys;
use crate::types::clockid;

/// The host clock for a WASI clock id.
pub(crate) fn host_clock(id: u32) -> WasiResult<libc::clockid_t> {
    Ok(match id {
        clockid::REALTIME => libc::CLOCK_REALTIME,
        clockid::MONOTONIC => libc::CLOCK_MONOTONIC,
        clockid::PROCESS_CPUTIME_ID => libc::CLOCK_PROCESS_CPUTIME_ID,
        clockid::THREAD_CPUTIME_ID => libc::CLOCK_THREAD_CPUTIME_ID,
        _ => return Err(Errno::Inval),
    })
}

pub(crate) fn clock_res_get(c: &mut Call<'_, '_>, id: u32, out: u32) -> WasiResult<()> {
    let res = sys::clock_getres(host_clock(id)?)?;
    c.mem.write(out, res.max(1))?;
    Ok(())
}

pub(crate) fn clock_time_get(
    c: &mut Call<'_, '_>,
    id: u32,
    _precision: u64,
    out: u32,
) -> WasiResult<()> {
    let now = sys::clock_gettime(host_clock(id)?)?;
    c.mem.write(out, now)?;
    Ok(())
}

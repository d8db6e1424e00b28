//! `random_get` from the kernel's CSPRNG (`getrandom(2)`).

use super::Call;
use crate::errno::WasiResult;
use crate::sys;

pub(crate) fn random_get(c: &mut Call<'_, '_>, buf: u32, len: u32) -> WasiResult<()> {
    let out = c.mem.slice_mut(buf, len)?;
    sys::getrandom(out)?;
    Ok(())
}

//! Architecture-specific code, one small module per architecture with the
//! same items: `JmpBuf`, `EntryArgs`, `enter`, `context_registers`,
//! `redirect_to_unwind`, `frame_record`, `callee_saved_registers` and
//! `preserve_all_adapter!`.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;

#[cfg(not(target_arch = "x86_64"))]
compile_error!("cljit's runtime supports x86-64 only so far (aarch64 is planned)");

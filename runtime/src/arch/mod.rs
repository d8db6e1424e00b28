//! Architecture-specific code, one small module per architecture with the
//! same items: `JmpBuf`, `EntryArgs`, `enter`, `context_registers`,
//! `redirect_to_unwind`, `frame_record`, `callee_saved_registers`,
//! `preserve_all_adapter!`, `Resume` and `cljit_throw`, `flush_icache`,
//! relocation patching, and lazy compilation's stubs and entries (where
//! `LAZY_COMPILATION` says they exist).

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use self::aarch64::*;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("cljit's runtime supports x86-64 and aarch64 only");

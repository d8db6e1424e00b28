//! Platform code, one directory per OS with the same file names.

#[cfg(unix)]
pub mod unix;
#[cfg(unix)]
pub use self::unix::*;

//! The data structures compiled code touches directly.

pub(crate) mod exn;
pub mod table;
pub mod val_raw;
pub mod vmcontext;

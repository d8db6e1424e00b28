//! The data structures compiled code touches directly.

pub mod table;
pub mod vmcontext;

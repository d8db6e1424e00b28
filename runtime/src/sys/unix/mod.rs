//! Unix (Linux) platform code.

pub mod signals;

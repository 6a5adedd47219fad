//! Architecture support. Lstar runs on x86_64 only; the module boundary
//! keeps the CPU-specific code (and its `unsafe`) in one place.

pub mod x86_64;

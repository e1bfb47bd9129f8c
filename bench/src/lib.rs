//! Benchmarks for BENCHMARKS.md; `main.rs` is the command line.

pub mod load;
pub mod proc;
pub mod readers;
pub mod ssh;

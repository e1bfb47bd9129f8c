//! Benchmarks for BENCHMARKS.md; `main.rs` is the command line.

pub mod abuse;
pub mod abuse_attacks;
pub mod engine;
pub mod load;
pub mod proc;
pub mod readers;
pub mod ssh;

//! The auction engine: the pure rules plus the single task that owns the state.

pub mod actor;
pub mod invariants;
pub mod requests;
pub mod rules;

pub use actor::{Catchup, EngineConfig, EngineGone, EngineHandle, Published, Subscription, spawn};
pub use rules::decide;

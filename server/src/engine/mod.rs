//! The auction engine: the pure rules plus the single task that owns the state.

pub mod actor;
pub mod ceiling_tree;
pub mod invariants;
pub mod proxy;
pub mod requests;
pub mod rules;
pub mod step;

pub use actor::{Catchup, EngineConfig, EngineGone, EngineHandle, Published, Subscription, spawn};
pub use rules::decide;

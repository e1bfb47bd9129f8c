//! The auction server: league loading, the engine, the event store and the
//! network front doors.

pub mod engine;
pub mod league;
pub mod store;

//! The auction server: league loading, the engine, the event store and the
//! network front doors.
//!
//! `main.rs` only parses flags; [`run::Server`] wires the parts together so
//! that tests start exactly what the binary starts.

pub mod auth;
pub mod engine;
pub mod fanout;
pub mod fuzz;
pub mod http;
pub mod io;
pub mod league;
pub mod record;
pub mod run;
pub mod server;
pub mod session;
pub mod ssh;
pub mod store;
pub mod warroom;
pub mod ws;

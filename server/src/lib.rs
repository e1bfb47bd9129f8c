//! The auction server: league loading, the engine, the event store and the
//! network front doors.
//!
//! `main.rs` only parses flags; [`startup::start`] wires the parts together so
//! that tests start exactly what the binary starts.

pub mod auth;
pub mod context;
pub mod engine;
pub mod fanout;
pub mod fuzz;
pub mod http;
pub mod io;
pub mod league;
pub mod limits;
pub mod listener;
pub mod presence;
pub mod proxy_view;
pub mod record;
pub mod session;
pub mod ssh;
pub mod startup;
pub mod store;
pub mod throttle;
pub mod tls;
pub mod warroom;
pub mod web;
pub mod ws;

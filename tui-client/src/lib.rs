//! The auction's terminal client: the screens of every role (generic over the
//! ratatui backend, so the server can serve them over SSH), the network
//! session, and the headless `ctl` mode.

pub mod app;
pub mod config;
pub mod ctl;
pub mod describe;
pub mod export;
pub mod keymap;
pub mod net;
pub mod run;
pub mod session;
pub mod ui;
pub mod warroom;

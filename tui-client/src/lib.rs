//! The auction's terminal client: the local terminal host for the screens
//! (which live in `auction-screens`), the WebSocket session, the headless
//! `ctl` mode and the client's config files.

pub mod config;
pub mod ctl;
pub mod ctl_proxy;
pub mod host;
pub mod net;
pub mod session;

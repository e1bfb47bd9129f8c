//! The auction's terminal client: the screens of every role (generic over the
//! ratatui backend, so the server can serve them over SSH), the network
//! session, and the headless `ctl` mode.

pub mod ctl;
pub mod describe;
pub mod net;

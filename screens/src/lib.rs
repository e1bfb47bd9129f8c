//! Every role's screen: the app's state machine ([`app`]), the keymap, the
//! widgets ([`ui`]) and the event loop that drives them, generic over the
//! ratatui backend. Nothing here does I/O: no sockets, no files, no clock,
//! no environment. What needs the outside world is an [`app::Effect`] that
//! the host (the local terminal, an SSH channel) carries out or refuses,
//! through [`event_loop::Host`].

pub mod app;
pub mod budget;
pub mod describe;
pub mod event_loop;
pub mod export;
pub mod keymap;
pub mod link;
pub mod lookup;
pub mod pool;
pub mod prompt_parse;
pub mod shortlist_edit;
pub mod ui;

//! What each session may see of the proxy-bid ceilings: a team its own; the
//! presenter and the admin how many teams hold one on the player on the
//! block, when the league says so; nobody anything more.

use std::sync::Arc;

use auction_proto::msg::CeilingEntry;
use auction_proto::{Access, TeamCode};
use tokio::sync::watch;

use crate::context::Context;
use crate::engine::actor::Book;
use crate::session::Notice;

/// A session's view of the ceilings, following their changes.
pub struct Follow {
    book: watch::Receiver<Arc<Book>>,
    sees: Sees,
    /// The last notice sent: a change this session cannot see sends none.
    last: Option<Notice>,
}

enum Sees {
    Team(TeamCode),
    Count,
}

/// The view for `access`, or `None` for those who see nothing of it; with
/// it, a team's ceilings as of now (for its welcome). The room's count
/// comes as a first notice at once.
pub fn follow(app: &Context, access: &Access) -> Option<(Follow, Option<Vec<CeilingEntry>>)> {
    let book = app.engine.book();
    let sees = match access {
        Access::Team { team } => Sees::Team(team.clone()),
        room if room.runs_room() && book.borrow().counted => Sees::Count,
        _ => return None,
    };
    let mut follow = Follow {
        book,
        sees,
        last: None,
    };
    let current = follow.book.borrow_and_update().clone();
    match follow.view(&current) {
        Some(Notice::Ceilings(list)) => {
            follow.last = Some(Notice::Ceilings(list.clone()));
            Some((follow, Some(list)))
        }
        _ => {
            follow.book.mark_changed();
            Some((follow, None))
        }
    }
}

impl Follow {
    fn view(&self, book: &Book) -> Option<Notice> {
        match &self.sees {
            Sees::Team(team) => Some(Notice::Ceilings(
                book.ceilings
                    .of_team(team)
                    .into_iter()
                    .map(|(player, amount)| CeilingEntry { player, amount })
                    .collect(),
            )),
            Sees::Count => book.on_block.map(|(player, n)| Notice::CeilingCount {
                player,
                teams: n as u32,
            }),
        }
    }
}

/// The next change this session may see. Cancel-safe; never resolves for
/// a session without a view.
pub async fn next(follow: Option<&mut Follow>) -> Notice {
    let Some(f) = follow else {
        return std::future::pending().await;
    };
    loop {
        if f.book.changed().await.is_err() {
            return std::future::pending().await;
        }
        let book = f.book.borrow_and_update().clone();
        if let Some(notice) = f.view(&book)
            && f.last.as_ref() != Some(&notice)
        {
            f.last = Some(notice.clone());
            return notice;
        }
    }
}

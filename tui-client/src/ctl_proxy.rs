//! `ctl proxy`: a team's proxy-bid ceilings from the command line.

use auction_proto::msg::{CeilingEntry, ClientMsg, ServerMsg};
use auction_proto::{Money, PlayerId, PlayerStatus, State};
use auction_screens::lookup::find_player;
use clap::Subcommand;

use crate::ctl::{Outcome, fail, refused, wait_for};
use crate::net::WsClient;

#[derive(Subcommand, Debug, Clone)]
pub enum ProxyCmd {
    /// Print your team's ceilings.
    Show,
    /// Let the server bid for your team up to AMOUNT (75L, 4cr) on PLAYER,
    /// by the ladder, whenever you are not leading.
    Set { player: String, amount: Money },
    /// Take your ceiling on PLAYER back.
    Cancel { player: String },
}

/// Shows or changes the team's ceilings; `conn` is logged in as a team,
/// whose welcome said `current`.
pub async fn run(
    mut conn: WsClient,
    state: &State,
    current: Vec<CeilingEntry>,
    what: &ProxyCmd,
) -> Outcome {
    let outcome = match what {
        ProxyCmd::Show => {
            print!("{}", describe(&current, state));
            Outcome::Accepted
        }
        ProxyCmd::Set { player, amount } => {
            change(&mut conn, state, &current, player, Some(*amount)).await
        }
        ProxyCmd::Cancel { player } => change(&mut conn, state, &current, player, None).await,
    };
    conn.close().await;
    outcome
}

async fn change(
    conn: &mut WsClient,
    state: &State,
    current: &[CeilingEntry],
    player: &str,
    amount: Option<Money>,
) -> Outcome {
    let player = match find_player(state, player) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rejected: {e}");
            return Outcome::Rejected;
        }
    };
    let id = format!("ctl-{:016x}", rand::random::<u64>());
    let msg = ClientMsg::SetCeiling {
        id: id.clone(),
        player,
        amount,
    };
    if let Err(e) = conn.send(&msg).await {
        return fail(e);
    }
    if let Err(o) = answer(conn, &id).await {
        return o;
    }
    let done = |list: &[CeilingEntry]| {
        list.iter().find(|c| c.player == player).map(|c| c.amount) == amount
    };
    // Setting what is already set changes nothing, and no news follows.
    if done(current) {
        print!("{}", describe(current, state));
        return Outcome::Accepted;
    }
    match next_ceilings(conn, done).await {
        Ok(list) => {
            print!("{}", describe(&list, state));
            Outcome::Accepted
        }
        Err(o) => o,
    }
}

/// Waits for the answer to request `id`.
async fn answer(conn: &mut WsClient, id: &str) -> Result<(), Outcome> {
    wait_for(conn, |msg| match msg {
        ServerMsg::Accepted { id: got, .. } if got == id => Some(Ok(())),
        ServerMsg::Rejected {
            id: got, message, ..
        } if got == id => refused(&message),
        ServerMsg::Error { message, .. } => refused(&message),
        _ => None,
    })
    .await
}

/// The first `ceilings` message that `done` accepts.
async fn next_ceilings(
    conn: &mut WsClient,
    done: impl Fn(&[CeilingEntry]) -> bool,
) -> Result<Vec<CeilingEntry>, Outcome> {
    wait_for(conn, |msg| match msg {
        ServerMsg::Ceilings { ceilings } if done(&ceilings) => Some(Ok(ceilings)),
        _ => None,
    })
    .await
}

/// One line per ceiling: the player, the amount, where the lot stands.
pub fn describe(list: &[CeilingEntry], state: &State) -> String {
    if list.is_empty() {
        return "No proxy ceilings.\n".into();
    }
    let mut out = String::from("Proxy ceilings (only your team sees these):\n");
    for c in list {
        let (name, status) = match state.player(c.player) {
            Some(p) => (p.player.name.as_str(), status(state, c.player, &p.status)),
            None => ("?", String::new()),
        };
        out.push_str(&format!(
            "  {name} ({})  up to {}{status}\n",
            c.player, c.amount
        ));
    }
    out
}

fn status(state: &State, player: PlayerId, status: &PlayerStatus) -> String {
    match (status, state.leader()) {
        (PlayerStatus::OnBlock, Some(b)) => {
            format!("  · on the block, {} leads with {}", b.team, b.amount)
        }
        (PlayerStatus::OnBlock, None) => "  · on the block".into(),
        _ if state.upcoming().any(|p| p.player.id == player) => "  · to come".into(),
        _ => String::new(),
    }
}

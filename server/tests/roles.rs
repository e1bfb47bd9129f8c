//! Every command × every role, over the real server: allowed or refused
//! exactly as specified. Permission is checked before anything else, so the
//! auction's state does not change the verdict.

mod support;

use auction_proto::msg::{ClientMsg, ErrorCode, ServerMsg};
use auction_proto::{Command, Money, PlayerId, RejectCode, TeamCode};
use support::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Accepted, or refused for a reason other than the role.
    Allowed,
    Forbidden,
    WrongTeam,
    NotLoggedIn,
}

fn commands() -> Vec<(&'static str, Command)> {
    let mi = || TeamCode::new("MI");
    let mut p = auction_server::league::bundled().league.players[70].clone();
    p.name = "Role Matrix Test Player".into();
    vec![
        ("start", Command::Start { seed: Some(1) }),
        ("pause", Command::Pause),
        ("resume", Command::Resume),
        ("next", Command::Next),
        (
            "nominate",
            Command::Nominate {
                player: PlayerId(5),
            },
        ),
        (
            "bid MI",
            Command::Bid {
                team: mi(),
                amount: Money(5000),
            },
        ),
        ("raise MI", Command::Raise { team: mi() }),
        ("going_once", Command::GoingOnce),
        ("going_twice", Command::GoingTwice),
        ("sold", Command::Sold),
        ("unsold", Command::Unsold),
        ("undo_bid", Command::UndoBid),
        ("undo_sale", Command::UndoSale),
        (
            "adjust_purse",
            Command::AdjustPurse {
                team: mi(),
                delta: 1,
                reason: "matrix".into(),
            },
        ),
        ("add_player", Command::AddPlayer { player: p.clone() }),
        (
            "edit_player",
            Command::EditPlayer {
                player: auction_server::league::bundled().league.players[80].clone(),
            },
        ),
        (
            "withdraw_player",
            Command::WithdrawPlayer {
                player: PlayerId(99),
            },
        ),
        ("reset_lot", Command::ResetLot),
        ("reset_auction", Command::ResetAuction),
        ("open_accelerated", Command::OpenAccelerated),
        ("tick", Command::Tick),
    ]
}

fn expected(role: &str, command: &str) -> Verdict {
    use Verdict::*;
    let room = [
        "start",
        "pause",
        "resume",
        "next",
        "nominate",
        "going_once",
        "going_twice",
        "sold",
        "unsold",
        "undo_bid",
        "undo_sale",
        "reset_lot",
        "open_accelerated",
    ];
    let admin_only = [
        "adjust_purse",
        "add_player",
        "edit_player",
        "withdraw_player",
        "reset_auction",
    ];
    match (role, command) {
        ("anonymous", _) => NotLoggedIn,
        (_, "tick") => Forbidden,
        ("admin", _) => Allowed,
        ("presenter", c) if admin_only.contains(&c) => Forbidden,
        ("presenter", _) => Allowed,
        ("mi", "bid MI" | "raise MI") => Allowed,
        ("csk", "bid MI" | "raise MI") => WrongTeam,
        ("viewer", "bid MI" | "raise MI") => Forbidden,
        (_, c) if room.contains(&c) || admin_only.contains(&c) => Forbidden,
        (r, c) => panic!("no expectation for {r} / {c}"),
    }
}

#[tokio::test]
async fn every_command_for_every_role() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    // A lot on the block, so room commands have something to act on.
    let _presenter = presenter_with_lot(&server.url, 61).await;

    let mut checked = 0;
    for role in ["admin", "presenter", "mi", "csk", "viewer", "anonymous"] {
        let mut ws = connect(&server.url).await;
        if role != "anonymous" {
            send(&mut ws, &login_msg(role)).await;
            assert!(
                matches!(recv(&mut ws).await, ServerMsg::Welcome { .. }),
                "{role} could not log in"
            );
        }
        for (i, (name, command)) in commands().into_iter().enumerate() {
            let id = format!("{role}-{i}");
            send(
                &mut ws,
                &ClientMsg::Command {
                    id: id.clone(),
                    command,
                },
            )
            .await;
            let verdict = loop {
                match recv(&mut ws).await {
                    ServerMsg::Accepted { id: got, .. } if got == id => break Verdict::Allowed,
                    ServerMsg::Rejected { id: got, code, .. } if got == id => {
                        break match code {
                            RejectCode::Forbidden => Verdict::Forbidden,
                            RejectCode::WrongTeam => Verdict::WrongTeam,
                            _ => Verdict::Allowed,
                        };
                    }
                    ServerMsg::Error {
                        code: ErrorCode::NotLoggedIn,
                        ..
                    } => break Verdict::NotLoggedIn,
                    ServerMsg::Event(_) | ServerMsg::Presence { .. } => continue,
                    other => panic!("{role} / {name}: {other:?}"),
                }
            };
            assert_eq!(verdict, expected(role, name), "{role} / {name}");
            checked += 1;
        }
    }
    assert_eq!(checked, 6 * 21);
}

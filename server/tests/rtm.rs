//! Right to Match over the wire, both outcomes, on a league that turns it on
//! (the bundled one, with `rtm_cards = 1`).

mod support;

use auction_proto::msg::ServerMsg;
use auction_proto::{
    Command, Event, Money, PlayerId, PlayerStatus, RejectCode, RtmAction, TeamCode,
};
use support::*;

fn t(code: &str) -> TeamCode {
    TeamCode::new(code)
}

#[tokio::test]
async fn a_right_to_match_lot_played_through_both_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
    let toml = std::fs::read_to_string(root.join("league.toml")).unwrap();
    assert!(
        toml.contains("# rtm_cards = 2"),
        "the commented example is gone"
    );
    let league = dir.path().join("league.toml");
    std::fs::write(&league, toml.replace("# rtm_cards = 2", "rtm_cards = 1")).unwrap();
    std::fs::copy(root.join("players.csv"), dir.path().join("players.csv")).unwrap();
    let server = ServerProc::start_with(
        &dir.path().join("data"),
        &["--league", league.to_str().unwrap()],
    );

    let mut viewer = Client::login(&server.url, "viewer").await;
    let mut p = presenter_with_lot(&server.url, 1).await; // Rishabh Pant, DC's last season
    let mut mi = Client::login(&server.url, "mi").await;
    let mut dc = Client::login(&server.url, "dc").await;
    let mut csk = Client::login(&server.url, "csk").await;
    let mut kkr = Client::login(&server.url, "kkr").await;

    // Kept: DC uses its card, MI raises once, DC matches.
    mi.cmd(Command::Raise { team: t("MI") }).await.unwrap();
    p.cmd(Command::Sold).await.unwrap();
    assert_eq!(
        csk.cmd(Command::Raise { team: t("CSK") })
            .await
            .unwrap_err()
            .0,
        RejectCode::WrongStage
    );
    assert_eq!(
        mi.cmd(Command::Rtm {
            team: t("DC"),
            action: RtmAction::UseCard
        })
        .await
        .unwrap_err()
        .0,
        RejectCode::WrongTeam
    );
    dc.cmd(Command::Rtm {
        team: t("DC"),
        action: RtmAction::UseCard,
    })
    .await
    .unwrap();
    mi.cmd(Command::RtmRaise {
        team: t("MI"),
        amount: Money(260),
    })
    .await
    .unwrap();
    let sold = dc
        .cmd(Command::Rtm {
            team: t("DC"),
            action: RtmAction::MatchPrice,
        })
        .await
        .unwrap();
    viewer.catch_up(sold).await;
    let pant = viewer.state.player(PlayerId(1)).unwrap();
    assert_eq!(
        pant.status,
        PlayerStatus::Sold {
            team: t("DC"),
            price: Money(260)
        }
    );
    let dc_state = viewer.state.team(&t("DC")).unwrap();
    assert_eq!(dc_state.rtm_left, 0);
    assert_eq!(
        dc_state.purse,
        Money::crore(120).checked_sub(Money(260)).unwrap()
    );

    // Let go: Shreyas Iyer (KKR's) goes to CSK at the hammer price.
    p.cmd(Command::Nominate {
        player: PlayerId(2),
    })
    .await
    .unwrap();
    csk.cmd(Command::Raise { team: t("CSK") }).await.unwrap();
    p.cmd(Command::Sold).await.unwrap();
    let sold = kkr
        .cmd(Command::Rtm {
            team: t("KKR"),
            action: RtmAction::Decline,
        })
        .await
        .unwrap();
    viewer.catch_up(sold).await;
    let iyer = viewer.state.player(PlayerId(2)).unwrap();
    assert_eq!(
        iyer.status,
        PlayerStatus::Sold {
            team: t("CSK"),
            price: Money(200)
        }
    );
    assert_eq!(viewer.state.team(&t("KKR")).unwrap().rtm_left, 1);

    // The big screen saw every step, and the log replays to the same state.
    let mut history = connect(&server.url).await;
    send(&mut history, &login_msg("presenter")).await;
    let _ = recv(&mut history).await;
    send(
        &mut history,
        &auction_proto::msg::ClientMsg::History {
            since: 0,
            limit: None,
        },
    )
    .await;
    let entries = loop {
        if let ServerMsg::History { entries, .. } = recv(&mut history).await {
            break entries;
        }
    };
    let kinds: Vec<&str> = entries.iter().map(|e| e.event.kind()).collect();
    for kind in ["rtm_offered", "rtm_used", "rtm_raised", "player_sold"] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    assert!(
        entries
            .iter()
            .any(|e| matches!(e.event, Event::PlayerSold { rtm: true, .. }))
    );
}

//! The accelerated round over the wire: teams ask back unsold players, the
//! presenter opens a round of the union of their lists.

mod support;

use auction_proto::{Command, PlayerId, PlayerStatus, RejectCode, TeamCode};
use support::*;

#[tokio::test]
async fn teams_lists_make_the_accelerated_round() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    let mut p = Client::login(&server.url, "presenter").await;
    let mut mi = Client::login(&server.url, "mi").await;
    let mut csk = Client::login(&server.url, "csk").await;
    let seq = p.cmd(Command::Start { seed: Some(2) }).await.unwrap();
    p.catch_up(seq).await;
    // Every player of the sets goes unsold.
    while p.state.next_in_queue().is_some() {
        p.cmd(Command::Next).await.unwrap();
        let seq = p.cmd(Command::Unsold).await.unwrap();
        p.catch_up(seq).await;
    }
    let ask = |code: &str, ids: &[u32]| Command::RequestAccelerated {
        team: TeamCode::new(code),
        players: ids.iter().map(|&i| PlayerId(i)).collect(),
    };
    mi.cmd(ask("MI", &[40, 7])).await.unwrap();
    csk.cmd(ask("CSK", &[7, 90])).await.unwrap();
    assert_eq!(
        mi.cmd(ask("CSK", &[1])).await.unwrap_err().0,
        RejectCode::WrongTeam
    );
    let too_many: Vec<u32> = (1..=11).collect();
    assert_eq!(
        mi.cmd(ask("MI", &too_many)).await.unwrap_err().0,
        RejectCode::TooManyPicks
    );
    let seq = p.cmd(Command::OpenAccelerated).await.unwrap();
    p.catch_up(seq).await;
    assert_eq!(p.state.queue, [PlayerId(7), PlayerId(40), PlayerId(90)]);
    assert_eq!(p.state.round, 1);
    let seq = p.cmd(Command::Next).await.unwrap();
    p.catch_up(seq).await;
    let lot = p.state.lot.as_ref().unwrap().player;
    assert_eq!(lot, PlayerId(7));
    assert_eq!(
        p.state.player(PlayerId(2)).unwrap().status,
        PlayerStatus::Unsold
    );
}

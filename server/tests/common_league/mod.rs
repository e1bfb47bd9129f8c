// A small league for rule tests: three teams, eight players, tight limits.
// Included with `#[path]`/`mod` by the test files that need it.
#![allow(dead_code)]

use auction_proto::{
    Access, Actor, ClockRules, LadderStep, League, Money, Player, PlayerId, Role, Rules, Stats,
    Team, TeamCode,
};

pub fn player(id: u32, name: &str, set: &str, base: u64, overseas: bool) -> Player {
    Player {
        id: PlayerId(id),
        name: name.into(),
        role: Role::Batter,
        country: if overseas {
            "Australia".into()
        } else {
            "India".into()
        },
        overseas,
        capped: true,
        base: Money(base),
        set: set.into(),
        stats: Stats::default(),
        previous_team: None,
        batting_hand: String::new(),
        bowling_style: String::new(),
    }
}

/// Purse 10 Cr; squad 2..=3; at most 1 overseas; ladder +5 L, +10 L from
/// 1 Cr, +20 L from 2 Cr, +25 L from 5 Cr. Cheapest base 20 L.
pub fn small_league() -> League {
    League {
        name: "Test League".into(),
        rules: Rules {
            purse: Money::crore(10),
            squad_min: 2,
            squad_max: 3,
            overseas_max: 1,
            ladder: vec![
                LadderStep {
                    from: Money(0),
                    step: Money(5),
                },
                LadderStep {
                    from: Money(100),
                    step: Money(10),
                },
                LadderStep {
                    from: Money(200),
                    step: Money(20),
                },
                LadderStep {
                    from: Money(500),
                    step: Money(25),
                },
            ],
            clock: None,
            accelerated_picks: 2,
            rtm_cards: 0,
            home_country: "India".into(),
            proxy_bids: Default::default(),
        },
        teams: ["MI", "CSK", "RCB"]
            .iter()
            .map(|c| Team {
                code: TeamCode::new(c),
                name: format!("Team {c}"),
                colour: auction_proto::Colour::rgb(0x12, 0x34, 0x56),
            })
            .collect(),
        sets: vec!["Marquee".into(), "Others".into()],
        players: vec![
            player(1, "Alpha", "Marquee", 200, false),
            player(2, "Bravo", "Marquee", 150, true),
            player(3, "Charlie", "Marquee", 100, false),
            player(4, "Delta", "Others", 50, true),
            player(5, "Echo", "Others", 30, false),
            player(6, "Foxtrot", "Others", 20, false),
            player(7, "Golf", "Others", 20, false),
            player(8, "Hotel", "Others", 75, false),
        ],
    }
}

pub fn with_clock(mut league: League, auto_advance: bool) -> League {
    league.rules.clock = Some(ClockRules {
        lot_seconds: 30,
        min_seconds_after_bid: 10,
        stage_seconds: 5,
        auto_advance,
    });
    league
}

pub fn admin() -> Actor {
    Actor::new("admin", Access::Admin)
}
pub fn presenter() -> Actor {
    Actor::new("presenter", Access::Presenter)
}
pub fn team(code: &str) -> Actor {
    Actor::new(
        code.to_lowercase(),
        Access::Team {
            team: TeamCode::new(code),
        },
    )
}
pub fn viewer() -> Actor {
    Actor::new("viewer", Access::Viewer)
}
pub fn system() -> Actor {
    Actor::system()
}

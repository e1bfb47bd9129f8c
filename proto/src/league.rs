//! The league: rules, franchises and the player pool, as data.
//!
//! Parsing and validating a league file lives in the server; these are the
//! shapes every part of the system shares.

use serde::{Deserialize, Serialize};

use crate::ids::{PlayerId, TeamCode};
use crate::money::Money;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct League {
    pub name: String,
    pub rules: Rules,
    pub teams: Vec<Team>,
    /// Set names in the order they go under the hammer.
    pub sets: Vec<String>,
    pub players: Vec<Player>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    /// Every team's starting purse.
    pub purse: Money,
    pub squad_min: u32,
    pub squad_max: u32,
    pub overseas_max: u32,
    /// Bid increments: from `from` upwards each raise is at least `step`.
    /// Sorted by `from`, the first starting at zero.
    pub ladder: Vec<LadderStep>,
    /// The bid clock, if the league uses one.
    #[serde(default)]
    pub clock: Option<ClockRules>,
    /// How many unsold players each team may ask back for an accelerated
    /// round.
    #[serde(default = "default_accelerated_picks")]
    pub accelerated_picks: u32,
    /// Right to Match cards per team (0: no Right to Match).
    #[serde(default)]
    pub rtm_cards: u32,
    /// Players from any other country are overseas.
    #[serde(default = "default_home_country")]
    pub home_country: String,
    /// Whether teams may leave a private ceiling for the engine to bid up
    /// to (proxy bids).
    #[serde(default)]
    pub proxy_bids: ProxyBids,
}

/// The league's choice on proxy bids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyBids {
    /// No ceilings: every bid is made by hand.
    Off,
    /// Ceilings on, seen only by their own team.
    #[default]
    On,
    /// As `on`, and the presenter and the admin see how many teams hold a
    /// ceiling on the player on the block (never whose, or how much).
    Counted,
}

fn default_home_country() -> String {
    "India".into()
}

fn default_accelerated_picks() -> u32 {
    10
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LadderStep {
    pub from: Money,
    pub step: Money,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockRules {
    /// Seconds a lot stays open before "going once".
    pub lot_seconds: u32,
    /// A bid always leaves at least this many seconds on the clock.
    pub min_seconds_after_bid: u32,
    /// Seconds for "going once" and for "going twice".
    pub stage_seconds: u32,
    /// Whether the clock moves the stages on by itself, up to the hammer.
    pub auto_advance: bool,
}

impl Rules {
    /// Whether a player from `country` counts as overseas in this league.
    pub fn is_overseas(&self, country: &str) -> bool {
        !country
            .trim()
            .eq_ignore_ascii_case(self.home_country.trim())
    }

    /// The increment that applies on top of `current`.
    pub fn step_at(&self, current: Money) -> Money {
        self.ladder
            .iter()
            .rev()
            .find(|s| s.from <= current)
            .or(self.ladder.first())
            .map_or(Money(1), |s| s.step)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub code: TeamCode,
    pub name: String,
    /// `#rrggbb` in files and on the wire.
    pub colour: crate::Colour,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Batter,
    Bowler,
    AllRounder,
    WicketKeeper,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Batter,
        Role::AllRounder,
        Role::WicketKeeper,
        Role::Bowler,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Role::Batter => "Batter",
            Role::Bowler => "Bowler",
            Role::AllRounder => "All-rounder",
            Role::WicketKeeper => "Wicket-keeper",
        }
    }

    /// A role as people type it (`bat`, `batter`, `bowl`, `ar`,
    /// `all-rounder`, `wk`, `keeper`, `wicket-keeper`...), in any case.
    pub fn from_word(word: &str) -> Option<Role> {
        Some(
            match word.trim().to_lowercase().replace('_', "-").as_str() {
                "bat" | "batter" => Role::Batter,
                "bowl" | "bowler" => Role::Bowler,
                "ar" | "all-rounder" | "allrounder" => Role::AllRounder,
                "wk" | "keeper" | "wicket-keeper" | "wicketkeeper" => Role::WicketKeeper,
                _ => return None,
            },
        )
    }

    pub fn short(self) -> &'static str {
        match self {
            Role::Batter => "BAT",
            Role::Bowler => "BOWL",
            Role::AllRounder => "AR",
            Role::WicketKeeper => "WK",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Player {
    pub id: PlayerId,
    pub name: String,
    pub role: Role,
    pub country: String,
    pub overseas: bool,
    pub capped: bool,
    pub base: Money,
    pub set: String,
    #[serde(default)]
    pub stats: Stats,
    /// The team the player played for last season (for Right to Match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_team: Option<TeamCode>,
    /// `right` or `left`; empty when not given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub batting_hand: String,
    /// As commentators say it (`right-arm fast`, `left-arm orthodox`);
    /// empty when he does not bowl or it is not given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bowling_style: String,
}

/// A few career figures (T20), shown on the block.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub matches: u32,
    pub runs: u32,
    pub wickets: u32,
    /// Batting strike rate; 0 when not meaningful.
    pub strike_rate: f64,
    /// Bowling economy; 0 when not meaningful.
    pub economy: f64,
}

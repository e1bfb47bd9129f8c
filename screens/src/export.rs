//! The night's results for a spreadsheet or a script: every squad with
//! prices, roles and overseas count, purse spent and left, the players not
//! sold, and a summary. Money is in lakh (`_lakh` columns) with a readable
//! copy beside it.

use auction_proto::{Money, PlayerId, PlayerStatus, Role, State};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Export {
    pub league: String,
    /// The log position the export was taken at.
    pub seq: u64,
    pub teams: Vec<TeamExport>,
    /// Players not in any squad: unsold, never auctioned, or withdrawn.
    pub unsold: Vec<UnsoldExport>,
    pub summary: Summary,
}

#[derive(Debug, Serialize)]
pub struct TeamExport {
    pub code: String,
    pub name: String,
    pub players: usize,
    pub overseas: u32,
    pub spent_lakh: u64,
    pub purse_left_lakh: u64,
    pub squad: Vec<Bought>,
}

#[derive(Debug, Serialize)]
pub struct Bought {
    pub id: PlayerId,
    pub name: String,
    pub role: Role,
    pub overseas: bool,
    pub price_lakh: u64,
    pub price: String,
}

#[derive(Debug, Serialize)]
pub struct UnsoldExport {
    pub id: PlayerId,
    pub name: String,
    pub role: Role,
    pub overseas: bool,
    pub base_lakh: u64,
    /// `unsold`, `available` (never came up), `on_block` or `withdrawn`.
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub players_sold: usize,
    pub total_spent_lakh: u64,
    /// The average price of a player sold, and the average base price of
    /// the same players: how far the bidding went above the bases.
    pub average_price_lakh: u64,
    pub average_base_lakh: u64,
    /// Average price over average base (1.5: half as much again).
    pub price_over_base: f64,
    /// The ten most expensive buys, dearest first.
    pub most_expensive: Vec<TopBuy>,
    /// The ten best-value buys: the lowest price for the base price (the
    /// higher base first among equal ratios).
    pub best_value: Vec<TopBuy>,
    pub by_role: Vec<RoleSpend>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopBuy {
    pub name: String,
    pub team: String,
    pub price_lakh: u64,
    pub price: String,
    pub base_lakh: u64,
}

#[derive(Debug, Serialize)]
pub struct RoleSpend {
    pub role: Role,
    pub players: usize,
    pub spent_lakh: u64,
}

/// The export of `state` as of `seq`.
pub fn build(state: &State, seq: u64) -> Export {
    let mut teams = Vec::new();
    let mut top = Vec::new();
    let mut by_role: Vec<RoleSpend> = Role::ALL
        .iter()
        .map(|&role| RoleSpend {
            role,
            players: 0,
            spent_lakh: 0,
        })
        .collect();
    for t in &state.teams {
        let mut squad = Vec::new();
        for id in &t.squad {
            let Some(p) = state.player(*id) else { continue };
            let PlayerStatus::Sold { price, .. } = p.status else {
                continue;
            };
            squad.push(Bought {
                id: *id,
                name: p.player.name.clone(),
                role: p.player.role,
                overseas: p.player.overseas,
                price_lakh: price.0,
                price: price.to_string(),
            });
            top.push(TopBuy {
                name: p.player.name.clone(),
                team: t.team.code.to_string(),
                price_lakh: price.0,
                price: price.to_string(),
                base_lakh: p.player.base.0,
            });
            if let Some(r) = by_role.iter_mut().find(|r| r.role == p.player.role) {
                r.players += 1;
                r.spent_lakh += price.0;
            }
        }
        teams.push(TeamExport {
            code: t.team.code.to_string(),
            name: t.team.name.clone(),
            players: squad.len(),
            overseas: state.overseas_count(t),
            spent_lakh: squad.iter().map(|b| b.price_lakh).sum(),
            purse_left_lakh: t.purse.0,
            squad,
        });
    }
    let unsold = state
        .players
        .iter()
        .filter_map(|p| {
            let status = match p.status {
                PlayerStatus::Sold { .. } => return None,
                PlayerStatus::Unsold => "unsold",
                PlayerStatus::Available => "available",
                PlayerStatus::OnBlock => "on_block",
                PlayerStatus::Withdrawn => "withdrawn",
            };
            Some(UnsoldExport {
                id: p.player.id,
                name: p.player.name.clone(),
                role: p.player.role,
                overseas: p.player.overseas,
                base_lakh: p.player.base.0,
                status,
            })
        })
        .collect();
    Export {
        league: state.league_name.clone(),
        seq,
        summary: summary(&teams, top, by_role),
        teams,
        unsold,
    }
}

/// The night in figures, from every buy (`top`, in the order bought).
fn summary(teams: &[TeamExport], mut top: Vec<TopBuy>, by_role: Vec<RoleSpend>) -> Summary {
    let sold = top.len().max(1) as u64;
    let (price_sum, base_sum): (u64, u64) = top
        .iter()
        .fold((0, 0), |(p, b), t| (p + t.price_lakh, b + t.base_lakh));
    // Best value: price over base, lowest first; then the dearer base.
    let mut best = top.clone();
    best.sort_by(|a, b| {
        let (x, y) = (
            a.price_lakh * b.base_lakh.max(1),
            b.price_lakh * a.base_lakh.max(1),
        );
        x.cmp(&y).then(b.base_lakh.cmp(&a.base_lakh))
    });
    best.truncate(10);
    // Dearest first; equal prices in the order they were bought.
    top.sort_by_key(|b| std::cmp::Reverse(b.price_lakh));
    top.truncate(10);
    Summary {
        players_sold: teams.iter().map(|t| t.players).sum(),
        total_spent_lakh: teams.iter().map(|t| t.spent_lakh).sum(),
        average_price_lakh: price_sum / sold,
        average_base_lakh: base_sum / sold,
        price_over_base: match base_sum {
            0 => 0.0,
            b => (price_sum as f64 / b as f64 * 100.0).round() / 100.0,
        },
        most_expensive: top,
        best_value: best,
        by_role,
    }
}

impl Export {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an export serializes") + "\n"
    }

    /// One CSV file of several tables, each after a blank line and a row
    /// naming it, each with its own header: squads, teams, unsold, by_role,
    /// most_expensive.
    pub fn to_csv(&self) -> String {
        [
            self.squads_csv(),
            self.teams_csv(),
            self.unsold_csv(),
            self.by_role_csv(),
            self.most_expensive_csv(),
            self.best_value_csv(),
        ]
        .join("\n")
    }

    fn squads_csv(&self) -> String {
        let rows = self.teams.iter().flat_map(|t| {
            t.squad.iter().map(|b| {
                vec![
                    t.code.clone(),
                    b.id.0.to_string(),
                    b.name.clone(),
                    b.role.label().to_string(),
                    yes_no(b.overseas).to_string(),
                    b.price_lakh.to_string(),
                    b.price.clone(),
                ]
            })
        });
        let header = [
            "team",
            "player_id",
            "player",
            "role",
            "overseas",
            "price_lakh",
            "price",
        ];
        table("squads", &header, rows)
    }

    fn teams_csv(&self) -> String {
        let rows = self.teams.iter().map(|t| {
            vec![
                t.code.clone(),
                t.name.clone(),
                t.players.to_string(),
                t.overseas.to_string(),
                t.spent_lakh.to_string(),
                Money(t.spent_lakh).to_string(),
                t.purse_left_lakh.to_string(),
                Money(t.purse_left_lakh).to_string(),
            ]
        });
        let header = [
            "team",
            "name",
            "players",
            "overseas",
            "spent_lakh",
            "spent",
            "purse_left_lakh",
            "purse_left",
        ];
        table("teams", &header, rows)
    }

    fn unsold_csv(&self) -> String {
        let rows = self.unsold.iter().map(|u| {
            vec![
                u.id.0.to_string(),
                u.name.clone(),
                u.role.label().to_string(),
                yes_no(u.overseas).to_string(),
                u.base_lakh.to_string(),
                u.status.to_string(),
            ]
        });
        let header = [
            "player_id",
            "player",
            "role",
            "overseas",
            "base_lakh",
            "status",
        ];
        table("unsold", &header, rows)
    }

    fn by_role_csv(&self) -> String {
        let rows = self.summary.by_role.iter().map(|r| {
            vec![
                r.role.label().to_string(),
                r.players.to_string(),
                r.spent_lakh.to_string(),
                Money(r.spent_lakh).to_string(),
            ]
        });
        table("by_role", &["role", "players", "spent_lakh", "spent"], rows)
    }

    fn most_expensive_csv(&self) -> String {
        buys_csv("most_expensive", &self.summary.most_expensive)
    }

    fn best_value_csv(&self) -> String {
        buys_csv("best_value", &self.summary.best_value)
    }
}

/// One table of the CSV: a row naming it, its header, its rows. Each table
/// has its own writer, as each has its own width.
fn table(name: &str, header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    w.write_record([format!("# {name}")])
        .expect("writing to memory");
    w.write_record(header).expect("writing to memory");
    for row in rows {
        w.write_record(&row).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8")
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// A ranked list of buys, with the base price beside the price.
fn buys_csv(name: &str, buys: &[TopBuy]) -> String {
    let rows = buys.iter().enumerate().map(|(i, b)| {
        vec![
            (i + 1).to_string(),
            b.name.clone(),
            b.team.clone(),
            b.price_lakh.to_string(),
            b.price.clone(),
            b.base_lakh.to_string(),
        ]
    });
    let header = ["rank", "player", "team", "price_lakh", "price", "base_lakh"];
    table(name, &header, rows)
}

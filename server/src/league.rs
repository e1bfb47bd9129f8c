//! Loading and validating a league file (TOML) and its player pool (CSV).
//!
//! Every error names the file, the line and the field, so a league organiser
//! can fix a broken file without reading code.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use auction_proto::{
    ClockRules, LadderStep, League, Money, Player, PlayerId, Role, Rules, Stats, Team, TeamCode,
};
use serde::Deserialize;

/// The bundled league, embedded in the binary.
pub const BUNDLED_LEAGUE: &str = include_str!("../../config/league.toml");
/// The bundled player pool.
pub const BUNDLED_PLAYERS: &str = include_str!("../../config/players.csv");
const BUNDLED_LEAGUE_NAME: &str = "config/league.toml (bundled)";
const BUNDLED_PLAYERS_NAME: &str = "config/players.csv (bundled)";

/// A league and the server-side settings that come with it.
#[derive(Clone, Debug, PartialEq)]
pub struct LeagueConfig {
    pub league: League,
    /// Whether the `viewer` account needs no password.
    pub viewer_open: bool,
}

/// What is wrong with one field of a rule, team or player.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> FieldError {
        FieldError {
            field,
            message: message.into(),
        }
    }
}

/// What is wrong with a league file, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LeagueError {
    pub file: String,
    pub line: Option<usize>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for LeagueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl LeagueError {
    fn new(
        file: &str,
        line: Option<usize>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        LeagueError {
            file: file.to_string(),
            line,
            field: field.map(str::to_string),
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeagueFile {
    name: String,
    players: String,
    sets: Vec<String>,
    rules: RulesFile,
    #[serde(default)]
    access: AccessFile,
    teams: Vec<Team>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    purse: Money,
    squad_min: u32,
    squad_max: u32,
    overseas_max: u32,
    ladder: Vec<LadderStep>,
    #[serde(default)]
    clock: Option<ClockRules>,
    #[serde(default)]
    accelerated_picks: Option<u32>,
    #[serde(default)]
    rtm_cards: Option<u32>,
    #[serde(default)]
    home_country: Option<String>,
    #[serde(default)]
    proxy_bids: auction_proto::ProxyBids,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AccessFile {
    #[serde(default)]
    viewer_open: bool,
}

/// One row of the player CSV.
#[derive(Deserialize)]
pub struct PlayerRow {
    pub id: u32,
    pub name: String,
    pub role: Role,
    pub country: String,
    pub overseas: bool,
    pub capped: bool,
    pub base: Money,
    pub set: String,
    #[serde(default)]
    pub matches: u32,
    #[serde(default)]
    pub runs: u32,
    #[serde(default)]
    pub wickets: u32,
    #[serde(default)]
    pub strike_rate: f64,
    #[serde(default)]
    pub economy: f64,
    #[serde(default)]
    pub previous_team: Option<String>,
    #[serde(default)]
    pub batting_hand: String,
    #[serde(default)]
    pub bowling_style: String,
}

/// The bundled league.
pub fn bundled() -> LeagueConfig {
    parse(BUNDLED_LEAGUE, BUNDLED_LEAGUE_NAME, |_| {
        Ok((
            BUNDLED_PLAYERS.to_string(),
            BUNDLED_PLAYERS_NAME.to_string(),
        ))
    })
    .expect("the bundled league is valid (checked by tests)")
}

/// Loads a league file and the player CSV it names (relative to it).
pub fn load(path: &Path) -> Result<LeagueConfig, LeagueError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| LeagueError::new(&name, None, None, format!("cannot read: {e}")))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse(&text, &name, |players: &str| {
        let csv_path: PathBuf = dir.join(players);
        let csv_name = csv_path.display().to_string();
        std::fs::read_to_string(&csv_path)
            .map(|t| (t, csv_name.clone()))
            .map_err(|e| LeagueError::new(&csv_name, None, None, format!("cannot read: {e}")))
    })
}

fn parse(
    text: &str,
    file: &str,
    read_players: impl FnOnce(&str) -> Result<(String, String), LeagueError>,
) -> Result<LeagueConfig, LeagueError> {
    let raw: LeagueFile = toml::from_str(text).map_err(|e| toml_error(text, file, &e))?;
    let at = |key: &str| line_of_key(text, key);
    let err = |key: &str, msg: String| LeagueError::new(file, at(key), Some(key), msg);

    if raw.name.trim().is_empty() {
        return Err(err("name", "must not be empty".into()));
    }
    let rules = validate_rules(&raw.rules).map_err(|e| err(e.field, e.message))?;
    let teams = validate_teams(&raw.teams).map_err(|e| err(e.field, e.message))?;
    let mut seen = HashSet::new();
    for set in &raw.sets {
        if set.trim().is_empty() || !seen.insert(set.as_str()) {
            return Err(err("sets", format!("set `{set}` is empty or listed twice")));
        }
    }
    if raw.sets.is_empty() {
        return Err(err("sets", "name at least one set".into()));
    }
    let (csv_text, csv_name) = read_players(&raw.players)?;
    let players = parse_players(&csv_text, &csv_name, &raw.sets, &teams)?;
    if players.is_empty() {
        return Err(LeagueError::new(
            &csv_name,
            None,
            None,
            "the player pool is empty",
        ));
    }
    Ok(LeagueConfig {
        league: League {
            name: raw.name,
            rules,
            teams,
            sets: raw.sets,
            players,
        },
        viewer_open: raw.access.viewer_open,
    })
}

fn validate_rules(r: &RulesFile) -> Result<Rules, FieldError> {
    if r.purse == Money::ZERO {
        return Err(FieldError::new("purse", "must be more than zero"));
    }
    if r.purse > Money::MAX {
        return Err(FieldError::new(
            "purse",
            format!("must not exceed {}", Money::MAX),
        ));
    }
    if r.squad_max == 0 || r.squad_min > r.squad_max {
        return Err(FieldError::new(
            "squad_min",
            format!(
                "squad_min ({}) must not exceed squad_max ({}), which must be at least 1",
                r.squad_min, r.squad_max
            ),
        ));
    }
    if r.overseas_max > r.squad_max {
        return Err(FieldError::new("overseas_max", "must not exceed squad_max"));
    }
    match r.ladder.first() {
        None => return Err(FieldError::new("ladder", "needs at least one rung")),
        Some(first) if first.from != Money::ZERO => {
            return Err(FieldError::new(
                "from",
                "the first ladder rung must start at 0",
            ));
        }
        _ => {}
    }
    for pair in r.ladder.windows(2) {
        if pair[1].from <= pair[0].from {
            return Err(FieldError::new(
                "from",
                format!(
                    "ladder rungs must rise: {} after {}",
                    pair[1].from, pair[0].from
                ),
            ));
        }
    }
    if r.ladder.iter().any(|s| s.step == Money::ZERO) {
        return Err(FieldError::new(
            "step",
            "a ladder step must be more than zero",
        ));
    }
    if let Some(c) = &r.clock
        && (c.lot_seconds == 0 || c.stage_seconds == 0)
    {
        return Err(FieldError::new(
            "lot_seconds",
            "clock seconds must be more than zero",
        ));
    }
    Ok(Rules {
        purse: r.purse,
        squad_min: r.squad_min,
        squad_max: r.squad_max,
        overseas_max: r.overseas_max,
        ladder: r.ladder.clone(),
        clock: r.clock,
        accelerated_picks: r.accelerated_picks.unwrap_or(10),
        rtm_cards: r.rtm_cards.unwrap_or(0),
        home_country: r
            .home_country
            .clone()
            .unwrap_or_else(|| "India".to_string()),
        proxy_bids: r.proxy_bids,
    })
}

fn validate_teams(teams: &[Team]) -> Result<Vec<Team>, FieldError> {
    if teams.len() < 2 {
        return Err(FieldError::new(
            "teams",
            "an auction needs at least two teams",
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(teams.len());
    for t in teams {
        let code = TeamCode::new(t.code.as_str());
        let reserved = ["ADMIN", "PRESENTER", "VIEWER", "VIEW", "SYSTEM"];
        if code.as_str().is_empty()
            || !code.as_str().chars().all(|c| c.is_ascii_alphanumeric())
            || reserved.contains(&code.as_str())
        {
            return Err(FieldError::new(
                "code",
                format!(
                    "`{}` is not a valid team code (letters and digits; not an account name)",
                    t.code
                ),
            ));
        }
        if !seen.insert(code.clone()) {
            return Err(FieldError::new(
                "code",
                format!("team `{code}` is listed twice"),
            ));
        }
        if t.name.trim().is_empty() {
            return Err(FieldError::new(
                "name",
                format!("team `{code}` needs a name"),
            ));
        }
        out.push(Team {
            code,
            name: t.name.clone(),
            colour: t.colour,
        });
    }
    Ok(out)
}

/// Parses and validates a player CSV against the league's sets and teams.
/// Used for the league's own pool and for imports.
pub fn parse_players(
    text: &str,
    file: &str,
    sets: &[String],
    teams: &[Team],
) -> Result<Vec<Player>, LeagueError> {
    Ok(parse_player_lines(text, file, sets, teams)?
        .into_iter()
        .map(|(_, p)| p)
        .collect())
}

/// [`parse_players`], with the line each player came from.
pub fn parse_player_lines(
    text: &str,
    file: &str,
    sets: &[String],
    teams: &[Team],
) -> Result<Vec<(usize, Player)>, LeagueError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| LeagueError::new(file, Some(1), None, e.to_string()))?
        .clone();
    let mut players = Vec::new();
    let mut ids = HashSet::new();
    let mut names = HashSet::new();
    for row in reader.records() {
        let record = row.map_err(|e| csv_error(file, &headers, &e))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let row: PlayerRow = record.deserialize(Some(&headers)).map_err(|e| {
            let mut err = csv_error(file, &headers, &e);
            if err.field.is_none() {
                err.field = first_bad_column(&headers, &record);
            }
            err
        })?;
        let err = |field: &str, msg: String| LeagueError::new(file, Some(line), Some(field), msg);
        let player = validate_row(row, sets, teams).map_err(|e| err(e.field, e.message))?;
        if !ids.insert(player.id) {
            return Err(err("id", format!("id {} is used twice", player.id.0)));
        }
        if !names.insert(player.name.to_lowercase()) {
            return Err(err("name", format!("`{}` is listed twice", player.name)));
        }
        players.push((line, player));
    }
    Ok(players)
}

fn validate_row(row: PlayerRow, sets: &[String], teams: &[Team]) -> Result<Player, FieldError> {
    if row.id == 0 {
        return Err(FieldError::new("id", "ids start at 1"));
    }
    let player = Player {
        id: PlayerId(row.id),
        name: row.name.trim().to_string(),
        role: row.role,
        country: row.country.trim().to_string(),
        overseas: row.overseas,
        capped: row.capped,
        base: row.base,
        set: row.set.trim().to_string(),
        stats: Stats {
            matches: row.matches,
            runs: row.runs,
            wickets: row.wickets,
            strike_rate: row.strike_rate,
            economy: row.economy,
        },
        previous_team: row
            .previous_team
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(TeamCode::new),
        batting_hand: row.batting_hand.trim().to_lowercase(),
        bowling_style: row.bowling_style.trim().to_string(),
    };
    check_player(&player, sets)?;
    if let Some(prev) = &player.previous_team
        && !teams.iter().any(|t| &t.code == prev)
    {
        return Err(FieldError::new(
            "previous_team",
            format!("`{prev}` is not a team of this league"),
        ));
    }
    Ok(player)
}

/// The checks a player must pass, on import and when an admin adds or edits one.
pub fn check_player(p: &Player, sets: &[String]) -> Result<(), FieldError> {
    if p.name.trim().is_empty() {
        return Err(FieldError::new("name", "must not be empty"));
    }
    for (field, text) in [
        ("name", &p.name),
        ("country", &p.country),
        ("bowling_style", &p.bowling_style),
    ] {
        if auction_proto::has_control(text) {
            return Err(FieldError::new(field, "must not hold control characters"));
        }
    }
    if !matches!(p.batting_hand.as_str(), "" | "right" | "left") {
        return Err(FieldError::new(
            "batting_hand",
            format!("`{}` is not right or left", p.batting_hand),
        ));
    }
    if p.bowling_style.chars().count() > 40 {
        return Err(FieldError::new("bowling_style", "at most 40 characters"));
    }
    if p.country.trim().is_empty() {
        return Err(FieldError::new("country", "must not be empty"));
    }
    if p.base == Money::ZERO {
        return Err(FieldError::new(
            "base",
            "the base price must be more than zero",
        ));
    }
    if p.base > Money::MAX {
        return Err(FieldError::new(
            "base",
            format!("must not exceed {}", Money::MAX),
        ));
    }
    if !sets.iter().any(|s| s == &p.set) {
        return Err(FieldError::new(
            "set",
            format!("`{}` is not one of the league's sets", p.set),
        ));
    }
    let sane = |x: f64| x.is_finite() && x >= 0.0;
    if !sane(p.stats.strike_rate) || !sane(p.stats.economy) {
        return Err(FieldError::new(
            "strike_rate",
            "stats must be non-negative numbers",
        ));
    }
    Ok(())
}

/// The first column whose value does not parse as its type: serde does not
/// always say which field it was decoding.
fn first_bad_column(headers: &csv::StringRecord, record: &csv::StringRecord) -> Option<String> {
    headers.iter().zip(record.iter()).find_map(|(h, v)| {
        let ok = match h {
            "id" | "matches" | "runs" | "wickets" => v.is_empty() || v.parse::<u32>().is_ok(),
            "strike_rate" | "economy" => v.is_empty() || v.parse::<f64>().is_ok(),
            "overseas" | "capped" => v.parse::<bool>().is_ok(),
            "base" => v.parse::<Money>().is_ok(),
            "role" => serde_json::from_value::<Role>(serde_json::Value::String(v.into())).is_ok(),
            _ => true,
        };
        (!ok).then(|| h.to_string())
    })
}

fn csv_error(file: &str, headers: &csv::StringRecord, e: &csv::Error) -> LeagueError {
    let (line, field, message) = match e.kind() {
        csv::ErrorKind::Deserialize { pos, err } => (
            pos.as_ref().map(|p| p.line() as usize),
            err.field()
                .and_then(|i| headers.get(i as usize))
                .map(str::to_string),
            err.kind().to_string(),
        ),
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => (
            pos.as_ref().map(|p| p.line() as usize),
            None,
            format!("{len} columns where the header has {expected_len}"),
        ),
        _ => (e.position().map(|p| p.line() as usize), None, e.to_string()),
    };
    LeagueError {
        file: file.to_string(),
        line,
        field,
        message,
    }
}

fn toml_error(text: &str, file: &str, e: &toml::de::Error) -> LeagueError {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    // The key on that line, or the one named in the message (`missing field `x``).
    let field = line
        .and_then(|l| text.lines().nth(l - 1))
        .and_then(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
        .filter(|k| !k.is_empty() && !k.starts_with('['))
        .or_else(|| {
            let m = e.message();
            m.split('`').nth(1).map(str::to_string)
        });
    LeagueError {
        file: file.to_string(),
        line,
        field,
        message: e.message().trim().to_string(),
    }
}

fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            !l.starts_with('#')
                && (l.split_once('=').is_some_and(|(k, _)| k.trim() == key)
                    || l.trim_start_matches('[')
                        .trim_end_matches(']')
                        .ends_with(key))
        })
        .map(|i| i + 1)
}

/// A human summary: teams, players per set and role, rules.
pub fn summary(config: &LeagueConfig) -> String {
    use std::fmt::Write;
    let l = &config.league;
    let r = &l.rules;
    let mut out = String::new();
    let _ = writeln!(out, "League: {}", l.name);
    let _ = writeln!(out, "Teams ({}):", l.teams.len());
    for t in &l.teams {
        let _ = writeln!(out, "  {:<5} {} ({})", t.code, t.name, t.colour);
    }
    let _ = writeln!(out, "Players: {}", l.players.len());
    for set in &l.sets {
        let in_set: Vec<&Player> = l.players.iter().filter(|p| &p.set == set).collect();
        let roles: Vec<String> = Role::ALL
            .iter()
            .map(|role| (role, in_set.iter().filter(|p| p.role == *role).count()))
            .filter(|(_, n)| *n > 0)
            .map(|(role, n)| format!("{n} {}", role.short()))
            .collect();
        let _ = writeln!(
            out,
            "  {:<26} {:>3}  ({})",
            set,
            in_set.len(),
            roles.join(", ")
        );
    }
    let overseas = l.players.iter().filter(|p| p.overseas).count();
    let _ = writeln!(
        out,
        "  overseas: {overseas}, capped: {}",
        l.players.iter().filter(|p| p.capped).count()
    );
    let _ = writeln!(out, "Rules:");
    let _ = writeln!(
        out,
        "  purse {} per team; squad {} to {}; at most {} overseas",
        r.purse, r.squad_min, r.squad_max, r.overseas_max
    );
    let ladder: Vec<String> = r
        .ladder
        .iter()
        .map(|s| format!("+{} from {}", s.step, s.from))
        .collect();
    let _ = writeln!(out, "  bid ladder: {}", ladder.join(", "));
    match &r.clock {
        Some(c) => {
            let _ = writeln!(
                out,
                "  clock: {} s per lot, at least {} s after a bid, {} s per call, {}",
                c.lot_seconds,
                c.min_seconds_after_bid,
                c.stage_seconds,
                if c.auto_advance {
                    "advances by itself"
                } else {
                    "the presenter calls each stage"
                }
            );
        }
        None => {
            let _ = writeln!(out, "  clock: none");
        }
    }
    let _ = writeln!(
        out,
        "  viewer account: {}",
        if config.viewer_open {
            "open (no password)"
        } else {
            "password required"
        }
    );
    out
}

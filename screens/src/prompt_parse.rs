//! What the admin and the owners type into prompts, turned into values:
//! pure functions, each with the message a person needs when it is wrong.

use auction_proto::{Money, PlayerId, State};

/// `75`, `75L`, `1.25cr` → an amount.
pub fn amount(input: &str) -> Result<Money, String> {
    input.trim().parse().map_err(|e| format!("{e}"))
}

/// A proxy-bid ceiling: `4cr` (the player on the block), `kohli, 4cr`
/// (any player), `-` (cancel on the block) or `-kohli` (cancel his).
pub fn ceiling(input: &str, state: &State) -> Result<(PlayerId, Option<Money>), String> {
    let on_block = || {
        state
            .lot
            .as_ref()
            .map(|l| l.player)
            .ok_or("nobody is on the block: name the player (kohli, 4cr)".to_string())
    };
    let input = input.trim();
    if let Some(who) = input.strip_prefix('-') {
        let player = match who.trim() {
            "" => on_block()?,
            who => crate::lookup::find_player(state, who)?,
        };
        return Ok((player, None));
    }
    let (player, amount) = match input.rsplit_once(',') {
        Some((who, amount)) => (crate::lookup::find_player(state, who)?, amount),
        None => (on_block()?, input),
    };
    Ok((player, Some(self::amount(amount)?)))
}

/// `pant, kohli, 12` → those players (names, unique parts of names, ids).
pub fn players(input: &str, state: &State) -> Result<Vec<PlayerId>, String> {
    input
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|q| crate::lookup::find_player(state, q))
        .collect()
}

/// `-50L late penalty` → (-50 lakh, "late penalty"); `+1cr bonus` likewise.
pub fn purse_adjustment(input: &str) -> Result<(i64, String), String> {
    let (amount, reason) = input
        .trim()
        .split_once(' ')
        .ok_or("write an amount and a reason: -50L late penalty")?;
    let (sign, amount) = match amount.strip_prefix('-') {
        Some(rest) => (-1i64, rest),
        None => (1, amount.strip_prefix('+').unwrap_or(amount)),
    };
    let m = self::amount(amount)?;
    let delta = i64::try_from(m.0).map_err(|_| "too large")?;
    Ok((sign * delta, reason.trim().to_string()))
}

/// `name, role, country, base, set` → a player (the server assigns the id).
pub fn new_player(input: &str, state: &State) -> Result<auction_proto::Player, String> {
    let parts: Vec<&str> = input.split(',').map(str::trim).collect();
    let [name, role, country, base, set] = parts.as_slice() else {
        return Err("five fields: name, role, country, base, set".into());
    };
    let role = role_of(role)?;
    let set = set_of(set, state)?;
    Ok(auction_proto::Player {
        id: PlayerId(0),
        name: name.to_string(),
        role,
        overseas: state.rules.is_overseas(country),
        country: country.to_string(),
        capped: false,
        base: base.parse().map_err(|e| format!("{e}"))?,
        set: set.clone(),
        stats: Default::default(),
        previous_team: None,
        batting_hand: String::new(),
        bowling_style: String::new(),
    })
}

fn role_of(s: &str) -> Result<auction_proto::Role, String> {
    auction_proto::Role::from_word(s)
        .ok_or_else(|| format!("`{}` is not a role (bat, bowl, ar, wk)", s.trim()))
}

fn set_of(set: &str, state: &State) -> Result<String, String> {
    state
        .sets
        .iter()
        .find(|s| s.to_lowercase() == set.trim().to_lowercase())
        .cloned()
        .ok_or_else(|| format!("`{set}` is not a set: {}", state.sets.join(", ")))
}

/// Every field of `p`, as the admin's edit prompt starts: `key=value`
/// pairs separated by `;`.
pub fn player_fields(p: &auction_proto::Player) -> String {
    let yes = |b: bool| if b { "yes" } else { "no" };
    let s = &p.stats;
    format!(
        "name={}; role={}; country={}; overseas={}; capped={}; base={}; set={}; last={}; bats={}; bowls={}; matches={}; runs={}; wickets={}; sr={}; econ={}",
        p.name,
        p.role.short().to_lowercase(),
        p.country,
        yes(p.overseas),
        yes(p.capped),
        p.base.as_lakh(),
        p.set,
        p.previous_team
            .as_ref()
            .map_or("-".to_string(), ToString::to_string),
        p.batting_hand,
        p.bowling_style,
        s.matches,
        s.runs,
        s.wickets,
        s.strike_rate,
        s.economy,
    )
}

/// `original` with the fields of `input` (`key=value; ...`, the form of
/// [`player_fields`]) changed. The server checks the result like any
/// player.
pub fn edited_player(
    input: &str,
    original: &auction_proto::Player,
    state: &State,
) -> Result<auction_proto::Player, String> {
    let mut p = original.clone();
    for pair in input.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("`{pair}`: write key=value"))?;
        set_field(&mut p, key.trim(), value.trim(), state)?;
    }
    Ok(p)
}

fn set_field(
    p: &mut auction_proto::Player,
    key: &str,
    v: &str,
    state: &State,
) -> Result<(), String> {
    let yes_no = |v: &str| match v.to_lowercase().as_str() {
        "yes" | "y" | "true" => Ok(true),
        "no" | "n" | "false" => Ok(false),
        other => Err(format!("{key}: `{other}` is not yes or no")),
    };
    let number = |v: &str| {
        v.parse::<u32>()
            .map_err(|_| format!("{key}: `{v}` is not a whole number"))
    };
    let decimal = |v: &str| {
        v.parse::<f64>()
            .map_err(|_| format!("{key}: `{v}` is not a number"))
    };
    match key {
        "name" => p.name = v.to_string(),
        "role" => p.role = role_of(v)?,
        "country" => p.country = v.to_string(),
        "overseas" => p.overseas = yes_no(v)?,
        "capped" => p.capped = yes_no(v)?,
        "base" => p.base = amount(v)?,
        "set" => p.set = set_of(v, state)?,
        "last" => {
            p.previous_team = match v {
                "" | "-" => None,
                code => Some(auction_proto::TeamCode::new(code)),
            }
        }
        "bats" => p.batting_hand = v.to_lowercase(),
        "bowls" => p.bowling_style = v.to_string(),
        "matches" => p.stats.matches = number(v)?,
        "runs" => p.stats.runs = number(v)?,
        "wickets" => p.stats.wickets = number(v)?,
        "sr" => p.stats.strike_rate = decimal(v)?,
        "econ" => p.stats.economy = decimal(v)?,
        other => {
            return Err(format!(
                "`{other}` is not a field (name, role, country, overseas, capped, base, set, last, bats, bowls, matches, runs, wickets, sr, econ)"
            ));
        }
    }
    Ok(())
}

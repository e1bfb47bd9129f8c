//! Keys are data: `config/client.toml` holds the defaults, the user's config
//! overrides them, and the help overlay is generated from the same table.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key can ask for. Each has a stable name used in the config file
/// (its snake_case spelling).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    Cancel,
    Raise,
    BidAmount,
    RequestAccelerated,
    Rtm,
    RtmDecline,
    Shortlist,
    Ceiling,
    TeamView,
    PoolFilter,
    PoolSort,
    Start,
    Pause,
    Next,
    Nominate,
    GoingOnce,
    GoingTwice,
    Sold,
    Unsold,
    UndoBid,
    UndoSale,
    ResetLot,
    Accelerated,
    TeamPrev,
    TeamNext,
    PaddleRaise,
    PaddleAmount,
    TabNext,
    TabPrev,
    Up,
    Down,
    Search,
    AddPlayer,
    ImportPlayers,
    EditBase,
    EditPlayer,
    Withdraw,
    AdjustPurse,
    ResetPassword,
    ResetAuction,
}

/// Who an action is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Everyone,
    Team,
    Room,
    Admin,
    /// Moving through a list: the admin's players, teams and log, a team
    /// owner's pool.
    Lists,
}

impl Action {
    /// Every action, in the order of the help overlay.
    pub const ALL: &[Action] = <Action as strum::VariantArray>::VARIANTS;

    /// The name in the config file.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// What it does, for the help overlay.
    pub fn describe(self) -> &'static str {
        self.info().0
    }

    pub fn scope(self) -> Scope {
        self.info().1
    }

    /// The room's actions that ask for confirmation before anything is sent.
    pub fn confirms(self) -> bool {
        matches!(
            self,
            Action::Sold | Action::Unsold | Action::UndoBid | Action::UndoSale | Action::ResetLot
        )
    }

    /// The admin's moves between tabs and through lists.
    pub fn navigates(self) -> bool {
        matches!(
            self,
            Action::TabNext | Action::TabPrev | Action::Up | Action::Down | Action::Search
        )
    }

    fn info(self) -> (&'static str, Scope) {
        use Scope::*;
        match self {
            Action::Quit => ("quit (q asks first while a lot is open)", Everyone),
            Action::Help => ("show or hide this help", Everyone),
            Action::Cancel => ("close a dialog", Everyone),
            Action::Raise => ("bid the next valid amount", Team),
            Action::BidAmount => ("bid an amount you type", Team),
            Action::RequestAccelerated => ("players you want back in the accelerated round", Team),
            Action::Rtm => (
                "Right to Match: use your card, match, or your final raise",
                Team,
            ),
            Action::RtmDecline => ("Right to Match: let the player go", Team),
            Action::Shortlist => ("your private shortlist: add, set a target, remove", Team),
            Action::Ceiling => (
                "proxy bid: the server bids for you up to a private ceiling",
                Team,
            ),
            Action::TeamView => ("beside the lot: teams, the pool, your budget", Team),
            Action::PoolFilter => ("filter the pool (bowler, overseas, unsold, a set...)", Team),
            Action::PoolSort => ("pool order: the round's, or by base price", Team),
            Action::Start => ("start the auction", Room),
            Action::Pause => ("pause / resume", Room),
            Action::Next => ("next player on the block", Room),
            Action::Nominate => ("nominate a player by name or id", Room),
            Action::GoingOnce => ("going once", Room),
            Action::GoingTwice => ("going twice", Room),
            Action::Sold => ("SOLD to the leader (confirm)", Room),
            Action::Unsold => ("unsold (confirm)", Room),
            Action::UndoBid => ("undo the last bid (confirm)", Room),
            Action::UndoSale => (
                "previous player: reopen the last closed lot, a sale refunded (confirm)",
                Room,
            ),
            Action::ResetLot => ("player back to the pool (confirm)", Room),
            Action::Accelerated => ("accelerated round of the unsold", Room),
            Action::TeamPrev => ("choose the previous team", Room),
            Action::TeamNext => ("choose the next team", Room),
            Action::PaddleRaise => ("chosen team bids the next amount", Room),
            Action::PaddleAmount => ("chosen team bids a typed amount", Room),
            Action::TabNext => ("next tab", Admin),
            Action::TabPrev => ("previous tab", Admin),
            Action::Up => ("move up (the admin's lists, a team's pool)", Lists),
            Action::Down => ("move down (the admin's lists, a team's pool)", Lists),
            Action::Search => ("filter players (bowler, unsold, a set, a name...)", Admin),
            Action::AddPlayer => ("add a player", Admin),
            Action::ImportPlayers => ("import players from a CSV file", Admin),
            Action::EditBase => ("change the base price", Admin),
            Action::EditPlayer => ("edit every field of the player before his lot", Admin),
            Action::Withdraw => ("withdraw the player, or bring him back (confirm)", Admin),
            Action::AdjustPurse => ("adjust the team's purse", Admin),
            Action::ResetPassword => ("set an account's password", Admin),
            Action::ResetAuction => ("reset the auction (type RESET)", Admin),
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }
}

/// A key with its modifiers (shift is part of the character).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    pub fn from_event(e: &KeyEvent) -> Key {
        Key {
            code: match e.code {
                // Terminals report shift-tab as BackTab; treat both spellings alike.
                KeyCode::Tab if e.modifiers.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
                c => c,
            },
            ctrl: e.modifiers.contains(KeyModifiers::CONTROL),
            alt: e.modifiers.contains(KeyModifiers::ALT),
        }
    }

    pub fn parse(s: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        // Names are case-insensitive ("F9", "Enter"); a single character is not ("Z").
        let lower = rest.to_ascii_lowercase();
        let name = if rest.chars().count() > 1 {
            lower.as_str()
        } else {
            rest
        };
        let code = match name {
            "space" => KeyCode::Char(' '),
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            f if f.starts_with('f') && f.len() > 1 && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().map_err(|_| format!("bad key `{s}`"))?)
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().unwrap_or(' ')),
            _ => return Err(format!("`{s}` is not a key")),
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// The bindings in force: action → keys.
#[derive(Clone, Debug)]
pub struct Keymap {
    keys: BTreeMap<Action, Vec<Key>>,
}

pub const DEFAULT_CONFIG: &str = include_str!("../../config/client.toml");

/// Reads the `[keys]` table of a config text into `keys`.
fn merge(keys: &mut BTreeMap<Action, Vec<Key>>, table: &toml::Table) -> Result<(), String> {
    for (name, value) in table {
        let action =
            Action::from_name(name).ok_or_else(|| format!("unknown action `{name}` in [keys]"))?;
        let list: Vec<&str> = match value {
            toml::Value::String(s) => vec![s.as_str()],
            toml::Value::Array(a) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| format!("[keys] {name}: keys are strings"))
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(format!("[keys] {name}: a key or a list of keys")),
        };
        let parsed = list
            .into_iter()
            .map(Key::parse)
            .collect::<Result<Vec<_>, _>>()?;
        keys.insert(action, parsed);
    }
    Ok(())
}

fn keys_table(text: &str) -> Result<toml::Table, String> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    match doc.get("keys") {
        None => Ok(toml::Table::new()),
        Some(toml::Value::Table(t)) => Ok(t.clone()),
        Some(_) => Err("[keys] must be a table".into()),
    }
}

impl Keymap {
    /// The built-in defaults.
    pub fn defaults() -> Keymap {
        let mut keys = BTreeMap::new();
        let table = keys_table(DEFAULT_CONFIG).expect("config/client.toml parses (tested)");
        merge(&mut keys, &table).expect("config/client.toml has valid keys (tested)");
        Keymap { keys }
    }

    /// The defaults with a user's config text on top.
    pub fn with_overrides(user_config: &str) -> Result<Keymap, String> {
        let mut map = Keymap::defaults();
        merge(&mut map.keys, &keys_table(user_config)?)?;
        Ok(map)
    }

    /// The action for `key` among those allowed by `allowed`.
    pub fn lookup(&self, key: &KeyEvent, allowed: impl Fn(Action) -> bool) -> Option<Action> {
        let k = Key::from_event(key);
        self.keys
            .iter()
            .filter(|(a, _)| allowed(**a))
            .find(|(_, keys)| keys.contains(&k))
            .map(|(a, _)| *a)
    }

    pub fn keys(&self, action: Action) -> &[Key] {
        self.keys.get(&action).map_or(&[], Vec::as_slice)
    }

    /// The first key for `action`, as text (for hints).
    pub fn hint(&self, action: Action) -> String {
        self.keys(action)
            .first()
            .map_or_else(|| "—".into(), ToString::to_string)
    }

    /// Every action as a Markdown table (who, keys, what), in the help's
    /// order: the README's key table is this, checked by a test.
    pub fn markdown_table(&self) -> String {
        let mut out = String::from("| who | keys | action |\n|---|---|---|\n");
        for &a in Action::ALL {
            let who = match a.scope() {
                Scope::Everyone => "everyone",
                Scope::Team => "team",
                Scope::Room => "presenter, admin",
                Scope::Admin => "admin",
                Scope::Lists => "admin, team",
            };
            let keys: Vec<String> = self.keys(a).iter().map(|k| format!("`{k}`")).collect();
            out.push_str(&format!(
                "| {who} | {} | {} |\n",
                keys.join(" "),
                a.describe()
            ));
        }
        out
    }

    /// Help lines (`keys`, `what`) for the actions allowed here.
    pub fn help(&self, allowed: impl Fn(Action) -> bool) -> Vec<(String, &'static str)> {
        Action::ALL
            .iter()
            .copied()
            .filter(|a| allowed(*a))
            .filter(|a| !self.keys(*a).is_empty())
            .map(|a| {
                let keys: Vec<String> = self.keys(a).iter().map(ToString::to_string).collect();
                (keys.join(" "), a.describe())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_binds_every_action() {
        let map = Keymap::defaults();
        for &a in Action::ALL {
            assert!(!map.keys(a).is_empty(), "{} has no key", a.name());
        }
    }

    #[test]
    fn overrides_replace_an_actions_keys() {
        let map =
            Keymap::with_overrides("[keys]\nsold = [\"ctrl-s\", \"F9\"]\nraise = \"x\"").unwrap();
        assert_eq!(map.hint(Action::Sold), "ctrl-s");
        let ev = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(map.lookup(&ev, |_| true), Some(Action::Raise));
        let space = KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE);
        assert_eq!(map.lookup(&space, |_| true), None, "space no longer raises");
        assert!(
            Keymap::with_overrides("[keys]\nfly = \"x\"")
                .unwrap_err()
                .contains("fly")
        );
        assert!(Keymap::with_overrides("[keys]\nsold = \"ctrl-\"").is_err());
    }

    #[test]
    fn keys_parse_and_print() {
        for s in ["q", "Z", "ctrl-c", "space", "enter", "f1", "alt-x", "left"] {
            Key::parse(s).unwrap();
        }
        assert_eq!(Key::parse("ctrl-c").unwrap().to_string(), "ctrl-c");
        let shift_tab = KeyEvent::new(KeyCode::Tab, KeyModifiers::SHIFT);
        assert_eq!(Key::from_event(&shift_tab), Key::parse("backtab").unwrap());
    }
}

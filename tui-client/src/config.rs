//! The client's settings file and its memory of the last login.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use auction_screens::keymap::{DEFAULT_CONFIG, Keymap};

/// `~/.config/auction-tui` (or the platform's config directory).
pub fn dir() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("auction-tui"))
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LastLogin {
    pub server: Option<String>,
    pub user: Option<String>,
}

/// The settings: built-in defaults, then the user's `config.toml`.
pub struct Settings {
    pub server: String,
    pub keymap: Keymap,
}

#[derive(Deserialize)]
struct ServerOnly {
    server: Option<String>,
}

pub fn load() -> Result<Settings, String> {
    let defaults: ServerOnly = toml::from_str(DEFAULT_CONFIG).map_err(|e| e.to_string())?;
    let mut server = defaults
        .server
        .unwrap_or_else(|| crate::net::DEFAULT_SERVER.into());
    let mut keymap = Keymap::defaults();
    if let Some(path) = dir().map(|d| d.join("config.toml"))
        && let Ok(text) = std::fs::read_to_string(&path)
    {
        let user: ServerOnly =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Some(s) = user.server {
            server = s;
        }
        keymap = Keymap::with_overrides(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(Settings { server, keymap })
}

pub fn last_login() -> LastLogin {
    dir()
        .and_then(|d| std::fs::read_to_string(d.join("last.toml")).ok())
        .and_then(|t| toml::from_str(&t).ok())
        .unwrap_or_default()
}

pub fn remember(server: &str, user: &str) {
    let Some(d) = dir() else { return };
    let last = LastLogin {
        server: Some(server.to_string()),
        user: Some(user.to_string()),
    };
    if std::fs::create_dir_all(&d).is_ok()
        && let Ok(text) = toml::to_string(&last)
    {
        let _ = std::fs::write(d.join("last.toml"), text);
    }
}
